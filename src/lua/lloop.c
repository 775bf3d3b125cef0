/* SPDX-License-Identifier: MIT */
/* lloop.c: luv's loop, version and metrics sections. */
#include "lloom.h"

#include <signal.h>

static const char* const run_modes[] = {"default", "once", "nowait", NULL};


static int loop_close(lua_State* L) {
  lctx* ctx = LCTX(L);
  int ret = loom_loop_close(lctx_loop(L, ctx));
  if (ret != 0)
    return lr_fail(L, ret);
  /* The loop is gone: every later call raises instead of touching it. */
  ctx->loop = NULL;
  ctx->closed = 1;
  lua_pushinteger(L, 0);
  return 1;
}


static int run(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  int mode = luaL_checkoption(L, 1, "default", run_modes);
  int ret;

  if (loom_loop_mode(loop) != -1) {
    luaL_pushfail(L);
    lua_pushliteral(L, "loop already running");
    return 2;
  }
  ret = lctx_run(ctx, (loom_run_mode) mode);
  lua_pushboolean(L, ret > 0);
  return 1;
}


static int loop_configure(lua_State* L) {
  static const char* const options[] = {"block_signal", "metrics_idle_time",
                                        NULL};
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  int ret;

  if (luaL_checkoption(L, 1, NULL, options) == 0)
    ret = loom_loop_block_signal(loop, lsignal_parse(L, 2));
  else
    ret = loom_loop_enable_idle_metrics(loop);
  return lr_result(L, ret);
}


static int loop_mode(lua_State* L) {
  int mode = loom_loop_mode(lctx_loop(L, LCTX(L)));
  if (mode < 0)
    luaL_pushfail(L);
  else
    lua_pushstring(L, run_modes[mode]);
  return 1;
}


static int loop_alive(lua_State* L) {
  lua_pushboolean(L, loom_loop_alive(lctx_loop(L, LCTX(L))));
  return 1;
}


static int stop(lua_State* L) {
  loom_stop(lctx_loop(L, LCTX(L)));
  return 0;
}


static int backend_fd(lua_State* L) {
  int fd = loom_backend_fd(lctx_loop(L, LCTX(L)));
  if (fd < 0)
    luaL_pushfail(L);
  else
    lua_pushinteger(L, fd);
  return 1;
}


static int backend_timeout(lua_State* L) {
  lua_pushinteger(L, loom_backend_timeout(lctx_loop(L, LCTX(L))));
  return 1;
}


static int now(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_now(lctx_loop(L, LCTX(L))));
  return 1;
}


static int update_time(lua_State* L) {
  loom_update_time(lctx_loop(L, LCTX(L)));
  return 0;
}


/* walk: the callback runs synchronously, inside uv.walk. Its errors are
 * caught and re-raised after the core walk has finished, because a
 * longjmp out of loom_walk would leave the handle list half moved. */
typedef struct {
  lua_State* L;
  int cb_idx;
  int failed;
} walk_state;

static void walk_one(loom_handle_t* h, void* arg) {
  walk_state* ws = arg;
  lua_State* L = ws->L;

  if (ws->failed)
    return;
  lua_pushvalue(L, ws->cb_idx);
  lh_push_handle(L, h);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    ws->failed = 1; /* the error object stays on the stack */
}

static int walk(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  walk_state ws;

  lh_check_callable(L, 1);
  lua_settop(L, 1);
  luaL_checkstack(L, 8, NULL);
  ws.L = L;
  ws.cb_idx = 1;
  ws.failed = 0;
  loom_walk(loop, walk_one, &ws);
  if (ws.failed)
    return lua_error(L);
  return 0;
}


static int version(lua_State* L) {
  lua_pushinteger(L, (LOOM_UV_API_MAJOR << 16) | (LOOM_UV_API_MINOR << 8) |
                         LOOM_UV_API_PATCH);
  return 1;
}


static int version_string(lua_State* L) {
  lua_pushfstring(L, "%d.%d.%d", LOOM_UV_API_MAJOR, LOOM_UV_API_MINOR,
                  LOOM_UV_API_PATCH);
  return 1;
}


static int metrics_idle_time(lua_State* L) {
  lua_pushinteger(L,
                  (lua_Integer) loom_metrics_idle_time(lctx_loop(L, LCTX(L))));
  return 1;
}


static int metrics_info(lua_State* L) {
  loom_metrics_t m;
  loom_metrics_info(lctx_loop(L, LCTX(L)), &m);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer) m.loop_count);
  lua_setfield(L, -2, "loop_count");
  lua_pushinteger(L, (lua_Integer) m.events);
  lua_setfield(L, -2, "events");
  lua_pushinteger(L, (lua_Integer) m.events_waiting);
  lua_setfield(L, -2, "events_waiting");
  return 1;
}


const luaL_Reg lloop_functions[] = {
  {"loop_close", loop_close},
  {"run", run},
  {"loop_configure", loop_configure},
  {"loop_mode", loop_mode},
  {"loop_alive", loop_alive},
  {"stop", stop},
  {"backend_fd", backend_fd},
  {"backend_timeout", backend_timeout},
  {"now", now},
  {"update_time", update_time},
  {"walk", walk},
  {"version", version},
  {"version_string", version_string},
  {"metrics_idle_time", metrics_idle_time},
  {"metrics_info", metrics_info},
  {"on_error", lctx_on_error},
  {"set_memory_limit", lmemlimit_set},
  {NULL, NULL}
};
