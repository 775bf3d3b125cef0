/* SPDX-License-Identifier: MIT */
/* io.c: I/O watchers, the fd-indexed watcher table and the pending phase.
 *
 * A watcher only records which events it wants; the poller brings the
 * kernel up to date in one batch before it waits, and only for watchers
 * whose wish really changed. Turning reading off and on again between two
 * waits costs no system call at all.
 */
#include "internal.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>


void loom__io_init(loom__io_t* w, loom__io_cb cb, int fd) {
  w->cb = cb;
  w->fd = fd;
  w->pevents = 0;
  w->events = 0;
  loom__queue_init(&w->change_queue);
  loom__queue_init(&w->pending_queue);
}


static int grow_table(loom_loop_t* loop, int fd) {
  unsigned int size = loop->nwatchers ? loop->nwatchers : 64;
  loom__io_t** table;

  if ((unsigned int) fd < loop->nwatchers)
    return 0;
  while (size <= (unsigned int) fd)
    size *= 2;
  table = realloc(loop->watchers, size * sizeof(*table));
  if (table == NULL)
    return LOOM_ENOMEM;
  memset(table + loop->nwatchers, 0,
         (size - loop->nwatchers) * sizeof(*table));
  loop->watchers = table;
  loop->nwatchers = size;
  return 0;
}


static void note_change(loom_loop_t* loop, loom__io_t* w) {
  if (w->pevents != w->events && loom__queue_empty(&w->change_queue))
    loom__queue_insert_tail(&loop->watcher_queue, &w->change_queue);
}


int loom__io_start(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  int err;

  assert(w->fd >= 0);
  err = grow_table(loop, w->fd);
  if (err != 0)
    return err;
  if (loop->watchers[w->fd] == NULL) {
    loop->watchers[w->fd] = w;
    loop->nfds++;
  }
  assert(loop->watchers[w->fd] == w);
  w->pevents |= events;
  note_change(loop, w);
  return 0;
}


void loom__io_stop(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  w->pevents &= ~events;
  note_change(loop, w);
}


/* Must be called before the fd is closed: the kernel forgets it now, and
 * events already fetched for it in the current batch are dropped. */
void loom__io_close(loom_loop_t* loop, loom__io_t* w) {
  loom__queue_remove(&w->change_queue);
  loom__queue_remove(&w->pending_queue);
  w->pevents = 0;
  if (w->fd >= 0 && (unsigned int) w->fd < loop->nwatchers &&
      loop->watchers[w->fd] == w) {
    loop->watchers[w->fd] = NULL;
    loop->nfds--;
    loom__poller_forget(loop, w);
    loom__poller_invalidate_fd(loop, w->fd);
  }
  w->events = 0;
}


void loom__io_feed(loom_loop_t* loop, loom__io_t* w) {
  if (loom__queue_empty(&w->pending_queue))
    loom__queue_insert_tail(&loop->pending_queue, &w->pending_queue);
}


/* The pending phase: completions deferred from the last pass (a write that
 * finished at once still reports asynchronously). Watchers fed while this
 * runs wait for the next pass. */
int loom__run_pending(loom_loop_t* loop) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  loom__io_t* w;

  if (loom__queue_empty(&loop->pending_queue))
    return 0;
  loom__queue_move(&loop->pending_queue, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    loom__queue_remove(q);
    w = loom__queue_data(q, loom__io_t, pending_queue);
    w->cb(loop, w, LOOM__IO_PENDING);
  }
  return 1;
}
