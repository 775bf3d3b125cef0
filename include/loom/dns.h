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


/* ---- Resolvers: DNS queries of any type, beyond libuv ----
 *
 * A resolver is a c-ares channel of its own on the loop, with its own
 * servers and options; a loop may have any number. Queries are requests:
 * each keeps the loop alive until its callback, which runs exactly once,
 * never inside the call that started it, with the reply's bytes (parse
 * them with loom_dns_parse). Errors: LOOM_ENOTFOUND (NXDOMAIN),
 * LOOM_ENODATA (no record of that type), LOOM_ESERVFAIL, LOOM_EREFUSED,
 * LOOM_EFORMERR, LOOM_ENOTIMP, LOOM_ETIMEDOUT (every try went
 * unanswered), LOOM_ECONNREFUSED, LOOM_EBADRESP, LOOM_EBADNAME,
 * LOOM_ECANCELED.
 */
typedef struct loom_resolver_s loom_resolver_t;
typedef struct loom_dns_query_s loom_dns_query_t;

typedef struct loom_resolver_options_s {
  /* "ip", "ip:port", "[ipv6]:port", comma-separated; NULL: the servers of
   * /etc/resolv.conf. */
  const char* servers;
  int timeout_ms;             /* first try's timeout; 0: c-ares's (5 s) */
  int tries;                  /* per server; 0: c-ares's (4) */
  int rotate;                 /* 1: rotate servers, 0: never, -1: as
                                 resolv.conf says */
  const char* const* search;  /* search domains, NULL: resolv.conf's */
  int nsearch;
  int ndots;                  /* -1: resolv.conf's */
  int udp_max_size;           /* > 0: EDNS0 with this payload size */
  int tcp;                    /* 1: always query over TCP */
  int recv_buffer_size;       /* > 0: SO_RCVBUF of its sockets, for */
  int send_buffer_size;       /* bursts of thousands of queries */
  int no_tcp_fallback;        /* 1: keep truncated UDP replies */
  /* 1: on SERVFAIL, REFUSED or NOTIMP try the next server (when every
   * server fails so, c-ares 1.18 reports LOOM_ECONNREFUSED). 0: such a
   * reply is the answer, reported as what it is. */
  int servfail_failover;
} loom_resolver_options_t;

struct loom_resolver_s {
  void* data;
  loom_loop_t* loop;
  struct loom__dns_s* dns;    /* private; NULL once closed */
};

typedef void (*loom_dns_query_cb)(loom_dns_query_t* req, int status,
                                  const unsigned char* reply, size_t len);

struct loom_dns_query_s {
  LOOM_REQ_FIELDS
  loom_loop_t* loop;
  loom_resolver_t* resolver;
  loom_dns_query_cb cb;
  int rrtype;
  struct loom__dns_query_s* query; /* private, while in flight */
};

/* Record types by their number. */
enum {
  LOOM_DNS_A = 1, LOOM_DNS_NS = 2, LOOM_DNS_CNAME = 5, LOOM_DNS_SOA = 6,
  LOOM_DNS_PTR = 12, LOOM_DNS_MX = 15, LOOM_DNS_TXT = 16,
  LOOM_DNS_AAAA = 28, LOOM_DNS_SRV = 33, LOOM_DNS_NAPTR = 35,
  LOOM_DNS_ANY = 255, LOOM_DNS_CAA = 257
};

/* opts may be NULL (everything from /etc/resolv.conf). */
int loom_resolver_init(loom_loop_t* loop, loom_resolver_t* resolver,
                       const loom_resolver_options_t* opts);
/* Queries name for rrtype (class IN), applying the search domains to a
 * name with fewer dots than ndots. */
int loom_resolver_query(loom_resolver_t* resolver, loom_dns_query_t* req,
                        loom_dns_query_cb cb, const char* name, int rrtype);
/* Every query in flight ends with LOOM_ECANCELED; returns their count. */
int loom_resolver_cancel(loom_resolver_t* resolver);
/* Cancels every query and lets the channel go; the resolver may be freed
 * at once. Safe to call again, and from inside a query's callback. */
void loom_resolver_close(loom_resolver_t* resolver);
/* Replaces the servers (the same form as the servers option). */
int loom_resolver_set_servers(loom_resolver_t* resolver, const char* csv);
/* The servers as "ip:port" ("[ipv6]:port"), comma-separated. */
int loom_resolver_get_servers(loom_resolver_t* resolver, char* buf,
                              size_t size);

/* One answer record, as loom_dns_parse hands it out. Names are in
 * presentation form without the final dot; strings point into the reply
 * (not terminated); everything lives until the visitor returns. */
typedef struct {
  const char* data;
  size_t len;
} loom_dns_str_t;

typedef struct loom_dns_record_s {
  int type;
  unsigned int ttl;
  const char* owner;          /* the name the record belongs to */
  const char* addr;           /* A, AAAA: the address as text */
  /* CNAME, NS, PTR: the target; MX: exchange; SRV: target; SOA: the
   * primary server; NAPTR: replacement. */
  const char* name;
  const char* hostmaster;     /* SOA */
  unsigned int priority;      /* MX preference, SRV priority, NAPTR order */
  unsigned int weight;        /* SRV weight, NAPTR preference */
  unsigned int port;          /* SRV */
  unsigned int serial, refresh, retry, expire, minttl; /* SOA */
  unsigned int flags;         /* CAA flags */
  loom_dns_str_t tag, value;  /* CAA */
  loom_dns_str_t naptr_flags, service, regexp; /* NAPTR */
  loom_dns_str_t rdata;       /* every type: the raw data (TXT's strings) */
} loom_dns_record_t;

/* Calls visit for every answer record of rrtype (every one for
 * LOOM_DNS_ANY) in a reply; a nonzero return stops the walk and is
 * returned. LOOM_EBADRESP for a malformed reply: cut short, a name that
 * loops or is longer than 255 bytes, counts beyond the data. */
typedef int (*loom_dns_visit_cb)(const loom_dns_record_t* rr, void* arg);
int loom_dns_parse(const unsigned char* reply, size_t len, int rrtype,
                   loom_dns_visit_cb visit, void* arg);
/* The next string of a TXT record's data at *offset, or 0 at the end. */
int loom_dns_txt_next(const loom_dns_str_t* rdata, size_t* offset,
                      loom_dns_str_t* out);
/* The name to query PTR for an address: "4.3.2.1.in-addr.arpa". */
int loom_dns_reverse_name(const char* ip, char* out, size_t size);

#endif /* LOOM_DNS_H */
