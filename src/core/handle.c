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
    case LOOM_TCP:
    case LOOM_TTY:
      loom__stream_close((loom_stream_t*) h);
      break;
    case LOOM_NAMED_PIPE:
      loom__pipe_close((loom_pipe_t*) h);
      break;
    case LOOM_UDP:
      loom__udp_close((loom_udp_t*) h);
      break;
    case LOOM_POLL:
      loom__poll_close((loom_poll_t*) h);
      break;
    case LOOM_PROCESS:
      loom__process_close((loom_process_t*) h);
      break;
    case LOOM_FS_EVENT:
      loom__fs_event_close((loom_fs_event_t*) h);
      break;
    case LOOM_FS_POLL:
      loom__fs_poll_close((loom_fs_poll_t*) h);
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
   * inside loom_close, so the caller's stack is never re-entered. Until
   * then the handle waits in the closing queue (walk still sees it). */
  loom__queue_remove(&h->handle_queue);
  loom__queue_insert_tail(&h->loop->closing_queue, &h->handle_queue);
  h->loop->nclosing++;
}


/* Requests the handle still owned are reported (cancelled) before its
 * close callback, so the close callback is always the last word. */
static void finish_by_type(loom_handle_t* h) {
  switch (h->type) {
    case LOOM_TCP:
    case LOOM_TTY:
    case LOOM_NAMED_PIPE:
      loom__stream_finish_close((loom_stream_t*) h);
      break;
    case LOOM_UDP:
      loom__udp_finish_close((loom_udp_t*) h);
      break;
    default:
      break;
  }
}


/* Runs the close callbacks of the handles closed before this phase began;
 * handles closed by those callbacks wait for the next pass. The batch is
 * counted, not moved aside: it stays at the front of the closing queue,
 * so a state closed from one of its callbacks (os.exit) still finds the
 * rest there at teardown. */
int loom__run_closing_handles(loom_loop_t* loop) {
  loom_queue_t* q;
  loom_handle_t* h;
  size_t batch = loop->nclosing;

  if (batch == 0)
    return 0;
  /* Close callbacks may free the handles: none may stay in the pending
   * list. Handles closed from here on are freed a phase later. */
  loom__io_purge_closed(loop);
  while (batch-- > 0 && !loom__queue_empty(&loop->closing_queue)) {
    q = loom__queue_head(&loop->closing_queue);
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    /* The next handle's memory is fetched while this one's close
     * callback runs: a batch of a million closes is otherwise one
     * stalled cache miss per handle. */
    LOOM__PREFETCH(q->next);
    LOOM__PREFETCH(loom__queue_data(q->next, loom_handle_t, handle_queue));
    loom__queue_remove(q);
    loop->nclosing--;
    assert(h->flags & LOOM__HANDLE_CLOSING);
    assert(!(h->flags & LOOM__HANDLE_ACTIVE));
    finish_by_type(h);
    h->flags |= LOOM__HANDLE_CLOSED;
    if (h->close_cb != NULL)
      h->close_cb(h);
  }
  return 1;
}


/* Used by loom_loop_teardown: the handle leaves every loop structure and
 * no callback runs. */
void loom__handle_detach(loom_handle_t* h) {
  if (!loom__is_closing(h)) {
    h->flags |= LOOM__HANDLE_CLOSING;
    stop_by_type(h);
  } else if (!(h->flags & LOOM__HANDLE_CLOSED)) {
    h->loop->nclosing--; /* it leaves the closing queue */
  }
  if (h->type == LOOM_UDP)
    loom__udp_detach((loom_udp_t*) h);
  h->flags |= LOOM__HANDLE_CLOSED;
  loom__queue_remove(&h->handle_queue);
}


/* The open handles one loom_walk has yet to visit, on its stack. */
typedef struct {
  loom_queue_t unvisited;
  loom_queue_t node; /* in loop->walks */
} walk_t;


/* Visits the open handles, then the closing ones. An open handle goes
 * back to the loop's list before its callback (closing it then moves it
 * on, as usual); handles created meanwhile are not visited. The closing
 * handles are those that were closing when the walk began: they are
 * counted first and stay at the front of the closing queue, because only
 * the close phase takes handles out of it. */
void loom_walk(loom_loop_t* loop, loom_walk_cb cb, void* arg) {
  walk_t walk;
  loom_queue_t* q;
  loom_handle_t* h;
  size_t closing = loop->nclosing;

  loom__queue_move(&loop->handle_queue, &walk.unvisited);
  loom__queue_insert_tail(&loop->walks, &walk.node);
  while (!loom__queue_empty(&walk.unvisited)) {
    q = loom__queue_head(&walk.unvisited);
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    loom__queue_remove(q);
    loom__queue_insert_tail(&loop->handle_queue, q);
    if (!(h->flags & LOOM__HANDLE_INTERNAL))
      cb(h, arg);
  }
  loom__queue_remove(&walk.node);
  for (q = loop->closing_queue.next; closing-- > 0; q = q->next) {
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    if (!(h->flags & LOOM__HANDLE_INTERNAL))
      cb(h, arg);
  }
}


/* Teardown from inside a walk callback: the handles those walks had yet
 * to visit are detached like the rest. */
void loom__walk_teardown(loom_loop_t* loop) {
  walk_t* walk;
  loom_queue_t* q;

  while (!loom__queue_empty(&loop->walks)) {
    walk = loom__queue_data(loom__queue_head(&loop->walks), walk_t, node);
    while (!loom__queue_empty(&walk->unvisited)) {
      q = loom__queue_head(&walk->unvisited);
      loom__handle_detach(loom__queue_data(q, loom_handle_t, handle_queue));
    }
    loom__queue_remove(&walk->node);
  }
}


void loom_print_handles(loom_loop_t* loop, int only_active, FILE* stream) {
  loom_queue_t* q;
  loom_handle_t* h;

  loom_queue_t* lists[2];
  int i;

  if (stream == NULL)
    stream = stderr;
  lists[0] = &loop->handle_queue;
  lists[1] = &loop->closing_queue;
  for (i = 0; i < 2; i++) {
    for (q = lists[i]->next; q != lists[i]; q = q->next) {
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
}
