/* SPDX-License-Identifier: MIT */
/* dns_parse.c: the answer section of a DNS reply (RFC 1035 §4), walked
 * without allocating: names are expanded into stack buffers, strings
 * point into the reply. Every read is bounds-checked. A compression
 * pointer must point before the label sequence it was read from, so the
 * targets strictly decrease and a loop cannot be followed; a chain of
 * more pointers than a name can have labels (127) is refused, so that a
 * reply of thousands of records cannot make each name cost thousands of
 * steps; a name longer than 255 bytes on the wire is refused. Each makes
 * the reply LOOM_EBADRESP.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* 255 wire bytes make at most 4 text bytes each (\DDD). */
#define NAME_MAX_TEXT 1024

typedef struct {
  const unsigned char* msg;
  size_t len;
} reply_t;


static unsigned int get16(const unsigned char* p) {
  return (unsigned int) p[0] << 8 | p[1];
}


static unsigned int get32(const unsigned char* p) {
  return (unsigned int) p[0] << 24 | (unsigned int) p[1] << 16 |
         (unsigned int) p[2] << 8 | p[3];
}


/* Appends one label in presentation form: dots and backslashes escaped,
 * bytes outside printable ASCII as \DDD. */
static size_t put_label(char* out, size_t o, const unsigned char* label,
                        unsigned int n) {
  unsigned int i;
  unsigned char c;

  for (i = 0; i < n; i++) {
    c = label[i];
    if (c == '.' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char) c;
    } else if (c <= ' ' || c > '~') {
      o += (size_t) snprintf(out + o, 5, "\\%03u", c);
    } else {
      out[o++] = (char) c;
    }
  }
  return o;
}


/* Reads the name at *pos into out and moves *pos past its bytes in place
 * (a pointer ends them). The root is "". */
static int read_name(const reply_t* r, size_t* pos, char out[NAME_MAX_TEXT]) {
  size_t p = *pos;
  size_t limit = *pos; /* a pointer must go before this */
  size_t wire = 1;     /* the root label's byte */
  size_t o = 0;
  int jumps = 0;
  unsigned int c;

  for (;;) {
    if (p >= r->len)
      return LOOM_EBADRESP;
    c = r->msg[p];
    if ((c & 0xC0) == 0xC0) {
      size_t target;
      if (p + 1 >= r->len)
        return LOOM_EBADRESP;
      target = (size_t) (c & 0x3F) << 8 | r->msg[p + 1];
      if (target >= limit || ++jumps > 127)
        return LOOM_EBADRESP;
      if (jumps == 1)
        *pos = p + 2;
      limit = target;
      p = target;
      continue;
    }
    if (c & 0xC0)
      return LOOM_EBADRESP; /* extended label types are obsolete */
    if (c == 0)
      break;
    wire += c + 1;
    if (wire > 255 || p + 1 + c > r->len)
      return LOOM_EBADRESP;
    if (o > 0)
      out[o++] = '.';
    o = put_label(out, o, r->msg + p + 1, c);
    p += 1 + c;
  }
  if (jumps == 0)
    *pos = p + 1;
  out[o] = '\0';
  return 0;
}


/* A <character-string>: a length byte and that many bytes, within end. */
static int read_string(const reply_t* r, size_t* pos, size_t end,
                       loom_dns_str_t* out) {
  size_t n;

  if (*pos >= end)
    return LOOM_EBADRESP;
  n = r->msg[*pos];
  if (*pos + 1 + n > end)
    return LOOM_EBADRESP;
  out->data = (const char*) r->msg + *pos + 1;
  out->len = n;
  *pos += 1 + n;
  return 0;
}


