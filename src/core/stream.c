/* SPDX-License-Identifier: MIT */
/* stream.c: what tcp, pipe and tty share: reading into the loop's buffer,
 * the ordered write queue, shutdown, listen/accept, connect completion and
 * closing with every queued request cancelled in order.
 *
 * One watcher per stream carries every event. Its callback runs in the
 * poll phase for readiness and in the pending phase (LOOM__IO_PENDING) for
 * completions that happened inside a call and must be reported later: a
 * write that the kernel took at once, a connect that failed at once, a
 * shutdown with nothing queued before it.
 *
 * The write queue holds, in order, the finished writes whose callbacks
 * are still to run and then the unfinished ones; a shutdown is queued as
 * a write of the end of the stream, so it happens, and is reported, after
 * every write before it. This keeps a stream down to one list.
 */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads per readiness event: one busy peer cannot starve the others. */
#define READS_PER_EVENT 32
/* Connections accepted per readiness event, for the same reason. */
#define ACCEPTS_PER_EVENT 128
/* Buffers handed to one writev; the kernel limit is IOV_MAX (1024). */
#define MAX_IOV 1024

_Static_assert(sizeof(loom_buf_t) == sizeof(struct iovec) &&
               offsetof(loom_buf_t, base) == offsetof(struct iovec, iov_base) &&
               offsetof(loom_buf_t, len) == offsetof(struct iovec, iov_len),
               "loom_buf_t must be laid out as struct iovec");

/* A descriptor held open so that accept can still make progress when the
 * process runs out of descriptors (see emfile_drain). */
static int reserve_fd = -1;


void loom__stream_init(loom_loop_t* loop, loom_stream_t* s,
                       loom_handle_type type) {
  loom__handle_init(loop, (loom_handle_t*) s, type);
  s->u.read_cb = NULL;
  loom__io_init(&s->io, LOOM__IO_STREAM, -1);
  loom__queue_init(&s->write_queue);
  s->write_queue_size = 0;
  s->connect_req = NULL;
}


/* Adopts fd (already non-blocking) with the given readable/writable and
 * socket flags. */
int loom__stream_open(loom_stream_t* s, int fd, unsigned int flags) {
  if (s->io.fd != -1 && s->io.fd != fd)
    return LOOM_EBUSY;
  s->io.fd = fd;
  s->flags |= flags;
  return 0;
}


static int stream_fd(const loom_stream_t* s) {
  return s->io.fd;
}


int loom_fileno(const loom_handle_t* h, int* fd) {
  int f;

  switch (h->type) {
    case LOOM_TCP:
    case LOOM_NAMED_PIPE:
    case LOOM_TTY:
      f = ((const loom_stream_t*) h)->io.fd;
      break;
    case LOOM_UDP:
      f = ((const loom_udp_t*) h)->io.fd;
      break;
    case LOOM_POLL:
      f = ((const loom_poll_t*) h)->io.fd;
      break;
    default:
      return LOOM_EINVAL;
  }
  if (f < 0 || loom__is_closing(h))
    return LOOM_EBADF;
  *fd = f;
  return 0;
}


static int held_by_handle(const loom_loop_t* loop, int fd, int count_poll) {
  const loom_queue_t* q;

  for (q = loop->handle_queue.next; q != &loop->handle_queue; q = q->next) {
    const loom_handle_t* h = loom__queue_data(q, loom_handle_t, handle_queue);
    int f;
    if (h->type == LOOM_POLL && !count_poll)
      continue; /* a poll handle watches a descriptor someone else owns */
    if (loom_fileno(h, &f) == 0 && f == fd)
      return 1;
  }
  return 0;
}


int loom__fd_owned(const loom_loop_t* loop, int fd) {
  return held_by_handle(loop, fd, 0);
}


int loom__fd_internal(const loom_loop_t* loop, int fd) {
  if (fd < 0)
    return 0;
  if (fd == loop->backend_fd || fd == loop->wakeup_fd)
    return 1;
  /* Watched, but by no handle: c-ares's sockets, a watcher's inotify
   * descriptor. */
  return (unsigned int) fd < loop->nwatchers && loop->watchers[fd] != 0 &&
         !held_by_handle(loop, fd, 1);
}


