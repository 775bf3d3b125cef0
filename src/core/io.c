/* SPDX-License-Identifier: MIT */
/* io.c: I/O watchers, the fd-indexed watcher table, the change list and
 * the pending phase.
 *
 * A watcher only records which events it wants; the poller brings the
 * kernel up to date in one batch before it waits, and only for watchers
 * whose wish really changed. Turning reading off and on again between two
 * waits costs no system call at all.
 *
 * Every connection embeds a watcher, so the watcher holds no list links
 * of its own but one: the change list is an array of fds owned by the
 * loop (a table entry's low bit says its fd is listed), and the pending
 * list is singly linked through the watchers. A watcher closed while it
 * is in the pending list is only marked; the list drops it in the pending
 * phase or, at the latest, when the closing phase begins, which is before
 * any handle's memory can be given back.
 */
#include "internal.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Watcher states. */
#define FED 1u    /* in the loop's pending list */
#define CLOSED 2u /* closed while in the pending list */

/* The table entry's mark for an fd in the change list. */
#define LISTED ((uintptr_t) 1)

/* Packed events: POLLIN, POLLPRI and POLLOUT keep their bits (1, 2, 4);
 * POLLRDHUP takes bit 3, which POLLERR has and nobody asks for. */
#define PACKED_RDHUP 8u

_Static_assert(POLLIN == 1 && POLLPRI == 2 && POLLOUT == 4,
               "packed events assume the usual POLL* bits");
_Static_assert(_Alignof(loom__io_t) >= 2, "the table's low bit is free");


static uint8_t pack(unsigned int events) {
  return (uint8_t) ((events & (POLLIN | POLLPRI | POLLOUT)) |
                    ((events & POLLRDHUP) ? PACKED_RDHUP : 0));
}


static unsigned int unpack(uint8_t packed) {
  return (packed & (POLLIN | POLLPRI | POLLOUT)) |
         ((packed & PACKED_RDHUP) ? POLLRDHUP : 0);
}


void loom__io_init(loom__io_t* w, loom__io_kind kind, int fd) {
  w->pending_next = NULL;
  w->fd = fd;
  w->pevents = 0;
  w->events = 0;
  w->kind = (uint8_t) kind;
  w->state = 0;
}


void loom__io_dispatch(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  switch ((loom__io_kind) w->kind) {
    case LOOM__IO_STREAM:
      loom__stream_io(loop, w, events);
      break;
    case LOOM__IO_UDP:
      loom__udp_io(loop, w, events);
      break;
    case LOOM__IO_WAKEUP:
      loom__wakeup_io(loop, w, events);
      break;
    case LOOM__IO_POLL:
      loom__poll_io(loop, w, events);
      break;
    case LOOM__IO_INOTIFY:
      loom__inotify_io(loop, w, events);
      break;
    case LOOM__IO_DNS:
      loom__dns_io(loop, w, events);
      break;
  }
}


unsigned int loom__io_wanted(const loom__io_t* w) {
  return unpack(w->pevents);
}


void loom__io_registered_now(loom__io_t* w) {
  w->events = w->pevents;
}


loom__io_t* loom__io_at(const loom_loop_t* loop, int fd) {
  if (fd < 0 || (unsigned int) fd >= loop->nwatchers)
    return NULL;
  return (loom__io_t*) (loop->watchers[fd] & ~LISTED);
}


