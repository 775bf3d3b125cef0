/* SPDX-License-Identifier: MIT */
/* test-http.c: the HTTP/1.x parser (src/http): byte classes against the
 * RFC's definitions, the smuggling matrix, response framing, limits, and
 * every split point of the input giving the same result as one piece. */
#include "harness.h"
#include "../../src/http/http_parser.h"
#include "../../src/http/http_internal.h"

static loom_http_field_t fields[128];

/* Finds and parses a whole head; returns its result (0 or an error). */
static int parse(loom_http_kind kind, const char* s, const char* method,
                 loom_http_head_t* head, int64_t* head_len) {
  loom_http_limits_t lim;
  size_t scanned = 0;
  int64_t n;
  loom_http_limits_default(&lim);
  n = loom_http_head_end(s, strlen(s), &scanned, &lim);
  if (head_len != NULL)
    *head_len = n;
  if (n <= 0)
    return n == 0 ? 1 : (int) n;  /* 1: incomplete */
  return loom_http_parse_head(kind, s, (size_t) n, &lim, method, head, fields);
}

static int req(const char* s) {
  loom_http_head_t head;
  return parse(LOOM_HTTP_REQUEST, s, NULL, &head, NULL);
}

/* Decodes a whole chunked body in one piece: the data, or an error. */
static int dechunk(const char* body, char* out, size_t* out_len, uint32_t* ntrailers) {
  loom_http_limits_t lim;
  loom_http_chunked_t dec;
  size_t at = 0, len = strlen(body);
  *out_len = 0;
  loom_http_limits_default(&lim);
  loom_http_chunked_init(&dec);
  for (;;) {
    size_t used, off, n;
    int r = loom_http_chunked_next(&dec, body + at, len - at, &lim, &used, &off, &n,
                                   fields, ntrailers);
    if (r < 0)
      return r;
    if (r == LOOM_HTTP_CHUNK_DATA) {
      memcpy(out + *out_len, body + at + off, n);
      *out_len += n;
    }
    at += used;
    if (r == LOOM_HTTP_CHUNK_DONE)
      return (int) at;
    if (r == LOOM_HTTP_CHUNK_NEED_MORE)
      return 0;
  }
}

TEST(http_byte_classes_match_rfc) {
  for (int c = 0; c < 256; c++) {
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    int digit = c >= '0' && c <= '9';
    int tchar = alpha || digit || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
    int vchar = c >= 0x21 && c <= 0x7e;
    int value = vchar || c == ' ' || c == '\t' || c >= 0x80;
    int hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    ASSERT_EQ(!!http_is_tchar((unsigned char) c), tchar);
    ASSERT_EQ(!!http_is_target_char((unsigned char) c), vchar);
    ASSERT_EQ(!!http_is_value_char((unsigned char) c), value);
    ASSERT_EQ(!!http_is_digit((unsigned char) c), digit);
    ASSERT_EQ(!!http_is_hex((unsigned char) c), hex);
  }
  return 0;
}

