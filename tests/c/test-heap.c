/* SPDX-License-Identifier: MIT */
/* test-heap.c: the intrusive heap keeps order under random insert/remove. */
#include "harness.h"
#include "heap.h"

typedef struct {
  loom_heap_node_t node;
  int key;
  int in_heap;
} item;

static int less(const loom_heap_node_t* a, const loom_heap_node_t* b) {
  return ((const item*) a)->key < ((const item*) b)->key;
}

TEST(heap_order) {
  enum { N = 2000 };
  static item items[N];
  loom__heap_t heap;
  int i;
  int last = -1;
  unsigned seed = 7;

  loom__heap_init(&heap);
  for (i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    items[i].key = (int) ((seed >> 8) % 500);
    loom__heap_insert(&heap, &items[i].node, less);
    items[i].in_heap = 1;
  }
  /* Remove a third from the middle, then drain in order. */
  for (i = 0; i < N; i += 3) {
    loom__heap_remove(&heap, &items[i].node, less);
    items[i].in_heap = 0;
  }
  for (;;) {
    item* min = (item*) loom__heap_min(&heap);
    if (min == NULL)
      break;
    ASSERT(min->in_heap);
    ASSERT(min->key >= last);
    last = min->key;
    loom__heap_remove(&heap, &min->node, less);
    min->in_heap = 0;
  }
  ASSERT_EQ(heap.nelts, 0);
  return 0;
}


/* A key that grows moves the node down (loom__heap_key_increased); the
 * order holds when the root's key grows, as the timers' list heads do,
 * and when an inner node's does. */
TEST(heap_key_increased) {
  enum { N = 1000 };
  static item items[N];
  loom__heap_t heap;
  int i;
  int last = -1;
  unsigned seed = 11;

  loom__heap_init(&heap);
  for (i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    items[i].key = (int) ((seed >> 8) % 300);
    loom__heap_insert(&heap, &items[i].node, less);
  }
  for (i = 0; i < 3 * N; i++) {
    item* it;
    seed = seed * 1103515245u + 12345u;
    it = (i % 2 == 0) ? (item*) loom__heap_min(&heap) : &items[(seed >> 8) % N];
    it->key += (int) ((seed >> 4) % 50);
    loom__heap_key_increased(&heap, &it->node, less);
  }
  ASSERT_EQ(heap.nelts, N);
  for (i = 0; i < N; i++) {
    item* min = (item*) loom__heap_min(&heap);
    ASSERT(min->key >= last);
    last = min->key;
    loom__heap_remove(&heap, &min->node, less);
  }
  ASSERT(loom__heap_min(&heap) == NULL);
  return 0;
}
