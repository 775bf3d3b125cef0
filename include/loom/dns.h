/* SPDX-License-Identifier: MIT */
/* loom/dns.h: name resolution. Included by loom.h.
 *
 * With a callback, lookups run through c-ares on the loop itself: one
 * channel per loop, its sockets watched by the loop's poller, its
 * timeouts kept by one internal timer. No thread is used. /etc/hosts and
 * /etc/resolv.conf are honoured as c-ares reads them. Without a callback
 * the call runs getaddrinfo(3)/getnameinfo(3) at once (blocking), as
 * libuv's synchronous form does.
 *
 * Errors are LOOM_EAI_* codes (EAI_NONAME, EAI_AGAIN, EAI_SERVICE,
 * EAI_FAMILY, EAI_CANCELED, ...). A callback runs exactly once, never
 * from inside the call that started the lookup.
 */
#ifndef LOOM_DNS_H
#define LOOM_DNS_H

#include <netdb.h>

typedef struct loom_getaddrinfo_s loom_getaddrinfo_t;
typedef struct loom_getnameinfo_s loom_getnameinfo_t;

/* res belongs to the callee: free it with loom_freeaddrinfo. */
typedef void (*loom_getaddrinfo_cb)(loom_getaddrinfo_t* req, int status,
                                    struct addrinfo* res);
typedef void (*loom_getnameinfo_cb)(loom_getnameinfo_t* req, int status,
                                    const char* host, const char* service);

struct loom_getaddrinfo_s {
  LOOM_REQ_FIELDS
  loom_loop_t* loop;
  loom_getaddrinfo_cb cb;
  struct addrinfo* res;          /* the synchronous form's result */
  struct loom__dns_query_s* query; /* private, while in flight */
};

struct loom_getnameinfo_s {
  LOOM_REQ_FIELDS
  loom_loop_t* loop;
  loom_getnameinfo_cb cb;
  char host[NI_MAXHOST];         /* the synchronous form's result */
  char service[NI_MAXSERV];
  struct loom__dns_query_s* query;
};

/* node or service may be NULL, not both. hints as for getaddrinfo(3)
 * (NULL: any family and socket type). Sync: returns 0 and sets req->res,
 * or an error. Async: returns 0 or an error from starting the lookup. */
int loom_getaddrinfo(loom_loop_t* loop, loom_getaddrinfo_t* req,
                     loom_getaddrinfo_cb cb, const char* node,
                     const char* service, const struct addrinfo* hints);
/* flags: NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV, NI_DGRAM,
 * NI_NOFQDN (getnameinfo(3)'s values). */
int loom_getnameinfo(loom_loop_t* loop, loom_getnameinfo_t* req,
                     loom_getnameinfo_cb cb, const struct sockaddr* addr,
                     int flags);
/* A lookup still in flight ends with LOOM_EAI_CANCELED (its callback
 * runs later, as usual); one already reported gives LOOM_EINVAL. */
int loom_dns_cancel(loom_req_t* req);
void loom_freeaddrinfo(struct addrinfo* ai);

#endif /* LOOM_DNS_H */
