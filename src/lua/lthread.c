/* SPDX-License-Identifier: MIT */
/* lthread.c: luv's thread section: new_thread and the thread functions.
 *
 * A thread runs its entry (a function, which crosses as bytecode without
 * its upvalues, or source/bytecode text) in a Lua state of its own, with
 * the standard libraries and require "loom"/"luv", which gives the state
 * its own loop. When the entry returns, that loop runs until nothing is
 * left in it, as the runner does for a script; then the state closes.
 * Arguments and results are copied (xfer.c); semaphores and async handles
 * cross as shared objects, so a thread can post a semaphore or wake the
 * loop that created it.
 *
 * The thread record is a shared object too: the thread holds a reference
 * until it ends, each userdata for it one more. join gives `true` and the
 * entry's results (beyond luv, which gives only `true`), or `false` and
 * the error message (with a traceback) if the entry raised. An error that no join will ever
 * see (the thread was detached, or its last userdata collected unjoined)
 * is printed to stderr, so it is never lost.
 */
#include "lloom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_FINISHED = 1, T_JOINED = 2, T_DETACHED = 4 };

typedef struct {
  lshared_t base;
  loom_thread_t tid;
  pid_t ktid;            /* the kernel's id (priorities) */
  int foreign;           /* from thread_self: not ours to join or detach */
  pthread_mutex_t lock;  /* guards state, and the pthread_t's validity */
  int state;
  char* error;           /* the entry's error message, or NULL */
  int reported;          /* that message went to stderr */
  xfer_t args;
  xfer_t results;
  loom_sem_t started;    /* posted once ktid is known */
  size_t code_len;
  char code[];
} lthread_t;

static void thread_destroy(lshared_t* base);
static const luaL_Reg thread_methods[];
static int thread_eq(lua_State* L);

static const void* thread_identity(const lshared_t* s);

/* A thread prints as its pthread id, as in luv: two thread_self() calls
 * on one thread print the same. */
static const lshared_kind thread_kind = {
  "uv_thread", "uv_thread_t", thread_methods, thread_eq, thread_destroy, thread_identity
};


static lthread_t* check_thread(lua_State* L, int idx) {
  return (lthread_t*) lshared_check(L, idx, &thread_kind);
}


/* Called with the lock held, or when no one else can see t. */
static void report(lthread_t* t) {
  if (t->error == NULL || t->reported)
    return;
  t->reported = 1;
  fprintf(stderr, "loom: uncaught error in thread: %s\n", t->error);
  fflush(stderr);
}


static void thread_destroy(lshared_t* base) {
  lthread_t* t = (lthread_t*) base;

  if (!t->foreign && !(t->state & (T_JOINED | T_DETACHED))) {
    /* Nobody can join it any more: let the system reclaim it. */
    loom_thread_detach(t->tid);
    report(t);
  }
  xfer_free(&t->args);
  xfer_free(&t->results);
  free(t->error);
  if (!t->foreign) {
    pthread_mutex_destroy(&t->lock);
    loom_sem_destroy(&t->started);
  }
  free(t);
}


/* ---- in the new thread ---- */

/* Protected: runs the entry, keeps its results, runs the state's loop. */
static int run_entry(lua_State* L) {
  lthread_t* t = lua_touserdata(L, 1);
  int base, n;

  lstate_open(L);
  if (luaL_loadbuffer(L, t->code, t->code_len, "=thread") != LUA_OK)
    return lua_error(L);
  base = lua_gettop(L);
  n = xfer_decode(L, &t->args);
  xfer_free(&t->args);
  lua_call(L, n, LUA_MULTRET);
  if (xfer_encode_rest(L, base, &t->results, NULL, 0) != LUA_OK)
    return luaL_error(L, "a result of the thread entry cannot cross to the "
                         "joining thread: %s", lua_tostring(L, -1));
  loom_lua_run_loop(L);
  return 0;
}


