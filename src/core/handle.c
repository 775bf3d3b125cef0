/* SPDX-License-Identifier: MIT */
/* handle.c: what every handle shares: active/ref accounting, close and the
 * closing phase, walking and printing. */
#include "internal.h"

#include <stdlib.h>


static const char* const type_names[LOOM_HANDLE_TYPE_MAX] = {
  [LOOM_UNKNOWN_HANDLE] = "unknown",
  [LOOM_ASYNC] = "async",
  [LOOM_CHECK] = "check",
  [LOOM_FS_EVENT] = "fs_event",
  [LOOM_FS_POLL] = "fs_poll",
  [LOOM_HANDLE] = "handle",
  [LOOM_IDLE] = "idle",
  [LOOM_NAMED_PIPE] = "pipe",
  [LOOM_POLL] = "poll",
  [LOOM_PREPARE] = "prepare",
  [LOOM_PROCESS] = "process",
  [LOOM_STREAM] = "stream",
  [LOOM_TCP] = "tcp",
  [LOOM_TIMER] = "timer",
  [LOOM_TTY] = "tty",
  [LOOM_UDP] = "udp",
  [LOOM_SIGNAL] = "signal",
  [LOOM_FILE] = "file",
};


const char* loom_handle_type_name(loom_handle_type type) {
  if ((int) type < 0 || type >= LOOM_HANDLE_TYPE_MAX)
    return NULL;
  return type_names[type];
}


void loom__handle_init(loom_loop_t* loop, loom_handle_t* h,
                       loom_handle_type type) {
  h->loop = loop;
  h->type = type;
  h->flags = LOOM__HANDLE_REF;
  h->close_cb = NULL;
  h->next_closing = NULL;
  loom__queue_insert_tail(&loop->handle_queue, &h->handle_queue);
}


void loom__handle_start(loom_handle_t* h) {
  if (h->flags & LOOM__HANDLE_ACTIVE)
    return;
  h->flags |= LOOM__HANDLE_ACTIVE;
  if (h->flags & LOOM__HANDLE_REF)
    h->loop->active_handles++;
}


void loom__handle_stop(loom_handle_t* h) {
  if (!(h->flags & LOOM__HANDLE_ACTIVE))
    return;
  h->flags &= ~LOOM__HANDLE_ACTIVE;
  if (h->flags & LOOM__HANDLE_REF)
    h->loop->active_handles--;
}


void loom_ref(loom_handle_t* h) {
  if (h->flags & LOOM__HANDLE_REF)
    return;
  h->flags |= LOOM__HANDLE_REF;
  if (h->flags & LOOM__HANDLE_ACTIVE)
    h->loop->active_handles++;
}


void loom_unref(loom_handle_t* h) {
  if (!(h->flags & LOOM__HANDLE_REF))
    return;
  h->flags &= ~LOOM__HANDLE_REF;
  if (h->flags & LOOM__HANDLE_ACTIVE)
    h->loop->active_handles--;
}


int loom_has_ref(const loom_handle_t* h) {
  return (h->flags & LOOM__HANDLE_REF) != 0;
}


int loom_is_active(const loom_handle_t* h) {
  return loom__is_active(h);
}


int loom_is_closing(const loom_handle_t* h) {
  return loom__is_closing(h);
}


int loom_is_closed(const loom_handle_t* h) {
  return (h->flags & LOOM__HANDLE_CLOSED) != 0;
}


/* Stops whatever the handle is doing. Shared by close and teardown. */
static void stop_by_type(loom_handle_t* h) {
  switch (h->type) {
    case LOOM_TIMER:
      loom__timer_close((loom_timer_t*) h);
      break;
    case LOOM_IDLE:
    case LOOM_PREPARE:
    case LOOM_CHECK:
      loom__watcher_close(h);
      break;
    case LOOM_ASYNC:
      loom__async_close((loom_async_t*) h);
      break;
    case LOOM_SIGNAL:
      loom__signal_close((loom_signal_t*) h);
      break;
    default:
      assert(0 && "close of an unknown handle type");
      break;
  }
}


void loom_close(loom_handle_t* h, loom_close_cb close_cb) {
  assert(!loom__is_closing(h));
  h->flags |= LOOM__HANDLE_CLOSING;
  h->close_cb = close_cb;
  stop_by_type(h);

  /* Closing is a phase: the callback runs late in a pass, never from
   * inside loom_close, so the caller's stack is never re-entered. */
  h->next_closing = NULL;
  if (h->loop->closing_tail != NULL)
    h->loop->closing_tail->next_closing = h;
  else
    h->loop->closing_head = h;
  h->loop->closing_tail = h;
}


/* Runs the close callbacks of the handles closed before this phase began;
 * handles closed by those callbacks wait for the next pass. */
int loom__run_closing_handles(loom_loop_t* loop) {
  loom_handle_t* h = loop->closing_head;
  loom_handle_t* next;
  int ran = 0;

  loop->closing_head = NULL;
  loop->closing_tail = NULL;
  for (; h != NULL; h = next) {
    next = h->next_closing;
    h->next_closing = NULL;
    assert(h->flags & LOOM__HANDLE_CLOSING);
    assert(!(h->flags & LOOM__HANDLE_ACTIVE));
    h->flags |= LOOM__HANDLE_CLOSED;
    loom__queue_remove(&h->handle_queue);
    ran = 1;
    if (h->close_cb != NULL)
      h->close_cb(h);
  }
  return ran;
}


/* Used by loom_loop_teardown: the handle leaves every loop structure and
 * no callback runs. */
void loom__handle_detach(loom_handle_t* h) {
  if (!loom__is_closing(h)) {
    h->flags |= LOOM__HANDLE_CLOSING;
    stop_by_type(h);
  }
  h->flags |= LOOM__HANDLE_CLOSED;
  h->next_closing = NULL;
  loom__queue_remove(&h->handle_queue);
}


void loom_walk(loom_loop_t* loop, loom_walk_cb cb, void* arg) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  loom_handle_t* h;

  /* Each visited handle goes back to the loop's list before its callback,
   * so a callback may close it, and handles created meanwhile (appended
   * to the loop's list) are not visited. */
  loom__queue_move(&loop->handle_queue, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    loom__queue_remove(q);
    loom__queue_insert_tail(&loop->handle_queue, q);
    if (!(h->flags & LOOM__HANDLE_INTERNAL))
      cb(h, arg);
  }
}


void loom_print_handles(loom_loop_t* loop, int only_active, FILE* stream) {
  loom_queue_t* q;
  loom_handle_t* h;

  if (stream == NULL)
    stream = stderr;
  for (q = loop->handle_queue.next; q != &loop->handle_queue; q = q->next) {
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    if (only_active && !loom__is_active(h))
      continue;
    fprintf(stream, "[%c%c%c] %-8s %p\n",
            "R-"[!(h->flags & LOOM__HANDLE_REF)],
            "A-"[!(h->flags & LOOM__HANDLE_ACTIVE)],
            "I-"[!(h->flags & LOOM__HANDLE_INTERNAL)],
            loom_handle_type_name(h->type), (void*) h);
  }
}
