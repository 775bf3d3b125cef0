/* SPDX-License-Identifier: MIT */
/* pipe.c: unix domain sockets (paths and Linux abstract names), pipes
 * opened from descriptors, and ipc pipes that carry descriptors. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


int loom_pipe_init(loom_loop_t* loop, loom_pipe_t* p, int ipc) {
  loom__stream_init(loop, (loom_stream_t*) p, LOOM_NAMED_PIPE);
  p->ipc = ipc != 0;
  p->pending_fds = NULL;
  p->npending = 0;
  p->pending_cap = 0;
  p->pipe_fname = NULL;
  return 0;
}


/* Readable/writable from the descriptor's access mode; sockets are both
 * and get sendmsg (no SIGPIPE). */
int loom_pipe_open(loom_pipe_t* p, int fd) {
  unsigned int flags = 0;
  struct stat st;
  int mode;
  int err;

  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) p))
    return LOOM_EINVAL;

  if (p->io.fd >= 0)
    return LOOM_EBUSY;
  if (fd >= 0 && loom__fd_owned(p->loop, fd))
    return LOOM_EEXIST; /* it would be closed twice */
  mode = fcntl(fd, F_GETFL);
  if (mode < 0)
    return LOOM__ERR(errno);
  err = loom__nonblock(fd, 1);
  if (err != 0)
    return err;
  mode &= O_ACCMODE;
  if (mode != O_WRONLY)
    flags |= LOOM__STREAM_READABLE;
  if (mode != O_RDONLY)
    flags |= LOOM__STREAM_WRITABLE;
  if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
    flags |= LOOM__STREAM_SOCKET;
  return loom__stream_open((loom_stream_t*) p, fd, flags);
}


/* Fills a sockaddr_un; a leading NUL byte names an abstract socket, whose
 * address length counts only the bytes of the name. */
static int make_addr(const char* name, size_t namelen, unsigned int flags,
                     struct sockaddr_un* sun, socklen_t* len) {
  memset(sun, 0, sizeof(*sun));
  sun->sun_family = AF_UNIX;
  if (namelen == 0)
    return LOOM_EINVAL;
  if (name[0] != '\0' && memchr(name, '\0', namelen) != NULL)
    return LOOM_EINVAL;
  if (namelen >= sizeof(sun->sun_path)) {
    if (flags & LOOM_PIPE_NO_TRUNCATE)
      return LOOM_EINVAL;
    namelen = sizeof(sun->sun_path) - 1;
  }
  memcpy(sun->sun_path, name, namelen);
  *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + namelen +
                      (name[0] != '\0'));
  return 0;
}


int loom_pipe_bind2(loom_pipe_t* p, const char* name, size_t namelen,
                    unsigned int flags) {
  struct sockaddr_un sun;
  socklen_t len;
  int fd;
  int err;

  if (loom__is_closing((loom_handle_t*) p))
    return LOOM_EINVAL;

  if (flags & ~(unsigned int) LOOM_PIPE_NO_TRUNCATE)
    return LOOM_EINVAL;
  if (p->flags & LOOM__STREAM_BOUND)
    return LOOM_EINVAL;
  if (p->io.fd >= 0)
    return LOOM_EINVAL;
  err = make_addr(name, namelen, flags, &sun, &len);
  if (err != 0)
    return err;
  fd = loom__socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return fd;
  if (bind(fd, (struct sockaddr*) &sun, len) != 0) {
    err = errno == ENOENT ? LOOM_EACCES : LOOM__ERR(errno);
    loom__close(fd);
    return err;
  }
  if (name[0] != '\0')
    p->pipe_fname = strdup(sun.sun_path);
  p->flags |= LOOM__STREAM_BOUND;
  return loom__stream_open((loom_stream_t*) p, fd, LOOM__STREAM_SOCKET);
}


int loom_pipe_connect2(loom_connect_t* req, loom_pipe_t* p, const char* name,
                       size_t namelen, unsigned int flags,
                       loom_connect_cb cb) {
  struct sockaddr_un sun;
  socklen_t len;
  int fd = p->io.fd;
  int err;
  int rc;

  if (loom__is_closing((loom_handle_t*) p))
    return LOOM_EINVAL;

  if (flags & ~(unsigned int) LOOM_PIPE_NO_TRUNCATE)
    return LOOM_EINVAL;
  if (p->connect_req != NULL)
    return LOOM_EALREADY;
  err = make_addr(name, namelen, flags, &sun, &len);
  if (err != 0)
    return err;
  if (fd < 0) {
    fd = loom__socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
      return fd;
    loom__stream_open((loom_stream_t*) p, fd, LOOM__STREAM_SOCKET);
  }
  do
    rc = connect(fd, (struct sockaddr*) &sun, len);
  while (rc != 0 && errno == EINTR);
  /* Errors arrive through the callback, as for tcp. */
  req->error = 0;
  if (rc != 0 && errno != EINPROGRESS)
    req->error = LOOM__ERR(errno);
  else
    p->flags |= LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE;

  req->type = LOOM_CONNECT;
  req->cb = cb;
  req->handle = (loom_stream_t*) p;
  p->connect_req = req;
  p->loop->active_reqs++;
  if (req->error != 0)
    loom__io_feed(p->loop, &p->io);
  else
    loom__io_start(p->loop, &p->io, POLLOUT);
  return 0;
}


