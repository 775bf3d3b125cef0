/* SPDX-License-Identifier: MIT */
/* fd.c: small helpers every fd-owning handle needs (flags, sockets that
 * are non-blocking and close-on-exec from birth, closing without losing
 * errno to EINTR), and the loop's read buffer. */
#include "internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>


static int set_fl(int fd, int get, int setcmd, int bit, int on) {
  int flags = fcntl(fd, get);
  int want;

  if (flags < 0)
    return LOOM__ERR(errno);
  want = on ? (flags | bit) : (flags & ~bit);
  if (want != flags && fcntl(fd, setcmd, want) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom__nonblock(int fd, int set) {
  return set_fl(fd, F_GETFL, F_SETFL, O_NONBLOCK, set);
}


int loom__cloexec(int fd, int set) {
  return set_fl(fd, F_GETFD, F_SETFD, FD_CLOEXEC, set);
}


int loom__socket(int domain, int type, int protocol) {
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  return fd < 0 ? LOOM__ERR(errno) : fd;
}


/* Linux closes the fd even when close() reports EINTR, so retrying would
 * close someone else's fd; the error is reported, never retried. */
int loom__close(int fd) {
  int saved = errno;
  int rc = close(fd);
  int err = rc != 0 && errno != EINTR && errno != EINPROGRESS
                ? LOOM__ERR(errno) : 0;
  errno = saved;
  return err;
}


int loom__sockaddr_len(const struct sockaddr* addr) {
  switch (addr->sa_family) {
    case AF_INET: return sizeof(struct sockaddr_in);
    case AF_INET6: return sizeof(struct sockaddr_in6);
    case AF_UNIX: return sizeof(struct sockaddr_un);
    default: return 0;
  }
}


/* Streams and udp sockets read into one buffer per loop: a read callback
 * consumes the bytes before the loop reads again. */
char* loom__read_buf(loom_loop_t* loop, size_t size) {
  if (size < LOOM__READ_BUF_SIZE)
    size = LOOM__READ_BUF_SIZE;
  if (loop->read_buf_size < size) {
    char* buf = realloc(loop->read_buf, size);
    if (buf == NULL)
      return NULL;
    loop->read_buf = buf;
    loop->read_buf_size = size;
  }
  return loop->read_buf;
}