int loom__check_socket_fd(const loom_loop_t* loop, int fd, int socktype) {
  int type;
  socklen_t len = sizeof(type);

  if (fd < 0)
    return LOOM_EBADF;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return errno == ENOTSOCK ? LOOM_ENOTSOCK : LOOM__ERR(errno);
  if (type != socktype)
    return LOOM_EINVAL;
  /* Wrapped twice, a descriptor would be closed twice: the second close
   * could hit a descriptor opened meanwhile by someone else. */
  if (loom__fd_owned(loop, fd))
    return LOOM_EEXIST;
  return 0;
}


static int buffer_size(loom_handle_t* h, int opt, int* value) {
  socklen_t len = sizeof(*value);
  int fd;
  int err;

  if (h->type != LOOM_TCP && h->type != LOOM_NAMED_PIPE &&
      h->type != LOOM_UDP)
    return LOOM_ENOTSUP;
  err = loom_fileno(h, &fd);
  if (err != 0)
    return err;
  if (*value == 0)
    err = getsockopt(fd, SOL_SOCKET, opt, value, &len);
  else
    err = setsockopt(fd, SOL_SOCKET, opt, value, len);
  return err != 0 ? LOOM__ERR(errno) : 0;
}


int loom_send_buffer_size(loom_handle_t* h, int* value) {
  return buffer_size(h, SO_SNDBUF, value);
}


int loom_recv_buffer_size(loom_handle_t* h, int* value) {
  return buffer_size(h, SO_RCVBUF, value);
}


/* ---- completions ---------------------------------------------------- */

/* A queued write's `error` until it finishes (with 0 or an error). */
#define WRITE_UNFINISHED 1

/* Writes finish in order, so the write queue is a run of finished writes
 * waiting for their callbacks followed by the unfinished ones. */
static int write_finished(const loom_write_t* req) {
  return req->error != WRITE_UNFINISHED;
}


static loom_write_t* write_at(loom_queue_t* q) {
  return loom__queue_data(q, loom_write_t, queue);
}


static int has_unfinished(loom_stream_t* s) {
  return !loom__queue_empty(&s->write_queue) &&
         !write_finished(write_at(loom__queue_tail(&s->write_queue)));
}


/* The first unfinished write, or NULL. Only readiness events look for
 * it, and the finished writes before it are few there: an event calls
 * back what it finished before it returns. */
static loom_write_t* first_unfinished(loom_stream_t* s) {
  loom_queue_t* q;

  if (!has_unfinished(s))
    return NULL;
  for (q = loom__queue_head(&s->write_queue);; q = q->next)
    if (!write_finished(write_at(q)))
      return write_at(q);
}


static int has_finished(loom_stream_t* s) {
  return !loom__queue_empty(&s->write_queue) &&
         write_finished(write_at(loom__queue_head(&s->write_queue)));
}


static void finish_write(loom_write_t* req, int error) {
  req->error = error;
  req->nbufs = 0;
  req->send_fd = -1;
  req->file_fd = -1;
  req->file_left = 0;
}


/* Calls back the writes that were finished when it began, in order. A
 * callback may write again (reported on a later pass) or close the stream
 * (what it cancelled is reported by the close). */
static void run_write_callbacks(loom_stream_t* s) {
  loom_queue_t* q;
  loom_write_t* req;
  size_t n = 0;

  for (q = loom__queue_head(&s->write_queue);
       q != &s->write_queue && write_finished(write_at(q)); q = q->next)
    n++;
  while (n-- > 0) {
    req = write_at(loom__queue_head(&s->write_queue));
    loom__queue_remove(&req->queue);
    s->loop->active_reqs--;
    if (req->cb != NULL)
      req->cb(req, req->error);
  }
}


static void finish_connect(loom_stream_t* s, int error) {
  loom_connect_t* req = s->connect_req;

  s->connect_req = NULL;
  s->loop->active_reqs--;
  loom__io_stop(s->loop, &s->io, POLLOUT);
  if (req->cb != NULL)
    req->cb(req, error);
}


/* ---- writing -------------------------------------------------------- */

