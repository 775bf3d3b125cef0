/* SPDX-License-Identifier: MIT */
/* lwork.c: new_work and queue_work: Lua functions run on the thread pool.
 *
 * Lua never runs in the main state on a worker's behalf. Each worker
 * thread owns a Lua state, created on its first job and reused for every
 * later one, with the standard libraries and require "loom" (or "luv")
 * available. A work function crosses as bytecode (string.dump, so its
 * upvalues do not come along) or as source text, and is loaded once per
 * worker. Arguments and results cross as copies (xfer.c): the arguments
 * are encoded into the job itself, so queueing allocates one userdata.
 *
 * An error inside the work function, or a result that cannot cross,
 * comes back to the loop thread and is raised there under the one error
 * policy for callbacks (uv.on_error or exit), instead of after_fn.
 */
#include "lloom.h"

#include <lualib.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WORK_CTX_MT "luv_work_ctx"
/* Work functions a worker keeps loaded before it starts over. */
#define WORKER_CACHE_MAX 128

/* new_work's result. User value 1: the code (a string); 2: after_fn. */
typedef struct {
  uint64_t id; /* names the code in the workers' caches */
} lwork_ctx;

/* One queue_work call: a block from the state's allocator (lblock), so
 * that 100,000 jobs in flight are nothing for the collector to scan. Its
 * anchor holds the work ctx, which keeps the code string (read by the
 * worker) and after_fn alive. */
typedef struct {
  loom_work_t work;
  lblock mem;
  const char* code;
  size_t code_len;
  uint64_t id;
  int ref;        /* anchor slot until the after function ran */
  int failed;     /* results holds an error message */
  xfer_t args;    /* in argbuf */
  xfer_t results; /* in argbuf when they fit, else allocated */
  size_t argcap;  /* argbuf's size */
  char argbuf[];
} ljob;

static atomic_uint_fast64_t next_ctx_id = 1;
static char worker_cache_key;

static _Thread_local lua_State* worker_L;
static _Thread_local int worker_cache_size;


/* ---- on the worker ---- */

void lstate_open(lua_State* L) {
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_loom);
  lua_setfield(L, -2, "loom");
  lua_pushcfunction(L, luaopen_loom);
  lua_setfield(L, -2, "luv");
  lua_pop(L, 1);
}


static int open_worker_state(lua_State* L) {
  lstate_open(L);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &worker_cache_key);
  return 0;
}


static lua_State* worker_state(void) {
  lua_State* L;

  if (worker_L != NULL)
    return worker_L;
  L = luaL_newstate();
  if (L == NULL)
    return NULL;
  lua_pushcfunction(L, open_worker_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  worker_L = L;
  return L;
}


/* Pushes the job's function, from the cache or freshly loaded. */
static void push_work_function(lua_State* L, const ljob* j) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &worker_cache_key); /* cache */
  if (lua_rawgeti(L, -1, (lua_Integer) j->id) == LUA_TFUNCTION) {
    lua_remove(L, -2);                                  /* fn */
    return;
  }
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, j->code, j->code_len, "=work") != LUA_OK)
    lua_error(L);                                       /* cache fn */
  if (++worker_cache_size > WORKER_CACHE_MAX) {
    /* Many distinct work ctxs over time: start over rather than grow. */
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &worker_cache_key);
    lua_replace(L, -3);                                 /* cache' fn */
    worker_cache_size = 1;
  }
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, (lua_Integer) j->id);
  lua_remove(L, -2);                                    /* fn */
}


/* Protected: runs the job and encodes its results. */
static int run_job(lua_State* L) {
  ljob* j = lua_touserdata(L, 1);
  int base;
  int n;

  push_work_function(L, j);
  base = lua_gettop(L);
  n = xfer_decode(L, &j->args);
  /* The decoded values hold references of their own: argbuf is free, and
   * the results take it when they fit, so that most jobs cost no malloc
   * here and no free across threads on the loop. */
  xfer_free(&j->args);
  lua_call(L, n, LUA_MULTRET);
  /* xfer names a bad value by its stack slot; say what it really is. */
  if (xfer_encode_rest(L, base, &j->results, j->argbuf, j->argcap) !=
      LUA_OK)
    return luaL_error(L, "a result of the work function cannot cross to the "
                         "loop thread: %s", lua_tostring(L, -1));
  return 0;
}


