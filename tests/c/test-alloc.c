/* SPDX-License-Identifier: MIT */
/* test-alloc.c: the runner's Lua allocator (src/runner/alloc.c): blocks
 * keep their bytes across every resize between the small, medium and
 * malloc kinds, a freed medium block serves the next request of its
 * class, at most 1 MiB of them is kept, and a failed move leaves the old
 * block valid. */
#include "harness.h"
#include "alloc.h"
#include "failalloc.h"

#include <stdint.h>

static void fill(unsigned char* p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (unsigned char) (seed + i * 31);
}

static int holds(const unsigned char* p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (p[i] != (unsigned char) (seed + i * 31))
      return 0;
  }
  return 1;
}


TEST(alloc_resize_across_kinds) {
  static const size_t sizes[] = {1,   8,   9,    63,   64,   511,  512,
                                 513, 639, 640,  641,  2000, 4095, 4096,
                                 4097, 9000, 70000};
  enum { N = sizeof(sizes) / sizeof(sizes[0]) };
  loom_lua_allocator_t* a = loom_lua_allocator_new();
  size_t i, j;

  ASSERT(a != NULL);
  for (i = 0; i < N; i++) {
    for (j = 0; j < N; j++) {
      size_t from = sizes[i], to = sizes[j];
      unsigned char* p = loom_lua_alloc(a, NULL, 0, from);
      unsigned char* q;
      ASSERT(p != NULL);
      ASSERT_EQ((uintptr_t) p % 8, 0);
      fill(p, from, (unsigned) (i * N + j));
      q = loom_lua_alloc(a, p, from, to);
      ASSERT(q != NULL);
      ASSERT(holds(q, from < to ? from : to, (unsigned) (i * N + j)));
      /* The whole new size is usable. */
      fill(q, to, 7);
      ASSERT(holds(q, to, 7));
      ASSERT(loom_lua_alloc(a, q, to, 0) == NULL);
    }
  }
  loom_lua_allocator_free(a);
  return 0;
}


/* Blocks of one class are interchangeable: 2,000 bytes and 2,040 share
 * the class of 1,921 to 2,048. */
TEST(alloc_medium_blocks_reused) {
  loom_lua_allocator_t* a = loom_lua_allocator_new();
  void* p;
  void* q;
  long seen;

  ASSERT(a != NULL);
  p = loom_lua_alloc(a, NULL, 0, 2000);
  ASSERT(p != NULL);
  loom_lua_alloc(a, p, 2000, 0);
  failalloc_arm(0, 0, 0);
  q = loom_lua_alloc(a, NULL, 0, 2040);
  failalloc_disarm(&seen, NULL);
  ASSERT(q == p);
  ASSERT_EQ(seen, 0);
  fill(q, 2040, 3);
  ASSERT(holds(q, 2040, 3));
  loom_lua_alloc(a, q, 2040, 0);
  loom_lua_allocator_free(a);
  return 0;
}


/* 2,000 freed blocks of 4 KiB: 256 of them (1 MiB) are kept, the rest
 * went back to malloc, so making 2,000 again takes 1,744 mallocs. */
TEST(alloc_medium_kept_at_most_1_mib) {
  enum { N = 2000, KEPT = (1 << 20) / 4096 };
  static void* blocks[N];
  loom_lua_allocator_t* a = loom_lua_allocator_new();
  long seen;
  int i;

  ASSERT(a != NULL);
  for (i = 0; i < N; i++) {
    blocks[i] = loom_lua_alloc(a, NULL, 0, 4096);
    ASSERT(blocks[i] != NULL);
  }
  for (i = 0; i < N; i++)
    loom_lua_alloc(a, blocks[i], 4096, 0);
  failalloc_arm(0, 0, 0);
  for (i = 0; i < N; i++) {
    blocks[i] = loom_lua_alloc(a, NULL, 0, 4000);
    ASSERT(blocks[i] != NULL);
  }
  failalloc_disarm(&seen, NULL);
  ASSERT_EQ(seen, N - KEPT);
  for (i = 0; i < N; i++)
    loom_lua_alloc(a, blocks[i], 4000, 0);
  /* Freeing the allocator returns the kept blocks (ASan's leak check
   * holds it to that). */
  loom_lua_allocator_free(a);
  return 0;
}


/* Resizes with every malloc failing. */
static void* resize_failing(loom_lua_allocator_t* a, void* p, size_t from,
                            size_t to) {
  void* q;

  failalloc_arm(1, 1, 0);
  q = loom_lua_alloc(a, p, from, to);
  failalloc_disarm(NULL, NULL);
  return q;
}


/* Growing a small block into a medium one, and a medium one into a
 * malloc'd one, when malloc fails: NULL, and the old block is intact. */
TEST(alloc_failed_move_keeps_block) {
  loom_lua_allocator_t* a = loom_lua_allocator_new();
  unsigned char* p;
  unsigned char* q;

  ASSERT(a != NULL);
  p = loom_lua_alloc(a, NULL, 0, 300);
  ASSERT(p != NULL);
  fill(p, 300, 5);
  q = resize_failing(a, p, 300, 3000);
  ASSERT(q == NULL);
  ASSERT(holds(p, 300, 5));
  q = loom_lua_alloc(a, p, 300, 3000);
  ASSERT(q != NULL && holds(q, 300, 5));
  fill(q, 3000, 6);
  p = resize_failing(a, q, 3000, 50000);
  ASSERT(p == NULL);
  ASSERT(holds(q, 3000, 6));
  loom_lua_alloc(a, q, 3000, 0);
  loom_lua_allocator_free(a);
  return 0;
}


/* Lua assumes a shrink never fails: when the smaller block cannot be
 * made, the old one is kept, and freeing it at its new size is sound. */
TEST(alloc_shrink_never_fails) {
  static const size_t pairs[][2] = {{9000, 3000}, {9000, 100}, {3000, 700},
                                    {3000, 100}, {500, 16}};
  size_t i;

  for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    loom_lua_allocator_t* a = loom_lua_allocator_new();
    size_t from = pairs[i][0], to = pairs[i][1];
    unsigned char* p;
    unsigned char* q;
    unsigned char* r;

    ASSERT(a != NULL);
    p = loom_lua_alloc(a, NULL, 0, from);
    ASSERT(p != NULL);
    fill(p, from, 9);
    q = resize_failing(a, p, from, to);
    ASSERT(q != NULL);
    ASSERT(holds(q, to, 9));
    loom_lua_alloc(a, q, to, 0);
    /* The next block of that size may be the kept one: it must hold the
     * whole size. */
    r = loom_lua_alloc(a, NULL, 0, to);
    ASSERT(r != NULL);
    fill(r, to, 4);
    ASSERT(holds(r, to, 4));
    loom_lua_alloc(a, r, to, 0);
    loom_lua_allocator_free(a);
  }
  return 0;
}
