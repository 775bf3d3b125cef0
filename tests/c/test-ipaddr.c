/* SPDX-License-Identifier: MIT */
/* test-ipaddr.c: numeric addresses. IPv4 has its own parser and formatter
 * (for speed); they must agree with inet_pton/inet_ntop on every input. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static void check_same_as_libc(const char* s) {
  struct sockaddr_storage ss;
  struct in_addr want;
  int ours = loom_ip_addr(s, 80, &ss) == 0;
  int libc = inet_pton(AF_INET, s, &want) == 1;

  if (ours != libc)
    FAIL_AT("\"%s\": loom %s, inet_pton %s", s, ours ? "accepts" : "refuses",
            libc ? "accepts" : "refuses");
  if (ours) {
    struct sockaddr_in* sin = (struct sockaddr_in*) &ss;
    ASSERT_EQ(sin->sin_family, AF_INET);
    ASSERT_EQ(ntohs(sin->sin_port), 80);
    ASSERT_EQ(sin->sin_addr.s_addr, want.s_addr);
  }
}

TEST(ipaddr_ip4_parse_matches_inet_pton) {
  static const char* const inputs[] = {
    "127.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.10",
    "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
    "", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-4",
    "999.1.1.1", "0.0.0.00", "100.200.250.199", "1.2.3.4x", "0x1.2.3.4",
  };
  size_t i;
  for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
    check_same_as_libc(inputs[i]);
  return 0;
}

TEST(ipaddr_format_matches_inet_ntop) {
  struct sockaddr_in sin;
  char ours[64];
  char libc[INET_ADDRSTRLEN];
  unsigned int i;

  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  /* Every octet value in every position, with neighbours that vary. */
  for (i = 0; i < 256 * 4; i++) {
    unsigned char b[4] = {(unsigned char) (i * 7), (unsigned char) (i * 13),
                          (unsigned char) (i * 29), (unsigned char) (i * 31)};
    b[i / 256] = (unsigned char) (i % 256);
    memcpy(&sin.sin_addr, b, 4);
    ASSERT_OK(loom_ip_name((struct sockaddr*) &sin, ours, sizeof(ours)));
    ASSERT(inet_ntop(AF_INET, &sin.sin_addr, libc, sizeof(libc)) != NULL);
    if (strcmp(ours, libc) != 0)
      FAIL_AT("%s != %s", ours, libc);
  }
  ASSERT_EQ(loom_ip_name((struct sockaddr*) &sin, ours, 8), LOOM_ENOSPC);
  return 0;
}

TEST(ipaddr_ip6) {
  struct sockaddr_storage ss;
  char name[64];
  ASSERT_OK(loom_ip_addr("::1", 443, &ss));
  ASSERT_EQ(ss.ss_family, AF_INET6);
  ASSERT_OK(loom_ip_name((struct sockaddr*) &ss, name, sizeof(name)));
  ASSERT(strcmp(name, "::1") == 0);
  ASSERT_EQ(loom_ip_addr("::g", 443, &ss), LOOM_EINVAL);
  return 0;
}
