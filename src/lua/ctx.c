/* SPDX-License-Identifier: MIT */
/* ctx.c: the per-state context, the single entry point for callbacks and
 * the one policy for errors they do not catch.
 *
 * Policy: every callback runs on the main thread under lua_pcall with a
 * traceback handler. If it raises, and uv.on_error(fn) installed a
 * handler, fn(err, traceback) is called and the loop goes on. Otherwise
 * the error and its traceback go to stderr and the process exits with
 * status 1, as Node does with an uncaught exception.
 */
#include "lfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>

/* Registry keys: the addresses of these are unique. */
static char ctx_key;
static char traceback_key;
static char on_error_key;


static int ctx_gc(lua_State* L) {
  lctx* ctx = lua_touserdata(L, 1);

  /* The state is closing. Handles still open are detached without any
   * callback, because Lua must not be entered from here on. */
  if (ctx->loop != NULL) {
    ctx->closed = 1;
    lh_release_all(ctx);
    loom_loop_teardown(ctx->loop);
    ctx->loop = NULL;
  }
  lanchor_free(ctx, lfs_free_pending);
  lmemlimit_release(ctx, L);
  return 0;
}


lctx* lctx_create(lua_State* L) {
  lctx* ctx;
  int err;

  ctx = lua_newuserdatauv(L, sizeof(*ctx), LCTX_NUVALUES);      /* ctx */
  memset(ctx, 0, sizeof(*ctx));
  lua_createtable(L, 0, 1);                             /* ctx mt */
  lua_pushcfunction(L, ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);                              /* ctx */

  err = loom_loop_new(&ctx->loop);
  if (err != 0)
    luaL_error(L, "loom: cannot create the event loop: %s",
               loom_strerror(err));
  loom_loop_set_data(ctx->loop, ctx);

  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD); /* ctx main */
  ctx->L = lua_tothread(L, -1);
  lua_pop(L, 1);                                        /* ctx */

  lanchor_init(ctx, L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ctx_key);
  return ctx;
}


static lctx* lctx_find(lua_State* L) {
  lctx* ctx;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &ctx_key);
  ctx = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return ctx;
}


loom_loop_t* lctx_loop(lua_State* L, lctx* ctx) {
  if (ctx->closed || ctx->loop == NULL)
    luaL_error(L, "loom: the loop is closed");
  return ctx->loop;
}


/* Message handler: keeps the error object as it is (on_error gets it
 * unchanged) and stashes the traceback beside it. */
static int msgh(lua_State* L) {
  luaL_traceback(L, L, NULL, 1);                        /* err tb */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &traceback_key);    /* err */
  return 1;
}


static int tostring_k(lua_State* L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}


/* Pushes a description of the error object at idx. Its __tostring runs
 * under protection: an error object whose __tostring fails is still
 * reported. */
static const char* describe(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1);
  }
  if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) {
    return lua_pushfstring(L, "(error object is a %s value)",
                           luaL_typename(L, idx));
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, tostring_k);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char* why = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                      : "a non-string error";
    lua_pushfstring(L, "(error object is a %s value; its __tostring failed: %s)",
                    luaL_typename(L, idx), why);
    lua_remove(L, -2);
  }
  return lua_tostring(L, -1);
}


/* Pushes the traceback msgh stashed for the error being reported. Lua
 * does not call the handler for memory errors, and a handler that failed
 * stashed nothing: those have none. */
static void push_traceback(lua_State* L, int status) {
  if (status == LUA_ERRRUN)
    lua_rawgetp(L, LUA_REGISTRYINDEX, &traceback_key);
  else if (status == LUA_ERRMEM)
    lua_pushliteral(L, "(no traceback: Lua ran out of memory)");
  else
    lua_pushliteral(L, "(no traceback: the message handler failed)");
}


static void die(lua_State* L, int err_idx, int status, const char* what) {
  const char* msg = describe(L, err_idx);
  const char* tb;

  push_traceback(L, status);
  tb = lua_tostring(L, -1);
  fprintf(stderr, "loom: %s%s\n%s\n", what, msg,
          tb != NULL ? tb : "(no traceback)");
  fflush(stderr);
  fflush(stdout);
  exit(1);
}


/* The error object (status: how the callback failed) is on top of L's
 * stack; it is popped. */
static void report(lua_State* L, int status) {
  int err_idx = lua_gettop(L);
  int handler_status;

  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &on_error_key) == LUA_TNIL)
    die(L, err_idx, status, "");                        /* never returns */
  lua_pushcfunction(L, msgh);                           /* err fn msgh */
  lua_insert(L, -2);                                    /* err msgh fn */
  lua_pushvalue(L, err_idx);                            /* err msgh fn err */
  push_traceback(L, status);                            /* ... err tb */
  handler_status = lua_pcall(L, 2, 0, err_idx + 1);
  if (handler_status != LUA_OK)
    die(L, lua_gettop(L), handler_status, "error in the on_error handler: ");
  lua_settop(L, err_idx - 1);
}