static void thread_main(void* arg) {
  lthread_t* t = arg;
  lua_State* L;

  t->ktid = loom_thread_gettid();
  loom_sem_post(&t->started);
  L = luaL_newstate();
  if (L == NULL) {
    t->error = strdup("cannot create a Lua state (not enough memory)");
  } else {
    lua_pushcfunction(L, ltraceback);
    lua_pushcfunction(L, run_entry);
    lua_pushlightuserdata(L, t);
    if (lua_pcall(L, 1, 0, 1) != LUA_OK) {              /* tb msg */
      const char* msg = lua_tostring(L, -1);
      if (msg == NULL)
        msg = "(error object is not a string)";
      /* Said at once, as luv does: a program that waits for this thread
       * through an async (and never joins it) would otherwise hang
       * without a word. join still returns false and the message. */
      fprintf(stderr, "loom: error in thread: %s\n", msg);
      fflush(stderr);
      xfer_free(&t->results);
      t->error = strdup(msg);
    }
    lua_close(L);
  }
  xfer_free(&t->args);
  pthread_mutex_lock(&t->lock);
  t->state |= T_FINISHED;
  if (t->state & T_DETACHED)
    report(t);
  pthread_mutex_unlock(&t->lock);
  lshared_unref(&t->base);
}


/* ---- in the calling thread ---- */

/* uv.new_thread([options], entry, ...) */
static int new_thread(lua_State* L) {
  size_t stack_size = 0;
  int first = 1;
  const char* code;
  size_t code_len;
  xfer_t args;
  lthread_t* t;
  int err;

  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_Integer n;
    lua_getfield(L, 1, "stack_size");
    if (!lua_isnil(L, -1)) {
      n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
      luaL_argcheck(L, n >= 0, 1,
                    "stack_size must be a non-negative integer");
      stack_size = (size_t) n;
    }
    lua_pop(L, 1);
    first = 2;
  } else if (lua_isnil(L, 1) && lua_gettop(L) > 1) {
    first = 2; /* options given as nil */
  }
  lcode_arg(L, first, "=thread");
  code = lua_tolstring(L, first, &code_len);
  xfer_encode(L, first + 1, lua_gettop(L) - first, &args);

  /* From here on t and args are C memory that only the userdata pushed
   * below will own: a memory error before then would leak them. */
  LMEM_EXEMPT(LCTX(L));
  t = calloc(1, sizeof(*t) + code_len);
  if (t == NULL) {
    xfer_free(&args);
    LMEM_UNEXEMPT(LCTX(L));
    return lr_fail(L, LOOM_ENOMEM);
  }
  memcpy(t->code, code, code_len);
  t->code_len = code_len;
  t->args = args;
  t->base.kind = &thread_kind;
  atomic_init(&t->base.refs, 1); /* the thread's own */
  pthread_mutex_init(&t->lock, NULL);
  loom_sem_init(&t->started, 0);
  lshared_push(L, &t->base);                            /* ... thread */
  LMEM_UNEXEMPT(LCTX(L));
  err = loom_thread_create(&t->tid, stack_size, thread_main, t);
  if (err != 0) {
    t->foreign = 1; /* no thread to join or detach */
    pthread_mutex_destroy(&t->lock);
    loom_sem_destroy(&t->started);
    lshared_unref(&t->base);
    return lr_fail(L, err);
  }
  loom_sem_wait(&t->started);
  return 1;
}


static const void* thread_identity(const lshared_t* s) {
  return (const void*) ((const lthread_t*) s)->tid;
}


