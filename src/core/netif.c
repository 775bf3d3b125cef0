/* SPDX-License-Identifier: MIT */
/* netif.c: network interfaces: addresses, masks, hardware addresses. */
#include "internal.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>


static int usable(const struct ifaddrs* ifa) {
  if (!(ifa->ifa_flags & IFF_UP) || !(ifa->ifa_flags & IFF_RUNNING))
    return 0;
  if (ifa->ifa_addr == NULL)
    return 0;
  return ifa->ifa_addr->sa_family == AF_INET ||
         ifa->ifa_addr->sa_family == AF_INET6;
}


int loom_interface_addresses(loom_interface_address_t** out, int* count) {
  struct ifaddrs* addrs;
  struct ifaddrs* ifa;
  struct ifaddrs* link;
  loom_interface_address_t* list;
  loom_interface_address_t* a;
  size_t salen;
  int n = 0;

  if (getifaddrs(&addrs) != 0)
    return LOOM__ERR(errno);
  for (ifa = addrs; ifa != NULL; ifa = ifa->ifa_next)
    if (usable(ifa))
      n++;
  list = calloc(n > 0 ? (size_t) n : 1, sizeof(*list));
  if (list == NULL) {
    freeifaddrs(addrs);
    return LOOM_ENOMEM;
  }

  a = list;
  for (ifa = addrs; ifa != NULL; ifa = ifa->ifa_next) {
    if (!usable(ifa))
      continue;
    a->name = strdup(ifa->ifa_name);
    if (a->name == NULL) {
      loom_free_interface_addresses(list, n);
      freeifaddrs(addrs);
      return LOOM_ENOMEM;
    }
    salen = ifa->ifa_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in);
    memcpy(&a->address, ifa->ifa_addr, salen);
    if (ifa->ifa_netmask != NULL)
      memcpy(&a->netmask, ifa->ifa_netmask, salen);
    a->netmask.ss_family = ifa->ifa_addr->sa_family;
    a->is_internal = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
    /* The hardware address lives on the interface's AF_PACKET entry. */
    for (link = addrs; link != NULL; link = link->ifa_next) {
      if (link->ifa_addr != NULL && link->ifa_addr->sa_family == AF_PACKET &&
          strcmp(link->ifa_name, ifa->ifa_name) == 0) {
        const struct sockaddr_ll* ll = (const struct sockaddr_ll*) link->ifa_addr;
        memcpy(a->phys_addr, ll->sll_addr, sizeof(a->phys_addr));
        break;
      }
    }
    a++;
  }
  freeifaddrs(addrs);
  *out = list;
  *count = n;
  return 0;
}


void loom_free_interface_addresses(loom_interface_address_t* list, int count) {
  int i;
  for (i = 0; i < count; i++)
    free(list[i].name);
  free(list);
}


int loom_if_indextoname(unsigned int index, char* buf, size_t* size) {
  char name[IF_NAMESIZE + 1];
  size_t len;

  if (if_indextoname(index, name) == NULL)
    return LOOM__ERR(errno);
  len = strlen(name);
  if (len + 1 > *size) {
    *size = len + 1;
    return LOOM_ENOBUFS;
  }
  memcpy(buf, name, len + 1);
  *size = len;
  return 0;
}