TEST(http_request_head) {
  const char* s = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: a\r\nX-Pad:  v v \t\r\n"
                  "Content-Length: 12\r\nConnection: keep-alive, Upgrade\r\n"
                  "Upgrade: websocket\r\nExpect: 100-Continue\r\n\r\nbody";
  loom_http_head_t h;
  int64_t n;
  ASSERT_OK(parse(LOOM_HTTP_REQUEST, s, NULL, &h, &n));
  ASSERT_EQ(n, (int64_t) strlen(s) - 4);
  ASSERT(memcmp(s + h.method_off, "POST", 4) == 0 && h.method_len == 4);
  ASSERT(memcmp(s + h.target_off, "/up?x=1", 7) == 0 && h.target_len == 7);
  ASSERT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.nfields, 6);
  ASSERT(memcmp(s + fields[1].value_off, "v v", 3) == 0 && fields[1].value_len == 3);
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_LENGTH);
  ASSERT_EQ(h.content_length, 12);
  ASSERT(h.keep_alive && h.upgrade && h.expect_continue && !h.connect);
  ASSERT_OK(parse(LOOM_HTTP_REQUEST, "GET / HTTP/1.0\r\n\r\n", NULL, &h, NULL));
  ASSERT(!h.keep_alive && h.body == LOOM_HTTP_BODY_NONE);
  ASSERT_OK(parse(LOOM_HTTP_REQUEST, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT(h.keep_alive);
  ASSERT_OK(parse(LOOM_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT(!h.keep_alive);
  ASSERT_OK(parse(LOOM_HTTP_REQUEST, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT(h.connect);
  ASSERT_OK(parse(LOOM_HTTP_REQUEST,
                  "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_CHUNKED);
  return 0;
}

TEST(http_smuggling_matrix) {
  static const struct {
    const char* input;
    int error;
  } cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     LOOM_HTTP_E_CL_AND_TE},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
     LOOM_HTTP_E_CL_AND_TE},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
     LOOM_HTTP_E_TRANSFER_ENCODING},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
     LOOM_HTTP_E_TRANSFER_ENCODING},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
     LOOM_HTTP_E_TRANSFER_ENCODING},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
     "Transfer-Encoding: chunked\r\n\r\n", LOOM_HTTP_E_TRANSFER_ENCODING},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
     LOOM_HTTP_E_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n",
     LOOM_HTTP_E_FIELD_VALUE},
    {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", LOOM_HTTP_E_TRANSFER_ENCODING},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
     LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
     LOOM_HTTP_E_CONTENT_LENGTH},
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", LOOM_HTTP_E_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\n\r\n", LOOM_HTTP_E_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\n\n", LOOM_HTTP_E_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", LOOM_HTTP_E_BARE_CR},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", LOOM_HTTP_E_OBS_FOLD},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", LOOM_HTTP_E_OBS_FOLD},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", LOOM_HTTP_E_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", LOOM_HTTP_E_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost: a\r\n(X): b\r\n\r\n", LOOM_HTTP_E_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", LOOM_HTTP_E_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nX b\r\n\r\n", LOOM_HTTP_E_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", LOOM_HTTP_E_FIELD_VALUE},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", LOOM_HTTP_E_FIELD_VALUE},
    {"GET / HTTP/1.1\r\n\r\n", LOOM_HTTP_E_HOST},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", LOOM_HTTP_E_HOST},
    {"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", LOOM_HTTP_E_HOST},
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_START_LINE},
    {"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_START_LINE},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", LOOM_HTTP_E_START_LINE},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_START_LINE},
    {"GET /\r\nHost: a\r\n\r\n", LOOM_HTTP_E_START_LINE},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", LOOM_HTTP_E_VERSION},
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", LOOM_HTTP_E_VERSION},
    {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_METHOD},
    {"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_TARGET},
    {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", LOOM_HTTP_E_TARGET},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int got = req(cases[i].input);
    if (got != cases[i].error)
      FAIL_AT("case %zu: got %d (%s), want %d (%s)", i, got, loom_http_error_message(got),
              cases[i].error, loom_http_error_message(cases[i].error));
  }
  ASSERT_EQ(loom_http_error_status(LOOM_HTTP_E_CL_AND_TE), 400);
  ASSERT_EQ(loom_http_error_status(LOOM_HTTP_E_VERSION), 505);
  ASSERT_EQ(loom_http_error_status(LOOM_HTTP_E_HEAD_TOO_LARGE), 431);
  ASSERT_EQ(loom_http_error_status(LOOM_HTTP_E_TARGET_TOO_LONG), 414);
  return 0;
}

