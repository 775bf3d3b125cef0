/* SPDX-License-Identifier: MIT */
/* dns.c: getaddrinfo and getnameinfo through c-ares on the loop.
 *
 * The loop's channel is made on the first asynchronous lookup and lives
 * as long as the loop. c-ares says which sockets it wants watched through
 * its socket-state callback; each gets an io watcher in the loop's own
 * poller. One internal timer, re-armed from ares_timeout() after every
 * call into c-ares, drives its retries and timeouts.
 *
 * A lookup is a query record shared by the caller's request and c-ares.
 * c-ares may finish a lookup inside the call that starts it (numeric
 * hosts, /etc/hosts, bad arguments); such results wait in the ready queue
 * and are delivered from the timer on the next pass, so no callback runs
 * inside loom_getaddrinfo. A cancelled lookup is delivered the same way;
 * since c-ares cannot drop one query, the record stays until c-ares is
 * done with it too.
 */
#include "internal.h"

#include <ares.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

typedef struct sock_watch_s {
  loom__io_t io;
  struct sock_watch_s* next;
  struct loom__dns_s* dns;
} sock_watch_t;

struct loom__dns_s {
  ares_channel channel;
  loom_loop_t* loop;
  loom_timer_t timer;       /* internal, unreferenced */
  sock_watch_t* socks;
  loom_queue_t ready;       /* results to deliver on the next pass */
  int submitting;           /* inside an ares_get*info call */
  int destroying;           /* ares_destroy is calling every query back */
};

typedef struct loom__dns_query_s {
  loom_queue_t node;        /* in dns->ready while waiting there */
  loom_req_t* req;
  struct loom__dns_s* dns;
  int status;
  struct addrinfo* res;     /* getaddrinfo's result */
  char* host;               /* getnameinfo's results */
  char* service;
  char* want_canon;         /* AI_CANONNAME: the name asked for */
  int port;                 /* a numeric service, set here; else -1 */
  int ares_done;            /* c-ares called back */
  int queued;               /* in dns->ready */
  int delivered;            /* the caller's callback ran (or never will) */
} query_t;

static int library_ready;
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;

static void dns_rearm(struct loom__dns_s* dns);


/* c-ares statuses as the EAI codes libuv reports. */
static int map_ares_status(int status) {
  switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ENODATA: return LOOM_EAI_NODATA;
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
    case ARES_EBADNAME: return LOOM_EAI_NONAME;
    case ARES_ESERVICE: return LOOM_EAI_SERVICE;
    case ARES_EBADFAMILY: return LOOM_EAI_FAMILY;
    case ARES_EBADFLAGS: return LOOM_EAI_BADFLAGS;
    case ARES_ENOMEM: return LOOM_EAI_MEMORY;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return LOOM_EAI_CANCELED;
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
    case ARES_EREFUSED: return LOOM_EAI_AGAIN;
    default: return LOOM_EAI_FAIL;
  }
}


/* getaddrinfo(3)'s codes as loom's. */
static int map_gai_status(int status) {
  switch (status) {
    case 0: return 0;
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return LOOM_EAI_ADDRFAMILY;
#endif
    case EAI_AGAIN: return LOOM_EAI_AGAIN;
    case EAI_BADFLAGS: return LOOM_EAI_BADFLAGS;
    case EAI_FAIL: return LOOM_EAI_FAIL;
    case EAI_FAMILY: return LOOM_EAI_FAMILY;
    case EAI_MEMORY: return LOOM_EAI_MEMORY;
#ifdef EAI_NODATA
    case EAI_NODATA: return LOOM_EAI_NODATA;
#endif
    case EAI_NONAME: return LOOM_EAI_NONAME;
    case EAI_OVERFLOW: return LOOM_EAI_OVERFLOW;
    case EAI_SERVICE: return LOOM_EAI_SERVICE;
    case EAI_SOCKTYPE: return LOOM_EAI_SOCKTYPE;
    case EAI_SYSTEM: return LOOM__ERR(errno);
    default: return LOOM_EAI_FAIL;
  }
}


void loom_freeaddrinfo(struct addrinfo* ai) {
  struct addrinfo* next;

  for (; ai != NULL; ai = next) {
    next = ai->ai_next;
    free(ai);
  }
}


