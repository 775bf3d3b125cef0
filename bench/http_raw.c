/* bench/http_raw.c PORT: the ceiling for the HTTP rows. One thread,
 * epoll, non-blocking sockets; for every request head (up to an empty
 * line) in what it reads it sends one fixed keep-alive response, with
 * no parsing beyond finding the ends. Prints "ready". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char response[] =
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
  "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\nhello world\n";

/* The tail of an unfinished head ("\r\n\r" at most) per descriptor. */
static int tail[65536];

static int count_heads(int fd, const char* buf, long n) {
  int state = tail[fd], heads = 0;
  static const char end[] = "\r\n\r\n";
  for (long i = 0; i < n; i++) {
    if (buf[i] == end[state]) {
      if (++state == 4) {
        heads++;
        state = 0;
      }
    } else {
      state = buf[i] == '\r' ? 1 : 0;
    }
  }
  tail[fd] = state;
  return heads;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1, ep = epoll_create1(0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  struct epoll_event ev = {.events = EPOLLIN}, events[256];
  static char buf[65536], out[65536];

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr*) &addr, sizeof(addr)) < 0 || listen(lfd, 4096) < 0) {
    perror("listen");
    return 1;
  }
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= 65536) { close(c); continue; }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          tail[c] = 0;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      long r = read(fd, buf, sizeof(buf));
      if (r <= 0) {
        close(fd);
        continue;
      }
      int heads = count_heads(fd, buf, r);
      size_t len = 0;
      while (heads-- > 0 && len + sizeof(response) < sizeof(out)) {
        memcpy(out + len, response, sizeof(response) - 1);
        len += sizeof(response) - 1;
      }
      if (len > 0 && write(fd, out, len) < 0)
        close(fd);
    }
  }
}