TEST(http_chunked_bodies) {
  static char out[2 << 20];
  static char big[(1 << 20) + 64];
  size_t n;
  uint32_t nt;
  int used;
  const char* ok = "5;name=\"v;x\"\r\nhello\r\n6 ; a=b\r\n world\r\nA\r\n0123456789\r\n"
                   "0\r\nX-Sum: 1\r\nY: 2\r\n\r\nNEXT";
  used = dechunk(ok, out, &n, &nt);
  ASSERT_EQ(used, (int) strlen(ok) - 4);
  ASSERT_EQ(n, 21);
  ASSERT(memcmp(out, "hello world0123456789", 21) == 0);
  ASSERT_EQ(nt, 2);
  ASSERT_EQ(dechunk("0\r\n\r\n", out, &n, &nt), 5);
  ASSERT_EQ(nt, 0);
  ASSERT_EQ(dechunk("zz\r\n", out, &n, &nt), LOOM_HTTP_E_CHUNK_SIZE);
  ASSERT_EQ(dechunk("\r\n", out, &n, &nt), LOOM_HTTP_E_CHUNK_SIZE);
  ASSERT_EQ(dechunk("fffffffffffffffff\r\n", out, &n, &nt), LOOM_HTTP_E_CHUNK_SIZE);
  ASSERT_EQ(dechunk("-1\r\n", out, &n, &nt), LOOM_HTTP_E_CHUNK_SIZE);
  ASSERT_EQ(dechunk("5\r\nhelloXX", out, &n, &nt), LOOM_HTTP_E_CHUNK_DATA);
  ASSERT_EQ(dechunk("5\nhello\r\n", out, &n, &nt), LOOM_HTTP_E_BARE_LF);
  ASSERT_EQ(dechunk("5\rhello\r\n", out, &n, &nt), LOOM_HTTP_E_BARE_CR);
  ASSERT_EQ(dechunk("5;a\x01\r\nhello\r\n", out, &n, &nt), LOOM_HTTP_E_CHUNK_EXT);
  ASSERT_EQ(dechunk("0\r\nX : y\r\n\r\n", out, &n, &nt), LOOM_HTTP_E_SPACE_BEFORE_COLON);
  ASSERT_EQ(dechunk("0\r\nX: y\n\r\n", out, &n, &nt), LOOM_HTTP_E_BARE_LF);
  /* A 1 MiB chunk extension is cut off at the limit. */
  memcpy(big, "1;", 2);
  memset(big + 2, 'a', 1 << 20);
  memcpy(big + 2 + (1 << 20), "\r\nx\r\n0\r\n\r\n", 11);
  ASSERT_EQ(dechunk(big, out, &n, &nt), LOOM_HTTP_E_CHUNK_EXT);
  return 0;
}

TEST(http_response_framing) {
  loom_http_head_t h;
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
                  "GET", &h, NULL));
  ASSERT(h.status == 200 && h.body == LOOM_HTTP_BODY_LENGTH && h.content_length == 3);
  ASSERT(h.keep_alive);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
                  "HEAD", &h, NULL));
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_NONE);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 204 No Content\r\n\r\n", NULL, &h, NULL));
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_NONE);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 304\r\n\r\n", NULL, &h, NULL));
  ASSERT(h.body == LOOM_HTTP_BODY_NONE && h.reason_len == 0);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 100 Continue\r\n\r\n", NULL, &h, NULL));
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_NONE);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 101 Switching\r\nUpgrade: ws\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT(h.upgrade);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\n\r\n", NULL, &h, NULL));
  ASSERT(h.body == LOOM_HTTP_BODY_EOF && !h.keep_alive);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                  NULL, &h, NULL));
  ASSERT_EQ(h.body, LOOM_HTTP_BODY_CHUNKED);
  ASSERT_OK(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\n\r\n", "CONNECT", &h, NULL));
  ASSERT(h.connect && h.body == LOOM_HTTP_BODY_NONE);
  ASSERT_EQ(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n", NULL, &h, NULL),
            LOOM_HTTP_E_STATUS);
  ASSERT_EQ(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 200X\r\n\r\n", NULL, &h, NULL),
            LOOM_HTTP_E_STATUS);
  ASSERT_EQ(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 2000 OK\r\n\r\n", NULL, &h, NULL),
            LOOM_HTTP_E_STATUS);
  ASSERT_EQ(parse(LOOM_HTTP_RESPONSE, "HTTP/1.1 099 OK\r\n\r\n", NULL, &h, NULL),
            LOOM_HTTP_E_STATUS);
  ASSERT_EQ(parse(LOOM_HTTP_RESPONSE,
                  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                  NULL, &h, NULL), LOOM_HTTP_E_CL_AND_TE);
  return 0;
}

