/* SPDX-License-Identifier: MIT */
/* timer.c: timers.
 *
 * Timers started with the same timeout (duration) are due in the order
 * they were started, because the loop's clock never goes back. So each
 * duration gets a FIFO list, appending to it is O(1), and only the lists
 * sit in the min-heap, keyed by their first timer's (due time, start id).
 * A program with a million timers but a hundred distinct timeouts keeps a
 * heap of a hundred, instead of sifting a million pointers whose nodes are
 * scattered over memory (the pointer heap spent 60% of the million-timer
 * benchmark in cache misses). Timers with the same due time still fire in
 * start order, across lists too, through the start id in the heap key.
 *
 * The first timer of a list carries TIMER_HEAD; its `prev` link is then
 * the list's sentinel, which is how stop() finds the list without a
 * per-timer pointer.
 *
 * A new duration needs a list, and a list needs memory. So that starting
 * a timer never fails (libuv's never does, and the DNS and fs_poll
 * internals re-arm theirs where nobody could be told), a timer that gets
 * no list joins the loop's overflow list instead: one list, kept in the
 * loop itself, sorted by (due time, start id) with an insertion walk. It
 * is only used while memory is short, so its O(n) insert costs nothing
 * otherwise, and it sits in the heap like any other list.
 */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>

#define TIMER_HEAD (1u << 16) /* first of its duration list */
#define MAX_SPARE_LISTS 64

typedef loom__timer_list_t timer_list_t;


static loom_timer_t* first_timer(const timer_list_t* list) {
  return loom__queue_data(list->timers.next, loom_timer_t, node);
}


static int list_less(const loom_heap_node_t* a, const loom_heap_node_t* b) {
  const loom_timer_t* ta = first_timer((const timer_list_t*) a);
  const loom_timer_t* tb = first_timer((const timer_list_t*) b);

  if (ta->timeout != tb->timeout)
    return ta->timeout < tb->timeout;
  return ta->start_id < tb->start_id;
}


static unsigned int bucket_of(const loom_loop_t* loop, uint64_t duration) {
  return (unsigned int) ((duration * 0x9E3779B97F4A7C15ull) >> 32) &
         (loop->timer_lists_size - 1);
}


static int grow_table(loom_loop_t* loop) {
  unsigned int size = loop->timer_lists_size ? loop->timer_lists_size * 2 : 64;
  timer_list_t** old = loop->timer_lists;
  unsigned int old_size = loop->timer_lists_size;
  timer_list_t** table = calloc(size, sizeof(*table));
  timer_list_t* list;
  unsigned int i;
  unsigned int b;

  if (table == NULL)
    return LOOM_ENOMEM;
  loop->timer_lists = table;
  loop->timer_lists_size = size;
  for (i = 0; i < old_size; i++) {
    while ((list = old[i]) != NULL) {
      old[i] = list->next;
      b = bucket_of(loop, list->duration);
      list->next = table[b];
      table[b] = list;
    }
  }
  free(old);
  return 0;
}


/* The list for a duration, created (or taken from the spares) if needed. */
static timer_list_t* list_for(loom_loop_t* loop, uint64_t duration) {
  timer_list_t* list;
  unsigned int b;

  if (loop->timer_lists_size != 0) {
    for (list = loop->timer_lists[bucket_of(loop, duration)]; list != NULL;
         list = list->next)
      if (list->duration == duration)
        return list;
  }
  /* A table that cannot grow still works, with longer chains. */
  if (loop->timer_lists_used >= loop->timer_lists_size / 2 &&
      grow_table(loop) != 0 && loop->timer_lists_size == 0)
    return NULL;
  if (loop->spare_lists != NULL) {
    list = loop->spare_lists;
    loop->spare_lists = list->next;
    loop->nspare_lists--;
  } else {
    list = malloc(sizeof(*list));
    if (list == NULL)
      return NULL;
  }
  list->duration = duration;
  loom__queue_init(&list->timers);
  b = bucket_of(loop, duration);
  list->next = loop->timer_lists[b];
  loop->timer_lists[b] = list;
  loop->timer_lists_used++;
  return list;
}


/* An emptied list leaves the table; a few are kept for reuse so a timer
 * restarted with the same timeout from its own callback costs nothing.
 * The overflow list belongs to the loop and stays. */
static void drop_list(loom_loop_t* loop, timer_list_t* list) {
  timer_list_t** link;

  if (list == &loop->timer_overflow)
    return;
  link = &loop->timer_lists[bucket_of(loop, list->duration)];
  while (*link != list)
    link = &(*link)->next;
  *link = list->next;
  loop->timer_lists_used--;
  if (loop->nspare_lists < MAX_SPARE_LISTS) {
    list->next = loop->spare_lists;
    loop->spare_lists = list;
    loop->nspare_lists++;
  } else {
    free(list);
  }
}


void loom__timers_init(loom_loop_t* loop) {
  loom__heap_init(&loop->timer_heap);
  loom__queue_init(&loop->timer_overflow.timers);
}


void loom__timers_free(loom_loop_t* loop) {
  timer_list_t* list;
  unsigned int i;

  for (i = 0; i < loop->timer_lists_size; i++) {
    while ((list = loop->timer_lists[i]) != NULL) {
      loop->timer_lists[i] = list->next;
      free(list);
    }
  }
  free(loop->timer_lists);
  loop->timer_lists = NULL;
  loop->timer_lists_size = 0;
  loop->timer_lists_used = 0;
  while ((list = loop->spare_lists) != NULL) {
    loop->spare_lists = list->next;
    free(list);
  }
  loop->nspare_lists = 0;
}


