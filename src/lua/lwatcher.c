/* SPDX-License-Identifier: MIT */
/* lwatcher.c: uv_idle_t, uv_prepare_t and uv_check_t, which differ only in
 * their type and the loop phase that runs them. */
#include "lloom.h"

static const luaL_Reg watcher_methods[];
const lh_type lidle_type = {"uv_idle", LOOM_IDLE, watcher_methods, NULL};
const lh_type lprepare_type = {"uv_prepare", LOOM_PREPARE, watcher_methods, NULL};
const lh_type lcheck_type = {"uv_check", LOOM_CHECK, watcher_methods, NULL};


static void on_watcher(loom_handle_t* h) {
  lctx* ctx = loom_loop_get_data(h->loop);
  lh_push_callback(ctx->L, h);
  lctx_call(ctx, 0);
}

static void on_idle(loom_idle_t* h) { on_watcher((loom_handle_t*) h); }
static void on_prepare(loom_prepare_t* h) { on_watcher((loom_handle_t*) h); }
static void on_check(loom_check_t* h) { on_watcher((loom_handle_t*) h); }


static int new_watcher(lua_State* L, const lh_type* type) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  loom_handle_t* h;
  int pin;

  switch (type->type) {
    case LOOM_IDLE:
      h = lh_new(L, type, sizeof(loom_idle_t));
      pin = lh_pin(L, -1);
      loom_idle_init(loop, (loom_idle_t*) h);
      break;
    case LOOM_PREPARE:
      h = lh_new(L, type, sizeof(loom_prepare_t));
      pin = lh_pin(L, -1);
      loom_prepare_init(loop, (loom_prepare_t*) h);
      break;
    default:
      h = lh_new(L, type, sizeof(loom_check_t));
      pin = lh_pin(L, -1);
      loom_check_init(loop, (loom_check_t*) h);
      break;
  }
  lh_anchor(h, pin, LUA_NOREF);
  return 1;
}


static int start_watcher(lua_State* L, loom_handle_t* h) {
  int ret;

  lh_check_callback(L, 1, 2);
  switch (h->type) {
    case LOOM_IDLE:
      ret = loom_idle_start((loom_idle_t*) h, on_idle);
      break;
    case LOOM_PREPARE:
      ret = loom_prepare_start((loom_prepare_t*) h, on_prepare);
      break;
    default:
      ret = loom_check_start((loom_check_t*) h, on_check);
      break;
  }
  if (ret == 0)
    lh_set_callback(L, 1, 2);
  return lr_result(L, ret);
}


static int stop_watcher(lua_State* L, loom_handle_t* h) {
  int ret;
  switch (h->type) {
    case LOOM_IDLE:
      ret = loom_idle_stop((loom_idle_t*) h);
      break;
    case LOOM_PREPARE:
      ret = loom_prepare_stop((loom_prepare_t*) h);
      break;
    default:
      ret = loom_check_stop((loom_check_t*) h);
      break;
  }
  return lr_result(L, ret);
}


/* The methods accept any of the three types (they share a method table). */
static loom_handle_t* check_any_watcher(lua_State* L) {
  loom_handle_t* h = lh_check(L, 1, NULL);
  if (h->type != LOOM_IDLE && h->type != LOOM_PREPARE && h->type != LOOM_CHECK)
    luaL_typeerror(L, 1, "uv_idle, uv_prepare or uv_check");
  return h;
}

static int method_start(lua_State* L) { return start_watcher(L, check_any_watcher(L)); }
static int method_stop(lua_State* L) { return stop_watcher(L, check_any_watcher(L)); }

static int new_idle(lua_State* L) { return new_watcher(L, &lidle_type); }
static int idle_start(lua_State* L) { return start_watcher(L, lh_check(L, 1, &lidle_type)); }
static int idle_stop(lua_State* L) { return stop_watcher(L, lh_check(L, 1, &lidle_type)); }
static int new_prepare(lua_State* L) { return new_watcher(L, &lprepare_type); }
static int prepare_start(lua_State* L) { return start_watcher(L, lh_check(L, 1, &lprepare_type)); }
static int prepare_stop(lua_State* L) { return stop_watcher(L, lh_check(L, 1, &lprepare_type)); }
static int new_check(lua_State* L) { return new_watcher(L, &lcheck_type); }
static int check_start(lua_State* L) { return start_watcher(L, lh_check(L, 1, &lcheck_type)); }
static int check_stop(lua_State* L) { return stop_watcher(L, lh_check(L, 1, &lcheck_type)); }


static const luaL_Reg watcher_methods[] = {
  {"start", method_start},
  {"stop", method_stop},
  {NULL, NULL}
};

const luaL_Reg lwatcher_functions[] = {
  {"new_idle", new_idle},
  {"idle_start", idle_start},
  {"idle_stop", idle_stop},
  {"new_prepare", new_prepare},
  {"prepare_start", prepare_start},
  {"prepare_stop", prepare_stop},
  {"new_check", new_check},
  {"check_start", check_start},
  {"check_stop", check_stop},
  {NULL, NULL}
};
