/* SPDX-License-Identifier: MIT */
/* ltty.c: uv_tty_t (luv's tty section). */
#include "lloom.h"

static const luaL_Reg tty_methods[];
const lh_type ltty_type = {"uv_tty", LOOM_TTY, tty_methods, lstream_methods};


static loom_tty_t* check_tty(lua_State* L) {
  return (loom_tty_t*) lh_check(L, 1, &ltty_type);
}


static int new_tty(lua_State* L) {
  lctx* ctx = LCTX(L);
  int fd = lnet_check_fd(L, 1);
  loom_tty_t* t;
  int pin;
  int err;

  luaL_checktype(L, 2, LUA_TBOOLEAN);
  t = lh_new(L, &ltty_type, sizeof(*t));
  pin = lh_pin(L, -1);
  err = loom_tty_init(lctx_loop(L, ctx), t, fd, lua_toboolean(L, 2));
  if (err != 0) {
    lh_unpin(L, pin);
    return lr_fail(L, err);
  }
  lh_anchor((loom_handle_t*) t, pin, LUA_NOREF);
  return 1;
}


static int tty_set_mode(lua_State* L) {
  static const char* const modes[] = {"normal", "raw", "io", "raw_vt", NULL};
  loom_tty_t* t = check_tty(L);
  int mode;

  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer m = luaL_checkinteger(L, 2);
    luaL_argcheck(L, m >= 0 && m <= LOOM_TTY_MODE_RAW_VT, 2, "invalid mode");
    mode = (int) m;
  } else {
    mode = luaL_checkoption(L, 2, NULL, modes);
  }
  return lr_result(L, loom_tty_set_mode(t, (loom_tty_mode_t) mode));
}


static int tty_reset_mode(lua_State* L) {
  return lr_result(L, loom_tty_reset_mode());
}


static int tty_get_winsize(lua_State* L) {
  loom_tty_t* t = check_tty(L);
  int w;
  int h;
  int err = loom_tty_get_winsize(t, &w, &h);

  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, w);
  lua_pushinteger(L, h);
  return 2;
}


/* The virtual terminal state is a Windows console notion. As libuv does on
 * unix, setting it changes nothing and reading it reports ENOTSUP. */
static int tty_set_vterm_state(lua_State* L) {
  static const char* const states[] = {"supported", "unsupported", NULL};
  luaL_checkoption(L, 1, NULL, states);
  return 0;
}


static int tty_get_vterm_state(lua_State* L) {
  return lr_fail(L, LOOM_ENOTSUP);
}


static const luaL_Reg tty_methods[] = {
  {"set_mode", tty_set_mode},
  {"get_winsize", tty_get_winsize},
  {NULL, NULL}
};

const luaL_Reg ltty_functions[] = {
  {"new_tty", new_tty},
  {"tty_set_mode", tty_set_mode},
  {"tty_reset_mode", tty_reset_mode},
  {"tty_get_winsize", tty_get_winsize},
  {"tty_set_vterm_state", tty_set_vterm_state},
  {"tty_get_vterm_state", tty_get_vterm_state},
  {NULL, NULL}
};
