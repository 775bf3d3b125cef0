/* SPDX-License-Identifier: MIT */
/* lfailalloc.c: the Lua face of the allocation failure injector, which
 * build/tests/c/loom-failalloc preloads as "failalloc":
 *
 *   local fa = require "failalloc"
 *   fa.arm(n)            -- the n-th allocation from now fails
 *   fa.arm(n, "onward")  -- it and every later one fail
 *   fa.arm(n, mode, 65536) -- only allocations of 64 KiB or more count
 *   fa.arm(0)            -- nothing fails; allocations are only counted
 *   local seen, failed = fa.disarm()
 */
#include <lauxlib.h>
#include <lua.h>

#include "failalloc.h"

int luaopen_failalloc(lua_State* L);


static int arm(lua_State* L) {
  static const char* const modes[] = {"once", "onward", NULL};
  lua_Integer n = luaL_checkinteger(L, 1);
  int mode = luaL_checkoption(L, 2, "once", modes);
  lua_Integer smallest = luaL_optinteger(L, 3, 0);

  luaL_argcheck(L, n >= 0, 1, "must not be negative");
  luaL_argcheck(L, smallest >= 0, 3, "must not be negative");
  failalloc_arm((long) n, mode == 1, (size_t) smallest);
  return 0;
}


static int disarm(lua_State* L) {
  long seen;
  long failed;

  failalloc_disarm(&seen, &failed);
  lua_pushinteger(L, seen);
  lua_pushinteger(L, failed);
  return 2;
}


int luaopen_failalloc(lua_State* L) {
  static const luaL_Reg functions[] = {
    {"arm", arm},
    {"disarm", disarm},
    {NULL, NULL},
  };

  luaL_newlib(L, functions);
  return 1;
}
