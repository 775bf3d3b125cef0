/* SPDX-License-Identifier: MIT */
/* ludp.c: uv_udp_t (luv's udp section). */
#include "lloom.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>

static const luaL_Reg udp_methods[];
const lh_type ludp_type = {"uv_udp", LOOM_UDP, udp_methods, NULL};


static loom_udp_t* check_udp(lua_State* L) {
  return (loom_udp_t*) lh_check(L, 1, &ludp_type);
}


/* new_udp([flags]): flags is a family (name or number), or a table
 * {family = ..., mmsgs = N, recv_size = bytes}; mmsgs > 1 receives with
 * recvmmsg; recv_size (beyond luv) bounds the bytes read per datagram. */
static int new_udp(lua_State* L) {
  lctx* ctx = LCTX(L);
  int family = AF_UNSPEC;
  lua_Integer mmsgs = 1;
  lua_Integer recv_size = 65536;
  loom_udp_t* u;
  int pin;
  int err;

  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_getfield(L, 1, "family");
    family = lfamily_check(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "mmsgs");
    if (!lua_isnil(L, -1)) {
      if (!lua_isinteger(L, -1))
        return luaL_argerror(L, 1, "mmsgs must be an integer");
      mmsgs = lua_tointeger(L, -1);
      luaL_argcheck(L, mmsgs >= 1 && mmsgs <= 1024, 1,
                    "mmsgs must be between 1 and 1024");
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "recv_size");
    if (!lua_isnil(L, -1)) {
      if (!lua_isinteger(L, -1))
        return luaL_argerror(L, 1, "recv_size must be an integer");
      recv_size = lua_tointeger(L, -1);
      luaL_argcheck(L, recv_size >= 1 && recv_size <= 65536, 1,
                    "recv_size must be between 1 and 65536");
    }
    lua_pop(L, 1);
  } else {
    family = lfamily_check(L, 1);
  }
  luaL_argcheck(L, family == AF_UNSPEC || family == AF_INET ||
                       family == AF_INET6, 1, "family must be inet or inet6");
  u = lh_new(L, &ludp_type, sizeof(*u));
  pin = lh_pin(L, -1);
  err = loom_udp_init_ex(lctx_loop(L, ctx), u, family, (unsigned int) mmsgs);
  if (err != 0) {
    lh_unpin(L, pin);
    return lr_fail(L, err);
  }
  loom_udp_set_recv_size(u, (unsigned int) recv_size);
  lh_anchor((loom_handle_t*) u, pin, LUA_NOREF);
  return 1;
}


static int udp_open(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  return lr_result(L, loom_udp_open(u, lnet_check_fd(L, 2)));
}


static int udp_bind(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  struct sockaddr_storage addr;
  unsigned int flags = 0;

  laddr_check(L, 2, 3, &addr);
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    if (lflag(L, 4, "ipv6only")) flags |= LOOM_UDP_IPV6ONLY;
    if (lflag(L, 4, "reuseaddr")) flags |= LOOM_UDP_REUSEADDR;
    if (lflag(L, 4, "reuseport")) flags |= LOOM_UDP_REUSEPORT;
  }
  return lr_result(L, loom_udp_bind(u, (struct sockaddr*) &addr, flags));
}


static int push_name(lua_State* L, int peer) {
  loom_udp_t* u = check_udp(L);
  struct sockaddr_storage addr;
  int len = sizeof(addr);
  int err = peer ? loom_udp_getpeername(u, (struct sockaddr*) &addr, &len)
                 : loom_udp_getsockname(u, (struct sockaddr*) &addr, &len);
  if (err != 0)
    return lr_fail(L, err);
  laddr_push(L, (struct sockaddr*) &addr);
  return 1;
}


static int udp_getsockname(lua_State* L) {
  return push_name(L, 0);
}


static int udp_getpeername(lua_State* L) {
  return push_name(L, 1);
}


