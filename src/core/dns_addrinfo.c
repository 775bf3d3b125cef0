/* SPDX-License-Identifier: MIT */
/* dns_addrinfo.c: getaddrinfo and getnameinfo through the loop's c-ares
 * channel (dns.c), and their blocking forms through libc.
 *
 * c-ares may finish a lookup inside the call that starts it (numeric
 * hosts, /etc/hosts, bad arguments); such results wait in the channel's
 * ready queue and go out on the next pass, so no callback runs inside
 * loom_getaddrinfo. A cancelled lookup is delivered the same way; since
 * c-ares cannot drop one query, the record stays until c-ares is done
 * with it too.
 *
 * The hosts file is CARES_HOSTS when that is set (c-ares's own variable),
 * else /etc/hosts.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

typedef loom__dns_query_t query_t;


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


/* getaddrinfo(3)'s codes as loom's. The caller zeroes errno before the
 * call: glibc answers a lookup it could not make for want of descriptors
 * (no /etc/hosts, no socket) with EAI_NONAME or EAI_AGAIN, and errno
 * tells the real cause. */
static int map_gai_status(int status) {
  if (status != 0 && (errno == EMFILE || errno == ENFILE))
    return LOOM__ERR(errno);
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


static void set_port(struct addrinfo* ai, int port) {
  if (ai->ai_family == AF_INET)
    ((struct sockaddr_in*) ai->ai_addr)->sin_port = htons((uint16_t) port);
  else if (ai->ai_family == AF_INET6)
    ((struct sockaddr_in6*) ai->ai_addr)->sin6_port = htons((uint16_t) port);
}


/* A result list being built; the canonical name goes on its first node. */
typedef struct {
  struct addrinfo* head;
  struct addrinfo** tail;
  const char* canon;
  int port;                 /* set on every node, or -1 */
} result_t;


/* Appends an address. Without a socket type it stands for all three, as
 * getaddrinfo(3) lists them: stream/tcp, dgram/udp, raw. A protocol left
 * 0 is named where getaddrinfo(3) names it. */
static int result_add(result_t* r, int family, int socktype, int protocol,
                      const struct sockaddr* sa, socklen_t salen) {
  static const int kinds[3][2] = {{SOCK_STREAM, IPPROTO_TCP},
                                  {SOCK_DGRAM, IPPROTO_UDP},
                                  {SOCK_RAW, 0}};
  int count = socktype == 0 ? 3 : 1;
  int i, type, proto;

  for (i = 0; i < count; i++) {
    type = socktype == 0 ? kinds[i][0] : socktype;
    proto = socktype == 0 ? kinds[i][1] : protocol;
    if (proto == 0 && type == SOCK_STREAM) proto = IPPROTO_TCP;
    if (proto == 0 && type == SOCK_DGRAM) proto = IPPROTO_UDP;
    *r->tail = node_new(family, type, proto, sa, salen,
                        r->head == NULL ? r->canon : NULL);
    if (*r->tail == NULL)
      return LOOM_EAI_MEMORY;
    if (r->port >= 0)
      set_port(*r->tail, r->port);
    r->tail = &(*r->tail)->ai_next;
  }
  return 0;
}


static void result_init(result_t* r, const char* canon, int port) {
  r->head = NULL;
  r->tail = &r->head;
  r->canon = canon;
  r->port = port;
}


/* Converts c-ares's result. */
static int copy_ares_result(const struct ares_addrinfo* src,
                            const char* want_canon, int port,
                            struct addrinfo** out) {
  const struct ares_addrinfo_node* n;
  const char* canon = NULL;
  result_t r;

  if (want_canon) {
    const struct ares_addrinfo_cname* c;
    for (c = src->cnames; c != NULL; c = c->next)
      canon = c->name;
    if (canon == NULL)
      canon = src->name;
    if (canon == NULL)
      canon = want_canon; /* a numeric host names itself */
  }
  result_init(&r, canon, port);
  for (n = src->nodes; n != NULL; n = n->ai_next) {
    if (result_add(&r, n->ai_family, n->ai_socktype, n->ai_protocol,
                   n->ai_addr, n->ai_addrlen) != 0) {
      loom_freeaddrinfo(r.head);
      return LOOM_EAI_MEMORY;
    }
  }
  *out = r.head;
  return r.head != NULL ? 0 : LOOM_EAI_NODATA;
}


/* ---- answers without c-ares: numeric hosts and the hosts file ---- */

typedef struct {
  result_t r;
  const struct addrinfo* hints;
  int want_canon;
  int map_v4;               /* this pass takes IPv4 addresses, mapped */
} local_t;


static int local_add(void* arg, int family, const unsigned char* addr,
                     const char* canon) {
  local_t* l = arg;
  struct sockaddr_storage ss;
  socklen_t len;

  if (l->map_v4) {
    if (family != AF_INET)
      return 0;
  } else if (l->hints->ai_family != AF_UNSPEC &&
             l->hints->ai_family != family) {
    return 0;
  }
  memset(&ss, 0, sizeof(ss));
  if (family == AF_INET && !l->map_v4) {
    struct sockaddr_in* sin = (struct sockaddr_in*) &ss;
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, addr, 4);
    len = sizeof(*sin);
  } else {
    struct sockaddr_in6* sin6 = (struct sockaddr_in6*) &ss;
    sin6->sin6_family = AF_INET6;
    if (l->map_v4) {
      /* ::ffff:a.b.c.d */
      sin6->sin6_addr.s6_addr[10] = 0xFF;
      sin6->sin6_addr.s6_addr[11] = 0xFF;
      memcpy(&sin6->sin6_addr.s6_addr[12], addr, 4);
    } else {
      memcpy(&sin6->sin6_addr, addr, 16);
    }
    len = sizeof(*sin6);
    family = AF_INET6;
  }
  if (l->want_canon && l->r.head == NULL)
    l->r.canon = canon;
  if (result_add(&l->r, family, l->hints->ai_socktype,
                 l->hints->ai_protocol, (struct sockaddr*) &ss, len) != 0)
    return LOOM_EAI_MEMORY;
  return 1;
}