static int thread_self(lua_State* L) {
  lthread_t* t = calloc(1, sizeof(*t));

  if (t == NULL)
    return lr_fail(L, LOOM_ENOMEM);
  t->base.kind = &thread_kind;
  atomic_init(&t->base.refs, 0);
  t->tid = loom_thread_self();
  t->ktid = loom_thread_gettid();
  t->foreign = 1;
  LMEM_EXEMPT(LCTX(L));  /* t is C memory until the userdata owns it. */
  lshared_push(L, &t->base);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


static int thread_equal(lua_State* L) {
  lthread_t* a = check_thread(L, 1);
  lthread_t* b = check_thread(L, 2);
  lua_pushboolean(L, loom_thread_equal(a->tid, b->tid));
  return 1;
}


/* __eq: `t == other` is false for anything but a thread, instead of
 * raising as thread_equal's argument check does. */
static int thread_eq(lua_State* L) {
  lshared_t* a = lshared_test(L, 1);
  lshared_t* b = lshared_test(L, 2);

  if (a == NULL || b == NULL || a->kind != &thread_kind ||
      b->kind != &thread_kind) {
    lua_pushboolean(L, 0);
    return 1;
  }
  return thread_equal(L);
}


static int thread_join(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  int err, n;

  if (t->foreign)
    return lr_fail(L, LOOM_EINVAL);
  pthread_mutex_lock(&t->lock);
  err = (t->state & (T_JOINED | T_DETACHED)) ? LOOM_EINVAL : 0;
  t->state |= T_JOINED;
  pthread_mutex_unlock(&t->lock);
  if (err == 0)
    err = loom_thread_join(t->tid);
  if (err != 0)
    return lr_fail(L, err);
  if (t->error != NULL) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, t->error);
    return 2;
  }
  lua_pushboolean(L, 1);
  n = xfer_decode(L, &t->results);
  xfer_free(&t->results);
  return 1 + n;
}


