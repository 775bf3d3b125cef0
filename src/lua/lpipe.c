/* SPDX-License-Identifier: MIT */
/* lpipe.c: uv_pipe_t (luv's pipe section) and uv.pipe(). */
#include "lloom.h"

#include <string.h>

static const luaL_Reg pipe_methods[];
const lh_type lpipe_type = {"uv_pipe", LOOM_NAMED_PIPE, pipe_methods,
                            lstream_methods};


static loom_pipe_t* check_pipe(lua_State* L) {
  return (loom_pipe_t*) lh_check(L, 1, &lpipe_type);
}


static int new_pipe(lua_State* L) {
  lctx* ctx = LCTX(L);
  int ipc = lua_toboolean(L, 1);
  loom_pipe_t* p;
  int pin;

  if (!lua_isnoneornil(L, 1))
    luaL_checktype(L, 1, LUA_TBOOLEAN);
  p = lh_new(L, &lpipe_type, sizeof(*p));
  pin = lh_pin(L, -1);
  loom_pipe_init(lctx_loop(L, ctx), p, ipc);
  lh_anchor((loom_handle_t*) p, pin, LUA_NOREF);
  return 1;
}


static int pipe_open(lua_State* L) {
  loom_pipe_t* p = check_pipe(L);
  return lr_result(L, loom_pipe_open(p, lnet_check_fd(L, 2)));
}


/* luv's bind2/connect2 flags: nil, an integer, or {no_truncate = bool}. */
static unsigned int bind_flags(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_type(L, idx) == LUA_TNUMBER)
    return (unsigned int) luaL_checkinteger(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  return lflag(L, idx, "no_truncate") ? LOOM_PIPE_NO_TRUNCATE : 0;
}


static int pipe_bind2(lua_State* L) {
  loom_pipe_t* p = check_pipe(L);
  size_t len;
  const char* name = luaL_checklstring(L, 2, &len);
  unsigned int flags = bind_flags(L, 3);
  return lr_result(L, loom_pipe_bind2(p, name, len, flags));
}


static int pipe_bind(lua_State* L) {
  lua_settop(L, 2);
  return pipe_bind2(L);
}


static void on_connect(loom_connect_t* req, int status) {
  lreq_status_callback(LREQ_OF(req), req->handle->loop, status);
}


static int connect_common(lua_State* L, unsigned int flags, int cb_idx) {
  loom_pipe_t* p = check_pipe(L);
  size_t len;
  const char* name = luaL_checklstring(L, 2, &len);
  int has_cb = lopt_callback(L, cb_idx);
  lreq_t* r = lreq_new(L, LOOM_CONNECT, 0);
  int ret;

  lreq_anchor(L, r, -1, has_cb, 0);
  ret = loom_pipe_connect2(&r->u.connect, p, name, len, flags, on_connect);
  if (ret < 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, ret);
  }
  return 1;
}


static int pipe_connect(lua_State* L) {
  return connect_common(L, 0, 3);
}


static int pipe_connect2(lua_State* L) {
  return connect_common(L, bind_flags(L, 3), 4);
}


static int push_name(lua_State* L, int peer) {
  loom_pipe_t* p = check_pipe(L);
  char buf[256];
  size_t len = sizeof(buf);
  int err = peer ? loom_pipe_getpeername(p, buf, &len)
                 : loom_pipe_getsockname(p, buf, &len);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushlstring(L, buf, len);
  return 1;
}


static int pipe_getsockname(lua_State* L) {
  return push_name(L, 0);
}


static int pipe_getpeername(lua_State* L) {
  return push_name(L, 1);
}


/* A Windows setting (the number of pipe instances a server creates);
 * unix sockets have no such thing, so it changes nothing, as in libuv. */
static int pipe_pending_instances(lua_State* L) {
  check_pipe(L);
  luaL_checkinteger(L, 2);
  return 0;
}


static int pipe_pending_count(lua_State* L) {
  lua_pushinteger(L, loom_pipe_pending_count(check_pipe(L)));
  return 1;
}


static int pipe_pending_type(lua_State* L) {
  loom_handle_type type = loom_pipe_pending_type(check_pipe(L));
  lua_pushstring(L, loom_handle_type_name(type));
  return 1;
}


static int pipe_chmod(lua_State* L) {
  static const char* const modes[] = {"r", "w", "rw", "wr", NULL};
  static const int values[] = {LOOM_READABLE, LOOM_WRITABLE,
                               LOOM_READABLE | LOOM_WRITABLE,
                               LOOM_READABLE | LOOM_WRITABLE};
  loom_pipe_t* p = check_pipe(L);
  int flags = values[luaL_checkoption(L, 2, NULL, modes)];
  return lr_result(L, loom_pipe_chmod(p, flags));
}


static int pipe_flags(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx))
    return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  return lflag(L, idx, "nonblock") ? LOOM_NONBLOCK_PIPE : 0;
}


/* uv.pipe([read_flags], [write_flags]) -> {read = fd, write = fd} */
static int pipe_(lua_State* L) {
  int rf = pipe_flags(L, 1);
  int wf = pipe_flags(L, 2);
  int fds[2];
  int err = loom_pipe(fds, rf, wf);

  if (err != 0)
    return lr_fail(L, err);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, fds[0]);
  lua_setfield(L, -2, "read");
  lua_pushinteger(L, fds[1]);
  lua_setfield(L, -2, "write");
  return 1;
}


static const luaL_Reg pipe_methods[] = {
  {"open", pipe_open},
  {"bind", pipe_bind},
  {"bind2", pipe_bind2},
  {"connect", pipe_connect},
  {"connect2", pipe_connect2},
  {"getsockname", pipe_getsockname},
  {"getpeername", pipe_getpeername},
  {"pending_instances", pipe_pending_instances},
  {"pending_count", pipe_pending_count},
  {"pending_type", pipe_pending_type},
  {"chmod", pipe_chmod},
  {NULL, NULL}
};

const luaL_Reg lpipe_functions[] = {
  {"new_pipe", new_pipe},
  {"pipe_open", pipe_open},
  {"pipe_bind", pipe_bind},
  {"pipe_bind2", pipe_bind2},
  {"pipe_connect", pipe_connect},
  {"pipe_connect2", pipe_connect2},
  {"pipe_getsockname", pipe_getsockname},
  {"pipe_getpeername", pipe_getpeername},
  {"pipe_pending_instances", pipe_pending_instances},
  {"pipe_pending_count", pipe_pending_count},
  {"pipe_pending_type", pipe_pending_type},
  {"pipe_chmod", pipe_chmod},
  {"pipe", pipe_},
  {NULL, NULL}
};
