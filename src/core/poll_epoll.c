/* SPDX-License-Identifier: MIT */
/* poll_epoll.c: the Linux poller. The only file that includes epoll; a
 * kqueue or io_uring backend would be another file with these functions. */
#include "internal.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events fetched per epoll_wait. A full batch means more are waiting; they
 * are taken on the next pass, so one wait never dispatches without bound. */
#define BATCH_SIZE 1024


int loom__poller_init(loom_loop_t* loop) {
  loop->backend_fd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->backend_fd < 0)
    return LOOM__ERR(errno);
  return 0;
}


void loom__poller_close(loom_loop_t* loop) {
  if (loop->backend_fd >= 0)
    close(loop->backend_fd);
  loop->backend_fd = -1;
}


static uint32_t to_epoll(unsigned int events) {
  uint32_t e = 0;
  if (events & POLLIN) e |= EPOLLIN;
  if (events & POLLOUT) e |= EPOLLOUT;
  if (events & POLLPRI) e |= EPOLLPRI;
  if (events & POLLRDHUP) e |= EPOLLRDHUP;
  return e;
}


static unsigned int from_epoll(uint32_t e) {
  unsigned int events = 0;
  if (e & EPOLLIN) events |= POLLIN;
  if (e & EPOLLOUT) events |= POLLOUT;
  if (e & EPOLLPRI) events |= POLLPRI;
  if (e & EPOLLRDHUP) events |= POLLRDHUP;
  if (e & EPOLLERR) events |= POLLERR;
  if (e & EPOLLHUP) events |= POLLHUP;
  return events;
}


void loom__poller_forget(loom_loop_t* loop, loom__io_t* w) {
  struct epoll_event dummy = {0};
  if (w->events != 0)
    epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, w->fd, &dummy);
}


void loom__poller_invalidate_fd(loom_loop_t* loop, int fd) {
  struct epoll_event* batch = loop->poll_batch;
  int i;

  for (i = 0; batch != NULL && i < loop->poll_batch_len; i++)
    if (batch[i].data.fd == fd)
      batch[i].data.fd = -1;
}


/* Tells the kernel w's wish. Returns 0 or the epoll_ctl error. */
static int update(loom_loop_t* loop, loom__io_t* w) {
  struct epoll_event ev;
  unsigned int wanted = loom__io_wanted(w);
  int op;

  if (w->pevents == w->events)
    return 0;
  if (w->events == 0)
    op = EPOLL_CTL_ADD;
  else if (w->pevents == 0)
    op = EPOLL_CTL_DEL;
  else
    op = EPOLL_CTL_MOD;
  ev.events = to_epoll(wanted);
  ev.data.u64 = 0;
  ev.data.fd = w->fd;
  if (epoll_ctl(loop->backend_fd, op, w->fd, &ev) != 0) {
    if (op == EPOLL_CTL_ADD && errno == EEXIST &&
        epoll_ctl(loop->backend_fd, EPOLL_CTL_MOD, w->fd, &ev) == 0) {
      loom__io_registered_now(w);
      return 0;
    }
    if (op != EPOLL_CTL_DEL) {
      w->events = 0;
      return LOOM__ERR(errno);
    }
  }
  loom__io_registered_now(w);
  return 0;
}


void loom__poller_update(loom_loop_t* loop, loom__io_t* w) {
  update(loop, w);
}


/* Brings the kernel's interest sets up to date in one batch. */
static void apply_changes(loom_loop_t* loop) {
  loom__io_t* w;

  while (loom__io_next_change(loop, &w) >= 0) {
    if (w == NULL)
      continue; /* its watcher was closed after the change */
    /* The fd cannot be watched (a regular file, or already closed): tell
     * its owner through an error event instead of failing later. */
    if (update(loop, w) != 0)
      loom__io_dispatch(loop, w, POLLERR);
  }
}


void loom__poll(loom_loop_t* loop, int timeout) {
  struct epoll_event batch[BATCH_SIZE];
  sigset_t mask;
  uint64_t before = 0;
  loom__io_t* w;
  unsigned int events;
  int n;
  int i;
  int fd;

  apply_changes(loop);
  if (loop->nfds == 0 && timeout == 0)
    return;

  if (loop->idle_metrics && timeout != 0)
    before = loom_hrtime();
  if (loop->block_sigprof) {
    sigemptyset(&mask);
    sigaddset(&mask, SIGPROF);
    n = epoll_pwait(loop->backend_fd, batch, BATCH_SIZE, timeout, &mask);
  } else {
    n = epoll_wait(loop->backend_fd, batch, BATCH_SIZE, timeout);
  }
  if (loop->idle_metrics && timeout != 0)
    loop->idle_time += loom_hrtime() - before;

  if (n <= 0)
    return; /* timeout, or EINTR: the loop simply goes round again */

  loop->metrics.events_waiting = (uint64_t) n;
  loop->poll_batch = batch;
  loop->poll_batch_len = n;
  for (i = 0; i < n; i++) {
    fd = batch[i].data.fd;
    if (fd < 0)
      continue; /* invalidated by an earlier callback in this batch */
    w = loom__io_at(loop, fd);
    if (w == NULL) {
      /* Registered but no longer watched: forget it in the kernel. */
      struct epoll_event dummy = {0};
      epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, fd, &dummy);
      continue;
    }
    events = from_epoll(batch[i].events) &
             (loom__io_wanted(w) | POLLERR | POLLHUP);
    if (events == 0)
      continue;
    loop->metrics.events++;
    loom__io_dispatch(loop, w, events);
  }
  loop->poll_batch = NULL;
  loop->poll_batch_len = 0;
}
