/* SPDX-License-Identifier: MIT */
/* dns.c: c-ares channels on the loop, and the life of a query record.
 *
 * c-ares says which of a channel's sockets it wants watched through its
 * socket-state callback; each gets an io watcher in the loop's own poller.
 * One internal timer per channel, re-armed from ares_timeout() after every
 * call into c-ares, drives its retries and timeouts, and delivers the
 * ready queue: results c-ares gave inside the call that started a lookup,
 * and cancellations. So no callback runs inside the call that started it.
 *
 * c-ares frees a query right after calling it back, so ares_cancel and
 * ares_destroy must not run inside one of its callbacks. A resolver
 * closed from a DNS callback (or collected during one) waits for the
 * channel's depth to drop to zero; its queries are already marked
 * cancelled, so no one notices the wait.
 */
#include "dns_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

struct loom__dns_sock_s {
  loom__io_t io;
  loom__dns_sock_t* next;
  loom__dns_t* dns;
};

static int library_ready;
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;

static void dns_settle(loom__dns_t* dns);


int loom__dns_map_ares(int status) {
  switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ENODATA: return LOOM_ENODATA;
    case ARES_EFORMERR: return LOOM_EFORMERR;
    case ARES_ESERVFAIL: return LOOM_ESERVFAIL;
    case ARES_ENOTFOUND: return LOOM_ENOTFOUND;
    case ARES_ENOTIMP: return LOOM_ENOTIMP;
    case ARES_EREFUSED: return LOOM_EREFUSED;
    case ARES_EBADQUERY: return LOOM_EBADQUERY;
    case ARES_EBADNAME: return LOOM_EBADNAME;
    case ARES_EBADFAMILY: return LOOM_EAFNOSUPPORT;
    case ARES_EBADRESP: return LOOM_EBADRESP;
    case ARES_ECONNREFUSED: return LOOM_ECONNREFUSED;
    case ARES_ETIMEOUT: return LOOM_ETIMEDOUT;
    case ARES_EOF: return LOOM_EOF;
    case ARES_ENOMEM: return LOOM_ENOMEM;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return LOOM_ECANCELED;
    default: return LOOM_EBADRESP;
  }
}


/* ---- sockets and the timer ---- */

void loom__dns_io(loom_loop_t* loop, loom__io_t* io, unsigned int events) {
  loom__dns_sock_t* w = loom__queue_data(io, loom__dns_sock_t, io);
  loom__dns_t* dns = w->dns;
  int fd = io->fd;
  (void) loop;

  if (events & LOOM__IO_PENDING)
    return;
  dns->depth++;
  ares_process_fd(dns->channel,
                  events & (POLLIN | POLLERR | POLLHUP) ? fd : ARES_SOCKET_BAD,
                  events & (POLLOUT | POLLERR | POLLHUP) ? fd
                                                         : ARES_SOCKET_BAD);
  dns->depth--;
  dns_settle(dns);
}


static void sock_close(loom__dns_t* dns, loom__dns_sock_t* w) {
  loom__io_close(dns->loop, &w->io);
  free(w);
}


/* c-ares's word on which of its sockets want what. */
static void sock_state(void* data, ares_socket_t fd, int readable,
                       int writable) {
  loom__dns_t* dns = data;
  loom__dns_sock_t** p;
  loom__dns_sock_t* w;

  for (p = &dns->socks; *p != NULL && (*p)->io.fd != fd; p = &(*p)->next)
    ;
  w = *p;
  if (!readable && !writable) {
    if (w != NULL) {
      *p = w->next;
      sock_close(dns, w);
    }
    return;
  }
  if (w == NULL) {
    w = calloc(1, sizeof(*w));
    if (w == NULL)
      return; /* The query times out instead. */
    w->dns = dns;
    loom__io_init(&w->io, LOOM__IO_DNS, fd);
    w->next = dns->socks;
    dns->socks = w;
  }
  loom__io_stop(dns->loop, &w->io, POLLIN | POLLOUT);
  loom__io_start(dns->loop, &w->io,
                 (readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
}


/* c-ares opens and uses its sockets through these. With descriptors
 * exhausted, c-ares itself reports only ECONNREFUSED ("could not contact
 * DNS servers"); seeing socket() fail keeps the real cause, EMFILE, for
 * the caller. Sends use MSG_NOSIGNAL: a DNS server that drops a TCP
 * connection must not raise SIGPIPE in the program. c-ares leaves a
 * socket it did not open itself as it is, so this sets what c-ares
 * would: non-blocking, close-on-exec, the buffer sizes, no Nagle. */
static ares_socket_t dns_socket(int af, int type, int protocol, void* data) {
  loom__dns_t* dns = data;
  int one = 1;
  int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);

  if (fd < 0) {
    dns->socket_errno = errno;
    return ARES_SOCKET_BAD;
  }
  dns->socket_errno = 0;
  if (dns->sndbuf > 0)
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &dns->sndbuf, sizeof(dns->sndbuf));
  if (dns->rcvbuf > 0)
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &dns->rcvbuf, sizeof(dns->rcvbuf));
  if (type == SOCK_STREAM)
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}