/* udp:connect(host, port) connects; udp:connect(nil) disconnects. */
static int udp_connect(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  struct sockaddr_storage addr;

  if (lua_isnoneornil(L, 2))
    return lr_result(L, loom_udp_connect(u, NULL));
  laddr_check(L, 2, 3, &addr);
  return lr_result(L, loom_udp_connect(u, (struct sockaddr*) &addr));
}


/* An optional destination: nil host and port (connected sockets) or
 * host, port. One nil without the other raises, as luv does: sending
 * to "no address" by mistake must not look like a connected send. */
static struct sockaddr* opt_dest(lua_State* L, int host_idx,
                                 struct sockaddr_storage* addr) {
  int no_host = lua_isnoneornil(L, host_idx);
  int no_port = lua_isnoneornil(L, host_idx + 1);
  if (no_host != no_port)
    luaL_error(L, "Both host and port must be nil if one is nil");
  if (no_host)
    return NULL;
  laddr_check(L, host_idx, host_idx + 1, addr);
  return (struct sockaddr*) addr;
}


static void on_send(loom_udp_send_t* req, int status) {
  lreq_status_callback(LREQ_OF(req), req->handle->loop, status);
}


/* Without a callback there is nothing to wait for: the datagram goes out
 * at once or the core keeps a copy, no request is allocated, and the
 * request returned is one shared, already finished object. This is the
 * reply path of every UDP server, so it must not cost a Lua allocation. */
static int udp_send_forget(lua_State* L, loom_udp_t* u, unsigned int n,
                           const struct sockaddr* dest) {
  loom_buf_t small[LBUF_SMALL];
  loom_buf_t* bufs = lbuf_scratch(L, 2, n, small);
  int ret;

  ret = loom_udp_send_copy(u, bufs, n, dest);
  if (ret < 0)
    return lr_fail(L, ret);
  lreq_push_done(L, LOOM_UDP_SEND);
  return 1;
}


static int udp_send(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  unsigned int n = lbuf_count(L, 2);
  struct sockaddr_storage addr;
  struct sockaddr* dest = opt_dest(L, 3, &addr);
  int cb_idx = lopt_callback(L, 5);
  lreq_t* r;
  int ret;

  if (cb_idx == 0)
    return udp_send_forget(L, u, n, dest);
  r = lreq_new(L, LOOM_UDP_SEND, n);
  lreq_anchor(L, r, -1, cb_idx, 2);
  lreq_fill_anchored(L, r, -1, n);
  ret = loom_udp_send(&r->u.send, u, r->bufs, n, dest, on_send);
  if (ret < 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, ret);
  }
  return 1;
}


static int udp_try_send(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  unsigned int n = lbuf_count(L, 2);
  struct sockaddr_storage addr;
  struct sockaddr* dest = opt_dest(L, 3, &addr);
  loom_buf_t small[LBUF_SMALL];
  loom_buf_t* bufs = lbuf_scratch(L, 2, n, small);

  return lr_result(L, loom_udp_try_send(u, bufs, n, dest));
}


/* try_send2(messages[, flags]): messages is an array of {data = string or
 * array of strings, addr = {ip = ..., port = ...} or nil}; one sendmmsg
 * sends as many as the kernel takes. Returns the number sent. */
