/* SPDX-License-Identifier: MIT */
/* async.c: the loop's eventfd wake-up and async handles.
 *
 * One eventfd per loop carries every wake-up from outside the loop thread:
 * async sends, caught signals and thread-pool completions. Each
 * source first records what happened in memory it owns (an atomic flag or
 * counter), then writes the eventfd; the loop reads the eventfd and then
 * looks at every source, so no wake-up is ever lost or needs a queue.
 */
#include "internal.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>


void loom__wakeup_io(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  uint64_t count;
  ssize_t r;

  /* Drain before dispatching: a send that lands after the read sets its
   * flag and writes again, so it is seen on this pass or the next. Fed
   * to the pending phase (work the loop thread finished itself), there is
   * nothing to drain. */
  if (!(events & LOOM__IO_PENDING)) {
    do
      r = read(w->fd, &count, sizeof(count));
    while (r < 0 && errno == EINTR);
  }

  loom__signal_dispatch(loop);
  loom__work_dispatch(loop);
  loom__async_dispatch(loop);
}


int loom__wakeup_init(loom_loop_t* loop) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return LOOM__ERR(errno);
  loop->wakeup_fd = fd;
  loom__io_init(&loop->wakeup_watcher, LOOM__IO_WAKEUP, fd);
  return loom__io_start(loop, &loop->wakeup_watcher, POLLIN);
}


void loom__wakeup_close(loom_loop_t* loop) {
  if (loop->wakeup_fd < 0)
    return;
  loom__io_close(loop, &loop->wakeup_watcher);
  close(loop->wakeup_fd);
  loop->wakeup_fd = -1;
}


/* Async-signal-safe and thread-safe: a single write(2). */
void loom__wakeup(loom_loop_t* loop) {
  uint64_t one = 1;
  ssize_t r;
  int saved = errno;

  do
    r = write(loop->wakeup_fd, &one, sizeof(one));
  while (r < 0 && errno == EINTR);
  /* EAGAIN means the counter is saturated: a wake-up is pending anyway. */
  errno = saved;
}


int loom_async_init(loom_loop_t* loop, loom_async_t* a, loom_async_cb cb) {
  loom__handle_init(loop, (loom_handle_t*) a, LOOM_ASYNC);
  a->cb = cb;
  a->pending = 0;
  loom__queue_insert_tail(&loop->async_handles, &a->async_queue);
  loom__handle_start((loom_handle_t*) a);
  return 0;
}


int loom_async_send(loom_async_t* a) {
  /* Only the send that raises the flag writes the eventfd; the others
   * coalesce into the callback that flag will trigger. */
  if (__atomic_exchange_n(&a->pending, 1, __ATOMIC_SEQ_CST) == 0)
    loom__wakeup(a->loop);
  return 0;
}


void loom__async_close(loom_async_t* a) {
  loom__queue_remove(&a->async_queue);
  loom__handle_stop((loom_handle_t*) a);
}


void loom__async_dispatch(loom_loop_t* loop) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  loom_async_t* a;

  loom__queue_move(&loop->async_handles, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    a = loom__queue_data(q, loom_async_t, async_queue);
    loom__queue_remove(q);
    loom__queue_insert_tail(&loop->async_handles, q);
    if (__atomic_exchange_n(&a->pending, 0, __ATOMIC_SEQ_CST) == 0)
      continue;
    if (a->cb != NULL)
      a->cb(a);
  }
}