static int dns_close(ares_socket_t fd, void* data) {
  (void) data;
  return close(fd);
}


static int dns_connect(ares_socket_t fd, const struct sockaddr* addr,
                       ares_socklen_t len, void* data) {
  (void) data;
  return connect(fd, addr, len);
}


static ares_ssize_t dns_recvfrom(ares_socket_t fd, void* buf, size_t len,
                                 int flags, struct sockaddr* from,
                                 ares_socklen_t* from_len, void* data) {
  (void) data;
  return recvfrom(fd, buf, len, flags, from, from_len);
}


static ares_ssize_t dns_sendv(ares_socket_t fd, const struct iovec* iov,
                              int n, void* data) {
  struct msghdr msg;
  (void) data;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = (struct iovec*) iov;
  msg.msg_iovlen = (size_t) n;
  return sendmsg(fd, &msg, MSG_NOSIGNAL);
}


static const struct ares_socket_functions dns_socket_functions = {
  dns_socket, dns_close, dns_connect, dns_recvfrom, dns_sendv
};


int loom__dns_cause(const loom__dns_t* dns, int status, int mapped) {
  if (status == ARES_ECONNREFUSED && dns->socket_errno != 0)
    return LOOM__ERR(dns->socket_errno);
  return mapped;
}


static void deliver_now(loom__dns_query_t* q);


static void on_timer(loom_timer_t* t) {
  loom__dns_t* dns = loom__queue_data(t, loom__dns_t, timer);
  loom_queue_t* head;

  dns->depth++;
  while (!loom__queue_empty(&dns->ready)) {
    head = loom__queue_head(&dns->ready);
    loom__queue_remove(head);
    deliver_now(loom__queue_data(head, loom__dns_query_t, node));
  }
  if (dns->channel != NULL && !dns->close_pending)
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  dns->depth--;
  dns_settle(dns);
}


/* Runs what waited for depth 0, then keeps the timer on c-ares's next
 * deadline, or on now while results wait. A closed channel with nothing
 * left to deliver is freed here. */
static void dns_settle(loom__dns_t* dns) {
  struct timeval tv;
  struct timeval* next;
  uint64_t ms;

  if (dns->depth > 0 || dns->submitting)
    return;
  if (dns->close_pending && dns->channel != NULL) {
    dns->destroying = 1;
    ares_destroy(dns->channel);
    dns->channel = NULL;
    while (dns->socks != NULL) {
      loom__dns_sock_t* w = dns->socks;
      dns->socks = w->next;
      sock_close(dns, w);
    }
  }
  if (!loom__queue_empty(&dns->ready)) {
    loom_timer_start(&dns->timer, on_timer, 0, 0);
    return;
  }
  if (dns->channel == NULL) {
    loom__dns_channel_free(dns);
    return;
  }
  next = ares_timeout(dns->channel, NULL, &tv);
  if (next == NULL) {
    loom_timer_stop(&dns->timer);
    return;
  }
  ms = (uint64_t) next->tv_sec * 1000 + (uint64_t) (next->tv_usec + 999) / 1000;
  loom_timer_start(&dns->timer, on_timer, ms, 0);
}


/* ---- channels ---- */

static int library_init(void) {
  int status = ARES_SUCCESS;

  pthread_mutex_lock(&library_lock);
  if (!library_ready) {
    status = ares_library_init(ARES_LIB_INIT_ALL);
    library_ready = status == ARES_SUCCESS;
  }
  pthread_mutex_unlock(&library_lock);
  return status == ARES_SUCCESS ? 0 : LOOM_ENOMEM;
}


