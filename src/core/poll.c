/* SPDX-License-Identifier: MIT */
/* poll.c: poll handles: readiness of any descriptor the user owns (a
 * socket from another library, a device), reported without doing I/O. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>



int loom_poll_init(loom_loop_t* loop, loom_poll_t* p, int fd) {
  struct stat st;
  int err;

  if (fd < 0)
    return LOOM_EBADF;
  if (fstat(fd, &st) != 0)
    return LOOM__ERR(errno);
  /* epoll cannot watch regular files or directories: they are always
   * ready, and the kernel refuses them. */
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
    return LOOM_EPERM;
  if (loom__io_at(loop, fd) != NULL)
    return LOOM_EEXIST;
  err = loom__nonblock(fd, 1);
  if (err != 0)
    return err;
  loom__handle_init(loop, (loom_handle_t*) p, LOOM_POLL);
  p->poll_cb = NULL;
  loom__io_init(&p->io, LOOM__IO_POLL, fd);
  return 0;
}


int loom_poll_start(loom_poll_t* p, int events, loom_poll_cb cb) {
  unsigned int want = 0;
  int err;

  if (cb == NULL || loom__is_closing((loom_handle_t*) p))
    return LOOM_EINVAL;
  if (events & ~(LOOM_POLL_READABLE | LOOM_POLL_WRITABLE |
                 LOOM_POLL_DISCONNECT | LOOM_POLL_PRIORITIZED))
    return LOOM_EINVAL;
  if (events & LOOM_POLL_READABLE) want |= POLLIN;
  if (events & LOOM_POLL_WRITABLE) want |= POLLOUT;
  if (events & LOOM_POLL_DISCONNECT) want |= POLLRDHUP;
  if (events & LOOM_POLL_PRIORITIZED) want |= POLLPRI;
  loom__io_stop(p->loop, &p->io, POLLIN | POLLOUT | POLLRDHUP | POLLPRI);
  p->poll_cb = cb;
  if (want == 0) {
    loom__handle_stop((loom_handle_t*) p);
    return 0;
  }
  err = loom__io_start(p->loop, &p->io, want);
  if (err != 0)
    return err;
  loom__handle_start((loom_handle_t*) p);
  return 0;
}


int loom_poll_stop(loom_poll_t* p) {
  loom__io_stop(p->loop, &p->io, POLLIN | POLLOUT | POLLRDHUP | POLLPRI);
  loom__handle_stop((loom_handle_t*) p);
  return 0;
}


void loom__poll_io(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  loom_poll_t* p = loom__queue_data(w, loom_poll_t, io);
  int pevents = 0;
  (void) loop;

  if (events & LOOM__IO_PENDING)
    return;
  /* The descriptor went bad (closed under us): stop, and say so once. */
  if ((events & POLLERR) && !(events & (POLLIN | POLLOUT | POLLHUP))) {
    loom_poll_stop(p);
    p->poll_cb(p, LOOM_EBADF, 0);
    return;
  }
  if (events & (POLLIN | POLLHUP | POLLERR)) pevents |= LOOM_POLL_READABLE;
  if (events & POLLOUT) pevents |= LOOM_POLL_WRITABLE;
  if (events & (POLLRDHUP | POLLHUP)) pevents |= LOOM_POLL_DISCONNECT;
  if (events & POLLPRI) pevents |= LOOM_POLL_PRIORITIZED;
  /* Report only what was asked for (HUP is implied by readable). */
  {
    unsigned int wanted = loom__io_wanted(w);
    int asked = 0;
    if (wanted & POLLIN) asked |= LOOM_POLL_READABLE;
    if (wanted & POLLOUT) asked |= LOOM_POLL_WRITABLE;
    if (wanted & POLLRDHUP) asked |= LOOM_POLL_DISCONNECT;
    if (wanted & POLLPRI) asked |= LOOM_POLL_PRIORITIZED;
    pevents &= asked;
  }
  if (pevents != 0)
    p->poll_cb(p, 0, pevents);
}


/* The descriptor stays open: it belongs to the user. */
void loom__poll_close(loom_poll_t* p) {
  loom_poll_stop(p);
  loom__io_close(p->loop, &p->io);
}