/* One pass over a numeric host or the hosts file. */
static int local_pass(loom_loop_t* loop, const char* node, local_t* l) {
  unsigned char addr[16];

  if (inet_pton(AF_INET, node, addr) == 1)
    return local_add(l, AF_INET, addr, node);
  if (inet_pton(AF_INET6, node, addr) == 1)
    return local_add(l, AF_INET6, addr, node);
  if (l->hints->ai_flags & AI_NUMERICHOST)
    return LOOM_EAI_NONAME;
  return loom__hosts_find(loop, node, local_add, l);
}


/* Answers a lookup that needs no DNS: a numeric host, or a name in the
 * hosts file, with a numeric or no service. Follows getaddrinfo(3) for
 * numerichost, and for v4mapped/all with family inet6 (IPv4 addresses
 * as ::ffff:a.b.c.d when there is no IPv6 one, or always with all).
 * Returns 1 with *out set (or an error in *status), 0 to leave the
 * lookup to c-ares. */
static int answer_locally(loom_loop_t* loop, const char* node, int port,
                          const char* service, const struct addrinfo* hints,
                          int* status, struct addrinfo** out) {
  static const struct addrinfo no_hints;
  const int handled = AI_CANONNAME | AI_PASSIVE | AI_NUMERICSERV |
                      AI_NUMERICHOST | AI_V4MAPPED | AI_ALL;
  local_t l;
  int found, more;

  if (hints == NULL)
    hints = &no_hints;
  if ((service != NULL && port < 0) || (hints->ai_flags & ~handled) ||
      (hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
       hints->ai_family != AF_INET6))
    return 0;
  memset(&l, 0, sizeof(l));
  result_init(&l.r, NULL, port);
  l.hints = hints;
  l.want_canon = (hints->ai_flags & AI_CANONNAME) != 0;
  found = local_pass(loop, node, &l);
  if (found >= 0 && hints->ai_family == AF_INET6 &&
      (hints->ai_flags & AI_V4MAPPED) &&
      (found == 0 || (hints->ai_flags & AI_ALL))) {
    l.map_v4 = 1;
    more = local_pass(loop, node, &l);
    found = more < 0 ? more : found + more;
  }
  if (found < 0) {
    loom_freeaddrinfo(l.r.head);
    *status = found;
    return 1;
  }
  if (found == 0) {
    loom_freeaddrinfo(l.r.head);
    return 0; /* none of the wanted family: c-ares decides */
  }
  *status = 0;
  *out = l.r.head;
  return 1;
}


/* Hands the results to the caller's callback. */
static void deliver_addrinfo(query_t* q) {
  loom_getaddrinfo_t* r = (loom_getaddrinfo_t*) q->req;
  struct addrinfo* res = q->res;

  q->res = NULL;
  r->query = NULL;
  r->cb(r, q->status, res);
}


static void deliver_nameinfo(query_t* q) {
  loom_getnameinfo_t* r = (loom_getnameinfo_t*) q->req;
  int ok = q->status == 0;

  r->query = NULL;
  r->cb(r, q->status, ok ? q->host : NULL, ok ? q->service : NULL);
}


static void on_addrinfo(void* arg, int status, int timeouts,
                        struct ares_addrinfo* result) {
  query_t* q = arg;
  (void) timeouts;

  if (loom__dns_query_wanted(q)) {
    q->status = loom__dns_cause(q->dns, status, map_ares_status(status));
    if (q->status == 0)
      q->status = copy_ares_result(result, q->want_canon, q->port,
                                   &q->res);
  }
  ares_freeaddrinfo(result);
  loom__dns_query_done(q);
}