static int udp_try_send2(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  lua_Integer count;
  lua_Integer i;
  unsigned int total = 0;
  loom_buf_t** bufs;
  unsigned int* nbufs;
  struct sockaddr** addrs;
  struct sockaddr_storage* storage;
  loom_buf_t* pool;
  unsigned int used = 0;

  luaL_checktype(L, 2, LUA_TTABLE);
  count = (lua_Integer) lua_rawlen(L, 2);
  luaL_argcheck(L, count <= 1024, 2, "at most 1024 messages");
  if (!lua_isnoneornil(L, 3) && lua_type(L, 3) != LUA_TNUMBER &&
      lua_type(L, 3) != LUA_TTABLE)
    luaL_typeerror(L, 3, "nil, integer or table");
  lua_settop(L, 2);
  /* First pass: validate and count buffers. */
  for (i = 1; i <= count; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TTABLE)
      return luaL_argerror(L, 2, lua_pushfstring(L, "message %d is not a "
                                                 "table", (int) i));
    lua_getfield(L, -1, "data");
    total += lbuf_count(L, lua_gettop(L));
    lua_pop(L, 2);
  }
  /* One scratch block for every array (collected with the call). */
  {
    size_t size = (size_t) count * (sizeof(loom_buf_t*) + sizeof(unsigned) +
                                    sizeof(struct sockaddr*) +
                                    sizeof(struct sockaddr_storage)) +
                  total * sizeof(loom_buf_t) + 16;
    char* block = lua_newuserdatauv(L, size, 0);        /* msgs block */
    storage = (struct sockaddr_storage*) block;
    bufs = (loom_buf_t**) (storage + count);
    addrs = (struct sockaddr**) (bufs + count);
    nbufs = (unsigned int*) (addrs + count);
    pool = (loom_buf_t*) (((uintptr_t) (nbufs + count) + 15) & ~(uintptr_t) 15);
  }
  for (i = 1; i <= count; i++) {
    unsigned int n;
    int msg = lua_gettop(L) + 1;
    lua_rawgeti(L, 2, i);                               /* ... msg */
    lua_getfield(L, msg, "data");                       /* ... msg data */
    n = lbuf_count(L, msg + 1);
    lbuf_fill(L, msg + 1, pool + used, n);
    bufs[i - 1] = pool + used;
    nbufs[i - 1] = n;
    used += n;
    addrs[i - 1] = NULL;
    lua_getfield(L, msg, "addr");                       /* ... msg data addr */
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "ip");
      lua_getfield(L, -2, "port");
      laddr_check(L, -2, -1, &storage[i - 1]);
      addrs[i - 1] = (struct sockaddr*) &storage[i - 1];
      lua_pop(L, 2);
    } else if (!lua_isnil(L, -1)) {
      return luaL_argerror(L, 2, "addr must be a table or nil");
    }
    /* The message table stays referenced by argument 2 and keeps the
     * strings alive; only the stack slots go. */
    lua_pop(L, 3);
  }
  return lr_result(L, loom_udp_try_send2(u, (unsigned int) count, bufs,
                                         nbufs, addrs));
}


/* callback(err, data, addr, flags): flags is {partial = bool,
 * mmsg_chunk = bool}, as in luv. */
static void on_recv(loom_udp_t* u, ssize_t nread, const loom_buf_t* buf,
                    const struct sockaddr* addr, unsigned int flags) {
  lctx* ctx = loom_loop_get_data(u->loop);
  lua_State* L = ctx->L;

  lh_push_callback(L, (loom_handle_t*) u);
  if (nread < 0) {
    lua_pushstring(L, loom_err_name((int) nread));
    lua_pushnil(L);
    lua_pushnil(L);
  } else {
    lua_pushnil(L);
    lua_pushlstring(L, buf->base, buf->len);
    laddr_push(L, addr);
  }
  /* As in luv: a fresh flags table holding only the flags that are set
   * (usually none, so the table needs no hash part). */
  lua_createtable(L, 0, 0);
  if (flags & LOOM_UDP_PARTIAL) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "partial");
  }
  if (flags & LOOM_UDP_MMSG_CHUNK) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "mmsg_chunk");
  }
  lctx_call(ctx, 4);
}


static int udp_recv_start(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  int ret;

  lh_check_callback(L, 1, 2);
  ret = loom_udp_recv_start(u, on_recv);
  if (ret == 0)
    lh_set_callback(L, 1, 2);
  return lr_result(L, ret);
}


static int udp_recv_stop(lua_State* L) {
  return lr_result(L, loom_udp_recv_stop(check_udp(L)));
}


static loom_membership check_membership(lua_State* L, int idx) {
  static const char* const names[] = {"leave", "join", NULL};
  return (loom_membership) luaL_checkoption(L, idx, NULL, names);
}


