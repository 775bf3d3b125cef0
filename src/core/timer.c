/* SPDX-License-Identifier: MIT */
/* timer.c: timers on an intrusive min-heap keyed by (due time, start id). */
#include "internal.h"

#include <limits.h>

/* Set while a due timer sits in the ready list of loom__run_timers. */
#define TIMER_READY (1u << 16)


static int timer_less(const loom_heap_node_t* a, const loom_heap_node_t* b) {
  const loom_timer_t* ta = loom__queue_data(a, loom_timer_t, node.heap);
  const loom_timer_t* tb = loom__queue_data(b, loom_timer_t, node.heap);

  if (ta->timeout != tb->timeout)
    return ta->timeout < tb->timeout;
  /* Same due time: the one started first fires first. */
  return ta->start_id < tb->start_id;
}


int loom_timer_init(loom_loop_t* loop, loom_timer_t* t) {
  loom__handle_init(loop, (loom_handle_t*) t, LOOM_TIMER);
  t->cb = NULL;
  t->timeout = 0;
  t->repeat = 0;
  t->start_id = 0;
  return 0;
}


int loom_timer_stop(loom_timer_t* t) {
  if (t->flags & TIMER_READY) {
    /* Due but not yet dispatched in this pass: it must not fire. */
    t->flags &= ~TIMER_READY;
    loom__queue_remove(&t->node.ready);
    return 0;
  }
  if (!loom__is_active((loom_handle_t*) t))
    return 0;
  loom__heap_remove(&t->loop->timer_heap, &t->node.heap, timer_less);
  loom__handle_stop((loom_handle_t*) t);
  return 0;
}


int loom_timer_start(loom_timer_t* t, loom_timer_cb cb, uint64_t timeout,
                     uint64_t repeat) {
  uint64_t due;

  if (cb == NULL || loom__is_closing((loom_handle_t*) t))
    return LOOM_EINVAL;
  loom_timer_stop(t);

  /* Clamp instead of wrapping: a timeout too large to represent means
   * "never", not "in the past". */
  due = t->loop->time + timeout;
  if (due < timeout)
    due = UINT64_MAX;

  t->cb = cb;
  t->timeout = due;
  t->repeat = repeat;
  t->start_id = t->loop->timer_counter++;
  loom__heap_insert(&t->loop->timer_heap, &t->node.heap, timer_less);
  loom__handle_start((loom_handle_t*) t);
  return 0;
}


int loom_timer_again(loom_timer_t* t) {
  if (t->cb == NULL)
    return LOOM_EINVAL;
  if (t->repeat != 0) {
    loom_timer_stop(t);
    loom_timer_start(t, t->cb, t->repeat, t->repeat);
  }
  return 0;
}


void loom_timer_set_repeat(loom_timer_t* t, uint64_t repeat) {
  t->repeat = repeat;
}


uint64_t loom_timer_get_repeat(const loom_timer_t* t) {
  return t->repeat;
}


uint64_t loom_timer_get_due_in(const loom_timer_t* t) {
  if (!loom__is_active((const loom_handle_t*) t) ||
      t->timeout <= t->loop->time)
    return 0;
  return t->timeout - t->loop->time;
}


void loom__timer_close(loom_timer_t* t) {
  loom_timer_stop(t);
}


/* Milliseconds until the next timer is due: 0 if one is due now, -1 if
 * there is none; capped at INT_MAX for the poller. */
int loom__next_timeout(const loom_loop_t* loop) {
  const loom_heap_node_t* node = loom__heap_min(&loop->timer_heap);
  const loom_timer_t* t;
  uint64_t diff;

  if (node == NULL)
    return -1;
  t = loom__queue_data(node, loom_timer_t, node.heap);
  if (t->timeout <= loop->time)
    return 0;
  diff = t->timeout - loop->time;
  return diff > INT_MAX ? INT_MAX : (int) diff;
}


void loom__run_timers(loom_loop_t* loop) {
  loom_queue_t ready;
  loom_queue_t* q;
  loom_heap_node_t* node;
  loom_timer_t* t;

  /* Snapshot: take every due timer off the heap first, then call out. A
   * callback may stop, restart or close any timer (stopping one still in
   * the ready list removes it from there), and a timer restarted with
   * timeout 0 fires on the next pass, not in this one. */
  loom__queue_init(&ready);
  for (;;) {
    node = loom__heap_min(&loop->timer_heap);
    if (node == NULL)
      break;
    t = loom__queue_data(node, loom_timer_t, node.heap);
    if (t->timeout > loop->time)
      break;
    loom__heap_remove(&loop->timer_heap, node, timer_less);
    loom__handle_stop((loom_handle_t*) t);
    t->flags |= TIMER_READY;
    loom__queue_insert_tail(&ready, &t->node.ready);
  }

  while (!loom__queue_empty(&ready)) {
    q = loom__queue_head(&ready);
    t = loom__queue_data(q, loom_timer_t, node.ready);
    loom__queue_remove(q);
    t->flags &= ~TIMER_READY;
    if (t->repeat != 0)
      loom_timer_start(t, t->cb, t->repeat, t->repeat);
    t->cb(t);
  }
}
