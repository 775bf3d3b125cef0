/* SPDX-License-Identifier: MIT */
/* module.c: luaopen_loom, which assembles the module: one context and loop
 * per Lua state, the handle metatables, the function tables, and the
 * errno and constants tables. */
#include "lloom.h"

static char module_key;

static const lh_type* const handle_types[] = {
  &ltimer_type, &lidle_type, &lprepare_type, &lcheck_type, &lasync_type,
  &lsignal_type, &ltcp_type, &lpipe_type, &ltty_type, &ludp_type,
  &lpoll_type, &lprocess_type, &lfs_event_type, &lfs_poll_type,
};

static const luaL_Reg* const function_tables[] = {
  lloop_functions, lh_handle_functions, ltimer_functions, lwatcher_functions,
  lasync_functions, lsignal_functions, lmisc_functions, lreq_functions,
  lstream_functions, ltcp_functions, lpipe_functions, ltty_functions,
  ludp_functions, lpoll_functions, lprocess_functions, lfs_functions,
  lfs_dir_functions, lwork_functions, lfswatch_functions,
  lthread_functions, lsem_functions, ldns_functions, lresolver_functions,
  lbuffer_functions, lwtf8_functions, lhttp_functions, lhttp_respond_functions,
};


/* Methods share the module's closures: t.start is the very function
 * uv.timer_start is. Beyond saving memory, an argument error of a method
 * called without the colon (pcall(t.start, t, ...)) then names it
 * ('loom.timer_start'): Lua finds a function's name among the loaded
 * modules' fields, and finds nothing for a closure of its own. */
/* Share the closures of the methods in metatable mt's __index table. */
static void share_in(lua_State* L, const char* mt) {
  luaL_getmetatable(L, mt);                             /* byfn mt */
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {   /* byfn mt methods */
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {                      /* ... methods k v */
      if (lua_iscfunction(L, -1)) {
        lua_pushlightuserdata(L, (void*) lua_tocfunction(L, -1));
        if (lua_rawget(L, -6) == LUA_TFUNCTION) {       /* ... k v shared */
          lua_pushvalue(L, -3);
          lua_insert(L, -2);                            /* ... k v k shared */
          lua_rawset(L, -5);                            /* methods[k] = shared */
        } else {
          lua_pop(L, 1);
        }
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);                                        /* byfn */
}


static void share_method_closures(lua_State* L, int module_idx) {
  static const char* const others[] = {"uv_dir", "loom_buffer", "uv_resolver",
                                       "luv_work_ctx"};
  size_t i;
  lua_newtable(L);                                      /* byfn */
  lua_pushnil(L);
  while (lua_next(L, module_idx) != 0) {                /* byfn k v */
    if (lua_iscfunction(L, -1)) {
      lua_pushlightuserdata(L, (void*) lua_tocfunction(L, -1));
      lua_pushvalue(L, -2);
      lua_rawset(L, -5);
    }
    lua_pop(L, 1);
  }
  for (i = 0; i < sizeof(handle_types) / sizeof(handle_types[0]); i++)
    share_in(L, handle_types[i]->mtname);
  for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
    share_in(L, others[i]);
  lua_pop(L, 1);
}


LOOM_LUA_EXPORT int luaopen_loom(lua_State* L) {
  size_t i;
  size_t memory_limit;
  int ctx_idx;
  lctx* ctx;

  /* Requiring again (even after package.loaded was cleared) returns the
   * same module: a state has exactly one loop. */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &module_key) == LUA_TTABLE)
    return 1;
  lua_pop(L, 1);

  memory_limit = lmemlimit_env(L);
  ctx = lctx_create(L);                                 /* ctx */
  ctx_idx = lua_gettop(L);
  lmemlimit_apply(L, ctx, memory_limit);
  for (i = 0; i < sizeof(handle_types) / sizeof(handle_types[0]); i++)
    lh_register_type(L, handle_types[i]);
  lua_getiuservalue(L, ctx_idx, LOOM_ASYNC);             /* ctx async_mt */
  lasync_register(L, -1);
  lua_pop(L, 1);
  lreq_register(L, ctx_idx);
  lfs_dir_register(L);
  lwork_register(L);
  lresolver_register(L);
  lbuffer_register(L);
  lhttp_register(L);

  lua_newtable(L);                                      /* ctx module */
  for (i = 0; i < sizeof(function_tables) / sizeof(function_tables[0]); i++) {
    lua_pushvalue(L, ctx_idx);
    luaL_setfuncs(L, function_tables[i], 1);
  }
  lr_push_errno_table(L);
  lua_setfield(L, -2, "errno");
  lconstants_push(L);
  lua_setfield(L, -2, "constants");
  lua_pushliteral(L, LOOM_VERSION_STRING);
  lua_setfield(L, -2, "loom_version");
  share_method_closures(L, lua_gettop(L));

  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &module_key);
  return 1;
}