static int udp_set_membership(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  const char* group = lcheck_cstring(L, 2);
  const char* iface = lopt_cstring(L, 3, NULL);
  loom_membership m = check_membership(L, 4);
  return lr_result(L, loom_udp_set_membership(u, group, iface, m));
}


static int udp_set_source_membership(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  const char* group = lcheck_cstring(L, 2);
  const char* iface = lopt_cstring(L, 3, NULL);
  const char* source = lcheck_cstring(L, 4);
  loom_membership m = check_membership(L, 5);
  return lr_result(L, loom_udp_set_source_membership(u, group, iface, source,
                                                     m));
}


static int udp_set_multicast_loop(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  return lr_result(L, loom_udp_set_multicast_loop(u, lua_toboolean(L, 2)));
}


static int check_ttl(lua_State* L, int idx) {
  lua_Integer ttl = luaL_checkinteger(L, idx);
  luaL_argcheck(L, ttl >= 0 && ttl <= 255, idx, "must be 0-255");
  return (int) ttl;
}


static int udp_set_multicast_ttl(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  return lr_result(L, loom_udp_set_multicast_ttl(u, check_ttl(L, 2)));
}


static int udp_set_multicast_interface(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  const char* iface = lopt_cstring(L, 2, NULL);
  return lr_result(L, loom_udp_set_multicast_interface(u, iface));
}


static int udp_set_broadcast(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  return lr_result(L, loom_udp_set_broadcast(u, lua_toboolean(L, 2)));
}


static int udp_set_ttl(lua_State* L) {
  loom_udp_t* u = check_udp(L);
  return lr_result(L, loom_udp_set_ttl(u, check_ttl(L, 2)));
}


static int udp_get_send_queue_size(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) check_udp(L)->send_queue_size);
  return 1;
}


static int udp_get_send_queue_count(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) check_udp(L)->send_queue_count);
  return 1;
}


static const luaL_Reg udp_methods[] = {
  {"get_send_queue_size", udp_get_send_queue_size},
  {"get_send_queue_count", udp_get_send_queue_count},
  {"open", udp_open},
  {"bind", udp_bind},
  {"getsockname", udp_getsockname},
  {"getpeername", udp_getpeername},
  {"set_membership", udp_set_membership},
  {"set_source_membership", udp_set_source_membership},
  {"set_multicast_loop", udp_set_multicast_loop},
  {"set_multicast_ttl", udp_set_multicast_ttl},
  {"set_multicast_interface", udp_set_multicast_interface},
  {"set_broadcast", udp_set_broadcast},
  {"set_ttl", udp_set_ttl},
  {"send", udp_send},
  {"try_send", udp_try_send},
  {"try_send2", udp_try_send2},
  {"recv_start", udp_recv_start},
  {"recv_stop", udp_recv_stop},
  {"connect", udp_connect},
  {NULL, NULL}
};

const luaL_Reg ludp_functions[] = {
  {"new_udp", new_udp},
  {"udp_get_send_queue_size", udp_get_send_queue_size},
  {"udp_get_send_queue_count", udp_get_send_queue_count},
  {"udp_open", udp_open},
  {"udp_bind", udp_bind},
  {"udp_getsockname", udp_getsockname},
  {"udp_getpeername", udp_getpeername},
  {"udp_set_membership", udp_set_membership},
  {"udp_set_source_membership", udp_set_source_membership},
  {"udp_set_multicast_loop", udp_set_multicast_loop},
  {"udp_set_multicast_ttl", udp_set_multicast_ttl},
  {"udp_set_multicast_interface", udp_set_multicast_interface},
  {"udp_set_broadcast", udp_set_broadcast},
  {"udp_set_ttl", udp_set_ttl},
  {"udp_send", udp_send},
  {"udp_try_send", udp_try_send},
  {"udp_try_send2", udp_try_send2},
  {"udp_recv_start", udp_recv_start},
  {"udp_recv_stop", udp_recv_stop},
  {"udp_connect", udp_connect},
  {NULL, NULL}
};
