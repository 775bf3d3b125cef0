/* SPDX-License-Identifier: MIT */
/* fuzz_http_parser.c: libFuzzer target for the HTTP/1.x parser
 * (src/http). The first byte picks request or response parsing; the next
 * two are split points: the head is searched for while its input grows
 * in three steps, and a chunked body is decoded in pieces cut there. The
 * target checks that every split gives the result of one whole piece,
 * and that every offset the parser hands back lies inside the input.
 * Built and run by .ci/run (job "fuzz"):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/http \
 *     fuzz/fuzz_http_parser.c src/http/http_*.c -o fuzz-http
 *   ./fuzz-http -max_total_time=60 fuzz/corpus/http_parser
 */
#include "http_parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static loom_http_field_t fields[128];
static loom_http_field_t trailers[128];

static void check_span(size_t off, size_t len, size_t limit) {
  if (off > limit || len > limit - off)
    abort();
}


/* Decodes body[0..len) with input arriving in two parts (the first cut
 * bytes, then all); appends the data to out. Returns the decoder's last
 * result and sets *end to the bytes consumed. */
static int decode(const char* body, size_t len, size_t cut,
                  const loom_http_limits_t* lim, char* out, size_t* out_len,
                  size_t* end) {
  loom_http_chunked_t dec;
  size_t at = 0, avail = cut < len ? cut : len;
  int r = 0;
  loom_http_chunked_init(&dec);
  *out_len = 0;
  for (int round = 0; round < 2; round++) {
    for (;;) {
      size_t used = 0, off = 0, n = 0;
      uint32_t nt = 0;
      r = loom_http_chunked_next(&dec, body + at, avail - at, lim, &used, &off, &n,
                                 trailers, &nt);
      if (r < 0) {
        *end = at;
        return r;
      }
      check_span(0, used, avail - at);
      if (r == LOOM_HTTP_CHUNK_DATA) {
        check_span(off, n, used);
        memcpy(out + *out_len, body + at + off, n);
        *out_len += n;
      }
      if (r == LOOM_HTTP_CHUNK_DONE) {
        for (uint32_t i = 0; i < nt; i++) {
          check_span(trailers[i].name_off, trailers[i].name_len, used);
          check_span(trailers[i].value_off, trailers[i].value_len, used);
        }
      }
      at += used;
      if (r == LOOM_HTTP_CHUNK_DONE) {
        *end = at;
        return r;
      }
      if (r == LOOM_HTTP_CHUNK_NEED_MORE)
        break;
    }
    avail = len;
  }
  *end = at;
  return r;
}


int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loom_http_limits_t lim;
  loom_http_head_t head;
  loom_http_kind kind;
  const char* msg;
  size_t len, scanned = 0, cuts[2];
  int64_t whole, grown = 0;
  int err;

  if (size < 3)
    return 0;
  kind = (data[0] & 1) ? LOOM_HTTP_RESPONSE : LOOM_HTTP_REQUEST;
  msg = (const char*) data + 3;
  len = size - 3;
  cuts[0] = len ? data[1] % (len + 1) : 0;
  cuts[1] = len ? (size_t) (data[1] + data[2] * 7) % (len + 1) : 0;
  loom_http_limits_default(&lim);
  lim.max_head = 4096;
  lim.max_fields = 32;
  lim.max_target = 512;
  lim.max_chunk_ext = 64;

  /* The head's end, found in one call and while the input grows. */
  whole = loom_http_head_end(msg, len, &scanned, &lim);
  scanned = 0;
  {
    size_t steps[3] = {cuts[0] < cuts[1] ? cuts[0] : cuts[1],
                       cuts[0] < cuts[1] ? cuts[1] : cuts[0], len};
    for (int i = 0; i < 3; i++) {
      grown = loom_http_head_end(msg, steps[i], &scanned, &lim);
      if (grown != 0)
        break;
    }
  }
  if (grown != whole)
    abort();
  if (whole <= 0)
    return 0;
  err = loom_http_parse_head(kind, msg, (size_t) whole, &lim, (data[0] & 2) ? "HEAD" : NULL,
                             &head, fields);
  if (err < 0) {
    if (loom_http_error_message(err) == NULL || loom_http_error_status(err) < 400)
      abort();
    return 0;
  }
  if (head.nfields > lim.max_fields)
    abort();
  check_span(head.method_off, head.method_len, (size_t) whole);
  check_span(head.target_off, head.target_len, (size_t) whole);
  check_span(head.reason_off, head.reason_len, (size_t) whole);
  for (uint32_t i = 0; i < head.nfields; i++) {
    check_span(fields[i].name_off, fields[i].name_len, (size_t) whole);
    check_span(fields[i].value_off, fields[i].value_len, (size_t) whole);
  }
  if (head.body == LOOM_HTTP_BODY_CHUNKED) {
    const char* body = msg + whole;
    size_t blen = len - (size_t) whole, n1, n2, e1, e2;
    char* out1 = malloc(blen + 1);
    char* out2 = malloc(blen + 1);
    int r1, r2;
    if (out1 == NULL || out2 == NULL)
      abort();
    r1 = decode(body, blen, blen, &lim, out1, &n1, &e1);
    r2 = decode(body, blen, cuts[0] % (blen + 1), &lim, out2, &n2, &e2);
    /* Errors may come at another point of the data, but the verdict,
     * and the data of a body that ends, must be the same. */
    if ((r1 < 0) != (r2 < 0) || (r1 < 0 && r1 != r2))
      abort();
    if (r1 == LOOM_HTTP_CHUNK_DONE && (r2 != r1 || n1 != n2 || e1 != e2 ||
                                       memcmp(out1, out2, n1) != 0))
      abort();
    free(out1);
    free(out2);
  }
  return 0;
}
