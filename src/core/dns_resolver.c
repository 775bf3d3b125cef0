/* SPDX-License-Identifier: MIT */
/* dns_resolver.c: resolvers, each a c-ares channel of its own on the
 * loop (dns.c keeps the channel), and their queries.
 *
 * A query's reply is copied out of c-ares's buffer (which c-ares frees
 * when its callback returns) so that it can wait in the ready queue; the
 * caller parses it with loom_dns_parse.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef loom__dns_query_t query_t;


static void deliver_reply(query_t* q) {
  loom_dns_query_t* r = (loom_dns_query_t*) q->req;

  r->query = NULL;
  r->cb(r, q->status, q->status == 0 ? q->answer : NULL,
        q->status == 0 ? (size_t) q->answer_len : 0);
}


static void on_reply(void* arg, int status, int timeouts,
                     unsigned char* reply, int len) {
  query_t* q = arg;
  (void) timeouts;

  if (loom__dns_query_wanted(q)) {
    q->status = loom__dns_cause(q->dns, status, loom__dns_map_ares(status));
    if (q->status == 0) {
      q->answer = malloc(len > 0 ? (size_t) len : 1);
      if (q->answer == NULL) {
        q->status = LOOM_ENOMEM;
      } else {
        memcpy(q->answer, reply, (size_t) len);
        q->answer_len = len;
      }
    }
  }
  loom__dns_query_done(q);
}


/* The options as c-ares's; domains points into opts. */
static int fill_options(const loom_resolver_options_t* opts,
                        struct ares_options* ao, int* mask) {
  memset(ao, 0, sizeof(*ao));
  *mask = ARES_OPT_FLAGS;
  if (opts == NULL || !opts->servfail_failover)
    ao->flags |= ARES_FLAG_NOCHECKRESP;
  if (opts == NULL)
    return 0;
  if (opts->timeout_ms < 0 || opts->tries < 0 || opts->udp_max_size < 0 ||
      opts->recv_buffer_size < 0 || opts->send_buffer_size < 0 ||
      opts->udp_max_size > 65535 || opts->nsearch < 0)
    return LOOM_EINVAL;
  if (opts->timeout_ms > 0) {
    ao->timeout = opts->timeout_ms;
    *mask |= ARES_OPT_TIMEOUTMS;
  }
  if (opts->tries > 0) {
    ao->tries = opts->tries;
    *mask |= ARES_OPT_TRIES;
  }
  if (opts->rotate > 0)
    *mask |= ARES_OPT_ROTATE;
  else if (opts->rotate == 0)
    *mask |= ARES_OPT_NOROTATE;
  if (opts->search != NULL) {
    ao->domains = (char**) opts->search;
    ao->ndomains = opts->nsearch;
    *mask |= ARES_OPT_DOMAINS;
  }
  if (opts->ndots >= 0) {
    ao->ndots = opts->ndots;
    *mask |= ARES_OPT_NDOTS;
  }
  if (opts->udp_max_size > 0) {
    ao->ednspsz = opts->udp_max_size;
    ao->flags |= ARES_FLAG_EDNS;
    *mask |= ARES_OPT_EDNSPSZ;
  }
  if (opts->recv_buffer_size > 0) {
    ao->socket_receive_buffer_size = opts->recv_buffer_size;
    *mask |= ARES_OPT_SOCK_RCVBUF;
  }
  if (opts->send_buffer_size > 0) {
    ao->socket_send_buffer_size = opts->send_buffer_size;
    *mask |= ARES_OPT_SOCK_SNDBUF;
  }
  if (opts->tcp)
    ao->flags |= ARES_FLAG_USEVC;
  if (opts->no_tcp_fallback)
    ao->flags |= ARES_FLAG_IGNTC;
  return 0;
}