/* One result node in one allocation: the node, its address, its name. */
static struct addrinfo* node_new(int family, int socktype, int protocol,
                                 const struct sockaddr* addr,
                                 socklen_t addrlen, const char* canonname) {
  size_t name_len = canonname != NULL ? strlen(canonname) + 1 : 0;
  struct addrinfo* ai = calloc(1, sizeof(*ai) + addrlen + name_len);

  if (ai == NULL)
    return NULL;
  ai->ai_family = family;
  ai->ai_socktype = socktype;
  ai->ai_protocol = protocol;
  ai->ai_addrlen = addrlen;
  ai->ai_addr = (struct sockaddr*) (ai + 1);
  memcpy(ai->ai_addr, addr, addrlen);
  if (canonname != NULL) {
    ai->ai_canonname = (char*) ai->ai_addr + addrlen;
    memcpy(ai->ai_canonname, canonname, name_len);
  }
  return ai;
}


/* Copies a getaddrinfo(3) result into loom's own allocation. */
static int copy_libc_result(const struct addrinfo* src, struct addrinfo** out) {
  struct addrinfo* head = NULL;
  struct addrinfo** tail = &head;

  for (; src != NULL; src = src->ai_next) {
    *tail = node_new(src->ai_family, src->ai_socktype, src->ai_protocol,
                     src->ai_addr, src->ai_addrlen, src->ai_canonname);
    if (*tail == NULL) {
      loom_freeaddrinfo(head);
      return LOOM_EAI_MEMORY;
    }
    tail = &(*tail)->ai_next;
  }
  *out = head;
  return 0;
}


/* Converts c-ares's result. A node without a socket type stands for all
 * three, as getaddrinfo(3) lists them: stream/tcp, dgram/udp, raw. */
static void set_port(struct addrinfo* ai, int port) {
  if (ai->ai_family == AF_INET)
    ((struct sockaddr_in*) ai->ai_addr)->sin_port = htons((uint16_t) port);
  else if (ai->ai_family == AF_INET6)
    ((struct sockaddr_in6*) ai->ai_addr)->sin6_port = htons((uint16_t) port);
}


static int copy_ares_result(const struct ares_addrinfo* src,
                            const char* want_canon, int port,
                            struct addrinfo** out) {
  static const int kinds[3][2] = {{SOCK_STREAM, IPPROTO_TCP},
                                  {SOCK_DGRAM, IPPROTO_UDP},
                                  {SOCK_RAW, 0}};
  struct addrinfo* head = NULL;
  struct addrinfo** tail = &head;
  const struct ares_addrinfo_node* n;
  const char* canon = NULL;
  int i, first, count;

  if (want_canon) {
    const struct ares_addrinfo_cname* c;
    for (c = src->cnames; c != NULL; c = c->next)
      canon = c->name;
    if (canon == NULL)
      canon = src->name;
    if (canon == NULL)
      canon = want_canon; /* a numeric host names itself */
  }
  for (n = src->nodes; n != NULL; n = n->ai_next) {
    first = n->ai_socktype == 0 ? 0 : -1;
    count = n->ai_socktype == 0 ? 3 : 1;
    for (i = 0; i < count; i++) {
      int type = first < 0 ? n->ai_socktype : kinds[i][0];
      int proto = first < 0 ? n->ai_protocol : kinds[i][1];
      /* c-ares leaves the protocol 0 where getaddrinfo(3) names it. */
      if (proto == 0 && type == SOCK_STREAM) proto = IPPROTO_TCP;
      if (proto == 0 && type == SOCK_DGRAM) proto = IPPROTO_UDP;
      *tail = node_new(n->ai_family, type, proto, n->ai_addr, n->ai_addrlen,
                       head == NULL ? canon : NULL);
      if (*tail == NULL) {
        loom_freeaddrinfo(head);
        return LOOM_EAI_MEMORY;
      }
      if (port >= 0)
        set_port(*tail, port);
      tail = &(*tail)->ai_next;
    }
  }
  *out = head;
  return head != NULL ? 0 : LOOM_EAI_NODATA;
}


/* ---- the channel and its sockets ---- */

static void sock_io(loom_loop_t* loop, loom__io_t* io, unsigned int events) {
  sock_watch_t* w = loom__queue_data(io, sock_watch_t, io);
  struct loom__dns_s* dns = w->dns;
  int fd = io->fd;
  (void) loop;

  if (events & LOOM__IO_PENDING)
    return;
  ares_process_fd(dns->channel,
                  events & (POLLIN | POLLERR | POLLHUP) ? fd : ARES_SOCKET_BAD,
                  events & (POLLOUT | POLLERR | POLLHUP) ? fd
                                                         : ARES_SOCKET_BAD);
  dns_rearm(dns);
}


