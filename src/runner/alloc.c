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
 *
 * Once a state holds more than HUGE_AFTER bytes of small blocks, new
 * chunks are 2 MiB, aligned and marked for transparent huge pages: a
 * program with a million handles then takes ~90 page faults instead of
 * ~45,000, which under virtualisation was a fifth of its run time. Small
 * programs keep small chunks and a small footprint.
 */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GRANULE 8
#define MAX_SMALL 512
#define NCLASSES (MAX_SMALL / GRANULE + 1)
#define CHUNK_SIZE (256 * 1024)
#define HUGE_CHUNK_SIZE (2 * 1024 * 1024)
#define HUGE_AFTER (8 * 1024 * 1024)

typedef struct free_block {
  struct free_block* next;
} free_block;

typedef struct chunk {
  struct chunk* next;
  size_t mapped; /* 0: from malloc; else the size to munmap */
  /* Blocks follow, 16-byte aligned. */
} chunk;

struct loom_lua_allocator_s {
  free_block* free[NCLASSES];
  char* bump;     /* the unused rest of the newest chunk */
  char* bump_end;
  chunk* chunks;
  size_t chunk_bytes; /* total size of the chunks */
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
    if (c->mapped != 0)
      munmap(c, c->mapped);
    else
      free(c);
  }
  free(a);
}


/* A 2 MiB chunk on a 2 MiB boundary, so the kernel can back it with one
 * huge page; NULL if mmap fails (the caller falls back to malloc). */
static chunk* huge_chunk(void) {
  size_t span = 2 * HUGE_CHUNK_SIZE;
  char* p = mmap(NULL, span, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* aligned;
  chunk* c;

  if (p == MAP_FAILED)
    return NULL;
  aligned = (char*) (((uintptr_t) p + HUGE_CHUNK_SIZE - 1) &
                     ~(uintptr_t) (HUGE_CHUNK_SIZE - 1));
  if (aligned > p)
    munmap(p, (size_t) (aligned - p));
  if (aligned + HUGE_CHUNK_SIZE < p + span)
    munmap(aligned + HUGE_CHUNK_SIZE,
           (size_t) (p + span - (aligned + HUGE_CHUNK_SIZE)));
  madvise(aligned, HUGE_CHUNK_SIZE, MADV_HUGEPAGE);
  c = (chunk*) aligned;
  c->mapped = HUGE_CHUNK_SIZE;
  return c;
}


static int new_chunk(loom_lua_allocator_t* a) {
  size_t size = CHUNK_SIZE;
  chunk* c = NULL;

  if (a->chunk_bytes >= HUGE_AFTER) {
    c = huge_chunk();
    size = HUGE_CHUNK_SIZE;
  }
  if (c == NULL) {
    size = CHUNK_SIZE;
    c = malloc(CHUNK_SIZE);
    if (c == NULL)
      return 0;
    c->mapped = 0;
  }
  c->next = a->chunks;
  a->chunks = c;
  a->chunk_bytes += size;
  a->bump = (char*) c + CHUNK_HEADER;
  a->bump_end = (char*) c + size;
  return 1;
}


static void* small_alloc(loom_lua_allocator_t* a, size_t size) {
  size_t cls = class_of(size);
  size_t bytes = cls * GRANULE;
  free_block* b = a->free[cls];
  void* p;

  if (b != NULL) {
    a->free[cls] = b->next;
    return b;
  }
  /* The tail of the old chunk is abandoned: at most 511 bytes. */
  if ((size_t) (a->bump_end - a->bump) < bytes && !new_chunk(a))
    return NULL;
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


/* Blocks from this size up (a long string, a read buffer, a big table
 * array) ask for transparent huge pages over their 2 MiB-aligned middle:
 * the first touch of fresh memory costs a page fault per 4 KiB page
 * otherwise, which for a 1 GiB string read from a file was most of the
 * time (about 13 µs per page on a virtual machine), and once per 2 MiB
 * with huge pages. malloc serves such sizes with mmap, so the pages are
 * fresh and the advice comes before they are touched. */
#define HUGE_ADVICE_MIN ((size_t) 8 << 20)

static void advise_huge(void* p, size_t size) {
  uintptr_t start, end;

  if (p == NULL || size < HUGE_ADVICE_MIN)
    return;
  start = ((uintptr_t) p + HUGE_CHUNK_SIZE - 1) & ~(uintptr_t) (HUGE_CHUNK_SIZE - 1);
  end = ((uintptr_t) p + size) & ~(uintptr_t) (HUGE_CHUNK_SIZE - 1);
  if (end > start)
    madvise((void*) start, end - start, MADV_HUGEPAGE);
}


static void* big_malloc(size_t size) {
  void* p = malloc(size);
  advise_huge(p, size);
  return p;
}


void* loom_lua_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  loom_lua_allocator_t* a = ud;
  void* fresh;

  if (ptr == NULL) {
    /* osize is the type of the new object here, not a size. */
    if (nsize == 0)
      return NULL;
    return nsize <= MAX_SMALL ? small_alloc(a, nsize) : big_malloc(nsize);
  }
  if (nsize == 0) {
    if (osize <= MAX_SMALL)
      small_free(a, ptr, osize);
    else
      free(ptr);
    return NULL;
  }
  if (osize > MAX_SMALL && nsize > MAX_SMALL) {
    fresh = realloc(ptr, nsize);
    if (nsize > osize)
      advise_huge(fresh, nsize);
    return fresh;
  }
  if (osize <= MAX_SMALL && nsize <= MAX_SMALL &&
      class_of(osize) == class_of(nsize))
    return ptr;
  /* Moving between the small classes and malloc. On failure the old block
   * must stay valid, as Lua requires. */
  fresh = nsize <= MAX_SMALL ? small_alloc(a, nsize) : big_malloc(nsize);
  if (fresh == NULL)
    return NULL;
  memcpy(fresh, ptr, osize < nsize ? osize : nsize);
  if (osize <= MAX_SMALL)
    small_free(a, ptr, osize);
  else
    free(ptr);
  return fresh;
}
