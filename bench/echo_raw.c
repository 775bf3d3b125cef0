/* SPDX-License-Identifier: MIT */
/* echo_raw.c: the ceiling for the echo benchmarks: a single-threaded
 * epoll echo server in plain C with no library at all.
 *
 *   echo_raw tcp PORT      echo every byte back on each connection
 *   echo_raw udp PORT      echo every datagram back (recvmmsg/sendmmsg)
 *
 * Prints "ready" once listening, runs until killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64


static int listen_socket(int type, int port) {
  struct sockaddr_in a;
  int on = 1;
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short) port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(fd, (struct sockaddr*) &a, sizeof(a)) != 0) {
    perror("bind");
    exit(1);
  }
  if (type == SOCK_STREAM && listen(fd, 1024) != 0) {
    perror("listen");
    exit(1);
  }
  return fd;
}


static void serve_tcp(int port) {
  static char buf[65536];
  struct epoll_event evs[256];
  struct epoll_event ev;
  int ep = epoll_create1(0);
  int lfd = listen_socket(SOCK_STREAM, port);
  int n;
  int i;

  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  puts("ready");
  fflush(stdout);
  for (;;) {
    n = epoll_wait(ep, evs, 256, -1);
    for (i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r > 0) {
          /* Small echoes always fit the socket buffer; a short write
           * would only happen under a misbehaving client. */
          ssize_t off = 0;
          while (off < r) {
            ssize_t w = send(fd, buf + off, (size_t) (r - off), MSG_NOSIGNAL);
            if (w <= 0)
              break;
            off += w;
          }
          if (r < (ssize_t) sizeof(buf))
            break;
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR))
          close(fd);
        break;
      }
    }
  }
}


static void serve_udp(int port) {
  static char bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in addrs[BATCH];
  struct epoll_event ev;
  int ep = epoll_create1(0);
  int fd = listen_socket(SOCK_DGRAM, port);
  int i;
  int n;

  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  puts("ready");
  fflush(stdout);
  for (;;) {
    if (epoll_wait(ep, &ev, 1, -1) <= 0)
      continue;
    for (;;) {
      for (i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof(bufs[i]);
        memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
      }
      n = recvmmsg(fd, msgs, BATCH, 0, NULL);
      if (n <= 0)
        break;
      for (i = 0; i < n; i++)
        iov[i].iov_len = msgs[i].msg_len;
      sendmmsg(fd, msgs, (unsigned int) n, 0);
    }
  }
}


int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: echo_raw tcp|udp PORT\n");
    return 2;
  }
  if (strcmp(argv[1], "tcp") == 0)
    serve_tcp(atoi(argv[2]));
  else
    serve_udp(atoi(argv[2]));
  return 0;
}
