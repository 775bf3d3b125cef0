/* SPDX-License-Identifier: MIT */
/* lasync.c: uv_async_t. send() may pass values to the callback; they are
 * copied out of the sending state (see xfer.c). Sends coalesce: the
 * callback gets the values of the last send before it ran.
 *
 * The handle can be passed to other threads (new_thread and queue_work
 * arguments): what crosses is a shared object (lshared.c) that outlives
 * the handle. It holds the pending values and, under its lock, a pointer
 * to the handle that is cleared when the handle starts closing, so a send
 * from another thread after that fails with EINVAL instead of touching
 * freed memory.
 */
#include "lloom.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct lasync_s lasync_t;

typedef struct {
  lshared_t base;
  pthread_mutex_t lock;
  lasync_t* handle; /* NULL once the handle is closing */
  xfer_t args;      /* the last send's values, until the callback */
  /* A send happened since the last callback. The core coalesces wake-ups
   * on its own flag, which a send can set again after a callback has
   * already taken that send's values: such a wake-up has nothing left to
   * deliver and calls nobody. */
  int sent;
} lasync_shared;

struct lasync_s {
  loom_async_t handle; /* first: the userdata is also a loom_handle_t */
  lasync_shared* shared;
};

static const luaL_Reg async_methods[];
const lh_type lasync_type = {"uv_async", LOOM_ASYNC, async_methods, NULL};


static void shared_destroy(lshared_t* base) {
  lasync_shared* s = (lasync_shared*) base;

  xfer_free(&s->args);
  pthread_mutex_destroy(&s->lock);
  free(s);
}


static int proxy_send(lua_State* L);

static const luaL_Reg proxy_methods[] = {
  {"send", proxy_send},
  {NULL, NULL}
};

/* What another state holds: it can send, nothing else. */
static const lshared_kind async_kind = {
  "loom.async_ref", "uv_async_t", proxy_methods, NULL, shared_destroy, NULL
};


static lshared_t* handle_get(void* ud) {
  lasync_t* la = ud;
  return la->shared != NULL ? &la->shared->base : NULL;
}

static const lshared_getter handle_getter = {handle_get};


static void on_async(loom_async_t* a) {
  lasync_t* la = (lasync_t*) a;
  lctx* ctx = loom_loop_get_data(a->loop);
  lua_State* L = ctx->L;
  xfer_t args;
  int sent;
  int n;

  pthread_mutex_lock(&la->shared->lock);
  args = la->shared->args;
  sent = la->shared->sent;
  la->shared->args = (xfer_t){0};
  la->shared->sent = 0;
  pthread_mutex_unlock(&la->shared->lock);
  if (!sent)
    return;

  lh_push_callback(L, (loom_handle_t*) a);
  n = xfer_decode(L, &args);
  xfer_free(&args);
  lctx_call(ctx, n);
}


/* The handle is closing (or the state is): other threads can no longer
 * reach it. Safe to call more than once. */
void lasync_release(loom_handle_t* h) {
  lasync_t* la = (lasync_t*) h;
  lasync_shared* s = la->shared;
  xfer_t args;

  if (s == NULL)
    return;
  la->shared = NULL;
  pthread_mutex_lock(&s->lock);
  s->handle = NULL;
  args = s->args;
  s->args = (xfer_t){0};
  pthread_mutex_unlock(&s->lock);
  xfer_free(&args);
  lshared_unref(&s->base);
}


static int new_async(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  lasync_shared* s;
  lasync_t* la;
  int pin;
  int cb_pin;

  lh_check_callable(L, 1);
  la = lh_new(L, &lasync_type, sizeof(*la));           /* cb ud */
  /* Everything that may raise comes before the C memory and the core. */
  lh_pin2(L, -1, 1, &pin, &cb_pin);
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    lh_unpin(L, cb_pin);
    lh_unpin(L, pin);
    return luaL_error(L, "not enough memory");
  }
  atomic_init(&s->base.refs, 1);
  s->base.kind = &async_kind;
  pthread_mutex_init(&s->lock, NULL);
  la->shared = s;
  s->handle = la;
  loom_async_init(loop, &la->handle, on_async);
  lh_anchor((loom_handle_t*) la, pin, cb_pin);
  return 1;
}


/* Encodes the values from index 2 on and hands them to the handle. */
static int send_shared(lua_State* L, lasync_shared* s) {
  xfer_t args;
  xfer_t old;
  int ret;

  xfer_encode(L, 2, lua_gettop(L) - 1, &args);
  pthread_mutex_lock(&s->lock);
  if (s->handle == NULL) {
    pthread_mutex_unlock(&s->lock);
    xfer_free(&args);
    return lr_fail(L, LOOM_EINVAL);
  }
  old = s->args;
  s->args = args;
  s->sent = 1;
  ret = loom_async_send(&s->handle->handle);
  pthread_mutex_unlock(&s->lock);
  xfer_free(&old);
  return lr_result(L, ret);
}


static int proxy_send(lua_State* L) {
  return send_shared(L, (lasync_shared*) lshared_check(L, 1, &async_kind));
}


/* uv.async_send(async, ...) takes the handle or, in another state, what
 * was passed there for it. */
static int async_send(lua_State* L) {
  lasync_t* la;

  if (luaL_testudata(L, 1, async_kind.mtname) != NULL)
    return proxy_send(L);
  la = (lasync_t*) lh_check(L, 1, &lasync_type);
  if (la->shared == NULL)
    return lr_fail(L, LOOM_EINVAL);
  return send_shared(L, la->shared);
}


/* Makes the handle's metatable (at mt_idx) one that can cross states. */
void lasync_register(lua_State* L, int mt_idx) {
  lshared_mark(L, mt_idx, &handle_getter);
  lshared_metatable(L, &async_kind);
  lua_pop(L, 1);
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