/* Decodes the data of one record at [pos, end) by its type. */
static int read_rdata(const reply_t* r, size_t pos, size_t end,
                      loom_dns_record_t* rr, char name[NAME_MAX_TEXT],
                      char name2[NAME_MAX_TEXT], char addr[INET6_ADDRSTRLEN]) {
  size_t n = end - pos;
  const unsigned char* d = r->msg + pos;
  int err = 0;

  rr->rdata.data = (const char*) d;
  rr->rdata.len = n;
  switch (rr->type) {
    case LOOM_DNS_A:
    case LOOM_DNS_AAAA:
      if (n != (rr->type == LOOM_DNS_A ? 4u : 16u))
        return LOOM_EBADRESP;
      inet_ntop(rr->type == LOOM_DNS_A ? AF_INET : AF_INET6, d, addr,
                INET6_ADDRSTRLEN);
      rr->addr = addr;
      return 0;
    case LOOM_DNS_CNAME:
    case LOOM_DNS_NS:
    case LOOM_DNS_PTR:
      err = read_name(r, &pos, name);
      rr->name = name;
      break;
    case LOOM_DNS_MX:
      if (n < 3)
        return LOOM_EBADRESP;
      rr->priority = get16(d);
      pos += 2;
      err = read_name(r, &pos, name);
      rr->name = name;
      break;
    case LOOM_DNS_SRV:
      if (n < 7)
        return LOOM_EBADRESP;
      rr->priority = get16(d);
      rr->weight = get16(d + 2);
      rr->port = get16(d + 4);
      pos += 6;
      err = read_name(r, &pos, name);
      rr->name = name;
      break;
    case LOOM_DNS_SOA:
      err = read_name(r, &pos, name);
      if (err == 0)
        err = read_name(r, &pos, name2);
      if (err == 0 && pos + 20 != end)
        return LOOM_EBADRESP;
      if (err != 0)
        return err;
      d = r->msg + pos;
      rr->name = name;
      rr->hostmaster = name2;
      rr->serial = get32(d);
      rr->refresh = get32(d + 4);
      rr->retry = get32(d + 8);
      rr->expire = get32(d + 12);
      rr->minttl = get32(d + 16);
      return 0;
    case LOOM_DNS_TXT: {
      loom_dns_str_t s;
      while (pos < end)
        if (read_string(r, &pos, end, &s) != 0)
          return LOOM_EBADRESP;
      return 0;
    }
    case LOOM_DNS_CAA:
      if (n < 2 || d[1] == 0 || 2u + d[1] > n)
        return LOOM_EBADRESP;
      rr->flags = d[0];
      rr->tag.data = (const char*) d + 2;
      rr->tag.len = d[1];
      rr->value.data = rr->tag.data + d[1];
      rr->value.len = n - 2 - d[1];
      return 0;
    case LOOM_DNS_NAPTR:
      if (n < 4)
        return LOOM_EBADRESP;
      rr->priority = get16(d);
      rr->weight = get16(d + 2);
      pos += 4;
      if (read_string(r, &pos, end, &rr->naptr_flags) != 0 ||
          read_string(r, &pos, end, &rr->service) != 0 ||
          read_string(r, &pos, end, &rr->regexp) != 0)
        return LOOM_EBADRESP;
      err = read_name(r, &pos, name);
      rr->name = name;
      break;
    default:
      return 0; /* the raw data is all there is */
  }
  /* A record's own name bytes must lie within its data. */
  if (err == 0 && pos > end)
    return LOOM_EBADRESP;
  return err;
}


int loom_dns_parse(const unsigned char* reply, size_t len, int rrtype,
                   loom_dns_visit_cb visit, void* arg) {
  char owner[NAME_MAX_TEXT], name[NAME_MAX_TEXT], name2[NAME_MAX_TEXT];
  char addr[INET6_ADDRSTRLEN];
  reply_t r = {reply, len};
  loom_dns_record_t rr;
  unsigned int qdcount, ancount, i;
  size_t pos = 12, end;
  int err;

  if (len < 12)
    return LOOM_EBADRESP;
  qdcount = get16(reply + 4);
  ancount = get16(reply + 6);
  for (i = 0; i < qdcount; i++) {
    err = read_name(&r, &pos, owner);
    if (err != 0)
      return err;
    if (pos + 4 > len)
      return LOOM_EBADRESP;
    pos += 4;
  }
  for (i = 0; i < ancount; i++) {
    memset(&rr, 0, sizeof(rr));
    err = read_name(&r, &pos, owner);
    if (err != 0)
      return err;
    if (pos + 10 > len)
      return LOOM_EBADRESP;
    rr.type = (int) get16(reply + pos);
    rr.ttl = get32(reply + pos + 4);
    if (rr.ttl > 0x7FFFFFFFu)
      rr.ttl = 0; /* RFC 2181 §8: a TTL with the top bit set means 0 */
    end = pos + 10 + get16(reply + pos + 8);
    if (end > len)
      return LOOM_EBADRESP;
    pos += 10;
    rr.owner = owner;
    if (get16(reply + pos - 8) == 1 /* class IN */ &&
        (rrtype == LOOM_DNS_ANY || rr.type == rrtype)) {
      err = read_rdata(&r, pos, end, &rr, name, name2, addr);
      if (err == 0)
        err = visit(&rr, arg);
      if (err != 0)
        return err;
    }
    pos = end;
  }
  return 0;
}


int loom_dns_txt_next(const loom_dns_str_t* rdata, size_t* offset,
                      loom_dns_str_t* out) {
  reply_t r = {(const unsigned char*) rdata->data, rdata->len};

  if (*offset >= rdata->len)
    return 0;
  return read_string(&r, offset, rdata->len, out) == 0;
}


int loom_dns_reverse_name(const char* ip, char* out, size_t size) {
  static const char hex[] = "0123456789abcdef";
  unsigned char a[16];
  size_t o = 0;
  int i;

  if (inet_pton(AF_INET, ip, a) == 1) {
    if (snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
                 a[0]) >= (int) size)
      return LOOM_ENOBUFS;
    return 0;
  }
  if (inet_pton(AF_INET6, ip, a) != 1)
    return LOOM_EINVAL;
  if (size < 16 * 4 + sizeof("ip6.arpa"))
    return LOOM_ENOBUFS;
  for (i = 15; i >= 0; i--) {
    out[o++] = hex[a[i] & 0xF];
    out[o++] = '.';
    out[o++] = hex[a[i] >> 4];
    out[o++] = '.';
  }
  memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
  return 0;
}
