/* SPDX-License-Identifier: MIT */
/* lreq.c: request userdata (write, connect, shutdown, udp send): one
 * allocation holding the core request and its buffer array; two user
 * values hold the callback and the Lua strings being sent, so the bytes
 * the kernel reads stay alive (no copy) until the callback has run. The
 * userdata is anchored (lanchor.c) only while the core owns it.
 *
 * Async fs calls (but for the directory ones) return a small handle
 * instead, whose request lives in C memory (lfs.h); cancel, get_type and
 * tostring here take either.
 */
#include "lfs.h"

#include <stddef.h>
#include <string.h>

/* The bytes of the union the type uses. */
static size_t req_size(loom_req_type type) {
  switch (type) {
    case LOOM_WRITE: return sizeof(loom_write_t);
    case LOOM_CONNECT: return sizeof(loom_connect_t);
    case LOOM_SHUTDOWN: return sizeof(loom_shutdown_t);
    case LOOM_UDP_SEND: return sizeof(loom_udp_send_t);
    case LOOM_FS: return sizeof(loom_fs_t);
    case LOOM_GETADDRINFO: return sizeof(loom_getaddrinfo_t);
    case LOOM_GETNAMEINFO: return sizeof(loom_getnameinfo_t);
    case LOOM_DNS_QUERY: return sizeof(loom_dns_query_t);
    default: return sizeof(((lreq_t*) 0)->u);
  }
}


lreq_t* lreq_new_extra(lua_State* L, loom_req_type type, unsigned int nbufs,
                       size_t extra) {
  size_t head = offsetof(lreq_t, u) + req_size(type);
  size_t size;
  lreq_t* r;

  head = (head + sizeof(void*) - 1) & ~(sizeof(void*) - 1);
  size = head + (size_t) nbufs * sizeof(loom_buf_t) + extra;
  r = lua_newuserdatauv(L, size, 2);                    /* req */
  r->ref = LUA_NOREF;
  r->bufs = (loom_buf_t*) ((char*) r + head);
  r->u.req.type = type;
  r->u.req.data = r;
  lua_getiuservalue(L, lua_upvalueindex(1), LCTX_REQ_MT_SLOT); /* req mt */
  lua_setmetatable(L, -2);                              /* req */
  return r;
}


/* One finished request per type, shared by every operation that has
 * nothing to report (a udp send without a callback). It is kept in the
 * context's user values: a registry lookup by address cost more than the
 * rest of a reply's binding work. */
void lreq_push_done(lua_State* L, loom_req_type type) {
  int slot = LCTX_DONE_SLOT(type);
  lreq_t* r;

  if (lua_getiuservalue(L, lua_upvalueindex(1), slot) == LUA_TUSERDATA)
    return;                                             /* req */
  lua_pop(L, 1);
  r = lreq_new(L, type, 0);                             /* req */
  memset(&r->u, 0, req_size(type));
  r->u.req.type = type;
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, lua_upvalueindex(1), slot);
}


void lreq_fill_anchored(lua_State* L, lreq_t* r, int idx, unsigned int n) {
  lua_getiuservalue(L, idx, 2);                         /* the copy */
  lbuf_fill(L, lua_gettop(L), r->bufs, n);
  lua_pop(L, 1);
}


/* Anchors the request at idx until lreq_take, with its callback (at
 * cb_idx, may be none or nil) and the value whose bytes it refers to (at
 * data_idx, or 0). Called before the core starts the request: this may
 * raise a memory error, and then nothing has started. */
void lreq_anchor(lua_State* L, lreq_t* r, int idx, int cb_idx, int data_idx) {
  lctx* ctx = LCTX(L);

  idx = lua_absindex(L, idx);
  if (cb_idx != 0 && !lua_isnoneornil(L, cb_idx)) {
    lua_pushvalue(L, cb_idx);
    lua_setiuservalue(L, idx, 1);
  }
  if (data_idx != 0) {
    if (lua_type(L, data_idx) == LUA_TTABLE) {
      /* A private copy of the array: the caller may change theirs. */
      lua_Integer i;
      /* rawlen, as lbuf_count counted: no Lua code (a __len) runs
       * while the request is half made. */
      lua_Integer n = (lua_Integer) lua_rawlen(L, data_idx);
      lua_createtable(L, (int) n, 0);
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, data_idx, i);
        lua_rawseti(L, -2, i);
      }
    } else {
      lua_pushvalue(L, data_idx);
    }
    lua_setiuservalue(L, idx, 2);
  }
  r->ref = lanchor_put(ctx, L, idx);
}


/* Undoes lreq_anchor when the core refused to start the request. It
 * cannot fail: a memory error here would leave the slot taken. */
void lreq_unanchor(lua_State* L, lreq_t* r) {
  lanchor_take(LCTX(L), L, r->ref);                     /* req */
  lua_pop(L, 1);
  r->ref = LUA_NOREF;
}


