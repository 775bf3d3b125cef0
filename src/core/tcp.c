/* SPDX-License-Identifier: MIT */
/* tcp.c: TCP streams: sockets created lazily for the address family in
 * use, bind, connect, socket options, close with reset, socketpair. */
#include "internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCKET_FLAGS                                                          \
  (LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE | LOOM__STREAM_SOCKET)


static int tcp_fd(const loom_tcp_t* tcp) {
  return tcp->io.fd;
}


/* Creates the socket on first use, for the family the caller needs. */
static int ensure_socket(loom_tcp_t* tcp, int family) {
  int fd;

  if (tcp_fd(tcp) >= 0)
    return 0;
  fd = loom__socket(family, SOCK_STREAM, 0);
  if (fd < 0)
    return fd;
  /* The stream is only openable (readable, writable) once connected or
   * accepted; a fresh socket is neither. */
  return loom__stream_open((loom_stream_t*) tcp, fd, LOOM__STREAM_SOCKET);
}


int loom_tcp_init_ex(loom_loop_t* loop, loom_tcp_t* tcp, int family) {
  int fd = -1;

  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
    return LOOM_EINVAL;
  /* The socket first: a failure leaves nothing to undo. */
  if (family != AF_UNSPEC) {
    fd = loom__socket(family, SOCK_STREAM, 0);
    if (fd < 0)
      return fd;
  }
  loom__stream_init(loop, (loom_stream_t*) tcp, LOOM_TCP);
  if (fd >= 0)
    loom__stream_open((loom_stream_t*) tcp, fd, LOOM__STREAM_SOCKET);
  return 0;
}


int loom_tcp_open(loom_tcp_t* tcp, int fd) {
  int err;

  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) tcp))
    return LOOM_EINVAL;

  if (fd < 0)
    return LOOM_EBADF;
  if (tcp_fd(tcp) >= 0)
    return LOOM_EBUSY;
  err = loom__check_socket_fd(tcp->loop, fd, SOCK_STREAM);
  if (err != 0)
    return err;
  err = loom__nonblock(fd, 1);
  if (err != 0)
    return err;
  return loom__stream_open((loom_stream_t*) tcp, fd, SOCKET_FLAGS);
}


int loom_tcp_bind(loom_tcp_t* tcp, const struct sockaddr* addr,
                  unsigned int flags) {
  int on = 1;
  int err;

  if (loom__is_closing((loom_handle_t*) tcp))
    return LOOM_EINVAL;

  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  if ((flags & LOOM_TCP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  err = ensure_socket(tcp, addr->sa_family);
  if (err != 0)
    return err;
  /* Restarting a server must not wait out TIME_WAIT. */
  if (setsockopt(tcp_fd(tcp), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
    return LOOM__ERR(errno);
  if ((flags & LOOM_TCP_REUSEPORT) &&
      setsockopt(tcp_fd(tcp), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)))
    return LOOM__ERR(errno);
  if (addr->sa_family == AF_INET6) {
    on = (flags & LOOM_TCP_IPV6ONLY) != 0;
    if (setsockopt(tcp_fd(tcp), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)))
      return LOOM__ERR(errno);
  }
  if (bind(tcp_fd(tcp), addr, (socklen_t) loom__sockaddr_len(addr)) != 0) {
    /* As libuv: EADDRINUSE is reported by listen or connect. */
    if (errno != EADDRINUSE)
      return LOOM__ERR(errno);
    tcp->flags |= LOOM__STREAM_BIND_INUSE;
  }
  tcp->flags |= LOOM__STREAM_BOUND;
  return 0;
}


int loom_tcp_connect(loom_connect_t* req, loom_tcp_t* tcp,
                     const struct sockaddr* addr, loom_connect_cb cb) {
  int err;
  int rc;

  if (loom__is_closing((loom_handle_t*) tcp))
    return LOOM_EINVAL;

  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  if (tcp->connect_req != NULL)
    return LOOM_EALREADY;
  if (tcp->flags & (LOOM__STREAM_LISTENING | LOOM__STREAM_WRITABLE))
    return LOOM_EISCONN;
  err = ensure_socket(tcp, addr->sa_family);
  if (err != 0)
    return err;

  req->error = 0;
  if (tcp->flags & LOOM__STREAM_BIND_INUSE) {
    /* The bind's failure is the connect's, reported once (libuv). */
    tcp->flags &= ~LOOM__STREAM_BIND_INUSE;
    req->error = LOOM_EADDRINUSE;
  } else {
    do
      rc = connect(tcp_fd(tcp), addr, (socklen_t) loom__sockaddr_len(addr));
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EINPROGRESS) {
      /* Loopback may refuse at once; the callback still comes later. */
      if (errno == ECONNREFUSED || errno == ENETUNREACH ||
          errno == EHOSTUNREACH || errno == ETIMEDOUT)
        req->error = LOOM__ERR(errno);
      else
        return LOOM__ERR(errno);
    }
  }

  req->type = LOOM_CONNECT;
  req->cb = cb;
  req->handle = (loom_stream_t*) tcp;
  tcp->connect_req = req;
  tcp->loop->active_reqs++;
  if (req->error == 0)
    tcp->flags |= LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE;
  if (req->error != 0)
    loom__io_feed(tcp->loop, &tcp->io);
  else
    loom__io_start(tcp->loop, &tcp->io, POLLOUT);
  return 0;
}


int loom_tcp_nodelay(loom_tcp_t* tcp, int enable) {
  if (tcp_fd(tcp) < 0)
    return LOOM_EBADF;
  if (setsockopt(tcp_fd(tcp), IPPROTO_TCP, TCP_NODELAY, &enable,
                 sizeof(enable)))
    return LOOM__ERR(errno);
  return 0;
}


/* delay is in seconds: the idle time before the first probe. */
int loom_tcp_keepalive(loom_tcp_t* tcp, int enable, unsigned int delay) {
  int fd = tcp_fd(tcp);
  int d = (int) delay;

  if (fd < 0)
    return LOOM_EBADF;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &enable, sizeof(enable)))
    return LOOM__ERR(errno);
  if (!enable)
    return 0;
  if (d < 1)
    return LOOM_EINVAL;
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &d, sizeof(d)))
    return LOOM__ERR(errno);
  if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &d, sizeof(d)))
    return LOOM__ERR(errno);
  return 0;
}