static int grow_table(loom_loop_t* loop, int fd) {
  unsigned int size = loop->nwatchers ? loop->nwatchers : 64;
  uintptr_t* table;

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


/* Lists w's fd as changed unless it is already listed. Fails only when
 * the list cannot grow. */
static int note_change(loom_loop_t* loop, loom__io_t* w) {
  unsigned int cap;
  int* changes;

  if (w->pevents == w->events || (loop->watchers[w->fd] & LISTED))
    return 0;
  if (loop->nchanges == loop->changes_cap) {
    cap = loop->changes_cap ? loop->changes_cap * 2 : 64;
    changes = realloc(loop->changes, cap * sizeof(*changes));
    if (changes == NULL)
      return LOOM_ENOMEM;
    loop->changes = changes;
    loop->changes_cap = cap;
  }
  loop->changes[loop->nchanges++] = w->fd;
  loop->watchers[w->fd] |= LISTED;
  return 0;
}


int loom__io_next_change(loom_loop_t* loop, loom__io_t** w) {
  int fd;

  if (loop->nchanges == 0)
    return -1;
  fd = loop->changes[--loop->nchanges];
  loop->watchers[fd] &= ~LISTED;
  *w = (loom__io_t*) loop->watchers[fd];
  return fd;
}


int loom__io_start(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  uint8_t before = w->pevents;
  int err;

  assert(w->fd >= 0);
  err = grow_table(loop, w->fd);
  if (err != 0)
    return err;
  if (loom__io_at(loop, w->fd) == NULL) {
    loop->watchers[w->fd] |= (uintptr_t) w;
    loop->nfds++;
  }
  assert(loom__io_at(loop, w->fd) == w);
  w->pevents |= pack(events);
  err = note_change(loop, w);
  if (err != 0)
    w->pevents = before;
  return err;
}


void loom__io_stop(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  w->pevents &= (uint8_t) ~pack(events);
  if (w->fd < 0 || loom__io_at(loop, w->fd) != w)
    return;
  /* Without room in the change list, tell the kernel now: fewer events
   * never need more memory. */
  if (note_change(loop, w) != 0)
    loom__poller_update(loop, w);
}


/* Must be called before the fd is closed: the kernel forgets it now, and
 * events already fetched for it in the current batch are dropped. */
void loom__io_close(loom_loop_t* loop, loom__io_t* w) {
  if ((w->state & (FED | CLOSED)) == FED) {
    w->state |= CLOSED;
    loop->pending_dead++;
  }
  w->pevents = 0;
  if (loom__io_at(loop, w->fd) == w) {
    /* The fd may stay in the change list; with no watcher it is skipped. */
    loop->watchers[w->fd] &= LISTED;
    loop->nfds--;
    loom__poller_forget(loop, w);
    loom__poller_invalidate_fd(loop, w->fd);
  }
  w->events = 0;
}


void loom__io_feed(loom_loop_t* loop, loom__io_t* w) {
  if (w->state & FED)
    return;
  w->state = FED;
  w->pending_next = NULL;
  if (loop->pending_tail != NULL)
    loop->pending_tail->pending_next = w;
  else
    loop->pending_head = w;
  loop->pending_tail = w;
}


int loom__io_pending(const loom_loop_t* loop) {
  return loop->pending_head != NULL;
}


void loom__io_purge_closed(loom_loop_t* loop) {
  loom__io_t** link = &loop->pending_head;
  loom__io_t* w;

  if (loop->pending_dead == 0)
    return;
  loop->pending_tail = NULL;
  while ((w = *link) != NULL) {
    if (w->state & CLOSED) {
      *link = w->pending_next;
      w->state = 0;
      continue;
    }
    loop->pending_tail = w;
    link = &w->pending_next;
  }
  loop->pending_dead = 0;
}


/* The pending phase: completions deferred from the last pass (a write that
 * finished at once still reports asynchronously). Watchers fed while this
 * runs wait for the next pass. */
int loom__run_pending(loom_loop_t* loop) {
  loom__io_t* w = loop->pending_head;
  loom__io_t* next;

  if (w == NULL)
    return 0;
  loop->pending_head = NULL;
  loop->pending_tail = NULL;
  for (; w != NULL; w = next) {
    next = w->pending_next;
    if (w->state & CLOSED) {
      w->state = 0;
      loop->pending_dead--;
      continue;
    }
    w->state = 0;
    loom__io_dispatch(loop, w, LOOM__IO_PENDING);
  }
  return 1;
}


void loom__io_loop_free(loom_loop_t* loop) {
  free(loop->watchers);
  free(loop->changes);
  loop->watchers = NULL;
  loop->changes = NULL;
}