int loom_resolver_init(loom_loop_t* loop, loom_resolver_t* resolver,
                       const loom_resolver_options_t* opts) {
  struct ares_options ao;
  loom__dns_t* dns;
  int mask;
  int err;

  resolver->loop = loop;
  resolver->dns = NULL;
  err = fill_options(opts, &ao, &mask);
  if (err != 0)
    return err;
  err = loom__dns_channel_new(loop, &ao, mask, &dns);
  if (err != 0)
    return err;
  if (opts != NULL && opts->servers != NULL &&
      ares_set_servers_ports_csv(dns->channel, opts->servers) != ARES_SUCCESS) {
    loom__dns_channel_free(dns);
    return LOOM_EINVAL;
  }
  dns->owner = resolver;
  loom__queue_insert_tail(&loop->dns_resolvers, &dns->link);
  resolver->dns = dns;
  return 0;
}


int loom_resolver_query(loom_resolver_t* resolver, loom_dns_query_t* req,
                        loom_dns_query_cb cb, const char* name, int rrtype) {
  loom__dns_t* dns = resolver->dns;
  query_t* q;

  if (dns == NULL)
    return LOOM_EBADF;
  if (rrtype <= 0 || rrtype > 65535 || cb == NULL)
    return LOOM_EINVAL;
  req->type = LOOM_DNS_QUERY;
  req->loop = resolver->loop;
  req->resolver = resolver;
  req->cb = cb;
  req->rrtype = rrtype;
  q = loom__dns_query_new(dns, (loom_req_t*) req, deliver_reply);
  if (q == NULL)
    return LOOM_ENOMEM;
  req->query = q;
  loom__dns_submit_begin(dns);
  ares_search(dns->channel, name, 1 /* class IN */, rrtype, on_reply, q);
  loom__dns_submit_end(dns);
  return 0;
}


int loom_resolver_cancel(loom_resolver_t* resolver) {
  loom__dns_t* dns = resolver->dns;
  loom_queue_t* it;
  query_t* q;
  int count = 0;

  if (dns == NULL)
    return 0;
  for (it = dns->queries.next; it != &dns->queries; it = it->next) {
    q = loom__queue_data(it, query_t, link);
    if (!q->delivered && !(q->queued && q->status == LOOM_ECANCELED)) {
      loom__dns_query_mark_failed(q, LOOM_ECANCELED);
      count++;
    }
  }
  loom__dns_channel_cancel(dns);
  return count;
}


void loom_resolver_close(loom_resolver_t* resolver) {
  loom__dns_t* dns = resolver->dns;

  if (dns == NULL)
    return;
  loom_resolver_cancel(resolver);
  loom__dns_channel_close(dns);
}


int loom_resolver_set_servers(loom_resolver_t* resolver, const char* csv) {
  if (resolver->dns == NULL)
    return LOOM_EBADF;
  switch (ares_set_servers_ports_csv(resolver->dns->channel, csv)) {
    case ARES_SUCCESS: return 0;
    case ARES_ENOMEM: return LOOM_ENOMEM;
    case ARES_ENOTIMP: return LOOM_EBUSY; /* queries are in flight */
    default: return LOOM_EINVAL;
  }
}


int loom_resolver_get_servers(loom_resolver_t* resolver, char* buf,
                              size_t size) {
  struct ares_addr_port_node* servers = NULL;
  struct ares_addr_port_node* s;
  char ip[INET6_ADDRSTRLEN];
  size_t o = 0;
  int n;

  if (resolver->dns == NULL)
    return LOOM_EBADF;
  if (ares_get_servers_ports(resolver->dns->channel, &servers) != ARES_SUCCESS)
    return LOOM_ENOMEM;
  if (size > 0)
    buf[0] = '\0';
  for (s = servers; s != NULL; s = s->next) {
    inet_ntop(s->family, &s->addr, ip, sizeof(ip));
    n = snprintf(buf + o, size - o, s->family == AF_INET6 ? "%s[%s]:%d"
                                                          : "%s%s:%d",
                 o > 0 ? "," : "", ip, s->udp_port != 0 ? s->udp_port : 53);
    if (n < 0 || (size_t) n >= size - o) {
      ares_free_data(servers);
      return LOOM_ENOBUFS;
    }
    o += (size_t) n;
  }
  ares_free_data(servers);
  return 0;
}
