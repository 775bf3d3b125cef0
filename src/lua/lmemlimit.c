/* SPDX-License-Identifier: MIT */
/* lmemlimit.c: uv.set_memory_limit (beyond luv): a cap on the bytes the
 * main Lua state may hold, for servers that run code they do not trust
 * to stay small. An allocation past the cap fails, Lua collects garbage
 * and retries, and if that is not enough raises "not enough memory".
 *
 * The cap holds while Lua code runs: the main chunk, binding functions
 * and callbacks. It does not hold for the loop's own work between the
 * kernel and a callback (pushing a read's bytes, a stat table), nor for
 * pushing a result held in C memory: an error there would unwind through
 * C code that cannot be unwound, or leak. Those allocations are small and
 * bounded by what the callbacks consume; the callback that receives them
 * is held to the cap again. Requests and handles are anchored before the
 * core starts them (lreq_anchor, lh_pin), so their anchoring is held to
 * the cap like any Lua code: failing there has started nothing.
 *
 * The allocator wrapper is installed on the first call and stays; it
 * counts every byte from then on, starting from Lua's own count.
 * LOOM_MEMORY_LIMIT sets a limit when loom is loaded, in every state
 * that loads it (each thread's and work state's separately).
 */
#include "lloom.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>


static void* limited_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  lctx* ctx = ud;
  /* Without a block, osize is the kind of object, not a size. */
  size_t old = ptr != NULL ? osize : 0;
  void* p;

  if (nsize > old && ctx->exempt == 0 &&
      (ctx->mem_in_use >= ctx->mem_limit ||
       nsize - old > ctx->mem_limit - ctx->mem_in_use))
    return NULL;
  p = ctx->mem_alloc(ctx->mem_alloc_ud, ptr, osize, nsize);
  if (p != NULL || nsize == 0)
    ctx->mem_in_use = ctx->mem_in_use - old + nsize;
  return p;
}


void lmemlimit_release(lctx* ctx, lua_State* L) {
  /* The state is closing: what it still frees goes straight to the
   * allocator it had, since the context's memory goes with the state. */
  if (ctx->mem_alloc != NULL) {
    lua_setallocf(L, ctx->mem_alloc, ctx->mem_alloc_ud);
    ctx->mem_alloc = NULL;
  }
}


/* Sets the limit (SIZE_MAX: none), wrapping the state's allocator the
 * first time; returns the previous limit. */
static size_t set_limit(lua_State* L, lctx* ctx, size_t limit) {
  size_t previous;

  if (ctx->mem_alloc == NULL) {
    ctx->mem_alloc = lua_getallocf(L, &ctx->mem_alloc_ud);
    ctx->mem_limit = SIZE_MAX;
    ctx->mem_in_use = (size_t) lua_gc(L, LUA_GCCOUNT, 0) * 1024 +
                      (size_t) lua_gc(L, LUA_GCCOUNTB, 0);
    lua_setallocf(L, limited_alloc, ctx);
  }
  previous = ctx->mem_limit;
  /* A limit below what is already in use refuses every growth until the
   * program frees enough: that is what the caller asked for. */
  ctx->mem_limit = limit;
  return previous;
}


/* uv.set_memory_limit(bytes | nil) -> the previous limit (nil: none). */
int lmemlimit_set(lua_State* L) {
  size_t limit = SIZE_MAX;
  size_t previous;

  if (!lua_isnoneornil(L, 1)) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n > 0, 1, "must be positive");
    limit = (size_t) n;
  }
  previous = set_limit(L, LCTX(L), limit);
  if (previous == SIZE_MAX)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer) previous);
  return 1;
}


/* LOOM_MEMORY_LIMIT: bytes, or a number with a K, M or G suffix (powers
 * of 1024); 0 when unset. Read before the context exists, so that a bad
 * value raises with nothing created yet. */
size_t lmemlimit_env(lua_State* L) {
  const char* text = getenv("LOOM_MEMORY_LIMIT");
  char* end;
  unsigned long long n;

  if (text == NULL || *text == '\0')
    return 0;
  errno = 0;
  n = strtoull(text, &end, 10);
  switch (*end) {
    case 'K': case 'k': n = n <= ULLONG_MAX >> 10 ? n << 10 : 0; end++; break;
    case 'M': case 'm': n = n <= ULLONG_MAX >> 20 ? n << 20 : 0; end++; break;
    case 'G': case 'g': n = n <= ULLONG_MAX >> 30 ? n << 30 : 0; end++; break;
    default: break;
  }
  if (errno != 0 || end == text || *end != '\0' || n == 0 || text[0] == '-')
    luaL_error(L, "LOOM_MEMORY_LIMIT=%s: expected a positive size such as "
               "67108864 or 64M", text);
  return n > SIZE_MAX ? SIZE_MAX : (size_t) n;
}


/* Sets the limit `bytes` above what the state holds now (0: none). */
void lmemlimit_apply(lua_State* L, lctx* ctx, size_t bytes) {
  size_t in_use;

  if (bytes == 0)
    return;
  in_use = (size_t) lua_gc(L, LUA_GCCOUNT, 0) * 1024;
  set_limit(L, ctx, bytes > SIZE_MAX - in_use ? SIZE_MAX : in_use + bytes);
}


void* lblock_alloc(lua_State* L, lblock* b, size_t size) {
  void* p;

  b->size = size;
  b->alloc = lua_getallocf(L, &b->alloc_ud);
  p = b->alloc(b->alloc_ud, NULL, 0, size);
  if (p == NULL) {
    /* As Lua does for its own allocations: collect, then try again. */
    lua_gc(L, LUA_GCCOLLECT, 0);
    b->alloc = lua_getallocf(L, &b->alloc_ud);
    p = b->alloc(b->alloc_ud, NULL, 0, size);
  }
  return p;
}


void lblock_free(const lblock* b, void* p) {
  lblock copy = *b;
  copy.alloc(copy.alloc_ud, p, copy.size, 0);
}
