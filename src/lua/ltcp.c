/* SPDX-License-Identifier: MIT */
/* ltcp.c: uv_tcp_t (luv's tcp section) and socketpair. */
#include "lloom.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

static const luaL_Reg tcp_methods[];
const lh_type ltcp_type = {"uv_tcp", LOOM_TCP, tcp_methods, lstream_methods};


static loom_tcp_t* check_tcp(lua_State* L) {
  return (loom_tcp_t*) lh_check(L, 1, &ltcp_type);
}


/* new_tcp([family]): with a family the socket exists at once. */
static int new_tcp(lua_State* L) {
  lctx* ctx = LCTX(L);
  int family = lfamily_check(L, 1);
  loom_tcp_t* t;
  int pin;
  int err;

  t = lh_new(L, &ltcp_type, sizeof(*t));
  pin = lh_pin(L, -1);
  err = loom_tcp_init_ex(lctx_loop(L, ctx), t, family);
  if (err != 0) {
    lh_unpin(L, pin);
    return lr_fail(L, err);
  }
  lh_anchor((loom_handle_t*) t, pin, LUA_NOREF);
  return 1;
}


static int tcp_open(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  return lr_result(L, loom_tcp_open(t, lnet_check_fd(L, 2)));
}


static int tcp_nodelay(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  return lr_result(L, loom_tcp_nodelay(t, lua_toboolean(L, 2)));
}


static int tcp_keepalive(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  lua_Integer delay = 0;
  int enable;

  luaL_checktype(L, 2, LUA_TBOOLEAN);
  enable = lua_toboolean(L, 2);
  if (enable) {
    delay = luaL_checkinteger(L, 3);
    luaL_argcheck(L, delay >= 1 && delay <= 0x7fffffff, 3,
                  "must be a positive number of seconds");
  }
  return lr_result(L, loom_tcp_keepalive(t, enable, (unsigned int) delay));
}


static int tcp_simultaneous_accepts(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  luaL_checktype(L, 2, LUA_TBOOLEAN);
  return lr_result(L, loom_tcp_simultaneous_accepts(t, lua_toboolean(L, 2)));
}


static int tcp_bind(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  struct sockaddr_storage addr;
  unsigned int flags = 0;

  laddr_check(L, 2, 3, &addr);
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    if (lflag(L, 4, "ipv6only"))
      flags |= LOOM_TCP_IPV6ONLY;
    if (lflag(L, 4, "reuseport"))
      flags |= LOOM_TCP_REUSEPORT;
  }
  return lr_result(L, loom_tcp_bind(t, (struct sockaddr*) &addr, flags));
}


static int push_name(lua_State* L, int peer) {
  loom_tcp_t* t = check_tcp(L);
  struct sockaddr_storage addr;
  int len = sizeof(addr);
  int err = peer ? loom_tcp_getpeername(t, (struct sockaddr*) &addr, &len)
                 : loom_tcp_getsockname(t, (struct sockaddr*) &addr, &len);
  if (err != 0)
    return lr_fail(L, err);
  laddr_push(L, (struct sockaddr*) &addr);
  return 1;
}


static int tcp_getsockname(lua_State* L) {
  return push_name(L, 0);
}


static int tcp_getpeername(lua_State* L) {
  return push_name(L, 1);
}


static void on_connect(loom_connect_t* req, int status) {
  lreq_status_callback(LREQ_OF(req), req->handle->loop, status);
}


static int tcp_connect(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  struct sockaddr_storage addr;
  lreq_t* r;
  int ret;

  laddr_check(L, 2, 3, &addr);
  lh_check_callable(L, 4);
  r = lreq_new(L, LOOM_CONNECT, 0);
  lreq_anchor(L, r, -1, 4, 0);
  ret = loom_tcp_connect(&r->u.connect, t, (struct sockaddr*) &addr,
                         on_connect);
  if (ret < 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, ret);
  }
  return 1;
}


static int tcp_write_queue_size(lua_State* L) {
  loom_tcp_t* t = check_tcp(L);
  lua_pushinteger(L, (lua_Integer) loom_stream_get_write_queue_size((loom_stream_t*) t));
  return 1;
}


static int reset_closer(loom_handle_t* h, loom_close_cb cb) {
  return loom_tcp_close_reset((loom_tcp_t*) h, cb);
}


/* Like close, but the peer gets an RST instead of a FIN. */
static int tcp_close_reset(lua_State* L) {
  check_tcp(L);
  return lh_close_with(L, 1, 2, reset_closer);
}


int lsocktype_check(lua_State* L, int idx) {
  static const char* const names[] = {"stream", "dgram", "raw", "rdm",
                                      "seqpacket", NULL};
  static const int values[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM,
                               SOCK_SEQPACKET};
  if (lua_isnoneornil(L, idx))
    return SOCK_STREAM;
  if (lua_type(L, idx) == LUA_TNUMBER)
    return (int) luaL_checkinteger(L, idx);
  return values[luaL_checkoption(L, idx, NULL, names)];
}


int lprotocol_check(lua_State* L, int idx) {
  struct protoent* p;

  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_type(L, idx) == LUA_TNUMBER)
    return (int) luaL_checkinteger(L, idx);
  p = getprotobyname(lcheck_cstring(L, idx));
  if (p == NULL)
    luaL_argerror(L, idx, "unknown protocol");
  return p->p_proto;
}


static int pipe_flags(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx))
    return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  return lflag(L, idx, "nonblock") ? LOOM_NONBLOCK_PIPE : 0;
}


/* socketpair([socktype], [protocol], [flags1], [flags2]) -> {fd1, fd2} */
static int socketpair_(lua_State* L) {
  int type = lsocktype_check(L, 1);
  int protocol = lprotocol_check(L, 2);
  int f0 = pipe_flags(L, 3);
  int f1 = pipe_flags(L, 4);
  int fds[2];
  int err = loom_socketpair(type, protocol, fds, f0, f1);

  if (err != 0)
    return lr_fail(L, err);
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, fds[0]);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, fds[1]);
  lua_rawseti(L, -2, 2);
  return 1;
}


static const luaL_Reg tcp_methods[] = {
  {"open", tcp_open},
  {"nodelay", tcp_nodelay},
  {"keepalive", tcp_keepalive},
  {"simultaneous_accepts", tcp_simultaneous_accepts},
  {"bind", tcp_bind},
  {"getpeername", tcp_getpeername},
  {"getsockname", tcp_getsockname},
  {"connect", tcp_connect},
  {"write_queue_size", tcp_write_queue_size},
  {"close_reset", tcp_close_reset},
  {NULL, NULL}
};

const luaL_Reg ltcp_functions[] = {
  {"new_tcp", new_tcp},
  {"tcp_open", tcp_open},
  {"tcp_nodelay", tcp_nodelay},
  {"tcp_keepalive", tcp_keepalive},
  {"tcp_simultaneous_accepts", tcp_simultaneous_accepts},
  {"tcp_bind", tcp_bind},
  {"tcp_getpeername", tcp_getpeername},
  {"tcp_getsockname", tcp_getsockname},
  {"tcp_connect", tcp_connect},
  {"tcp_write_queue_size", tcp_write_queue_size},
  {"tcp_close_reset", tcp_close_reset},
  {"socketpair", socketpair_},
  {NULL, NULL}
};
