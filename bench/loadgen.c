/* SPDX-License-Identifier: MIT */
/* loadgen.c: the project's load generator for the echo benchmarks: one
 * thread, epoll, closed loop (a message goes out only when one came back).
 *
 *   loadgen tcp PORT CONNS PIPELINE SECONDS
 *       CONNS connections to 127.0.0.1:PORT, each keeping PIPELINE 64-byte
 *       messages in flight. Prints "rps N".
 *   loadgen udp PORT SOCKETS WINDOW SECONDS
 *       SOCKETS connected UDP sockets, each keeping WINDOW 64-byte
 *       datagrams in flight (lost ones are replaced after 50 ms).
 *   loadgen idle PORT CONNS SECONDS
 *       opens CONNS connections, prints "ready", holds them SECONDS.
 *
 * The first half second is warm-up and not counted. With
 * LOADGEN_LATENCY=1 and one message in flight per connection, a second
 * line "lat P50 P99" gives round-trip percentiles in microseconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

typedef struct {
  int fd;
  size_t partial;     /* bytes of the current reply already received */
  double last_reply;  /* for udp loss recovery */
  double sent_at;     /* when the message in flight went out (tcp, 1 in flight) */
} conn_t;

/* Round-trip times in microseconds (tcp with one message in flight per
 * connection), for the p50/p99 that LOADGEN_LATENCY=1 prints. */
#define LAT_MAX_US 200000
static unsigned int latency_us[LAT_MAX_US + 1];

static void record_latency(double seconds) {
  long us = (long) (seconds * 1e6);
  latency_us[us < 0 ? 0 : us > LAT_MAX_US ? LAT_MAX_US : us]++;
}

static long latency_percentile(unsigned long long total, double q) {
  unsigned long long want = (unsigned long long) ((double) total * q);
  unsigned long long seen = 0;
  long us;

  for (us = 0; us <= LAT_MAX_US; us++) {
    seen += latency_us[us];
    if (seen > want)
      return us;
  }
  return LAT_MAX_US;
}


static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static int connect_to(int type, int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, type, 0);
  int on = 1;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short) port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr*) &a, sizeof(a)) != 0) {
    perror("connect");
    exit(1);
  }
  if (type == SOCK_STREAM)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}


static void send_msgs(int fd, int count) {
  static char out[MSG * 1024];
  size_t len = (size_t) count * MSG;
  size_t off = 0;

  memset(out, 'm', sizeof(out));
  while (off < len) {
    ssize_t w = send(fd, out + off, len - off, MSG_NOSIGNAL);
    if (w <= 0) {
      if (w < 0 && errno == EINTR)
        continue;
      perror("send");
      exit(1);
    }
    off += (size_t) w;
  }
}


#define UDP_BATCH 64

static int recv_batch(int fd) {
  static char bufs[UDP_BATCH][MSG * 2];
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];
  int i;

  memset(msgs, 0, sizeof(msgs));
  for (i = 0; i < UDP_BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = sizeof(bufs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  return recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
}


static void send_batch(int fd, int count) {
  static char out[MSG];
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov;
  int i;

  memset(out, 'm', sizeof(out));
  iov.iov_base = out;
  iov.iov_len = MSG;
  memset(msgs, 0, sizeof(msgs));
  for (i = 0; i < count; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  sendmmsg(fd, msgs, (unsigned int) count, MSG_DONTWAIT);
}


static void run(int type, int port, int nconns, int inflight,
                double seconds) {
  static char buf[65536];
  struct epoll_event evs[512];
  struct epoll_event ev;
  conn_t* conns = calloc((size_t) nconns, sizeof(*conns));
  int ep = epoll_create1(0);
  double start, measure_from, end, t;
  unsigned long long counted = 0;
  int i, n, k;

  for (i = 0; i < nconns; i++) {
    conns[i].fd = connect_to(type, port);
    ev.events = EPOLLIN;
    ev.data.u32 = (uint32_t) i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  start = now();
  measure_from = start + 0.5;
  end = measure_from + seconds;
  for (i = 0; i < nconns; i++) {
    conns[i].last_reply = start;
    conns[i].sent_at = start;
    if (type == SOCK_STREAM) {
      send_msgs(conns[i].fd, inflight);
    } else {
      for (k = 0; k < inflight; k++)
        send_msgs(conns[i].fd, 1);
    }
  }
  while ((t = now()) < end) {
    n = epoll_wait(ep, evs, 512, 10);
    t = now();
    for (i = 0; i < n; i++) {
      conn_t* c = &conns[evs[i].data.u32];
      ssize_t r;
      if (type == SOCK_STREAM) {
        r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r <= 0)
          continue;
        c->partial += (size_t) r;
        k = (int) (c->partial / MSG);
        c->partial %= MSG;
        if (k > 0) {
          if (t >= measure_from) {
            counted += (unsigned long long) k;
            if (inflight == 1)
              record_latency(t - c->sent_at);
          }
          c->sent_at = t;
          send_msgs(c->fd, k);
        }
      } else {
        /* Batched both ways (recvmmsg, sendmmsg), so that the client
         * spends as little as possible per datagram. */
        int got = recv_batch(c->fd);
        if (got > 0) {
          c->last_reply = t;
          if (t >= measure_from)
            counted += (unsigned long long) got;
          send_batch(c->fd, got);
        }
      }
    }
    if (type == SOCK_DGRAM) {
      /* A socket silent for 50 ms lost its datagrams: refill its window. */
      for (i = 0; i < nconns; i++) {
        if (t - conns[i].last_reply > 0.05) {
          conns[i].last_reply = t;
          for (k = 0; k < inflight; k++)
            send_msgs(conns[i].fd, 1);
        }
      }
    }
  }
  printf("rps %.0f\n", (double) counted / seconds);
  if (getenv("LOADGEN_LATENCY") != NULL && type == SOCK_STREAM && inflight == 1)
    printf("lat %ld %ld\n", latency_percentile(counted, 0.5),
           latency_percentile(counted, 0.99));
  for (i = 0; i < nconns; i++)
    close(conns[i].fd);
  free(conns);
}


static void idle(int port, int nconns, double seconds) {
  int* fds = calloc((size_t) nconns, sizeof(int));
  int i;

  for (i = 0; i < nconns; i++)
    fds[i] = connect_to(SOCK_STREAM, port);
  /* One round trip on the last connection: the server has accepted all
   * the earlier ones by the time it answers. */
  send_msgs(fds[nconns - 1], 1);
  {
    char b[MSG];
    size_t got = 0;
    while (got < MSG) {
      ssize_t r = recv(fds[nconns - 1], b, sizeof(b), 0);
      if (r <= 0)
        break;
      got += (size_t) r;
    }
  }
  printf("ready\n");
  fflush(stdout);
  usleep((useconds_t) (seconds * 1e6));
  for (i = 0; i < nconns; i++)
    close(fds[i]);
  free(fds);
}


int main(int argc, char** argv) {
  if (argc >= 6 && strcmp(argv[1], "tcp") == 0)
    run(SOCK_STREAM, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
        atof(argv[5]));
  else if (argc >= 6 && strcmp(argv[1], "udp") == 0)
    run(SOCK_DGRAM, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
        atof(argv[5]));
  else if (argc >= 5 && strcmp(argv[1], "idle") == 0)
    idle(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
  else {
    fprintf(stderr, "usage: loadgen tcp|udp PORT CONNS INFLIGHT SECONDS\n"
                    "       loadgen idle PORT CONNS SECONDS\n");
    return 2;
  }
  return 0;
}