static int name_of(const loom_pipe_t* p, char* buf, size_t* len, int peer) {
  struct sockaddr_un sun;
  socklen_t sl = sizeof(sun);
  size_t n;
  int rc;

  if (p->io.fd < 0)
    return LOOM_EBADF;
  memset(&sun, 0, sizeof(sun));
  rc = peer ? getpeername(p->io.fd, (struct sockaddr*) &sun, &sl)
            : getsockname(p->io.fd, (struct sockaddr*) &sun, &sl);
  if (rc != 0)
    return LOOM__ERR(errno);
  if (sl <= offsetof(struct sockaddr_un, sun_path)) {
    n = 0;
  } else if (sun.sun_path[0] == '\0') {
    n = sl - offsetof(struct sockaddr_un, sun_path); /* abstract */
  } else {
    n = strnlen(sun.sun_path, sizeof(sun.sun_path));
  }
  if (n >= *len) {
    *len = n + 1;
    return LOOM_ENOBUFS;
  }
  memcpy(buf, sun.sun_path, n);
  buf[n] = '\0';
  *len = n;
  return 0;
}


int loom_pipe_getsockname(const loom_pipe_t* p, char* buf, size_t* len) {
  return name_of(p, buf, len, 0);
}


int loom_pipe_getpeername(const loom_pipe_t* p, char* buf, size_t* len) {
  return name_of(p, buf, len, 1);
}


int loom_pipe_chmod(loom_pipe_t* p, int flags) {
  struct stat st;
  mode_t mode = 0;

  if (p->io.fd < 0 || p->pipe_fname == NULL)
    return LOOM_EBADF;
  if (flags != LOOM_READABLE && flags != LOOM_WRITABLE &&
      flags != (LOOM_READABLE | LOOM_WRITABLE))
    return LOOM_EINVAL;
  if (stat(p->pipe_fname, &st) != 0)
    return LOOM__ERR(errno);
  if (flags & LOOM_READABLE)
    mode |= S_IRUSR | S_IRGRP | S_IROTH;
  if (flags & LOOM_WRITABLE)
    mode |= S_IWUSR | S_IWGRP | S_IWOTH;
  if (chmod(p->pipe_fname, st.st_mode | mode) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_pipe_pending_count(const loom_pipe_t* p) {
  return p->ipc ? (int) p->npending : 0;
}


loom_handle_type loom_pipe_pending_type(const loom_pipe_t* p) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int type;
  socklen_t tlen = sizeof(type);
  int fd;

  if (!p->ipc || p->npending == 0)
    return LOOM_UNKNOWN_HANDLE;
  fd = p->pending_fds[0];
  if (getsockname(fd, (struct sockaddr*) &ss, &len) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
    return LOOM_NAMED_PIPE; /* not a socket: a pipe or file */
  if (ss.ss_family == AF_UNIX)
    return LOOM_NAMED_PIPE;
  if (type == SOCK_DGRAM)
    return LOOM_UDP;
  return LOOM_TCP;
}


/* Collects the descriptors a message carried (stream.c calls this for
 * every read on an ipc pipe). */
int loom__pipe_recv_fds(loom_pipe_t* p, const void* m) {
  const struct msghdr* msg = m;
  struct cmsghdr* cmsg;
  const unsigned char* data;
  size_t i;
  size_t count;
  int fd;

  for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
       cmsg = CMSG_NXTHDR((struct msghdr*) msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
      continue;
    data = CMSG_DATA(cmsg);
    count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (i = 0; i < count; i++) {
      memcpy(&fd, data + i * sizeof(int), sizeof(int));
      if (p->npending == p->pending_cap) {
        unsigned int cap = p->pending_cap ? p->pending_cap * 2 : 4;
        int* grown = realloc(p->pending_fds, cap * sizeof(int));
        if (grown == NULL) {
          loom__close(fd);
          continue;
        }
        p->pending_fds = grown;
        p->pending_cap = cap;
      }
      p->pending_fds[p->npending++] = fd;
    }
  }
  return 0;
}


void loom__pipe_close(loom_pipe_t* p) {
  unsigned int i;

  for (i = 0; i < p->npending; i++)
    loom__close(p->pending_fds[i]);
  free(p->pending_fds);
  p->pending_fds = NULL;
  p->npending = p->pending_cap = 0;
  if (p->pipe_fname != NULL) {
    /* Only a listening socket's path is ours to remove. */
    unlink(p->pipe_fname);
    free(p->pipe_fname);
    p->pipe_fname = NULL;
  }
  loom__stream_close((loom_stream_t*) p);
}


int loom_pipe(int fds[2], int read_flags, int write_flags) {
  int pair[2];
  int err;

  if (pipe2(pair, O_CLOEXEC) != 0)
    return LOOM__ERR(errno);
  err = (read_flags & LOOM_NONBLOCK_PIPE) ? loom__nonblock(pair[0], 1) : 0;
  if (err == 0 && (write_flags & LOOM_NONBLOCK_PIPE))
    err = loom__nonblock(pair[1], 1);
  if (err != 0) {
    loom__close(pair[0]);
    loom__close(pair[1]);
    return err;
  }
  fds[0] = pair[0];
  fds[1] = pair[1];
  return 0;
}