static int thread_detach(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  int err;

  if (t->foreign)
    return lr_fail(L, LOOM_EINVAL);
  pthread_mutex_lock(&t->lock);
  err = (t->state & (T_JOINED | T_DETACHED)) ? LOOM_EINVAL : 0;
  if (err == 0) {
    t->state |= T_DETACHED;
    err = loom_thread_detach(t->tid);
    if (t->state & T_FINISHED)
      report(t);
  }
  pthread_mutex_unlock(&t->lock);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


/* Runs op on the thread while its pthread_t is valid: not joined, and
 * not ended after a detach. The lock keeps a detached thread from ending
 * meanwhile. Threads from thread_self are taken as alive. */
#define WITH_LIVE_THREAD(t, err, op)                                          \
  do {                                                                        \
    if (!(t)->foreign) pthread_mutex_lock(&(t)->lock);                        \
    if (!(t)->foreign && (((t)->state & T_JOINED) ||                          \
                          ((t)->state & (T_DETACHED | T_FINISHED)) ==         \
                              (T_DETACHED | T_FINISHED)))                     \
      (err) = LOOM_ESRCH;                                                     \
    else                                                                      \
      (err) = (op);                                                           \
    if (!(t)->foreign) pthread_mutex_unlock(&(t)->lock);                      \
  } while (0)


static void push_mask(lua_State* L, const char* mask, size_t n) {
  size_t i;

  lua_createtable(L, (int) n, 0);
  for (i = 0; i < n; i++) {
    lua_pushboolean(L, mask[i]);
    lua_rawseti(L, -2, (lua_Integer) i + 1);
  }
}


/* thread_setaffinity(thread, {[cpu] = bool, ...}, [get_old]) */
static int thread_setaffinity(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  size_t n = (size_t) loom_cpumask_size();
  int get_old = lua_toboolean(L, 3);
  char* mask;
  size_t i;
  int err;

  luaL_checktype(L, 2, LUA_TTABLE);
  if (luaL_len(L, 2) > (lua_Integer) n)
    n = (size_t) luaL_len(L, 2);
  mask = lua_newuserdatauv(L, 2 * n, 0);                /* scratch */
  for (i = 0; i < n; i++) {
    lua_geti(L, 2, (lua_Integer) i + 1);
    mask[i] = (char) lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  WITH_LIVE_THREAD(t, err, loom_thread_setaffinity(t->tid, mask,
                                                   get_old ? mask + n : NULL,
                                                   n));
  if (err != 0)
    return lr_fail(L, err);
  if (get_old)
    push_mask(L, mask + n, n);
  else
    lua_pushboolean(L, 1);
  return 1;
}


static int thread_getaffinity(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, loom_cpumask_size());
  char* mask;
  int err;

  luaL_argcheck(L, n >= loom_cpumask_size() && n <= (1 << 20), 2,
                "mask_size must be at least uv.cpumask_size()");
  mask = lua_newuserdatauv(L, (size_t) n, 0);
  WITH_LIVE_THREAD(t, err, loom_thread_getaffinity(t->tid, mask, (size_t) n));
  if (err != 0)
    return lr_fail(L, err);
  push_mask(L, mask, (size_t) n);
  return 1;
}


/* The calling thread's CPU, from 1 (the affinity tables' numbering). The
 * method form ignores its thread, as luv's does. */
static int thread_getcpu(lua_State* L) {
  int cpu = loom_thread_getcpu();
  if (cpu < 0)
    return lr_fail(L, cpu);
  lua_pushinteger(L, cpu + 1);
  return 1;
}


static int thread_setpriority(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  lua_Integer prio = luaL_checkinteger(L, 2);
  int err;

  luaL_argcheck(L, prio >= LOOM_THREAD_PRIORITY_LOWEST &&
                   prio <= LOOM_THREAD_PRIORITY_HIGHEST, 2,
                "priority must be one of uv.constants.THREAD_PRIORITY_*");
  WITH_LIVE_THREAD(t, err, (t->state & T_FINISHED)
                               ? LOOM_ESRCH
                               : loom_thread_setpriority(t->ktid, (int) prio));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


static int thread_getpriority(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  int prio = 0;
  int err;

  WITH_LIVE_THREAD(t, err, (t->state & T_FINISHED)
                               ? LOOM_ESRCH
                               : loom_thread_getpriority(t->ktid, &prio));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, prio);
  return 1;
}


/* thread_setname(name) names the calling thread; the method form
 * thread:setname(name) names that thread. */
static int thread_setname(lua_State* L) {
  lthread_t* t = NULL;
  const char* name;
  int err;

  if (luaL_testudata(L, 1, thread_kind.mtname) != NULL) {
    t = check_thread(L, 1);
    name = lcheck_cstring(L, 2);
  } else {
    name = lcheck_cstring(L, 1);
  }
  if (t == NULL)
    err = loom_thread_setname(loom_thread_self(), name);
  else
    WITH_LIVE_THREAD(t, err, loom_thread_setname(t->tid, name));
  return lr_result(L, err);
}


static int thread_getname(lua_State* L) {
  lthread_t* t = check_thread(L, 1);
  char name[16];
  int err;

  WITH_LIVE_THREAD(t, err, loom_thread_getname(t->tid, name, sizeof(name)));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushstring(L, name);
  return 1;
}


static int sleep_ms(lua_State* L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  luaL_argcheck(L, ms >= 0 && ms <= UINT32_MAX, 1,
                "msec must be between 0 and 2^32-1");
  loom_sleep((unsigned int) ms);
  return 0;
}


static const luaL_Reg thread_methods[] = {
  {"equal", thread_equal},
  {"join", thread_join},
  {"detach", thread_detach},
  {"getaffinity", thread_getaffinity},
  {"setaffinity", thread_setaffinity},
  {"getcpu", thread_getcpu},
  {"getpriority", thread_getpriority},
  {"setpriority", thread_setpriority},
  {"setname", thread_setname},
  {"getname", thread_getname},
  {NULL, NULL}
};

const luaL_Reg lthread_functions[] = {
  {"new_thread", new_thread},
  {"thread_self", thread_self},
  {"thread_equal", thread_equal},
  {"thread_join", thread_join},
  {"thread_detach", thread_detach},
  {"thread_setaffinity", thread_setaffinity},
  {"thread_getaffinity", thread_getaffinity},
  {"thread_getcpu", thread_getcpu},
  {"thread_setpriority", thread_setpriority},
  {"thread_getpriority", thread_getpriority},
  {"thread_setname", thread_setname},
  {"thread_getname", thread_getname},
  {"sleep", sleep_ms},
  {NULL, NULL}
};
