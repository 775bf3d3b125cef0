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
 * Blocks of 513 bytes to 4 KiB (the string of a socket read, a request
 * body's piece) come from malloc in classes of 128-byte steps, and a freed
 * one is kept on its class's free list while the kept blocks total at
 * most 1 MiB; past that they go back to malloc. glibc serves these sizes
 * outside its per-thread cache, through its sorted bins: a malloc and a
 * free of a 2 KiB block cost about 300 instructions, a fifth of a
 * pipelined echo server's user time, where the list costs ten. The bound
 * keeps a burst of such blocks from being held after it.
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
#include "asan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef LOOM_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define GRANULE 8
#define MAX_SMALL 512
#define NCLASSES (MAX_SMALL / GRANULE + 1)
#define MEDIUM_STEP 128
#define MAX_MEDIUM 4096
#define NMEDIUM ((MAX_MEDIUM - MAX_SMALL) / MEDIUM_STEP + 1)
#define MEDIUM_KEEP_MAX ((size_t) 1 << 20)
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
  free_block* medium[NMEDIUM]; /* kept medium blocks, from malloc */
  size_t medium_kept;          /* their total size */
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
  size_t cls;

  if (a == NULL)
    return;
  for (cls = 0; cls < NMEDIUM; cls++) {
    free_block* b;
    while ((b = a->medium[cls]) != NULL) {
      a->medium[cls] = b->next;
      free(b);
    }
  }
  while ((c = a->chunks) != NULL) {
    a->chunks = c->next;
    if (c->mapped != 0) {
#ifdef LOOM_ASAN
      __lsan_unregister_root_region(c, c->mapped);
#endif
      munmap(c, c->mapped);
    } else {
      free(c);
    }
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
#ifdef LOOM_ASAN
  /* The leak checker scans what malloc gave, not mmap: Lua objects in
   * this chunk hold the only pointers to their malloc'd parts (a big
   * table's array), which would be reported as leaked at exit. */
  __lsan_register_root_region(aligned, HUGE_CHUNK_SIZE);
#endif
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


/* Sizes MAX_SMALL + 1 to MAX_MEDIUM: class 1 holds blocks of up to 640
 * bytes, the last one blocks of 4096. Every block of a class has the
 * class's full size, so any of them serves any request of the class. */
static size_t medium_class_of(size_t size) {
  return (size - MAX_SMALL + MEDIUM_STEP - 1) / MEDIUM_STEP;
}


static void* medium_alloc(loom_lua_allocator_t* a, size_t size) {
  size_t cls = medium_class_of(size);
  free_block* b = a->medium[cls];

  if (b != NULL) {
    a->medium[cls] = b->next;
    a->medium_kept -= MAX_SMALL + cls * MEDIUM_STEP;
    return b;
  }
  return malloc(MAX_SMALL + cls * MEDIUM_STEP);
}


static void medium_free(loom_lua_allocator_t* a, void* ptr, size_t size) {
  size_t cls = medium_class_of(size);
  size_t bytes = MAX_SMALL + cls * MEDIUM_STEP;
  free_block* b = ptr;

  if (a->medium_kept + bytes > MEDIUM_KEEP_MAX) {
    free(ptr);
    return;
  }
  b->next = a->medium[cls];
  a->medium[cls] = b;
  a->medium_kept += bytes;
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


/* The three kinds of block, by the size Lua gives. */
enum { SMALL, MEDIUM, BIG };

static int kind_of(size_t size) {
  return size <= MAX_SMALL ? SMALL : size <= MAX_MEDIUM ? MEDIUM : BIG;
}


static void* alloc_block(loom_lua_allocator_t* a, size_t size) {
  switch (kind_of(size)) {
    case SMALL: return small_alloc(a, size);
    case MEDIUM: return medium_alloc(a, size);
    default: return big_malloc(size);
  }
}


static void release_block(loom_lua_allocator_t* a, void* ptr, size_t size) {
  switch (kind_of(size)) {
    case SMALL: small_free(a, ptr, size); break;
    case MEDIUM: medium_free(a, ptr, size); break;
    default: free(ptr);
  }
}


/* Whether a block made for osize bytes already holds nsize. */
static int same_block(size_t osize, size_t nsize) {
  int kind = kind_of(osize);

  if (kind != kind_of(nsize))
    return 0;
  if (kind == SMALL)
    return class_of(osize) == class_of(nsize);
  return kind == MEDIUM && medium_class_of(osize) == medium_class_of(nsize);
}


/* A shrink for which no new block could be made. The old block is large
 * enough, and Lua will free it as a block of nsize bytes: a small or
 * medium class list takes it as it is (it is at least that class's
 * size). A malloc'd block that becomes small cannot go on a small list,
 * which is never given back to malloc: it becomes a chunk of its own
 * holding the one small block, freed with the other chunks. */
static void* shrink_in_place(loom_lua_allocator_t* a, void* ptr, size_t osize,
                             size_t nsize) {
  chunk* c = ptr;

  if (kind_of(nsize) != SMALL || kind_of(osize) == SMALL)
    return ptr;
  /* A malloc'd block has at least 640 bytes: room for the header and
   * 512 bytes of data. */
  memmove((char*) ptr + CHUNK_HEADER, ptr, nsize);
  c->mapped = 0;
  c->next = a->chunks;
  a->chunks = c;
  return (char*) ptr + CHUNK_HEADER;
}


void* loom_lua_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  loom_lua_allocator_t* a = ud;
  void* fresh;

  if (ptr == NULL) {
    /* osize is the type of the new object here, not a size. */
    if (nsize == 0)
      return NULL;
    return alloc_block(a, nsize);
  }
  if (nsize == 0) {
    release_block(a, ptr, osize);
    return NULL;
  }
  if (kind_of(osize) == BIG && kind_of(nsize) == BIG) {
    fresh = realloc(ptr, nsize);
    if (nsize > osize)
      advise_huge(fresh, nsize);
    return fresh;
  }
  if (same_block(osize, nsize))
    return ptr;
  /* Moving between classes or kinds. On failure the old block must stay
   * valid, as Lua requires; and a shrink must not fail at all (Lua
   * assumes it cannot). */
  fresh = alloc_block(a, nsize);
  if (fresh == NULL && nsize < osize)
    return shrink_in_place(a, ptr, osize, nsize);
  if (fresh == NULL)
    return NULL;
  memcpy(fresh, ptr, osize < nsize ? osize : nsize);
  release_block(a, ptr, osize);
  return fresh;
}