/* A Windows tuning knob in libuv; on Linux every accept is already
 * "simultaneous", so the setting is recorded by doing nothing. */
int loom_tcp_simultaneous_accepts(loom_tcp_t* tcp, int enable) {
  (void) tcp;
  (void) enable;
  return 0;
}


static int sockname(int fd, struct sockaddr* name, int* namelen, int peer) {
  socklen_t len = (socklen_t) *namelen;
  int rc;

  if (fd < 0)
    return LOOM_EBADF;
  rc = peer ? getpeername(fd, name, &len) : getsockname(fd, name, &len);
  if (rc != 0)
    return LOOM__ERR(errno);
  *namelen = (int) len;
  return 0;
}


/* A failure reported later stands for the socket's state until then. */
static int delayed_error(const loom_tcp_t* tcp) {
  if (tcp->flags & LOOM__STREAM_BIND_INUSE)
    return LOOM_EADDRINUSE;
  if (tcp->connect_req != NULL)
    return tcp->connect_req->error;
  return 0;
}


int loom_tcp_getsockname(const loom_tcp_t* tcp, struct sockaddr* name,
                         int* namelen) {
  int err = delayed_error(tcp);

  if (err != 0)
    return err;
  return sockname(tcp_fd(tcp), name, namelen, 0);
}


int loom_tcp_getpeername(const loom_tcp_t* tcp, struct sockaddr* name,
                         int* namelen) {
  int err = delayed_error(tcp);

  if (err != 0)
    return err;
  return sockname(tcp_fd(tcp), name, namelen, 1);
}


int loom_tcp_close_reset(loom_tcp_t* tcp, loom_close_cb close_cb) {
  if (tcp->flags & LOOM__STREAM_SHUTTING)
    return LOOM_EINVAL;
  if (tcp_fd(tcp) < 0)
    return LOOM_EBADF;
  tcp->flags |= LOOM__STREAM_CLOSE_RESET;
  loom_close((loom_handle_t*) tcp, close_cb);
  return 0;
}


int loom_socketpair(int type, int protocol, int fds[2], int flags0,
                    int flags1) {
  int pair[2];
  int err;

  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, protocol, pair) != 0)
    return LOOM__ERR(errno);
  err = (flags0 & LOOM_NONBLOCK_PIPE) ? loom__nonblock(pair[0], 1) : 0;
  if (err == 0 && (flags1 & LOOM_NONBLOCK_PIPE))
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