int loom__dns_channel_new(loom_loop_t* loop, struct ares_options* opts,
                          int optmask, loom__dns_t** out) {
  loom__dns_t* dns;
  int status;
  int err;

  err = library_init();
  if (err != 0)
    return err;
  dns = calloc(1, sizeof(*dns));
  if (dns == NULL)
    return LOOM_ENOMEM;
  opts->sock_state_cb = sock_state;
  opts->sock_state_cb_data = dns;
  status = ares_init_options(&dns->channel, opts,
                             optmask | ARES_OPT_SOCK_STATE_CB);
  if (status != ARES_SUCCESS) {
    free(dns);
    return status == ARES_ENOMEM ? LOOM_ENOMEM : LOOM_EINVAL;
  }
  dns->loop = loop;
  if (optmask & ARES_OPT_SOCK_SNDBUF)
    dns->sndbuf = opts->socket_send_buffer_size;
  if (optmask & ARES_OPT_SOCK_RCVBUF)
    dns->rcvbuf = opts->socket_receive_buffer_size;
  ares_set_socket_functions(dns->channel, &dns_socket_functions, dns);
  loom__queue_init(&dns->ready);
  loom__queue_init(&dns->queries);
  loom__queue_init(&dns->link);
  loom_timer_init(loop, &dns->timer);
  dns->timer.flags |= LOOM__HANDLE_INTERNAL;
  loom_unref((loom_handle_t*) &dns->timer);
  *out = dns;
  return 0;
}


/* Reads "timeout:N" and "attempts:N" from an options list (glibc's
 * resolv.conf words; RES_OPTIONS uses the same). */
static void read_resolver_words(const char* s, int* timeout_s, int* attempts) {
  while (s != NULL && *s != '\0') {
    int n;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
      s++;
    if (*s == '\0')
      break;
    if (sscanf(s, "timeout:%d", &n) == 1 && n >= 0)
      *timeout_s = n > 30 ? 30 : n;          /* glibc's RES_MAXRETRANS */
    else if (sscanf(s, "attempts:%d", &n) == 1 && n >= 0)
      *attempts = n > 5 ? 5 : n;             /* glibc's RES_MAXRETRY */
    while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      s++;
  }
}


/* The system resolver's timeout and attempts, which c-ares 1.18 does not
 * read (it knows only its own retrans:/retry:): with a dead nameserver
 * and "options timeout:1 attempts:2", glibc gives up in 2-3 s while
 * c-ares's defaults wait 75 s. -1 where nothing is set. */
static void system_resolver_options(int* timeout_s, int* attempts) {
  char line[512];
  FILE* f = fopen("/etc/resolv.conf", "re");
  *timeout_s = -1;
  *attempts = -1;
  if (f != NULL) {
    while (fgets(line, sizeof(line), f) != NULL) {
      if (strncmp(line, "options", 7) == 0 && (line[7] == ' ' || line[7] == '\t'))
        read_resolver_words(line + 8, timeout_s, attempts);
    }
    fclose(f);
  }
  read_resolver_words(getenv("RES_OPTIONS"), timeout_s, attempts);
}


int loom__dns_default(loom_loop_t* loop, loom__dns_t** out) {
  struct ares_options opts;
  int optmask = 0;
  int timeout_s, attempts;
  int err;

  if (loop->dns == NULL) {
    memset(&opts, 0, sizeof(opts));
    system_resolver_options(&timeout_s, &attempts);
    if (timeout_s > 0) {
      opts.timeout = timeout_s * 1000;
      optmask |= ARES_OPT_TIMEOUTMS;
    }
    if (attempts > 0) {
      opts.tries = attempts;
      optmask |= ARES_OPT_TRIES;
    }
    err = loom__dns_channel_new(loop, &opts, optmask, &loop->dns);
    if (err != 0)
      return err;
  }
  *out = loop->dns;
  return 0;
}


void loom__dns_channel_free(loom__dns_t* dns) {
  loom_queue_t* head;

  dns->destroying = 1;
  if (dns->channel != NULL)
    ares_destroy(dns->channel); /* every query is freed, no one called */
  while (!loom__queue_empty(&dns->ready)) {
    head = loom__queue_head(&dns->ready);
    loom__queue_remove(head);
    loom__dns_query_free(loom__queue_data(head, loom__dns_query_t, node));
  }
  /* What is left was being called back when the loop was torn down from
   * inside that callback (os.exit): its delivery never returns to free it. */
  while (!loom__queue_empty(&dns->queries)) {
    head = loom__queue_head(&dns->queries);
    loom__dns_query_free(loom__queue_data(head, loom__dns_query_t, link));
  }
  while (dns->socks != NULL) {
    loom__dns_sock_t* w = dns->socks;
    dns->socks = w->next;
    sock_close(dns, w);
  }
  if (dns->owner != NULL)
    dns->owner->dns = NULL;
  loom__queue_remove(&dns->link);
  if (dns->loop->dns == dns)
    dns->loop->dns = NULL;
  loom__handle_detach((loom_handle_t*) &dns->timer);
  free(dns);
}


