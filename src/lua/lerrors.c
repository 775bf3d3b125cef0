/* SPDX-License-Identifier: MIT */
/* lerrors.c: how failures look in Lua: the fail triple and uv.errno. */
#include "lloom.h"


int lr_fail(lua_State* L, int err) {
  const char* name = loom_err_name(err);
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", name, loom_strerror(err));
  lua_pushstring(L, name);
  return 3;
}


void lr_push_status(lua_State* L, int status) {
  if (status < 0)
    lua_pushstring(L, loom_err_name(status));
  else
    lua_pushnil(L);
}


int lr_result(lua_State* L, int ret) {
  if (ret < 0)
    return lr_fail(L, ret);
  lua_pushinteger(L, ret);
  return 1;
}


void lr_push_errno_table(lua_State* L) {
  lua_newtable(L);
#define SET_ERRNO(name, code, msg)                                            \
  lua_pushinteger(L, code);                                                   \
  lua_setfield(L, -2, #name);
  LOOM_ERRNO_MAP(SET_ERRNO)
#undef SET_ERRNO
}