int ltraceback(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/* Protected: encodes the error message at index 1. */
static int keep_error(lua_State* L) {
  ljob* j = lua_touserdata(L, 2);
  xfer_encode(L, 1, 1, &j->results);
  return 0;
}


static void work_cb(loom_work_t* w) {
  ljob* j = (ljob*) w;
  lua_State* L = worker_state();

  if (L == NULL) {
    j->failed = 1;
    return;
  }
  lua_pushcfunction(L, ltraceback);
  lua_pushcfunction(L, run_job);
  lua_pushlightuserdata(L, j);
  if (lua_pcall(L, 1, 0, 1) != LUA_OK) {                /* tb msg */
    xfer_free(&j->results);
    j->failed = 1;
    lua_pushcfunction(L, keep_error);
    lua_insert(L, -2);                                  /* tb keep msg */
    lua_pushlightuserdata(L, j);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      xfer_free(&j->results);
  }
  lua_settop(L, 0);
  /* The arguments' shared objects (semaphores, async handles) were
   * copied into the worker's state; their references here go now. */
  xfer_free(&j->args);
}


/* ---- on the loop thread ---- */

/* Raised under the callback error policy, in after_fn's place. */
static int raise_work_error(lua_State* L) {
  if (lua_isnoneornil(L, 1))
    return luaL_error(L, "work function failed (no Lua state on a worker)");
  return luaL_error(L, "in work function: %s", lua_tostring(L, 1));
}


typedef struct {
  ljob* job;
  int taken; /* the anchor has been taken back */
} after_call;

/* lctx_call_with's push: the after-work function (or the raiser of the
 * job's error) and the job's results. */
static int push_after(lua_State* L, void* ud) {
  after_call* c = ud;
  ljob* j = c->job;
  int base, n;

  lanchor_take(loom_loop_get_data(j->work.loop), L, j->ref); /* wctx */
  c->taken = 1;
  base = lua_gettop(L);
  if (j->failed) {
    lua_pushcfunction(L, raise_work_error);
    n = xfer_decode(L, &j->results);
  } else {
    lua_getiuservalue(L, base, 2);                      /* wctx after */
    n = xfer_decode(L, &j->results);
  }                                                     /* wctx fn args */
  lua_remove(L, base);                                  /* fn args */
  return n;
}


/* lctx_call_with's done: the job's memory goes, decoded or not. */
static void free_after(void* ud) {
  after_call* c = ud;
  ljob* j = c->job;

  if (!c->taken) {
    lctx* ctx = loom_loop_get_data(j->work.loop);
    lanchor_take(ctx, ctx->L, j->ref);
    lua_pop(ctx->L, 1);
  }
  xfer_free(&j->results);
  lblock_free(&j->mem, j);
}


static void after_cb(loom_work_t* w, int status) {
  ljob* j = (ljob*) w;
  after_call c;

  (void) status;
  xfer_free(&j->args); /* still held if the job was cancelled */
  if (loom_loop_tearing_down(w->loop)) {
    /* The state is closing: its allocator still works, Lua is not
     * entered, and the anchor goes with the state. */
    xfer_free(&j->results);
    lblock_free(&j->mem, j);
    return;
  }
  c.job = j;
  c.taken = 0;
  lctx_call_with(loom_loop_get_data(w->loop), push_after, free_after, &c);
}


typedef struct {
  char* data;
  size_t len;
  size_t cap;
} dump_buf;

#define DUMP_BUF_MT "loom.dump_buf"

/* The bytes are freed by the userdata that holds them: pushing them as a
 * string can raise (out of memory), and they must not leak then. */
static int dump_buf_gc(lua_State* L) {
  dump_buf* b = lua_touserdata(L, 1);
  free(b->data);
  b->data = NULL;
  return 0;
}


/* lua_dump's writer: the function must stay on top of the stack while
 * it is dumped, so the bytes gather in C memory, not a luaL_Buffer. */
static int work_writer(lua_State* L, const void* p, size_t size, void* ud) {
  dump_buf* b = ud;
  (void) L;
  if (b->len + size > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    char* grown;
    while (cap < b->len + size)
      cap *= 2;
    grown = realloc(b->data, cap);
    if (grown == NULL)
      return 1;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, size);
  b->len += size;
  return 0;
}


void lcode_from_function(lua_State* L, int idx) {
  dump_buf* b;
  int failed;

  idx = lua_absindex(L, idx);
  luaL_argcheck(L, !lua_iscfunction(L, idx), idx,
                "a C function cannot run in another state");
  b = lua_newuserdatauv(L, sizeof(*b), 0);              /* box */
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  if (luaL_newmetatable(L, DUMP_BUF_MT)) {
    lua_pushcfunction(L, dump_buf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, idx);                                /* box fn */
  failed = lua_dump(L, work_writer, b, 0);
  lua_pop(L, 1);                                        /* box */
  if (failed || b->len == 0)
    luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->data, b->len);                  /* box code */
  free(b->data);
  b->data = NULL;
  lua_replace(L, idx);                                  /* box */
  lua_pop(L, 1);
}


void lcode_arg(lua_State* L, int idx, const char* chunkname) {
  size_t len;
  const char* code;

  if (lua_type(L, idx) == LUA_TFUNCTION) {
    lcode_from_function(L, idx);
    return;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_typeerror(L, idx, "function or string");
  code = lua_tolstring(L, idx, &len);
  if (luaL_loadbuffer(L, code, len, chunkname) != LUA_OK)
    luaL_argerror(L, idx, lua_tostring(L, -1));
  lua_pop(L, 1);
}


/* uv.new_work(work_fn, after_fn): work_fn is a Lua function (its upvalues
 * are not carried) or a string of source or bytecode. */
static int new_work(lua_State* L) {
  lwork_ctx* wc;

  lcode_arg(L, 1, "=work");
  lh_check_callable(L, 2);
  lua_settop(L, 2);
  wc = lua_newuserdatauv(L, sizeof(*wc), 2);            /* code after wc */
  wc->id = atomic_fetch_add(&next_ctx_id, 1);
  luaL_setmetatable(L, WORK_CTX_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 2);
  return 1;
}


/* uv.queue_work(ctx, ...): true, or fail. */
/* luaL_checkudata for a work context, by pointer: the lookup by name
 * was a tenth of what a queue_work costs the loop thread. */
static lwork_ctx* check_work_ctx(lua_State* L, int idx) {
  lwork_ctx* wc = lmeta_test(L, idx, LCTX(L)->work_ctx_mt);

  if (wc == NULL)
    luaL_typeerror(L, idx, WORK_CTX_MT);
  return wc;
}


static int queue_work(lua_State* L) {
  lwork_ctx* wc = check_work_ctx(L, 1);
  loom_loop_t* loop = lctx_loop(L, LCTX(L));
  int nargs = lua_gettop(L) - 1;
  size_t size = xfer_size(L, 2, nargs);
  size_t cap;
  ljob* j;
  lblock mem;
  int ref;
  int ret;

  /* Room for small results too (see run_job). */
  cap = size < 32 ? 32 : size;
  /* The anchor first: should the block then fail, the anchor is given
   * back, where a block could not be freed once the anchor raised. */
  ref = lanchor_put(LCTX(L), L, 1);
  j = lblock_alloc(L, &mem, sizeof(*j) + cap);
  if (j == NULL) {
    lanchor_take(LCTX(L), L, ref);
    lua_pop(L, 1);
    return luaL_error(L, "not enough memory");
  }
  j->mem = mem;
  j->ref = ref;
  j->argcap = cap;
  xfer_put(L, 2, nargs, j->argbuf, &j->args);
  memset(&j->results, 0, sizeof(j->results));
  j->failed = 0;
  j->id = wc->id;
  lua_getiuservalue(L, 1, 1);                           /* ... code */
  j->code = lua_tolstring(L, -1, &j->code_len);
  lua_pop(L, 1);
  ret = loom_queue_work(loop, &j->work, work_cb, after_cb);
  if (ret < 0) {
    lanchor_take(LCTX(L), L, j->ref);
    lua_pop(L, 1);
    xfer_free(&j->args);
    lblock_free(&j->mem, j);
    return lr_fail(L, ret);
  }
  lua_pushboolean(L, 1);
  return 1;
}


static int work_ctx_tostring(lua_State* L) {
  /* A metamethod has no context upvalue: the check by name. */
  lua_pushfstring(L, "luv_work_ctx_t: %p",
                  luaL_checkudata(L, 1, WORK_CTX_MT));
  return 1;
}


void lwork_register(lua_State* L) {
  static const luaL_Reg methods[] = {
    {"queue", queue_work},
    {NULL, NULL}
  };
  lctx* ctx = lua_touserdata(L, -1);

  lmeta_register(L, -1, WORK_CTX_MT, work_ctx_tostring, NULL, methods);
  luaL_getmetatable(L, WORK_CTX_MT);
  ctx->work_ctx_mt = lua_topointer(L, -1);
  lua_pop(L, 1);
}


const luaL_Reg lwork_functions[] = {
  {"new_work", new_work},
  {"queue_work", queue_work},
  {NULL, NULL}
};
