/* SPDX-License-Identifier: MIT */
/* ipaddr.c: numeric IP addresses to and from socket addresses.
 *
 * Every received datagram's sender is formatted, and every sent one's
 * destination parsed, so IPv4 has its own short paths: glibc's inet_ntop
 * formats through sprintf and was 15% of a UDP echo server's user time.
 * IPv6, rarer and harder, goes through inet_pton/inet_ntop. */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>


/* Dotted-quad IPv4 exactly as inet_pton accepts it: four decimal parts of
 * at most 255, no leading zeros, nothing before or after. */
static int parse_ip4(const char* s, struct in_addr* out) {
  uint32_t value = 0;
  int parts = 0;

  for (;;) {
    unsigned int part = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
      if (digits > 0 && part == 0)
        return 0; /* a leading zero */
      part = part * 10 + (unsigned int) (*s - '0');
      if (part > 255)
        return 0;
      digits++;
      s++;
    }
    if (digits == 0)
      return 0;
    value = (value << 8) | part;
    if (++parts == 4)
      break;
    if (*s++ != '.')
      return 0;
  }
  if (*s != '\0')
    return 0;
  out->s_addr = htonl(value);
  return 1;
}


int loom_ip4_addr(const char* ip, int port, struct sockaddr_in* addr) {
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t) port);
  return parse_ip4(ip, &addr->sin_addr) ? 0 : LOOM_EINVAL;
}


/* Accepts a zone suffix ("fe80::1%eth0"), as libuv does. */
int loom_ip6_addr(const char* ip, int port, struct sockaddr_in6* addr) {
  char host[INET6_ADDRSTRLEN + 1];
  const char* zone = strchr(ip, '%');
  size_t len;

  memset(addr, 0, sizeof(*addr));
  addr->sin6_family = AF_INET6;
  addr->sin6_port = htons((uint16_t) port);
  if (zone != NULL) {
    len = (size_t) (zone - ip);
    if (len >= sizeof(host))
      return LOOM_EINVAL;
    memcpy(host, ip, len);
    host[len] = '\0';
    ip = host;
    addr->sin6_scope_id = if_nametoindex(zone + 1);
    if (addr->sin6_scope_id == 0)
      addr->sin6_scope_id = (uint32_t) atoi(zone + 1);
  }
  return inet_pton(AF_INET6, ip, &addr->sin6_addr) == 1 ? 0 : LOOM_EINVAL;
}


int loom_ip_addr(const char* ip, int port, struct sockaddr_storage* addr) {
  if (strchr(ip, ':') != NULL)
    return loom_ip6_addr(ip, port, (struct sockaddr_in6*) addr);
  return loom_ip4_addr(ip, port, (struct sockaddr_in*) addr);
}


/* Writes a.b.c.d and its terminator; dst has room for 16 bytes. */
static size_t format_ip4(const struct in_addr* in, char* dst) {
  const unsigned char* b = (const unsigned char*) &in->s_addr;
  char* p = dst;
  int i;

  for (i = 0; i < 4; i++) {
    unsigned int v = b[i];
    if (v >= 100) {
      *p++ = (char) ('0' + v / 100);
      v %= 100;
      *p++ = (char) ('0' + v / 10);
      *p++ = (char) ('0' + v % 10);
    } else if (v >= 10) {
      *p++ = (char) ('0' + v / 10);
      *p++ = (char) ('0' + v % 10);
    } else {
      *p++ = (char) ('0' + v);
    }
    *p++ = i < 3 ? '.' : '\0';
  }
  return (size_t) (p - dst - 1);
}


int loom_ip_name(const struct sockaddr* addr, char* dst, size_t size) {
  const void* src;

  if (addr->sa_family == AF_INET) {
    if (size < INET_ADDRSTRLEN)
      return LOOM_ENOSPC;
    format_ip4(&((const struct sockaddr_in*) addr)->sin_addr, dst);
    return 0;
  }
  if (addr->sa_family == AF_INET6)
    src = &((const struct sockaddr_in6*) addr)->sin6_addr;
  else
    return LOOM_EAFNOSUPPORT;
  if (inet_ntop(addr->sa_family, src, dst, (socklen_t) size) == NULL)
    return LOOM__ERR(errno);
  return 0;
}
