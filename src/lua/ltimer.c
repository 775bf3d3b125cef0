/* SPDX-License-Identifier: MIT */
/* ltimer.c: uv_timer_t (luv's timer section). */
#include "lloom.h"

static const luaL_Reg timer_methods[];
const lh_type ltimer_type = {"uv_timer", LOOM_TIMER, timer_methods, NULL};


static loom_timer_t* check_timer(lua_State* L) {
  return (loom_timer_t*) lh_check(L, 1, &ltimer_type);
}


/* Milliseconds: a non-negative integer (floats with an exact integer
 * value are accepted, as everywhere in Lua). */
static uint64_t check_ms(lua_State* L, int idx) {
  lua_Integer ms = luaL_checkinteger(L, idx);
  luaL_argcheck(L, ms >= 0, idx, "must not be negative");
  return (uint64_t) ms;
}


static void on_timer(loom_timer_t* t) {
  lctx* ctx = loom_loop_get_data(t->loop);
  lh_push_callback(ctx->L, (loom_handle_t*) t);
  lctx_call(ctx, 0);
}


static int new_timer(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_timer_t* t = lh_new(L, &ltimer_type, sizeof(*t));
  int pin = lh_pin(L, -1);

  loom_timer_init(lctx_loop(L, ctx), t);
  lh_anchor((loom_handle_t*) t, pin, LUA_NOREF);
  return 1;
}


static int timer_start(lua_State* L) {
  loom_timer_t* t = check_timer(L);
  uint64_t timeout = check_ms(L, 2);
  uint64_t repeat = check_ms(L, 3);
  int ret;

  lh_check_callback(L, 1, 4);
  ret = loom_timer_start(t, on_timer, timeout, repeat);
  if (ret == 0)
    lh_set_callback(L, 1, 4);
  return lr_result(L, ret);
}


static int timer_stop(lua_State* L) {
  return lr_result(L, loom_timer_stop(check_timer(L)));
}


static int timer_again(lua_State* L) {
  return lr_result(L, loom_timer_again(check_timer(L)));
}


static int timer_set_repeat(lua_State* L) {
  loom_timer_t* t = check_timer(L);
  loom_timer_set_repeat(t, check_ms(L, 2));
  return 0;
}


static int timer_get_repeat(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_timer_get_repeat(check_timer(L)));
  return 1;
}


static int timer_get_due_in(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_timer_get_due_in(check_timer(L)));
  return 1;
}


static const luaL_Reg timer_methods[] = {
  {"start", timer_start},
  {"stop", timer_stop},
  {"again", timer_again},
  {"set_repeat", timer_set_repeat},
  {"get_repeat", timer_get_repeat},
  {"get_due_in", timer_get_due_in},
  {NULL, NULL}
};

const luaL_Reg ltimer_functions[] = {
  {"new_timer", new_timer},
  {"timer_start", timer_start},
  {"timer_stop", timer_stop},
  {"timer_again", timer_again},
  {"timer_set_repeat", timer_set_repeat},
  {"timer_get_repeat", timer_get_repeat},
  {"timer_get_due_in", timer_get_due_in},
  {NULL, NULL}
};