/* Calls the callback below nargs arguments; with want_result, returns
 * whether its first result is true (false if it raised). */
static int call(lctx* ctx, int nargs, int want_result) {
  lua_State* L = ctx->L;
  int result = 0;
  int fn_idx = lua_gettop(L) - nargs;
  int msgh_idx = ctx->msgh_idx;
  int exempt;
  int status;
#ifndef NDEBUG
  int top_before = fn_idx - 1;
#endif

  /* The slot is relative to the frame ctx->L is in; a callback made from
   * another frame (a coroutine's resume, a synchronous call) finds
   * something else there and pushes its own handler. */
  if (msgh_idx <= 0 || msgh_idx >= fn_idx ||
      lua_tocfunction(L, msgh_idx) != msgh) {
    lua_pushcfunction(L, msgh);
    lua_insert(L, fn_idx);                              /* msgh fn args */
    msgh_idx = fn_idx++;
  }
  /* The callback is Lua code: the memory limit holds again inside it,
   * and whatever it left exempt ends with it. */
  exempt = ctx->exempt;
  ctx->exempt = 0;
  status = lua_pcall(L, nargs, want_result, msgh_idx); /* [msgh] [err|res] */
  ctx->exempt = exempt;
  if (status != LUA_OK)
    report(L, status);
  else if (want_result)
    result = lua_toboolean(L, -1);
  lua_settop(L, fn_idx - 1);                            /* (empty) */
  /* Every callback leaves the main thread's stack as it found it. */
  assert(lua_gettop(L) == top_before);
  return result;
}


void lctx_call(lctx* ctx, int nargs) {
  call(ctx, nargs, 0);
}


int lctx_call_bool(lctx* ctx, int nargs) {
  return call(ctx, nargs, 1);
}


typedef struct {
  lctx* ctx;
  lctx_push_fn push;
  lctx_done_fn done;
  void* ud;
  int done_called;
} pushed_call;

/* Runs inside the protected call: the push (exempt from the memory
 * limit, as the loop's own work is), the release of what the values were
 * made from, then the callback. */
static int call_pushed(lua_State* L) {
  pushed_call* c = lua_touserdata(L, 1);
  int n;

  c->ctx->exempt++;
  n = c->push(L, c->ud);
  c->ctx->exempt--;
  c->done_called = 1;
  c->done(c->ud);
  lua_call(L, n, 0);
  return 0;
}


void lctx_call_with(lctx* ctx, lctx_push_fn push, lctx_done_fn done, void* ud) {
  lua_State* L = ctx->L;
  pushed_call c = {ctx, push, done, ud, 0};
  int exempt = ctx->exempt;

  luaL_checkstack(L, 2, NULL);
  lua_pushcfunction(L, call_pushed);
  lua_pushlightuserdata(L, &c);
  call(ctx, 1, 0);
  /* A push that failed (out of memory) still releases its sources: the
   * error has gone to the policy like a callback's. */
  ctx->exempt = exempt;
  if (!c.done_called)
    done(ud);
}


int lctx_run(lctx* ctx, loom_run_mode mode) {
  lua_State* L = ctx->L;
  int saved = ctx->msgh_idx;
  int ret;

  luaL_checkstack(L, 1, NULL);
  lua_pushcfunction(L, msgh);
  ctx->msgh_idx = lua_gettop(L);
  /* The loop's own work is exempt from the memory limit (lmemlimit.c);
   * each callback is held to it again. */
  ctx->exempt++;
  ret = loom_run(ctx->loop, mode);
  ctx->exempt--;
  /* The state may have closed the loop from a callback (loop_close), but
   * the stack is the caller's: the handler is still on top. */
  assert(lua_gettop(L) == ctx->msgh_idx);
  lua_settop(L, ctx->msgh_idx - 1);
  ctx->msgh_idx = saved;
  return ret;
}


/* uv.on_error(fn | nil) -> previous handler (beyond luv). */
int lctx_on_error(lua_State* L) {
  if (!lua_isnoneornil(L, 1))
    lh_check_callable(L, 1);
  lua_settop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &on_error_key);    /* new old */
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &on_error_key);
  return 1;
}


int loom_lua_run_loop(lua_State* L) {
  lctx* ctx = lctx_find(L);

  if (ctx == NULL || ctx->closed || ctx->loop == NULL)
    return 0;
  if (loom_loop_mode(ctx->loop) != -1)
    return 0;
  return lctx_run(ctx, LOOM_RUN_DEFAULT);
}
