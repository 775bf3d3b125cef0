/* SPDX-License-Identifier: MIT */
/* alloc.c: a size-class allocator for the runner's Lua state.
 *
 * Lua tells its allocator the size of every block it frees or resizes, so
 * small blocks need no header: they are carved from 256 KiB chunks into
 * classes of 8-byte steps and recycled through one free list per class.
 * That saves malloc's per-block header and rounding (a timer handle costs
 * 160 bytes instead of 176) and most of malloc's bookkeeping time. Blocks
 * above 512 bytes (table arrays, long strings) go to malloc.
 *
 * A Lua state is used by one thread at a time, so there is no locking.
 * Freed small blocks are reused but chunks are returned to the system
 * only when the state closes.
 */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GRANULE 8
#define MAX_SMALL 512
#define NCLASSES (MAX_SMALL / GRANULE + 1)
#define CHUNK_SIZE (256 * 1024)

typedef struct free_block {
  struct free_block* next;
} free_block;

typedef struct chunk {
  struct chunk* next;
  /* Blocks follow, 16-byte aligned. */
} chunk;

struct loom_lua_allocator_s {
  free_block* free[NCLASSES];
  char* bump;     /* the unused rest of the newest chunk */
  char* bump_end;
  chunk* chunks;
};

#define CHUNK_HEADER ((sizeof(chunk) + 15) & ~(size_t) 15)


static size_t class_of(size_t size) {
  return (size + GRANULE - 1) / GRANULE;
}


loom_lua_allocator_t* loom_lua_allocator_new(void) {
  return calloc(1, sizeof(loom_lua_allocator_t));
}


void loom_lua_allocator_free(loom_lua_allocator_t* a) {
  chunk* c;

  if (a == NULL)
    return;
  while ((c = a->chunks) != NULL) {
    a->chunks = c->next;
    free(c);
  }
  free(a);
}


static void* small_alloc(loom_lua_allocator_t* a, size_t size) {
  size_t cls = class_of(size);
  size_t bytes = cls * GRANULE;
  free_block* b = a->free[cls];
  chunk* c;
  void* p;

  if (b != NULL) {
    a->free[cls] = b->next;
    return b;
  }
  if ((size_t) (a->bump_end - a->bump) < bytes) {
    /* The tail of the old chunk is abandoned: at most 511 bytes. */
    c = malloc(CHUNK_SIZE);
    if (c == NULL)
      return NULL;
    c->next = a->chunks;
    a->chunks = c;
    a->bump = (char*) c + CHUNK_HEADER;
    a->bump_end = (char*) c + CHUNK_SIZE;
  }
  p = a->bump;
  a->bump += bytes;
  return p;
}


static void small_free(loom_lua_allocator_t* a, void* ptr, size_t size) {
  size_t cls = class_of(size);
  free_block* b = ptr;

  b->next = a->free[cls];
  a->free[cls] = b;
}


void* loom_lua_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  loom_lua_allocator_t* a = ud;
  void* fresh;

  if (ptr == NULL) {
    /* osize is the type of the new object here, not a size. */
    if (nsize == 0)
      return NULL;
    return nsize <= MAX_SMALL ? small_alloc(a, nsize) : malloc(nsize);
  }
  if (nsize == 0) {
    if (osize <= MAX_SMALL)
      small_free(a, ptr, osize);
    else
      free(ptr);
    return NULL;
  }
  if (osize > MAX_SMALL && nsize > MAX_SMALL)
    return realloc(ptr, nsize);
  if (osize <= MAX_SMALL && nsize <= MAX_SMALL &&
      class_of(osize) == class_of(nsize))
    return ptr;
  /* Moving between the small classes and malloc. On failure the old block
   * must stay valid, as Lua requires. */
  fresh = nsize <= MAX_SMALL ? small_alloc(a, nsize) : malloc(nsize);
  if (fresh == NULL)
    return NULL;
  memcpy(fresh, ptr, osize < nsize ? osize : nsize);
  if (osize <= MAX_SMALL)
    small_free(a, ptr, osize);
  else
    free(ptr);
  return fresh;
}
