/* SPDX-License-Identifier: MIT */
/* lpoll.c: uv_poll_t (luv's poll section). */
#include "lloom.h"

#include <string.h>

static const luaL_Reg poll_methods[];
const lh_type lpoll_type = {"uv_poll", LOOM_POLL, poll_methods, NULL};


static int new_poll(lua_State* L) {
  lctx* ctx = LCTX(L);
  int fd = lnet_check_fd(L, 1);
  loom_poll_t* p = lh_new(L, &lpoll_type, sizeof(*p));
  int pin = lh_pin(L, -1);
  int err = loom_poll_init(lctx_loop(L, ctx), p, fd);

  if (err != 0) {
    lh_unpin(L, pin);
    return lr_fail(L, err);
  }
  lh_anchor((loom_handle_t*) p, pin, LUA_NOREF);
  return 1;
}


/* Events as luv spells them: a string of r, w, d (disconnect) and p
 * (prioritized), e.g. "rw"; default "rw". */
static int check_events(lua_State* L, int idx) {
  const char* s;
  int events = 0;

  if (lua_isnoneornil(L, idx))
    return LOOM_POLL_READABLE | LOOM_POLL_WRITABLE;
  s = lcheck_cstring(L, idx);
  for (; *s != '\0'; s++) {
    switch (*s) {
      case 'r': events |= LOOM_POLL_READABLE; break;
      case 'w': events |= LOOM_POLL_WRITABLE; break;
      case 'd': events |= LOOM_POLL_DISCONNECT; break;
      case 'p': events |= LOOM_POLL_PRIORITIZED; break;
      default: luaL_argerror(L, idx, "events must be made of r, w, d, p");
    }
  }
  return events;
}


static void on_poll(loom_poll_t* p, int status, int events) {
  lctx* ctx = loom_loop_get_data(p->loop);
  lua_State* L = ctx->L;
  char buf[5];
  int n = 0;

  lh_push_callback(L, (loom_handle_t*) p);
  lr_push_status(L, status);
  if (status < 0) {
    lua_pushnil(L);
  } else {
    if (events & LOOM_POLL_READABLE) buf[n++] = 'r';
    if (events & LOOM_POLL_WRITABLE) buf[n++] = 'w';
    if (events & LOOM_POLL_DISCONNECT) buf[n++] = 'd';
    if (events & LOOM_POLL_PRIORITIZED) buf[n++] = 'p';
    lua_pushlstring(L, buf, (size_t) n);
  }
  lctx_call(ctx, 2);
}


static int poll_start(lua_State* L) {
  loom_poll_t* p = (loom_poll_t*) lh_check(L, 1, &lpoll_type);
  int events = check_events(L, 2);
  int ret;

  lh_check_callback(L, 1, 3);
  ret = loom_poll_start(p, events, on_poll);
  if (ret == 0)
    lh_set_callback(L, 1, 3);
  return lr_result(L, ret);
}


static int poll_stop(lua_State* L) {
  loom_poll_t* p = (loom_poll_t*) lh_check(L, 1, &lpoll_type);
  return lr_result(L, loom_poll_stop(p));
}


static const luaL_Reg poll_methods[] = {
  {"start", poll_start},
  {"stop", poll_stop},
  {NULL, NULL}
};

const luaL_Reg lpoll_functions[] = {
  {"new_poll", new_poll},
  {"new_socket_poll", new_poll},
  {"poll_start", poll_start},
  {"poll_stop", poll_stop},
  {NULL, NULL}
};
