/* SPDX-License-Identifier: MIT */
/* lasync.c: uv_async_t. send() may pass values to the callback; they are
 * copied out of the sending state (see xfer.c), so a send from another
 * thread's Lua state works the same way. Sends coalesce: the callback
 * gets the values of the last send before it ran. */
#include "lloom.h"

#include <pthread.h>

static const luaL_Reg async_methods[];
const lh_type lasync_type = {"uv_async", LOOM_ASYNC, async_methods, NULL};

typedef struct {
  loom_async_t handle; /* first: the userdata is also a loom_handle_t */
  pthread_mutex_t lock; /* guards args against a sender on another thread */
  xfer_t args;
} lasync_t;


static void on_async(loom_async_t* a) {
  lasync_t* la = (lasync_t*) a;
  lctx* ctx = loom_loop_get_data(a->loop);
  lua_State* L = ctx->L;
  xfer_t args = {0};
  int n;

  pthread_mutex_lock(&la->lock);
  args = la->args;
  la->args.data = NULL;
  la->args.len = 0;
  la->args.count = 0;
  pthread_mutex_unlock(&la->lock);

  lh_push_callback(L, (loom_handle_t*) a);
  n = xfer_decode(L, &args);
  xfer_free(&args);
  lctx_call(ctx, n);
}


void lasync_release(loom_handle_t* h) {
  lasync_t* la = (lasync_t*) h;
  xfer_free(&la->args);
  pthread_mutex_destroy(&la->lock);
}


static int new_async(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  lasync_t* la;

  lh_check_callable(L, 1);
  la = lh_new(L, &lasync_type, sizeof(*la));           /* cb ud */
  pthread_mutex_init(&la->lock, NULL);
  la->args.data = NULL;
  la->args.len = 0;
  la->args.count = 0;
  loom_async_init(loop, &la->handle, on_async);
  lh_anchor(L, (loom_handle_t*) la, -1);
  lh_set_callback(L, -1, 1);
  return 1;
}


static int async_send(lua_State* L) {
  lasync_t* la = (lasync_t*) lh_check(L, 1, &lasync_type);
  xfer_t args = {0};
  xfer_t old;

  if (loom_is_closing((loom_handle_t*) la))
    return lr_fail(L, LOOM_EINVAL);
  xfer_encode(L, 2, lua_gettop(L) - 1, &args);
  pthread_mutex_lock(&la->lock);
  old = la->args;
  la->args = args;
  pthread_mutex_unlock(&la->lock);
  xfer_free(&old);
  return lr_result(L, loom_async_send(&la->handle));
}


static const luaL_Reg async_methods[] = {
  {"send", async_send},
  {NULL, NULL}
};

const luaL_Reg lasync_functions[] = {
  {"new_async", new_async},
  {"async_send", async_send},
  {NULL, NULL}
};