static size_t bufs_total(const loom_buf_t* bufs, unsigned int nbufs) {
  size_t total = 0;
  unsigned int i;

  for (i = 0; i < nbufs; i++)
    total += bufs[i].len;
  return total;
}


/* One writev/sendmsg of the buffers. Returns bytes written or an error. */
static ssize_t write_bufs(loom_stream_t* s, const loom_buf_t* bufs,
                          unsigned int nbufs, int send_fd) {
  union {
    char space[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg;
  struct cmsghdr* cmsg;
  ssize_t n;

  if (nbufs > MAX_IOV)
    nbufs = MAX_IOV;
  do {
    if ((s->flags & LOOM__STREAM_SOCKET) && nbufs == 1 && send_fd < 0) {
      /* One buffer: send(2) spares the kernel importing a message
       * header and an iovec (the common write: a reply, an echo). */
      n = send(stream_fd(s), bufs[0].base, bufs[0].len, MSG_NOSIGNAL);
    } else if (s->flags & LOOM__STREAM_SOCKET) {
      memset(&msg, 0, sizeof(msg));
      msg.msg_iov = (struct iovec*) bufs;
      msg.msg_iovlen = nbufs;
      if (send_fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.space;
        msg.msg_controllen = sizeof(ctl.space);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &send_fd, sizeof(int));
      }
      /* MSG_NOSIGNAL: a dead peer is an EPIPE error, never a SIGPIPE. */
      n = sendmsg(stream_fd(s), &msg, MSG_NOSIGNAL);
    } else if (nbufs == 1) {
      n = write(stream_fd(s), bufs[0].base, bufs[0].len);
    } else {
      n = writev(stream_fd(s), (const struct iovec*) bufs, (int) nbufs);
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? LOOM_EAGAIN : LOOM__ERR(errno);
  return n;
}


/* The most one sendfile call is asked for: a large file goes out over
 * several loop iterations, so other connections are not kept waiting. */
#define SENDFILE_MAX (1u << 20)

/* One sendfile(2) of the request's file part. Returns bytes sent (the
 * file part advanced) or an error; LOOM_EOF if the file ended early. */
static ssize_t write_file(loom_stream_t* s, loom_write_t* req) {
  off_t offset = (off_t) req->file_offset;
  size_t want = req->file_left < SENDFILE_MAX ? (size_t) req->file_left : SENDFILE_MAX;
  ssize_t n;

  do
    n = sendfile(stream_fd(s), req->file_fd, &offset, want);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? LOOM_EAGAIN : LOOM__ERR(errno);
  if (n == 0)
    return LOOM_EOF;
  req->file_offset = (int64_t) offset;
  req->file_left -= (uint64_t) n;
  return n;
}


/* Consumes n written bytes from the front of the request's buffers. */
static void advance(loom_write_t* req, size_t n) {
  while (n > 0 && req->nbufs > 0) {
    if (n >= req->bufs[0].len) {
      n -= req->bufs[0].len;
      req->bufs++;
      req->nbufs--;
    } else {
      req->bufs[0].base = (char*) req->bufs[0].base + n;
      req->bufs[0].len -= n;
      n = 0;
    }
  }
  /* Empty buffers at the end are as good as written. */
  while (req->nbufs > 0 && req->bufs[0].len == 0) {
    req->bufs++;
    req->nbufs--;
  }
}


static int do_shutdown(loom_stream_t* s);

/* Writes queued requests, from req (the first unfinished one, or NULL),
 * until the kernel pushes back. Returns 1 if nothing is left unfinished. */
static int drain_write_queue(loom_stream_t* s, loom_write_t* req) {
  loom_queue_t* q;
  ssize_t n;
  int err;

  if (req == NULL)
    return 1;
  for (q = &req->queue; q != &s->write_queue; q = q->next) {
    req = write_at(q);
    if (req->type == LOOM_SHUTDOWN) {
      finish_write(req, do_shutdown(s));
      continue;
    }
    err = 0;
    advance(req, 0); /* empty buffers need no system call */
    while (req->nbufs > 0 || req->send_fd >= 0 || req->file_left > 0) {
      int file = req->nbufs == 0 && req->send_fd < 0;
      n = file ? write_file(s, req) : write_bufs(s, req->bufs, req->nbufs, req->send_fd);
      if (n == LOOM_EAGAIN)
        return 0;
      if (n < 0) {
        s->write_queue_size -= bufs_total(req->bufs, req->nbufs) + req->file_left;
        err = (int) n;
        break;
      }
      req->send_fd = -1; /* it went with the first byte */
      s->write_queue_size -= (size_t) n;
      if (!file)
        advance(req, (size_t) n);
      /* A blocking fd wrote less only on a signal: go on. A file part
       * goes on at the next writable event, one piece per event. */
      if (!(s->flags & LOOM__STREAM_BLOCKING) &&
          (req->nbufs > 0 || (file && req->file_left > 0)))
        return 0;
    }
    finish_write(req, err);
  }
  return 1;
}


/* After the queue changed: watch for writability while anything is left. */
static void after_drain(loom_stream_t* s, int emptied) {
  if (!emptied)
    loom__io_start(s->loop, &s->io, POLLOUT);
  else
    loom__io_stop(s->loop, &s->io, POLLOUT);
}


static int writable(loom_stream_t* s) {
  if (stream_fd(s) < 0)
    return LOOM_EBADF;
  if (!(s->flags & LOOM__STREAM_WRITABLE))
    return LOOM_EPIPE;
  if (s->flags & LOOM__STREAM_SHUTTING)
    return LOOM_EPIPE;
  return 0;
}


/* Queues a checked write (req's file part already set) and starts it. */
static int start_write(loom_write_t* req, loom_stream_t* s, loom_buf_t* bufs,
                       unsigned int nbufs, int send_fd, loom_write_cb cb) {
  int was_idle;

  req->type = LOOM_WRITE;
  req->cb = cb;
  req->handle = s;
  req->bufs = bufs;
  req->nbufs = nbufs;
  req->error = WRITE_UNFINISHED;
  req->send_fd = send_fd;
  s->write_queue_size += bufs_total(bufs, nbufs) + req->file_left;
  s->loop->active_reqs++;

  was_idle = !has_unfinished(s);
  loom__queue_insert_tail(&s->write_queue, &req->queue);
  if (s->connect_req != NULL)
    return 0; /* written once connected */
  if (was_idle) {
    /* Start at this write: the finished ones before it (written at once
     * earlier in this pass) need no look. */
    after_drain(s, drain_write_queue(s, req));
    /* The fast path: written at once and nobody to tell. The request is
     * not touched again, so the caller may reuse it immediately. */
    if (cb == NULL && req->nbufs == 0 && req->error == 0) {
      loom__queue_remove(&req->queue);
      s->loop->active_reqs--;
      return 1;
    }
  }
  if (has_finished(s))
    loom__io_feed(s->loop, &s->io);
  return 0;
}


/* The descriptor a write passes along (send_handle's), or -1 without
 * one; only an IPC pipe can pass descriptors. */
static int send_fd_of(loom_stream_t* s, loom_stream_t* send_handle,
                      int* send_fd) {
  *send_fd = -1;
  if (send_handle == NULL)
    return 0;
  if (s->type != LOOM_NAMED_PIPE || !((loom_pipe_t*) s)->ipc)
    return LOOM_EINVAL;
  if (loom_fileno((loom_handle_t*) send_handle, send_fd) != 0)
    return LOOM_EBADF;
  return 0;
}


int loom_write2(loom_write_t* req, loom_stream_t* s, loom_buf_t* bufs,
                unsigned int nbufs, loom_stream_t* send_handle,
                loom_write_cb cb) {
  int send_fd;
  int err = writable(s);

  if (err == 0)
    err = send_fd_of(s, send_handle, &send_fd);
  if (err != 0)
    return err;
  req->file_fd = -1;
  req->file_offset = 0;
  req->file_left = 0;
  return start_write(req, s, bufs, nbufs, send_fd, cb);
}


int loom_sendfile(loom_write_t* req, loom_stream_t* s, loom_buf_t* bufs,
                  unsigned int nbufs, int fd, int64_t offset, uint64_t length,
                  loom_write_cb cb) {
  struct stat st;
  int err = writable(s);

  if (err != 0)
    return err;
  if (offset < 0 || length > (uint64_t) INT64_MAX - (uint64_t) offset)
    return LOOM_EINVAL;
  if (fstat(fd, &st) != 0)
    return LOOM__ERR(errno);
  /* sendfile(2) reads through the page cache: regular files and block
   * devices only (a pipe or a socket as the source is EINVAL). */
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return LOOM_EINVAL;
  req->file_fd = length > 0 ? fd : -1;
  req->file_offset = offset;
  req->file_left = length;
  return start_write(req, s, bufs, nbufs, -1, cb);
}


int loom_write(loom_write_t* req, loom_stream_t* s, loom_buf_t* bufs,
               unsigned int nbufs, loom_write_cb cb) {
  return loom_write2(req, s, bufs, nbufs, NULL, cb);
}


int loom_try_write2(loom_stream_t* s, const loom_buf_t* bufs,
                    unsigned int nbufs, loom_stream_t* send_handle) {
  int send_fd;
  int err;
  ssize_t n;

  if (stream_fd(s) < 0)
    return LOOM_EBADF;
  if (!(s->flags & LOOM__STREAM_WRITABLE) ||
      (s->flags & LOOM__STREAM_SHUTTING))
    return LOOM_EPIPE;
  /* Writing now would overtake what is queued. */
  if (has_unfinished(s) || s->connect_req != NULL)
    return LOOM_EAGAIN;
  err = send_fd_of(s, send_handle, &send_fd);
  if (err != 0)
    return err;
  if (bufs_total(bufs, nbufs) == 0 && send_fd < 0)
    return 0;
  n = write_bufs(s, bufs, nbufs, send_fd);
  if (n == 0)
    return LOOM_EAGAIN;
  return n > INT32_MAX ? INT32_MAX : (int) n;
}


int loom_try_write(loom_stream_t* s, const loom_buf_t* bufs,
                   unsigned int nbufs) {
  return loom_try_write2(s, bufs, nbufs, NULL);
}


size_t loom_stream_get_write_queue_size(const loom_stream_t* s) {
  /* A listener's slot holds its accepted descriptor instead. */
  return (s->flags & LOOM__STREAM_LISTENING) ? 0 : s->write_queue_size;
}


/* ---- shutdown -------------------------------------------------------- */

/* The shutdown's turn in the write queue has come: everything before it
 * was written. */
static int do_shutdown(loom_stream_t* s) {
  s->flags |= LOOM__STREAM_SHUT;
  s->flags &= ~LOOM__STREAM_WRITABLE;
  if (shutdown(stream_fd(s), SHUT_WR) != 0)
    return LOOM__ERR(errno);
  return 0;
}


static void shutdown_written(loom_write_t* eof, int status) {
  loom_shutdown_t* req = loom__queue_data(eof, loom_shutdown_t, eof);

  if (req->cb != NULL)
    req->cb(req, status);
}


int loom_shutdown(loom_shutdown_t* req, loom_stream_t* s,
                  loom_shutdown_cb cb) {
  loom_write_t* eof = &req->eof;
  int was_idle;

  if (stream_fd(s) < 0)
    return LOOM_ENOTCONN;
  if (!(s->flags & LOOM__STREAM_WRITABLE) ||
      (s->flags & (LOOM__STREAM_SHUTTING | LOOM__STREAM_SHUT)) ||
      loom__is_closing((loom_handle_t*) s))
    return LOOM_ENOTCONN;
  req->type = LOOM_SHUTDOWN;
  req->cb = cb;
  req->handle = s;
  eof->type = LOOM_SHUTDOWN; /* what the write queue looks for */
  eof->cb = shutdown_written;
  eof->handle = s;
  eof->bufs = NULL;
  eof->nbufs = 0;
  eof->error = WRITE_UNFINISHED;
  eof->send_fd = -1;
  eof->file_fd = -1;
  eof->file_offset = 0;
  eof->file_left = 0;
  was_idle = !has_unfinished(s);
  loom__queue_insert_tail(&s->write_queue, &eof->queue);
  s->flags |= LOOM__STREAM_SHUTTING;
  s->loop->active_reqs++;
  /* Even with nothing queued the callback must come later: the pending
   * phase drains the queue and shuts down then. */
  if (was_idle && s->connect_req == NULL)
    loom__io_feed(s->loop, &s->io);
  return 0;
}


/* ---- reading --------------------------------------------------------- */

int loom_read_start(loom_stream_t* s, loom_read_cb cb) {
  int err;

  if (cb == NULL)
    return LOOM_EINVAL;
  if (loom__is_closing((loom_handle_t*) s))
    return LOOM_EINVAL;
  if (stream_fd(s) < 0)
    return LOOM_ENOTCONN;
  if (!(s->flags & LOOM__STREAM_READABLE))
    return LOOM_ENOTCONN;
  if (s->flags & LOOM__STREAM_LISTENING)
    return LOOM_EINVAL;
  err = loom__io_start(s->loop, &s->io, POLLIN);
  if (err != 0)
    return err;
  s->u.read_cb = cb;
  s->flags |= LOOM__STREAM_READING;
  loom__handle_start((loom_handle_t*) s);
  return 0;
}


int loom_read_stop(loom_stream_t* s) {
  if (!(s->flags & LOOM__STREAM_READING))
    return 0;
  s->flags &= ~LOOM__STREAM_READING;
  loom__io_stop(s->loop, &s->io, POLLIN);
  loom__handle_stop((loom_handle_t*) s);
  return 0;
}


int loom_is_readable(const loom_stream_t* s) {
  return (s->flags & LOOM__STREAM_READABLE) != 0;
}


int loom_is_writable(const loom_stream_t* s) {
  return (s->flags & LOOM__STREAM_WRITABLE) != 0;
}


static ssize_t read_once(loom_stream_t* s, char* buf, size_t size) {
  union {
    char space[CMSG_SPACE(64 * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg;
  struct iovec iov;
  ssize_t n;
  int err;

  if (s->type != LOOM_NAMED_PIPE || !((loom_pipe_t*) s)->ipc) {
    do
      n = read(stream_fd(s), buf, size);
    while (n < 0 && errno == EINTR);
    return n < 0 ? LOOM__ERR(errno) : n;
  }
  /* An ipc pipe may carry descriptors alongside the bytes. */
  memset(&msg, 0, sizeof(msg));
  iov.iov_base = buf;
  iov.iov_len = size;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.space;
  msg.msg_controllen = sizeof(ctl.space);
  do
    n = recvmsg(stream_fd(s), &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return LOOM__ERR(errno);
  err = loom__pipe_recv_fds((loom_pipe_t*) s, &msg);
  return err != 0 ? err : n;
}


static void read_ready(loom_stream_t* s) {
  loom_buf_t buf;
  ssize_t n;
  int count;

  buf.base = loom__read_buf(s->loop, LOOM__READ_BUF_SIZE);
  if (buf.base == NULL) {
    s->u.read_cb(s, LOOM_ENOBUFS, NULL);
    return;
  }
  for (count = 0; count < READS_PER_EVENT; count++) {
    if (!(s->flags & LOOM__STREAM_READING))
      return; /* the callback stopped or closed the stream */
    n = read_once(s, buf.base, LOOM__READ_BUF_SIZE);
    if (n == LOOM_EAGAIN || n == LOOM__ERR(EWOULDBLOCK))
      return;
    if (n == 0) {
      s->flags |= LOOM__STREAM_EOF;
      s->flags &= ~LOOM__STREAM_READABLE;
      loom_read_stop(s);
      s->u.read_cb(s, LOOM_EOF, NULL);
      return;
    }
    if (n < 0) {
      loom_read_stop(s);
      s->u.read_cb(s, n, NULL);
      return;
    }
    buf.len = (size_t) n;
    s->u.read_cb(s, n, &buf);
    /* A short read drained the socket: save the EAGAIN system call. */
    if ((size_t) n < LOOM__READ_BUF_SIZE)
      return;
  }
}


/* ---- listening --------------------------------------------------------- */

/* Out of descriptors: give the reserve back, accept and drop every waiting
 * connection (so the listener is not woken for them again and again) and
 * take the reserve again. */
static void emfile_drain(int listen_fd) {
  int fd;

  if (reserve_fd < 0)
    return;
  loom__close(reserve_fd);
  reserve_fd = -1;
  for (;;) {
    fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    loom__close(fd);
  }
  reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
}


static void server_ready(loom_stream_t* s) {
  int count;
  int fd;
  int err;

  for (count = 0; count < ACCEPTS_PER_EVENT; count++) {
    if (!(s->flags & LOOM__STREAM_LISTENING))
      return;
    if (s->accepted_fd != -1) {
      /* The last connection was not accepted: wait until it is. */
      loom__io_stop(s->loop, &s->io, POLLIN);
      return;
    }
    fd = accept4(stream_fd(s), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      err = errno;
      if (err == EINTR || err == ECONNABORTED)
        continue;
      if (err == EAGAIN || err == EWOULDBLOCK)
        return;
      if (err == EMFILE || err == ENFILE)
        emfile_drain(stream_fd(s));
      s->u.connection_cb(s, LOOM__ERR(err));
      if (err == EMFILE || err == ENFILE)
        return;
      continue;
    }
    s->accepted_fd = fd;
    s->u.connection_cb(s, 0);
  }
}


int loom_listen(loom_stream_t* s, int backlog, loom_connection_cb cb) {
  int err;

  if (cb == NULL || loom__is_closing((loom_handle_t*) s))
    return LOOM_EINVAL;
  if (s->type != LOOM_TCP && s->type != LOOM_NAMED_PIPE)
    return LOOM_ENOTSUP;
  if (s->flags & LOOM__STREAM_BIND_INUSE)
    return LOOM_EADDRINUSE;
  if (stream_fd(s) < 0)
    return LOOM_EINVAL;
  /* A stream that reads, writes or connects is no listener. */
  if ((s->flags & LOOM__STREAM_READING) || s->connect_req != NULL ||
      !loom__queue_empty(&s->write_queue))
    return LOOM_EINVAL;
  if (reserve_fd < 0)
    reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
  if (listen(stream_fd(s), backlog) != 0)
    return LOOM__ERR(errno);
  err = loom__io_start(s->loop, &s->io, POLLIN);
  if (err != 0)
    return err;
  s->u.connection_cb = cb;
  if (!(s->flags & LOOM__STREAM_LISTENING))
    s->accepted_fd = -1;
  s->flags |= LOOM__STREAM_LISTENING;
  s->flags &= ~(LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE);
  loom__handle_start((loom_handle_t*) s);
  return 0;
}


int loom_accept(loom_stream_t* server, loom_stream_t* client) {
  int fd;
  int err;

  if (loom__is_closing((loom_handle_t*) client))
    return LOOM_EINVAL;
  if (server->type == LOOM_NAMED_PIPE && ((loom_pipe_t*) server)->ipc &&
      !(server->flags & LOOM__STREAM_LISTENING)) {
    /* An ipc pipe hands over the descriptors it received. */
    loom_pipe_t* p = (loom_pipe_t*) server;
    if (p->npending == 0)
      return LOOM_EAGAIN;
    fd = p->pending_fds[0];
    err = client->type == LOOM_UDP ? LOOM_EINVAL : 0;
    if (err == 0)
      err = loom__nonblock(fd, 1);
    if (err == 0)
      err = loom__stream_open(client, fd,
                              LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE |
                                  LOOM__STREAM_SOCKET);
    if (err != 0)
      return err;
    memmove(p->pending_fds, p->pending_fds + 1,
            --p->npending * sizeof(int));
    return 0;
  }
  if (!(server->flags & LOOM__STREAM_LISTENING) || server->accepted_fd == -1)
    return LOOM_EAGAIN;
  /* As libuv, the types are not compared: a Unix-socket connection may be
   * accepted into a tcp handle (luv programs do). The other type's
   * operations then answer with the kernel's errors. */
  err = loom__stream_open(client, server->accepted_fd,
                          LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE |
                              LOOM__STREAM_SOCKET);
  if (err != 0)
    return err;
  server->accepted_fd = -1;
  if (server->flags & LOOM__STREAM_LISTENING)
    loom__io_start(server->loop, &server->io, POLLIN);
  return 0;
}


/* ---- connecting -------------------------------------------------------- */

static void connect_ready(loom_stream_t* s) {
  int error = s->connect_req->error;
  socklen_t len = sizeof(error);

  if (error == 0) {
    if (getsockopt(stream_fd(s), SOL_SOCKET, SO_ERROR, &error, &len) != 0)
      error = errno;
    if (error == EINPROGRESS)
      return;
    error = error != 0 ? LOOM__ERR(error) : 0;
  }
  finish_connect(s, error);
}


/* ---- the watcher ------------------------------------------------------- */

void loom__stream_io(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  loom_stream_t* s = loom__queue_data(w, loom_stream_t, io);
  (void) loop;

  if (s->connect_req != NULL) {
    if (!(events & (POLLOUT | POLLERR | POLLHUP | LOOM__IO_PENDING)))
      return;
    if ((events & LOOM__IO_PENDING) && s->connect_req->error == 0)
      return;
    connect_ready(s);
    if (loom__is_closing((loom_handle_t*) s))
      return;
    if (has_unfinished(s))
      events |= POLLOUT; /* writes and a shutdown waited for the connection */
  }

  if (s->flags & LOOM__STREAM_LISTENING) {
    if (events & (POLLIN | POLLERR | POLLHUP))
      server_ready(s);
    return;
  }

  if ((events & (POLLIN | POLLERR | POLLHUP)) &&
      (s->flags & LOOM__STREAM_READING))
    read_ready(s);
  if (loom__is_closing((loom_handle_t*) s))
    return;

  if (events & (POLLOUT | POLLERR | POLLHUP | LOOM__IO_PENDING)) {
    if (has_unfinished(s))
      after_drain(s, drain_write_queue(s, first_unfinished(s)));
    run_write_callbacks(s);
  }
}


/* ---- closing ----------------------------------------------------------- */

/* Stops all I/O and closes the descriptor; the queued requests are marked
 * cancelled and reported by loom__stream_finish_close, in the closing
 * phase, before the close callback. */
void loom__stream_close(loom_stream_t* s) {
  loom_queue_t* q;
  loom_write_t* req;
  int fd = stream_fd(s);

  loom_read_stop(s);
  if (s->flags & LOOM__STREAM_LISTENING) {
    if (s->accepted_fd >= 0)
      loom__close(s->accepted_fd);
    s->write_queue_size = 0; /* the slot is the byte count again */
    s->flags &= ~LOOM__STREAM_LISTENING;
  }
  loom__handle_stop((loom_handle_t*) s);
  loom__io_close(s->loop, &s->io);
  if (fd >= 0) {
    if (s->flags & LOOM__STREAM_CLOSE_RESET) {
      struct linger l = {1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    /* Like libuv, never close stdio descriptors: nothing good comes of
     * it (the next open would silently become stdin/out/err). */
    if (fd > 2)
      loom__close(fd);
    s->io.fd = -1;
  }
  for (q = loom__queue_head(&s->write_queue); q != &s->write_queue;
       q = q->next) {
    req = write_at(q);
    if (write_finished(req))
      continue;
    s->write_queue_size -= bufs_total(req->bufs, req->nbufs) + req->file_left;
    finish_write(req, LOOM_ECANCELED);
  }
  s->flags &= ~(LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE);
}


void loom__stream_finish_close(loom_stream_t* s) {
  if (s->connect_req != NULL) {
    s->loop->active_reqs--;
    loom_connect_t* req = s->connect_req;
    s->connect_req = NULL;
    if (req->cb != NULL)
      req->cb(req, LOOM_ECANCELED);
  }
  run_write_callbacks(s);
}


int loom_stream_set_blocking(loom_stream_t* s, int blocking) {
  int err;

  if (stream_fd(s) < 0)
    return LOOM_EBADF;
  err = loom__nonblock(stream_fd(s), !blocking);
  if (err == 0) {
    if (blocking)
      s->flags |= LOOM__STREAM_BLOCKING;
    else
      s->flags &= ~LOOM__STREAM_BLOCKING;
  }
  return err;
}