TEST(http_limits) {
  static char s[40000];
  loom_http_limits_t lim;
  loom_http_head_t h;
  size_t scanned = 0;
  size_t len;
  loom_http_limits_default(&lim);
  /* No end within max_head bytes: 431, as soon as the limit is passed. */
  memset(s, 'a', sizeof(s));
  memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
  ASSERT_EQ(loom_http_head_end(s, 16384, &scanned, &lim), 0);
  ASSERT_EQ(loom_http_head_end(s, 16385, &scanned, &lim), LOOM_HTTP_E_HEAD_TOO_LARGE);
  /* 101 fields. */
  len = (size_t) sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 0; i < 100; i++)
    len += (size_t) sprintf(s + len, "X%d: v\r\n", i);
  strcpy(s + len, "\r\n");
  ASSERT_EQ(parse(LOOM_HTTP_REQUEST, s, NULL, &h, NULL), LOOM_HTTP_E_TOO_MANY_FIELDS);
  /* A target past 8 KiB. */
  len = (size_t) sprintf(s, "GET /");
  memset(s + len, 'p', 8200);
  strcpy(s + len + 8200, " HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(parse(LOOM_HTTP_REQUEST, s, NULL, &h, NULL), LOOM_HTTP_E_TARGET_TOO_LONG);
  return 0;
}

/* Growing the input a byte at a time finds the same head as the whole,
 * and chunked data split at every point decodes to the same bytes. */
TEST(http_every_split_point) {
  const char* head = "GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  const char* body = "4;e=1\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\n";
  loom_http_limits_t lim;
  size_t hlen = strlen(head), blen = strlen(body);
  loom_http_limits_default(&lim);
  {
    size_t scanned = 0;
    for (size_t len = 0; len < hlen; len++)
      ASSERT_EQ(loom_http_head_end(head, len, &scanned, &lim), 0);
    ASSERT_EQ(loom_http_head_end(head, hlen, &scanned, &lim), (int64_t) hlen);
  }
  for (size_t cut = 0; cut <= blen; cut++) {
    loom_http_chunked_t dec;
    char out[64];
    size_t out_len = 0, at = 0, avail = cut;
    int done = 0;
    loom_http_chunked_init(&dec);
    /* First the bytes up to cut, then the rest: what a NEED_MORE left
     * unused stays for the next call. */
    for (int round = 0; round < 2 && !done; round++) {
      for (;;) {
        size_t used, off, n;
        uint32_t nt;
        int r = loom_http_chunked_next(&dec, body + at, avail - at, &lim, &used, &off, &n,
                                       fields, &nt);
        ASSERT(r >= 0);
        if (r == LOOM_HTTP_CHUNK_DATA) {
          memcpy(out + out_len, body + at + off, n);
          out_len += n;
        }
        at += used;
        if (r == LOOM_HTTP_CHUNK_DONE) {
          ASSERT_EQ(nt, 1);
          done = 1;
          break;
        }
        if (r == LOOM_HTTP_CHUNK_NEED_MORE)
          break;
      }
      avail = blen;
    }
    ASSERT(done);
    ASSERT_EQ(at, blen);
    ASSERT_EQ(out_len, 23);
    ASSERT(memcmp(out, "wikipedia in\r\n\r\nchunks.", 23) == 0);
  }
  return 0;
}
