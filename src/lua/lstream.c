/* SPDX-License-Identifier: MIT */
/* lstream.c: luv's stream section, shared by tcp, pipe and tty. */
#include "lloom.h"

#include <limits.h>


static int is_stream(const loom_handle_t* h) {
  return h->type == LOOM_TCP || h->type == LOOM_NAMED_PIPE ||
         h->type == LOOM_TTY;
}


loom_stream_t* lstream_check(lua_State* L, int idx) {
  loom_handle_t* h = lh_check(L, idx, NULL);
  if (!is_stream(h))
    luaL_typeerror(L, idx, "uv_stream");
  return (loom_stream_t*) h;
}


loom_stream_t* lstream_test(lua_State* L, int idx) {
  loom_handle_t* h = lh_test(L, idx);
  return h != NULL && is_stream(h) ? (loom_stream_t*) h : NULL;
}


static void on_connection(loom_stream_t* server, int status) {
  lctx* ctx = loom_loop_get_data(server->loop);
  lh_push_callback(ctx->L, (loom_handle_t*) server);
  lr_push_status(ctx->L, status);
  lctx_call(ctx, 1);
}


static int stream_listen(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  lua_Integer backlog = luaL_checkinteger(L, 2);
  int ret;

  luaL_argcheck(L, backlog >= 0 && backlog <= INT_MAX, 2, "out of range");
  lh_check_callback(L, 1, 3);
  ret = loom_listen(s, (int) backlog, on_connection);
  if (ret == 0)
    lh_set_callback(L, 1, 3);
  return lr_result(L, ret);
}


static int stream_accept(lua_State* L) {
  loom_stream_t* server = lstream_check(L, 1);
  loom_stream_t* client = lstream_check(L, 2);
  return lr_result(L, loom_accept(server, client));
}


/* callback(err, data): data is a string, nil at the end of the stream. */
void lstream_push_read(lua_State* L, ssize_t nread, const loom_buf_t* buf) {
  if (nread >= 0) {
    lua_pushnil(L);
    lua_pushlstring(L, buf->base, (size_t) nread);
  } else if (nread == LOOM_EOF) {
    lua_pushnil(L);
    lua_pushnil(L);
  } else {
    lua_pushstring(L, loom_err_name((int) nread));
    lua_pushnil(L);
  }
}


static void on_read(loom_stream_t* s, ssize_t nread, const loom_buf_t* buf) {
  lctx* ctx = loom_loop_get_data(s->loop);
  lua_State* L = ctx->L;

  lh_push_callback(L, (loom_handle_t*) s);
  lstream_push_read(L, nread, buf);
  lctx_call(ctx, 2);
}


static int stream_read_start(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  int ret;

  lh_check_callback(L, 1, 2);
  ret = loom_read_start(s, on_read);
  if (ret == 0)
    lh_set_callback(L, 1, 2);
  return lr_result(L, ret);
}


static int stream_read_stop(lua_State* L) {
  return lr_result(L, loom_read_stop(lstream_check(L, 1)));
}


static void on_write(loom_write_t* req, int status) {
  lreq_status_callback(LREQ_OF(req), req->handle->loop, status);
}


/* write and write2: the request is returned; it is anchored (with its
 * strings) only if the kernel did not take everything at once or there
 * is a callback to call. */
/* Drops the first `written` bytes from the buffer array. */
static void skip_written(loom_buf_t* bufs, unsigned int n, size_t written) {
  unsigned int i;
  for (i = 0; i < n && written > 0; i++) {
    size_t take = bufs[i].len < written ? bufs[i].len : written;
    bufs[i].base = (char*) bufs[i].base + take;
    bufs[i].len -= take;
    written -= take;
  }
}


static int do_write(lua_State* L, loom_stream_t* send_handle, int cb_idx) {
  loom_stream_t* s = lstream_check(L, 1);
  unsigned int n = lbuf_count(L, 2);
  int has_cb = lopt_callback(L, cb_idx) != 0;
  loom_buf_t small[LBUF_SMALL];
  size_t written = 0;
  lreq_t* r;
  int ret;

  /* Without a callback and with nothing queued, the kernel usually takes
   * the whole write at once (the reply of a request/response server):
   * then no request is allocated and the shared finished one is returned.
   * Only what the kernel left over needs a request and anchored strings. */
  if (!has_cb && send_handle == NULL && n >= 1 && n <= LBUF_SMALL) {
    size_t total = 0;
    unsigned int i;
    lbuf_fill(L, 2, small, n);
    for (i = 0; i < n; i++)
      total += small[i].len;
    if (total < INT32_MAX) {
      ret = loom_try_write2(s, small, n, NULL);
      if (ret >= 0 && (size_t) ret == total) {
        lreq_push_done(L, LOOM_WRITE);
        return 1;
      }
      if (ret > 0)
        written = (size_t) ret;
    }
  }
  r = lreq_new(L, LOOM_WRITE, n);
  lreq_anchor(L, r, -1, has_cb ? cb_idx : 0, 2);
  lreq_fill_anchored(L, r, -1, n);
  skip_written(r->bufs, n, written);
  ret = loom_write2(&r->u.write, s, r->bufs, n, send_handle,
                    has_cb ? on_write : NULL);
  if (ret != 0) {
    /* Refused, or written at once with no callback to come. */
    lreq_unanchor(L, r);
    return ret < 0 ? lr_fail(L, ret) : 1;
  }
  /* Pending: the core calls back even without a Lua callback, so the
   * anchor is released. */
  r->u.write.cb = on_write;
  return 1;
}