/* The queries are already marked cancelled. Inside a callback c-ares
 * keeps them until they end on their own (their answers are dropped):
 * an ares_cancel deferred to later would also take queries started after
 * the cancel. */
void loom__dns_channel_cancel(loom__dns_t* dns) {
  if (dns->depth == 0 && !dns->submitting && dns->channel != NULL) {
    dns->depth++;
    ares_cancel(dns->channel);
    dns->depth--;
  }
  dns_settle(dns);
}


void loom__dns_channel_close(loom__dns_t* dns) {
  if (dns->owner != NULL)
    dns->owner->dns = NULL;
  dns->owner = NULL;
  dns->close_pending = 1;
  dns_settle(dns);
}


void loom__dns_submit_begin(loom__dns_t* dns) {
  dns->submitting++;
}


void loom__dns_submit_end(loom__dns_t* dns) {
  dns->submitting--;
  dns_settle(dns);
}


/* The loop is going: every channel goes at once, no one called back. */
void loom__dns_loop_free(loom_loop_t* loop) {
  loom_queue_t* head;

  while (!loom__queue_empty(&loop->dns_resolvers)) {
    head = loom__queue_head(&loop->dns_resolvers);
    loom__dns_channel_free(loom__queue_data(head, loom__dns_t, link));
  }
  if (loop->dns != NULL)
    loom__dns_channel_free(loop->dns);
}


/* ---- query records ---- */

loom__dns_query_t* loom__dns_query_new(loom__dns_t* dns, loom_req_t* req,
                                       void (*deliver)(loom__dns_query_t*)) {
  loom__dns_query_t* q = calloc(1, sizeof(*q));

  if (q == NULL)
    return NULL;
  q->req = req;
  q->dns = dns;
  q->deliver = deliver;
  q->port = -1;
  loom__queue_init(&q->node);
  loom__queue_insert_tail(&dns->queries, &q->link);
  dns->loop->active_reqs++;
  return q;
}


void loom__dns_query_free(loom__dns_query_t* q) {
  if (!q->delivered)
    q->dns->loop->active_reqs--;
  loom__queue_remove(&q->link);
  loom_freeaddrinfo(q->res);
  free(q->host);
  free(q->service);
  free(q->want_canon);
  free(q->answer);
  free(q);
}


/* Calls the caller back once; the record goes now if c-ares is done with
 * it, else when c-ares calls back. */
static void deliver_now(loom__dns_query_t* q) {
  q->queued = 0;
  q->delivered = 1;
  q->dns->loop->active_reqs--;
  q->deliver(q);
  if (q->ares_done)
    loom__dns_query_free(q);
}


int loom__dns_query_wanted(const loom__dns_query_t* q) {
  return !q->delivered && !q->queued && !q->dns->destroying;
}


void loom__dns_query_done(loom__dns_query_t* q) {
  loom__dns_t* dns = q->dns;

  q->ares_done = 1;
  if (dns->destroying || q->delivered) {
    /* Nobody is called; a queued record goes with the queue. */
    if (!q->queued)
      loom__dns_query_free(q);
    return;
  }
  if (q->queued)
    return; /* Cancelled while waiting: the cancellation goes out. */
  if (dns->submitting) {
    q->queued = 1;
    loom__queue_insert_tail(&dns->ready, &q->node);
    return;
  }
  dns->depth++;
  deliver_now(q);
  dns->depth--;
}


void loom__dns_query_mark_failed(loom__dns_query_t* q, int status) {
  free(q->answer);
  q->answer = NULL;
  loom_freeaddrinfo(q->res);
  q->res = NULL;
  q->status = status;
  if (!q->queued) {
    q->queued = 1;
    loom__queue_insert_tail(&q->dns->ready, &q->node);
  }
}


void loom__dns_query_fail(loom__dns_query_t* q, int status) {
  loom__dns_query_mark_failed(q, status);
  dns_settle(q->dns);
}


void loom__dns_query_ready(loom__dns_query_t* q) {
  if (!q->queued) {
    q->queued = 1;
    loom__queue_insert_tail(&q->dns->ready, &q->node);
  }
  dns_settle(q->dns);
}