static void on_nameinfo(void* arg, int status, int timeouts, char* node,
                        char* service) {
  query_t* q = arg;
  (void) timeouts;

  if (loom__dns_query_wanted(q)) {
    char port[8];
    char* scope;
    q->status = loom__dns_cause(q->dns, status, map_ares_status(status));
    /* Answer as getnameinfo(3) does (and the synchronous form): c-ares
     * gives "" for a port no service is named for, where libc gives the
     * number, and appends a zero scope ("::1%0") libc leaves out. */
    if (service == NULL || service[0] == '\0') {
      snprintf(port, sizeof(port), "%d", q->port);
      service = port;
    }
    if (node != NULL && (scope = strrchr(node, '%')) != NULL && strcmp(scope, "%0") == 0)
      *scope = '\0';
    if (q->status == 0) {
      q->host = strdup(node != NULL ? node : "");
      q->service = strdup(service);
      if (q->host == NULL || q->service == NULL)
        q->status = LOOM_EAI_MEMORY;
    }
  }
  loom__dns_query_done(q);
}


/* getaddrinfo(3)'s flags as c-ares's, whose values differ. CARES_HOSTS
 * is always honoured. */
static int map_ai_flags(int flags) {
  int f = ARES_AI_ENVHOSTS;

  if (flags & AI_CANONNAME) f |= ARES_AI_CANONNAME;
  if (flags & AI_NUMERICHOST) f |= ARES_AI_NUMERICHOST;
  if (flags & AI_PASSIVE) f |= ARES_AI_PASSIVE;
  if (flags & AI_NUMERICSERV) f |= ARES_AI_NUMERICSERV;
  if (flags & AI_V4MAPPED) f |= ARES_AI_V4MAPPED;
  if (flags & AI_ALL) f |= ARES_AI_ALL;
  if (flags & AI_ADDRCONFIG) f |= ARES_AI_ADDRCONFIG;
  return f;
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
  loom__dns_t* dns;
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
    errno = 0;
    err = map_gai_status(getaddrinfo(node, service, hints, &res));
    if (err != 0)
      return err;
    err = copy_libc_result(res, &req->res);
    freeaddrinfo(res);
    return err;
  }
  if (loom__dns_default(loop, &dns) != 0)
    return LOOM_EAI_MEMORY;
  q = loom__dns_query_new(dns, (loom_req_t*) req, deliver_addrinfo);
  if (q == NULL)
    return LOOM_EAI_MEMORY;
  memset(&ah, 0, sizeof(ah));
  ah.ai_flags = ARES_AI_ENVHOSTS;
  if (hints != NULL) {
    ah.ai_family = hints->ai_family;
    ah.ai_socktype = hints->ai_socktype;
    ah.ai_protocol = hints->ai_protocol;
    ah.ai_flags = map_ai_flags(hints->ai_flags);
    if ((hints->ai_flags & AI_CANONNAME) && node != NULL) {
      q->want_canon = strdup(node);
      if (q->want_canon == NULL) {
        q->delivered = 1; /* never to be */
        loop->active_reqs--;
        loom__dns_query_free(q);
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
  req->query = q;
  if (answer_locally(loop, node, q->port, service, hints, &q->status,
                     &q->res)) {
    /* Delivered on the next pass, as c-ares's in-call answers are. */
    q->ares_done = 1;
    loom__dns_query_ready(q);
    return 0;
  }
  if (q->port >= 0)
    service = NULL;
  loom__dns_submit_begin(dns);
  ares_getaddrinfo(dns->channel, node, service, &ah, on_addrinfo, q);
  loom__dns_submit_end(dns);
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
  loom__dns_t* dns;
  socklen_t len;
  query_t* q;

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
  if (cb == NULL) {
    errno = 0;
    return map_gai_status(getnameinfo(addr, len, req->host, sizeof(req->host),
                                      req->service, sizeof(req->service),
                                      flags));
  }
  if (loom__dns_default(loop, &dns) != 0)
    return LOOM_EAI_MEMORY;
  q = loom__dns_query_new(dns, (loom_req_t*) req, deliver_nameinfo);
  if (q == NULL)
    return LOOM_EAI_MEMORY;
  req->query = q;
  q->port = ntohs(addr->sa_family == AF_INET
                      ? ((const struct sockaddr_in*) addr)->sin_port
                      : ((const struct sockaddr_in6*) addr)->sin6_port);
  loom__dns_submit_begin(dns);
  ares_getnameinfo(dns->channel, addr, len, map_ni_flags(flags), on_nameinfo,
                   q);
  loom__dns_submit_end(dns);
  return 0;
}


int loom_dns_cancel(loom_req_t* req) {
  query_t* q;
  int status = LOOM_EAI_CANCELED;

  if (req->type == LOOM_GETADDRINFO) {
    q = ((loom_getaddrinfo_t*) req)->query;
  } else if (req->type == LOOM_GETNAMEINFO) {
    q = ((loom_getnameinfo_t*) req)->query;
  } else if (req->type == LOOM_DNS_QUERY) {
    q = ((loom_dns_query_t*) req)->query;
    status = LOOM_ECANCELED;
  } else {
    return LOOM_EINVAL;
  }
  if (q == NULL || q->delivered)
    return LOOM_EINVAL;
  if (!(q->queued && q->status == status))
    loom__dns_query_fail(q, status);
  return 0;
}
