/* SPDX-License-Identifier: MIT */
/* heap.h: an intrusive binary min-heap built from pointers.
 *
 * Nodes (loom_heap_node_t) are embedded in the elements, so inserting and
 * removing never allocate and the heap has no capacity limit. The shape is
 * a complete binary tree: node n (1-based, breadth first) is reached from
 * the root by reading n's bits below the top one, 0 = left, 1 = right.
 */
#ifndef LOOM_HEAP_H
#define LOOM_HEAP_H

#include "loom.h"

typedef struct {
  loom_heap_node_t* min;
  unsigned long nelts;
} loom__heap_t;

/* Returns non-zero when a must come out of the heap before b. */
typedef int (*loom__heap_less)(const loom_heap_node_t* a,
                               const loom_heap_node_t* b);

void loom__heap_init(loom__heap_t* heap);
void loom__heap_insert(loom__heap_t* heap, loom_heap_node_t* node,
                       loom__heap_less less);
void loom__heap_remove(loom__heap_t* heap, loom_heap_node_t* node,
                       loom__heap_less less);

void loom__heap_key_increased(loom__heap_t* heap, loom_heap_node_t* node,
                              loom__heap_less less);

static inline loom_heap_node_t* loom__heap_min(const loom__heap_t* heap) {
  return heap->min;
}

#endif /* LOOM_HEAP_H */
