/* SPDX-License-Identifier: MIT */
/* queue.h: an intrusive, circular, doubly linked list.
 *
 * The links live inside the structs they connect, so adding or removing an
 * element never allocates. An empty queue is a head that points to itself;
 * a removed node is re-initialised so removing it twice is harmless.
 */
#ifndef LOOM_QUEUE_H
#define LOOM_QUEUE_H

#include <stddef.h>

#include "loom.h"

#define loom__queue_data(ptr, type, field)                                    \
  ((type*) ((char*) (ptr) - offsetof(type, field)))

static inline void loom__queue_init(loom_queue_t* q) {
  q->next = q;
  q->prev = q;
}

static inline int loom__queue_empty(const loom_queue_t* q) {
  return q->next == q;
}

static inline loom_queue_t* loom__queue_head(const loom_queue_t* q) {
  return q->next;
}

static inline loom_queue_t* loom__queue_tail(const loom_queue_t* q) {
  return q->prev;
}

/* The elements of h, by walking them. Dispatchers count a batch this way
 * and call it back from the front, leaving it on its list (where teardown
 * finds it) instead of moving it aside. */
static inline size_t loom__queue_count(const loom_queue_t* h) {
  const loom_queue_t* q;
  size_t n = 0;

  for (q = h->next; q != h; q = q->next)
    n++;
  return n;
}

static inline void loom__queue_insert_tail(loom_queue_t* h, loom_queue_t* q) {
  q->next = h;
  q->prev = h->prev;
  q->prev->next = q;
  h->prev = q;
}

static inline void loom__queue_remove(loom_queue_t* q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  q->next = q;
  q->prev = q;
}

/* Moves every element of h to the (empty or not yet initialised) queue n,
 * leaving h empty. Used to snapshot a list before dispatching from it. */
static inline void loom__queue_move(loom_queue_t* h, loom_queue_t* n) {
  if (loom__queue_empty(h)) {
    loom__queue_init(n);
    return;
  }
  n->next = h->next;
  n->prev = h->prev;
  n->next->prev = n;
  n->prev->next = n;
  loom__queue_init(h);
}

#endif /* LOOM_QUEUE_H */
