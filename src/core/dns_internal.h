/* SPDX-License-Identifier: MIT */
/* dns_internal.h: what the DNS files share. A channel is one c-ares
 * channel with the loop-side machinery it needs (socket watchers, a
 * timer, a ready queue); the loop has one for getaddrinfo/getnameinfo and
 * every resolver has its own. A query is the record shared by a caller's
 * request and c-ares while a lookup is in flight.
 */
#ifndef LOOM_DNS_INTERNAL_H
#define LOOM_DNS_INTERNAL_H

#include "internal.h"

#include <ares.h>

typedef struct loom__dns_sock_s loom__dns_sock_t;
typedef struct loom__dns_query_s loom__dns_query_t;

typedef struct loom__dns_s {
  ares_channel channel;     /* NULL once a closed resolver destroyed it */
  loom_loop_t* loop;
  loom_timer_t timer;       /* internal, unreferenced */
  loom__dns_sock_t* socks;
  loom_queue_t ready;       /* results to deliver on the next pass */
  loom_queue_t queries;     /* every query record not yet freed */
  loom_queue_t link;        /* in loop->dns_resolvers (resolvers only) */
  loom_resolver_t* owner;   /* the resolver, until it is closed */
  int depth;                /* inside a c-ares call or a delivery pass */
  int submitting;           /* inside a call that starts a lookup */
  int destroying;           /* ares_destroy is calling every query back */
  int close_pending;        /* ares_destroy waits for depth 0 */
  int socket_errno;         /* why the last socket() failed; 0 after one worked */
  int sndbuf, rcvbuf;       /* SO_SNDBUF, SO_RCVBUF for its sockets, or 0 */
} loom__dns_t;

struct loom__dns_query_s {
  loom_queue_t node;        /* in dns->ready while waiting there */
  loom_queue_t link;        /* in dns->queries */
  loom_req_t* req;
  loom__dns_t* dns;
  /* Calls the caller back with the record's results (dns.c has done the
   * bookkeeping and frees the record after, once c-ares is done too). */
  void (*deliver)(loom__dns_query_t* q);
  int status;
  struct addrinfo* res;     /* getaddrinfo's result */
  char* host;               /* getnameinfo's results */
  char* service;
  char* want_canon;         /* AI_CANONNAME: the name asked for */
  int port;                 /* a numeric service, set here; else -1 */
  unsigned char* answer;    /* a resolver query's reply */
  int answer_len;
  int ares_done;            /* c-ares called back */
  int queued;               /* in dns->ready */
  int delivered;            /* the caller's callback ran (or never will) */
};

/* A channel with these options (the socket-state callback is added). */
int loom__dns_channel_new(loom_loop_t* loop, struct ares_options* opts,
                          int optmask, loom__dns_t** out);
/* The loop's own channel, made on first use. */
int loom__dns_default(loom_loop_t* loop, loom__dns_t** out);
/* Frees a channel at once: c-ares calls back no one, nothing is
 * delivered. For teardown and for a resolver that failed to start. */
void loom__dns_channel_free(loom__dns_t* dns);

loom__dns_query_t* loom__dns_query_new(loom__dns_t* dns, loom_req_t* req,
                                       void (*deliver)(loom__dns_query_t*));
void loom__dns_query_free(loom__dns_query_t* q);
/* The common end of every c-ares callback: deliver now, or on the next
 * pass when c-ares answered inside the starting call. */
void loom__dns_query_done(loom__dns_query_t* q);
/* True when c-ares's answer is still wanted. */
int loom__dns_query_wanted(const loom__dns_query_t* q);
/* Queues the record's delivery with this status (a cancellation). */
void loom__dns_query_fail(loom__dns_query_t* q, int status);
/* The same without re-arming the timer: for marking many records, with
 * one loom__dns_channel_cancel after. */
void loom__dns_query_mark_failed(loom__dns_query_t* q, int status);
/* Queues the record's delivery with the results it has. */
void loom__dns_query_ready(loom__dns_query_t* q);

/* Brackets a call that starts a lookup: results given inside it wait. */
void loom__dns_submit_begin(loom__dns_t* dns);
void loom__dns_submit_end(loom__dns_t* dns);

/* ares_cancel and ares_destroy. c-ares frees a query after its callback,
 * so neither may run inside one: inside a c-ares callback or a delivery
 * pass, the destroy waits until it is over and the cancel is left out. */
void loom__dns_channel_cancel(loom__dns_t* dns);
void loom__dns_channel_close(loom__dns_t* dns);

/* The hosts file (dns_hosts.c): calls visit for every address of name,
 * in the file's order; visit returns how many results it made, or an
 * error to stop. Returns the total, 0 when the name is not there. */
typedef int (*loom__hosts_visit)(void* arg, int family,
                                 const unsigned char* addr, const char* canon);
int loom__hosts_find(loom_loop_t* loop, const char* name,
                     loom__hosts_visit visit, void* arg);

/* c-ares statuses as loom's errors, for resolver queries. */
int loom__dns_map_ares(int status);
/* The status to report for a lookup c-ares ended with status, mapped to
 * mapped: when c-ares could reach no server because socket() failed
 * (descriptors exhausted), that failure (EMFILE, ENFILE, ...) instead. */
int loom__dns_cause(const loom__dns_t* dns, int status, int mapped);

#endif /* LOOM_DNS_INTERNAL_H */