/* c-ares's word on which of its sockets want what. */
static void sock_state(void* data, ares_socket_t fd, int readable,
                       int writable) {
  struct loom__dns_s* dns = data;
  sock_watch_t** p;
  sock_watch_t* w;

  for (p = &dns->socks; *p != NULL && (*p)->io.fd != fd; p = &(*p)->next)
    ;
  w = *p;
  if (!readable && !writable) {
    if (w != NULL) {
      *p = w->next;
      loom__io_close(dns->loop, &w->io);
      free(w);
    }
    return;
  }
  if (w == NULL) {
    w = calloc(1, sizeof(*w));
    if (w == NULL)
      return; /* The query times out instead. */
    w->dns = dns;
    loom__io_init(&w->io, sock_io, fd);
    w->next = dns->socks;
    dns->socks = w;
  }
  loom__io_stop(dns->loop, &w->io, POLLIN | POLLOUT);
  loom__io_start(dns->loop, &w->io,
                 (readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
}


static void deliver(query_t* q);


static void on_timer(loom_timer_t* t) {
  struct loom__dns_s* dns = loom__queue_data(t, struct loom__dns_s, timer);
  loom_queue_t* head;

  /* Results that came in while being started, and cancellations. */
  while (!loom__queue_empty(&dns->ready)) {
    head = loom__queue_head(&dns->ready);
    loom__queue_remove(head);
    deliver(loom__queue_data(head, query_t, node));
  }
  ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  dns_rearm(dns);
}


/* Keeps the timer on c-ares's next deadline, or on now while results
 * wait to be delivered. */
static void dns_rearm(struct loom__dns_s* dns) {
  struct timeval tv;
  struct timeval* next;
  uint64_t ms;

  if (!loom__queue_empty(&dns->ready)) {
    loom_timer_start(&dns->timer, on_timer, 0, 0);
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


static int library_init(void) {
  int status = ARES_SUCCESS;

  pthread_mutex_lock(&library_lock);
  if (!library_ready) {
    status = ares_library_init(ARES_LIB_INIT_ALL);
    library_ready = status == ARES_SUCCESS;
  }
  pthread_mutex_unlock(&library_lock);
  return status == ARES_SUCCESS ? 0 : LOOM_EAI_MEMORY;
}


static int dns_get(loom_loop_t* loop, struct loom__dns_s** out) {
  struct ares_options opts;
  struct loom__dns_s* dns = loop->dns;
  int err;

  if (dns == NULL) {
    err = library_init();
    if (err != 0)
      return err;
    dns = calloc(1, sizeof(*dns));
    if (dns == NULL)
      return LOOM_EAI_MEMORY;
    memset(&opts, 0, sizeof(opts));
    opts.sock_state_cb = sock_state;
    opts.sock_state_cb_data = dns;
    if (ares_init_options(&dns->channel, &opts, ARES_OPT_SOCK_STATE_CB) !=
        ARES_SUCCESS) {
      free(dns);
      return LOOM_EAI_MEMORY;
    }
    dns->loop = loop;
    loom__queue_init(&dns->ready);
    loom_timer_init(loop, &dns->timer);
    dns->timer.flags |= LOOM__HANDLE_INTERNAL;
    loom_unref((loom_handle_t*) &dns->timer);
    loop->dns = dns;
  }
  *out = dns;
  return 0;
}


static void query_free(query_t* q) {
  loom_freeaddrinfo(q->res);
  free(q->host);
  free(q->service);
  free(q->want_canon);
  free(q);
}


/* Calls the caller back once, unless the query was cancelled after its
 * cancellation was delivered. */
static void deliver(query_t* q) {
  loom_req_t* req = q->req;
  loom_loop_t* loop = q->dns->loop;

  q->queued = 0;
  q->delivered = 1;
  loop->active_reqs--;
  if (req->type == LOOM_GETADDRINFO) {
    loom_getaddrinfo_t* r = (loom_getaddrinfo_t*) req;
    struct addrinfo* res = q->res;
    int status = q->status;
    q->res = NULL;
    r->query = NULL;
    if (q->ares_done)
      query_free(q);
    r->cb(r, status, res);
  } else {
    loom_getnameinfo_t* r = (loom_getnameinfo_t*) req;
    int status = q->status;
    r->query = NULL;
    /* The strings go to the callback from the record, freed after. */
    r->cb(r, status, status == 0 ? q->host : NULL,
          status == 0 ? q->service : NULL);
    if (q->ares_done)
      query_free(q);
  }
}


/* The common end of both c-ares callbacks: deliver now, or later when
 * c-ares answered inside the starting call. */
static void query_done(query_t* q) {
  struct loom__dns_s* dns = q->dns;

  q->ares_done = 1;
  if (dns->destroying || q->delivered) {
    /* Nobody is called; a queued record goes with the queue. */
    if (!q->queued)
      query_free(q);
    return;
  }
  if (q->queued)
    return; /* Cancelled while waiting: the cancellation goes out. */
  if (dns->submitting) {
    q->queued = 1;
    loom__queue_insert_tail(&dns->ready, &q->node);
    return;
  }
  deliver(q);
}


static void on_addrinfo(void* arg, int status, int timeouts,
                        struct ares_addrinfo* result) {
  query_t* q = arg;
  (void) timeouts;

  if (!q->delivered && !q->queued && !q->dns->destroying) {
    q->status = map_ares_status(status);
    if (q->status == 0)
      q->status = copy_ares_result(result, q->want_canon, q->port,
                                   &q->res);
  }
  ares_freeaddrinfo(result);
  query_done(q);
}


static void on_nameinfo(void* arg, int status, int timeouts, char* node,
                        char* service) {
  query_t* q = arg;
  (void) timeouts;

  if (!q->delivered && !q->queued && !q->dns->destroying) {
    q->status = map_ares_status(status);
    if (q->status == 0) {
      q->host = strdup(node != NULL ? node : "");
      q->service = strdup(service != NULL ? service : "");
      if (q->host == NULL || q->service == NULL)
        q->status = LOOM_EAI_MEMORY;
    }
  }
  query_done(q);
}


static query_t* query_new(struct loom__dns_s* dns, loom_req_t* req) {
  query_t* q = calloc(1, sizeof(*q));

  if (q == NULL)
    return NULL;
  q->req = req;
  q->dns = dns;
  q->port = -1;
  loom__queue_init(&q->node);
  dns->loop->active_reqs++;
  return q;
}


/* The port a service string names by number, or -1. */
static int numeric_port(const char* service) {
  long port = 0;
  const char* p;

  if (service == NULL || *service == '\0')
    return -1;
  for (p = service; *p != '\0'; p++) {
    if (*p < '0' || *p > '9' || p - service >= 5)
      return -1;
    port = port * 10 + (*p - '0');
  }
  return port <= 65535 ? (int) port : -1;
}


int loom_getaddrinfo(loom_loop_t* loop, loom_getaddrinfo_t* req,
                     loom_getaddrinfo_cb cb, const char* node,
                     const char* service, const struct addrinfo* hints) {
  struct ares_addrinfo_hints ah;
  struct loom__dns_s* dns;
  struct addrinfo* res;
  query_t* q;
  int err;

  if (node == NULL && service == NULL)
    return LOOM_EINVAL;
  req->type = LOOM_GETADDRINFO;
  req->loop = loop;
  req->cb = cb;
  req->res = NULL;
  req->query = NULL;
  if (cb == NULL) {
    err = map_gai_status(getaddrinfo(node, service, hints, &res));
    if (err != 0)
      return err;
    err = copy_libc_result(res, &req->res);
    freeaddrinfo(res);
    return err;
  }
  err = dns_get(loop, &dns);
  if (err != 0)
    return err;
  q = query_new(dns, (loom_req_t*) req);
  if (q == NULL)
    return LOOM_EAI_MEMORY;
  memset(&ah, 0, sizeof(ah));
  if (hints != NULL) {
    ah.ai_family = hints->ai_family;
    ah.ai_socktype = hints->ai_socktype;
    ah.ai_protocol = hints->ai_protocol;
    ah.ai_flags = hints->ai_flags;
    if ((hints->ai_flags & AI_CANONNAME) && node != NULL) {
      q->want_canon = strdup(node);
      if (q->want_canon == NULL) {
        loop->active_reqs--;
        free(q);
        return LOOM_EAI_MEMORY;
      }
    }
  }
  /* c-ares 1.18 cannot look up a service without a host (it reads the
   * name): use the address getaddrinfo(3) would give, the wildcard for
   * a passive lookup and loopback otherwise (IPv4 unless IPv6 is asked). */
  if (node == NULL) {
    int v6 = hints != NULL && hints->ai_family == AF_INET6;
    if (hints != NULL && (hints->ai_flags & AI_PASSIVE))
      node = v6 ? "::" : "0.0.0.0";
    else
      node = v6 ? "::1" : "127.0.0.1";
  }
  /* A numeric port is set on the results here: c-ares 1.18 would scan
   * /etc/services for it on every lookup. */
  q->port = numeric_port(service);
  if (q->port >= 0)
    service = NULL;
  req->query = q;
  dns->submitting = 1;
  ares_getaddrinfo(dns->channel, node, service, &ah, on_addrinfo, q);
  dns->submitting = 0;
  dns_rearm(dns);
  return 0;
}


/* getnameinfo(3)'s flags as c-ares's. */
static int map_ni_flags(int flags) {
  int f = ARES_NI_LOOKUPHOST | ARES_NI_LOOKUPSERVICE;

  if (flags & NI_NAMEREQD) f |= ARES_NI_NAMEREQD;
  if (flags & NI_NUMERICHOST) f |= ARES_NI_NUMERICHOST;
  if (flags & NI_NUMERICSERV) f |= ARES_NI_NUMERICSERV;
  if (flags & NI_DGRAM) f |= ARES_NI_DGRAM;
  if (flags & NI_NOFQDN) f |= ARES_NI_NOFQDN;
  return f;
}


int loom_getnameinfo(loom_loop_t* loop, loom_getnameinfo_t* req,
                     loom_getnameinfo_cb cb, const struct sockaddr* addr,
                     int flags) {
  struct loom__dns_s* dns;
  socklen_t len;
  query_t* q;
  int err;

  if (addr->sa_family == AF_INET)
    len = sizeof(struct sockaddr_in);
  else if (addr->sa_family == AF_INET6)
    len = sizeof(struct sockaddr_in6);
  else
    return LOOM_EAI_FAMILY;
  req->type = LOOM_GETNAMEINFO;
  req->loop = loop;
  req->cb = cb;
  req->query = NULL;
  req->host[0] = '\0';
  req->service[0] = '\0';
  if (cb == NULL)
    return map_gai_status(getnameinfo(addr, len, req->host, sizeof(req->host),
                                      req->service, sizeof(req->service),
                                      flags));
  err = dns_get(loop, &dns);
  if (err != 0)
    return err;
  q = query_new(dns, (loom_req_t*) req);
  if (q == NULL)
    return LOOM_EAI_MEMORY;
  req->query = q;
  dns->submitting = 1;
  ares_getnameinfo(dns->channel, addr, len, map_ni_flags(flags), on_nameinfo,
                   q);
  dns->submitting = 0;
  dns_rearm(dns);
  return 0;
}


int loom_dns_cancel(loom_req_t* req) {
  query_t* q;

  if (req->type == LOOM_GETADDRINFO)
    q = ((loom_getaddrinfo_t*) req)->query;
  else if (req->type == LOOM_GETNAMEINFO)
    q = ((loom_getnameinfo_t*) req)->query;
  else
    return LOOM_EINVAL;
  if (q == NULL || q->delivered)
    return LOOM_EINVAL;
  if (q->queued && q->status == LOOM_EAI_CANCELED)
    return 0;
  loom_freeaddrinfo(q->res);
  q->res = NULL;
  q->status = LOOM_EAI_CANCELED;
  if (!q->queued) {
    q->queued = 1;
    loom__queue_insert_tail(&q->dns->ready, &q->node);
  }
  dns_rearm(q->dns);
  return 0;
}


/* The loop is going: c-ares calls back every query still in flight
 * (freed, no one called), then the ones waiting for delivery go. */
void loom__dns_loop_free(loom_loop_t* loop) {
  struct loom__dns_s* dns = loop->dns;
  loom_queue_t* head;
  sock_watch_t* w;
  query_t* q;

  if (dns == NULL)
    return;
  dns->destroying = 1;
  ares_destroy(dns->channel);
  while (!loom__queue_empty(&dns->ready)) {
    head = loom__queue_head(&dns->ready);
    loom__queue_remove(head);
    q = loom__queue_data(head, query_t, node);
    query_free(q);
  }
  while ((w = dns->socks) != NULL) {
    dns->socks = w->next;
    loom__io_close(loop, &w->io);
    free(w);
  }
  loom__handle_detach((loom_handle_t*) &dns->timer);
  free(dns);
  loop->dns = NULL;
}