/* Takes a waiting timer out of its list, keeping the heap in order. */
static void unlink_timer(loom_loop_t* loop, loom_timer_t* t) {
  timer_list_t* list;

  if (!(t->flags & TIMER_HEAD)) {
    loom__queue_remove(&t->node);
    return;
  }
  list = loom__queue_data(t->node.prev, timer_list_t, timers);
  t->flags &= ~TIMER_HEAD;
  loom__queue_remove(&t->node);
  if (loom__queue_empty(&list->timers)) {
    loom__heap_remove(&loop->timer_heap, &list->heap_node, list_less);
    drop_list(loop, list);
    return;
  }
  /* The next timer of a list is due no earlier and was started later (and
   * the overflow list is sorted): the list's key only grows. */
  first_timer(list)->flags |= TIMER_HEAD;
  loom__heap_key_increased(&loop->timer_heap, &list->heap_node, list_less);
}


/* Puts t into the overflow list after every timer due before it (or due
 * with it and started earlier, which is all of those: t's start id is the
 * newest). Walks from the tail, where most timers go. */
static void insert_overflow(loom_loop_t* loop, loom_timer_t* t) {
  timer_list_t* list = &loop->timer_overflow;
  loom_queue_t* pos = list->timers.prev;
  loom_timer_t* head;

  while (pos != &list->timers &&
         loom__queue_data(pos, loom_timer_t, node)->timeout > t->timeout)
    pos = pos->prev;
  /* Inserting before pos->next puts t right after pos. */
  if (pos != &list->timers) {
    loom__queue_insert_tail(pos->next, &t->node);
    return;
  }
  /* t becomes the first timer: the heap's key for the list changes. */
  if (!loom__queue_empty(&list->timers)) {
    head = first_timer(list);
    loom__heap_remove(&loop->timer_heap, &list->heap_node, list_less);
    head->flags &= ~TIMER_HEAD;
  }
  loom__queue_insert_tail(list->timers.next, &t->node);
  t->flags |= TIMER_HEAD;
  loom__heap_insert(&loop->timer_heap, &list->heap_node, list_less);
}


int loom_timer_init(loom_loop_t* loop, loom_timer_t* t) {
  loom__handle_init(loop, (loom_handle_t*) t, LOOM_TIMER);
  t->cb = NULL;
  loom__queue_init(&t->node);
  t->timeout = 0;
  t->repeat = 0;
  t->start_id = 0;
  return 0;
}


int loom_timer_stop(loom_timer_t* t) {
  if (!loom__is_active((loom_handle_t*) t))
    return 0;
  unlink_timer(t->loop, t);
  loom__handle_stop((loom_handle_t*) t);
  return 0;
}


int loom_timer_start(loom_timer_t* t, loom_timer_cb cb, uint64_t timeout,
                     uint64_t repeat) {
  loom_loop_t* loop = t->loop;
  timer_list_t* list;
  uint64_t due;

  if (cb == NULL || loom__is_closing((loom_handle_t*) t))
    return LOOM_EINVAL;
  loom_timer_stop(t);

  /* Clamp instead of wrapping: a timeout too large to represent means
   * "never", not "in the past". */
  due = loop->time + timeout;
  if (due < timeout)
    due = UINT64_MAX;

  t->cb = cb;
  t->timeout = due;
  t->repeat = repeat;
  t->start_id = loop->timer_counter++;
  list = list_for(loop, timeout);
  if (list == NULL) {
    insert_overflow(loop, t);
  } else if (loom__queue_empty(&list->timers)) {
    loom__queue_insert_tail(&list->timers, &t->node);
    t->flags |= TIMER_HEAD;
    loom__heap_insert(&loop->timer_heap, &list->heap_node, list_less);
  } else {
    loom__queue_insert_tail(&list->timers, &t->node);
  }
  loom__handle_start((loom_handle_t*) t);
  return 0;
}


int loom_timer_again(loom_timer_t* t) {
  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) t))
    return LOOM_EINVAL;
  if (t->cb == NULL)
    return LOOM_EINVAL;
  if (t->repeat != 0)
    return loom_timer_start(t, t->cb, t->repeat, t->repeat);
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
  t = first_timer((const timer_list_t*) node);
  if (t->timeout <= loop->time)
    return 0;
  diff = t->timeout - loop->time;
  return diff > INT_MAX ? INT_MAX : (int) diff;
}


void loom__run_timers(loom_loop_t* loop) {
  uint64_t snapshot = loop->timer_counter;
  loom_heap_node_t* node;
  loom_timer_t* t;

  /* Fires, in (due, start) order, the timers that were due and started
   * before this phase began. The start-id bound is the snapshot: a timer
   * (re)started by a callback in this phase has a newer id and waits for
   * the next pass even with timeout 0, and since every timer eligible now
   * sorts before every such timer, the first ineligible one ends the
   * phase. A callback may stop, restart or close any timer; those not
   * yet fired are simply no longer in their lists. Taking timers out one
   * at a time, right before their callback, touches each timer's memory
   * once (a separate ready list cost a second cache miss per timer). */
  for (;;) {
    node = loom__heap_min(&loop->timer_heap);
    if (node == NULL)
      break;
    t = first_timer((timer_list_t*) node);
    if (t->timeout > loop->time || t->start_id >= snapshot)
      break;
    /* The list's next timer is most often the next to fire: its memory
     * is fetched while this callback runs (a million scattered timers
     * otherwise cost one stalled cache miss each). */
    LOOM__PREFETCH(t->node.next);
    LOOM__PREFETCH(loom__queue_data(t->node.next, loom_timer_t, node));
    unlink_timer(loop, t);
    loom__handle_stop((loom_handle_t*) t);
    if (t->repeat != 0)
      loom_timer_start(t, t->cb, t->repeat, t->repeat);
    t->cb(t);
  }
}