void lreq_take(lctx* ctx, lreq_t* r) {
  lanchor_take(ctx, ctx->L, r->ref);                    /* req */
  r->ref = LUA_NOREF;
}


int lreq_release(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, 1) == LUA_TNIL) {       /* cb */
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, 2);
    return 0;
  }
  lua_pushnil(L);
  lua_setiuservalue(L, idx, 1);
  lua_pushnil(L);
  lua_setiuservalue(L, idx, 2);
  return 1;
}


int lreq_finish(lctx* ctx, lreq_t* r) {
  int has_cb;

  lreq_take(ctx, r);                                    /* req */
  has_cb = lreq_release(ctx->L, -1);                    /* req [cb] */
  lua_remove(ctx->L, -1 - has_cb);                      /* [cb] */
  return has_cb;
}


void lreq_status_callback(lreq_t* r, loom_loop_t* loop, int status) {
  lctx* ctx = loom_loop_get_data(loop);

  if (!lreq_finish(ctx, r))
    return;
  lr_push_status(ctx->L, status);
  lctx_call(ctx, 1);
}


/* A request argument: a request userdata (returned), or the handle of an
 * async fs call (NULL, with *fs its request, or NULL once it finished). */
static lreq_t* check_req(lua_State* L, int idx, lfs_req** fs) {
  lreq_t* r = luaL_testudata(L, idx, "uv_req");
  int is_handle;

  *fs = NULL;
  if (r != NULL)
    return r;
  *fs = lfs_handle_request(L, idx, &is_handle);
  if (!is_handle)
    luaL_typeerror(L, idx, "uv_req");
  return NULL;
}


static loom_req_type type_of(lreq_t* r) {
  return r != NULL ? r->u.req.type : LOOM_FS;
}


static int req_tostring(lua_State* L) {
  lfs_req* fs;
  lreq_t* r = check_req(L, 1, &fs);
  lua_pushfstring(L, "uv_%s_t: %p", loom_req_type_name(type_of(r)),
                  lua_touserdata(L, 1));
  return 1;
}


static int req_get_type(lua_State* L) {
  lfs_req* fs;
  lreq_t* r = check_req(L, 1, &fs);
  lua_pushstring(L, loom_req_type_name(type_of(r)));
  lua_pushinteger(L, type_of(r));
  return 2;
}


/* Thread pool requests that have not started can be cancelled (their
 * callback gets ECANCELED); EBUSY once they run, and for an fs handle
 * whose request has finished. Socket requests (write, connect, shutdown,
 * udp send) are in the kernel's hands: EINVAL, as in libuv (closing the
 * handle cancels them). */
static int req_cancel(lua_State* L) {
  lfs_req* fs;
  lreq_t* r = check_req(L, 1, &fs);
  int ret = LOOM_EINVAL;

  if (r == NULL)
    ret = fs != NULL ? loom_fs_cancel(&fs->fs) : LOOM_EBUSY;
  else if (r->u.req.type == LOOM_FS)
    ret = loom_fs_cancel(&r->u.fs);
  else if (r->u.req.type == LOOM_GETADDRINFO ||
           r->u.req.type == LOOM_GETNAMEINFO ||
           r->u.req.type == LOOM_DNS_QUERY)
    ret = loom_dns_cancel(&r->u.req);
  return lr_result(L, ret);
}


static const luaL_Reg req_methods[] = {
  {"cancel", req_cancel},
  {"get_type", req_get_type},
  {NULL, NULL}
};

const luaL_Reg lreq_functions[] = {
  {"cancel", req_cancel},
  {"req_get_type", req_get_type},
  {NULL, NULL}
};


/* Both metatables share the methods, which find the context in their
 * upvalue. The fs handle's is not registered by name: its __name makes
 * argument errors call it a uv_req, like the others. */
void lreq_register(lua_State* L, int ctx_idx) {
  ctx_idx = lua_absindex(L, ctx_idx);
  luaL_newmetatable(L, "uv_req");                       /* mt */
  lua_newtable(L);                                      /* mt methods */
  lua_pushvalue(L, ctx_idx);
  luaL_setfuncs(L, req_methods, 1);
  lua_pushvalue(L, ctx_idx);
  lua_pushcclosure(L, req_tostring, 1);                 /* mt methods f */
  lua_createtable(L, 0, 3);                             /* mt methods f fmt */
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "uv_req");
  lua_setfield(L, -2, "__name");
  ((lctx*) lua_touserdata(L, ctx_idx))->fs_handle_mt = lua_topointer(L, -1);
  lua_setiuservalue(L, ctx_idx, LCTX_FS_HANDLE_MT_SLOT); /* mt methods f */
  lua_setfield(L, -3, "__tostring");                    /* mt methods */
  lua_setfield(L, -2, "__index");                       /* mt */
  lua_setiuservalue(L, ctx_idx, LCTX_REQ_MT_SLOT);
}
