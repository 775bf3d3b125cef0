/* SPDX-License-Identifier: MIT */
/* fuzz_dns_parse.c: libFuzzer target for loom_dns_parse, the reader of
 * DNS replies from servers that may be hostile. Every record handed out
 * is read in full (names, strings, TXT pieces), so a bound the parser
 * got wrong shows up under ASan. Built and run by .ci/run (job "fuzz"):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     -Isrc/core fuzz/fuzz_dns_parse.c src/core/dns_parse.c -o fuzz-dns
 *   ./fuzz-dns -max_total_time=60 fuzz/corpus/dns_parse
 */
#include "loom.h"

#include <stdint.h>
#include <string.h>

static size_t sink;

static void touch(const char* s) {
  if (s != NULL)
    sink += strlen(s);
}

static void touch_str(loom_dns_str_t s) {
  size_t i;

  for (i = 0; i < s.len; i++)
    sink += (unsigned char) s.data[i];
}

static int visit(const loom_dns_record_t* rr, void* arg) {
  loom_dns_str_t piece;
  size_t offset = 0;
  (void) arg;

  touch(rr->owner);
  touch(rr->addr);
  touch(rr->name);
  touch(rr->hostmaster);
  touch_str(rr->tag);
  touch_str(rr->value);
  touch_str(rr->naptr_flags);
  touch_str(rr->service);
  touch_str(rr->regexp);
  touch_str(rr->rdata);
  if (rr->type == LOOM_DNS_TXT)
    while (loom_dns_txt_next(&rr->rdata, &offset, &piece))
      touch_str(piece);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int types[] = {
    LOOM_DNS_ANY, LOOM_DNS_A, LOOM_DNS_AAAA, LOOM_DNS_CNAME, LOOM_DNS_MX,
    LOOM_DNS_TXT, LOOM_DNS_SRV, LOOM_DNS_SOA, LOOM_DNS_CAA, LOOM_DNS_NAPTR,
  };
  size_t i;

  /* The first byte picks the type asked for, as a caller would. */
  if (size == 0)
    return 0;
  i = data[0] % (sizeof(types) / sizeof(types[0]));
  loom_dns_parse(data + 1, size - 1, types[i], visit, NULL);
  return 0;
}