static int stream_write(lua_State* L) {
  return do_write(L, NULL, 3);
}


static int stream_write2(lua_State* L) {
  loom_stream_t* send_handle = lstream_check(L, 3);
  return do_write(L, send_handle, 4);
}


static int try_write(lua_State* L, loom_stream_t* send_handle) {
  loom_stream_t* s = lstream_check(L, 1);
  unsigned int n = lbuf_count(L, 2);
  loom_buf_t small[LBUF_SMALL];
  loom_buf_t* bufs = lbuf_scratch(L, 2, n, small);
  int ret;

  ret = loom_try_write2(s, bufs, n, send_handle);
  return lr_result(L, ret);
}


static int stream_try_write(lua_State* L) {
  return try_write(L, NULL);
}


static int stream_try_write2(lua_State* L) {
  return try_write(L, lstream_check(L, 3));
}


/* stream:sendfile(fd, offset, length, [callback]) (beyond luv): after
 * what is queued, sends length bytes of the open file fd from offset
 * with sendfile(2), from the page cache to the socket without a copy
 * through Lua. Returns a request as write does; the callback gets an
 * error name or nil ("EOF" if the file is shorter than length). The
 * caller keeps fd open until then. */
static int stream_sendfile(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  lua_Integer fd = luaL_checkinteger(L, 2);
  lua_Integer offset = luaL_checkinteger(L, 3);
  lua_Integer length = luaL_checkinteger(L, 4);
  int has_cb = lopt_callback(L, 5) != 0;
  lreq_t* r;
  int ret;

  luaL_argcheck(L, fd >= 0 && fd <= INT32_MAX, 2, "file descriptor out of range");
  luaL_argcheck(L, offset >= 0, 3, "offset must not be negative");
  luaL_argcheck(L, length >= 0, 4, "length must not be negative");
  r = lreq_new(L, LOOM_WRITE, 0);
  lreq_anchor(L, r, -1, has_cb ? 5 : 0, 0);
  ret = loom_sendfile(&r->u.write, s, NULL, 0, (int) fd, (int64_t) offset,
                      (uint64_t) length, has_cb ? on_write : NULL);
  if (ret != 0) {
    lreq_unanchor(L, r);
    return ret < 0 ? lr_fail(L, ret) : 1;
  }
  r->u.write.cb = on_write;
  return 1;
}


static void on_shutdown(loom_shutdown_t* req, int status) {
  lreq_status_callback(LREQ_OF(req), req->handle->loop, status);
}


static int stream_shutdown(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  int cb_idx = lopt_callback(L, 2);
  lreq_t* r = lreq_new(L, LOOM_SHUTDOWN, 0);
  int ret;

  lreq_anchor(L, r, -1, cb_idx, 0);
  ret = loom_shutdown(&r->u.shutdown, s, on_shutdown);
  if (ret < 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, ret);
  }
  return 1;
}


static int stream_is_readable(lua_State* L) {
  lua_pushboolean(L, loom_is_readable(lstream_check(L, 1)));
  return 1;
}


static int stream_is_writable(lua_State* L) {
  lua_pushboolean(L, loom_is_writable(lstream_check(L, 1)));
  return 1;
}


static int stream_set_blocking(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  return lr_result(L, loom_stream_set_blocking(s, lua_toboolean(L, 2)));
}


static int stream_get_write_queue_size(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  lua_pushinteger(L, (lua_Integer) loom_stream_get_write_queue_size(s));
  return 1;
}


const luaL_Reg lstream_methods[] = {
  {"shutdown", stream_shutdown},
  {"listen", stream_listen},
  {"accept", stream_accept},
  {"read_start", stream_read_start},
  {"read_stop", stream_read_stop},
  {"write", stream_write},
  {"write2", stream_write2},
  {"try_write", stream_try_write},
  {"try_write2", stream_try_write2},
  {"sendfile", stream_sendfile},
  {"is_readable", stream_is_readable},
  {"is_writable", stream_is_writable},
  {"set_blocking", stream_set_blocking},
  {"get_write_queue_size", stream_get_write_queue_size},
  {NULL, NULL}
};

const luaL_Reg lstream_functions[] = {
  {"shutdown", stream_shutdown},
  {"listen", stream_listen},
  {"accept", stream_accept},
  {"read_start", stream_read_start},
  {"read_stop", stream_read_stop},
  {"write", stream_write},
  {"write2", stream_write2},
  {"try_write", stream_try_write},
  {"try_write2", stream_try_write2},
  {"is_readable", stream_is_readable},
  {"is_writable", stream_is_writable},
  {"stream_set_blocking", stream_set_blocking},
  {"stream_get_write_queue_size", stream_get_write_queue_size},
  {"stream_sendfile", stream_sendfile},
  {NULL, NULL}
};
