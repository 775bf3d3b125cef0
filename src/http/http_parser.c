/* SPDX-License-Identifier: MIT */
/* http_parser.c: the head of an HTTP/1.x message (start line and header
 * fields), read strictly after RFC 9112 and RFC 9110. See http_parser.h
 * for the contract; http_chunked.c decodes chunked bodies. */
#include "http_parser.h"
#include "http_internal.h"

#include <string.h>

void loom_http_limits_default(loom_http_limits_t* limits) {
  limits->max_head = 16 * 1024;
  limits->max_fields = 100;
  limits->max_target = 8 * 1024;
  limits->max_chunk_ext = 1024;
}


/* The number of bytes of empty lines (CRLF pairs) at the start. */
static size_t leading_empty_lines(const char* buf, size_t len) {
  size_t i = 0;
  while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
    i += 2;
  return i;
}


int64_t loom_http_head_end(const char* buf, size_t len, size_t* scanned,
                           const loom_http_limits_t* limits) {
  size_t lead = leading_empty_lines(buf, len);
  size_t i = *scanned > lead ? *scanned : lead;
  const char* lf;

  while (i < len && (lf = memchr(buf + i, '\n', len - i)) != NULL) {
    i = (size_t) (lf - buf);
    if (i == 0 || buf[i - 1] != '\r')
      return LOOM_HTTP_E_BARE_LF;
    /* CRLF CRLF whose first CRLF ends a line after the leading ones. */
    if (i >= lead + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
      if (i + 1 > limits->max_head)
        return LOOM_HTTP_E_HEAD_TOO_LARGE;
      return (int64_t) (i + 1);
    }
    i++;
  }
  if (len > limits->max_head)
    return LOOM_HTTP_E_HEAD_TOO_LARGE;
  *scanned = len;
  return 0;
}


/* Case-insensitive comparison of a span with a lower-case literal. */
static int span_is(const char* s, size_t len, const char* lower) {
  size_t n = strlen(lower);
  if (len != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (http_lower((unsigned char) s[i]) != (unsigned char) lower[i])
      return 0;
  }
  return 1;
}


/* The line ending at the CR of a CRLF: returns the CR's position, or
 * NULL (setting *err) if a CR stands alone before it. The head was
 * checked for bare LFs already and ends in CRLF CRLF, so a LF exists. */
static const char* line_end(const char* p, const char* end, int* err) {
  const char* cr = memchr(p, '\r', (size_t) (end - p));
  if (cr == NULL || cr + 1 >= end || cr[1] != '\n') {
    *err = LOOM_HTTP_E_BARE_CR;
    return NULL;
  }
  return cr;
}


/* "HTTP/1.x": the minor version, or an error. */
static int parse_version(const char* p, const char* end) {
  if (end - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.')
    return LOOM_HTTP_E_START_LINE;
  if (!http_is_digit((unsigned char) p[5]) || !http_is_digit((unsigned char) p[7]))
    return LOOM_HTTP_E_START_LINE;
  if (p[5] != '1' || p[7] > '1')
    return LOOM_HTTP_E_VERSION;
  return p[7] - '0';
}


static int parse_request_line(const char* base, const char* p, const char* eol,
                              const loom_http_limits_t* limits,
                              loom_http_head_t* head) {
  const char* q = p;
  int minor;

  while (q < eol && http_is_tchar((unsigned char) *q))
    q++;
  if (q == p || q == eol)
    return LOOM_HTTP_E_START_LINE;
  if (*q != ' ')
    return LOOM_HTTP_E_METHOD;
  head->method_off = (uint32_t) (p - base);
  head->method_len = (uint32_t) (q - p);
  p = ++q;
  while (q < eol && *q != ' ') {
    if (!http_is_target_char((unsigned char) *q))
      return LOOM_HTTP_E_TARGET;
    q++;
  }
  if (q == p || q == eol)
    return LOOM_HTTP_E_START_LINE;
  if ((size_t) (q - p) > limits->max_target)
    return LOOM_HTTP_E_TARGET_TOO_LONG;
  head->target_off = (uint32_t) (p - base);
  head->target_len = (uint32_t) (q - p);
  minor = parse_version(q + 1, eol);
  if (minor < 0)
    return minor;
  head->version_minor = minor;
  head->connect = span_is(base + head->method_off, head->method_len, "connect");
  return 0;
}


static int parse_status_line(const char* base, const char* p, const char* eol,
                             loom_http_head_t* head) {
  int minor;
  if (eol - p < 12 || p[8] != ' ')
    return LOOM_HTTP_E_START_LINE;
  minor = parse_version(p, p + 8);
  if (minor < 0)
    return minor;
  head->version_minor = minor;
  p += 9;
  for (int i = 0; i < 3; i++) {
    if (!http_is_digit((unsigned char) p[i]))
      return LOOM_HTTP_E_STATUS;
  }
  head->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
  if (head->status < 100)
    return LOOM_HTTP_E_STATUS;
  p += 3;
  /* The SP before an empty reason phrase is often left out. */
  if (p < eol && *p++ != ' ')
    return LOOM_HTTP_E_STATUS;
  for (const char* q = p; q < eol; q++) {
    if (!http_is_value_char((unsigned char) *q))
      return LOOM_HTTP_E_START_LINE;
  }
  head->reason_off = (uint32_t) (p - base);
  head->reason_len = (uint32_t) (eol - p);
  return 0;
}


/* One field line p..eol into *f (offsets from base). */
static int parse_field(const char* base, const char* p, const char* eol,
                       loom_http_field_t* f) {
  const char* q = p;
  if (*p == ' ' || *p == '\t')
    return LOOM_HTTP_E_OBS_FOLD;
  while (q < eol && http_is_tchar((unsigned char) *q))
    q++;
  if (q == eol || *q != ':') {
    if (q < eol && (*q == ' ' || *q == '\t'))
      return LOOM_HTTP_E_SPACE_BEFORE_COLON;
    return LOOM_HTTP_E_FIELD_NAME;
  }
  if (q == p)
    return LOOM_HTTP_E_FIELD_NAME;
  f->name_off = (uint32_t) (p - base);
  f->name_len = (uint32_t) (q - p);
  q++;
  while (q < eol && (*q == ' ' || *q == '\t'))
    q++;
  p = q;
  for (; q < eol; q++) {
    if (!http_is_value_char((unsigned char) *q))
      return LOOM_HTTP_E_FIELD_VALUE;
  }
  q = eol;
  while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
    q--;
  f->value_off = (uint32_t) (p - base);
  f->value_len = (uint32_t) (q - p);
  return 0;
}


int loom__http_parse_fields(const char* base, const char* p, const char* end,
                            uint32_t max_fields, loom_http_field_t* fields,
                            uint32_t* nfields, const char** after) {
  uint32_t n = 0;
  int err = 0;
  for (;;) {
    const char* eol = line_end(p, end, &err);
    if (eol == NULL)
      return err;
    if (eol == p) {
      *after = eol + 2;
      *nfields = n;
      return 0;
    }
    if (n >= max_fields)
      return LOOM_HTTP_E_TOO_MANY_FIELDS;
    err = parse_field(base, p, eol, &fields[n]);
    if (err < 0)
      return err;
    n++;
    p = eol + 2;
  }
}


/* What the framing fields said. */
typedef struct {
  int cl_seen;
  uint64_t cl;
  int te_seen;
  int te_chunked_last;
  int te_bad;
  int hosts;
  int conn_close;
  int conn_keep_alive;
  int conn_upgrade;
  int upgrade_field;
  int expect_continue;
} framing_t;


static int parse_content_length(const char* v, size_t len, framing_t* fr) {
  uint64_t n = 0;
  if (fr->cl_seen || len == 0)
    return LOOM_HTTP_E_CONTENT_LENGTH;
  for (size_t i = 0; i < len; i++) {
    unsigned d = (unsigned char) v[i] - '0';
    if (d > 9)
      return LOOM_HTTP_E_CONTENT_LENGTH;
    /* 2^63 is far past any real body and keeps the sum from wrapping. */
    if (n > (UINT64_C(1) << 59))
      return LOOM_HTTP_E_CONTENT_LENGTH;
    n = n * 10 + d;
  }
  fr->cl_seen = 1;
  fr->cl = n;
  return 0;
}


/* Calls each(element, length, fr) for the comma-separated elements of a
 * list value (RFC 9110 5.6.1), skipping empty ones. */
static int each_element(const char* v, size_t len, framing_t* fr,
                        int (*each)(const char*, size_t, framing_t*)) {
  size_t i = 0;
  while (i < len) {
    size_t start, stop;
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    start = i;
    while (i < len && v[i] != ',')
      i++;
    stop = i;
    while (stop > start && (v[stop - 1] == ' ' || v[stop - 1] == '\t'))
      stop--;
    if (stop > start) {
      int err = each(v + start, stop - start, fr);
      if (err < 0)
        return err;
    }
  }
  return 0;
}


static int te_element(const char* s, size_t len, framing_t* fr) {
  /* A coding is a token, maybe with parameters after ';'. */
  size_t n = 0;
  while (n < len && http_is_tchar((unsigned char) s[n]))
    n++;
  if (n == 0)
    return LOOM_HTTP_E_TRANSFER_ENCODING;
  if (fr->te_chunked_last)
    fr->te_bad = 1; /* chunked, then another coding */
  fr->te_chunked_last = n == len && span_is(s, n, "chunked");
  return 0;
}


static int connection_element(const char* s, size_t len, framing_t* fr) {
  if (span_is(s, len, "close"))
    fr->conn_close = 1;
  else if (span_is(s, len, "keep-alive"))
    fr->conn_keep_alive = 1;
  else if (span_is(s, len, "upgrade"))
    fr->conn_upgrade = 1;
  return 0;
}


static int read_framing(const char* base, const loom_http_field_t* fields,
                        uint32_t n, framing_t* fr) {
  memset(fr, 0, sizeof(*fr));
  for (uint32_t i = 0; i < n; i++) {
    const char* name = base + fields[i].name_off;
    size_t nlen = fields[i].name_len;
    const char* v = base + fields[i].value_off;
    size_t vlen = fields[i].value_len;
    int err = 0;
    switch (http_lower((unsigned char) name[0])) {
      case 'c':
        if (span_is(name, nlen, "content-length"))
          err = parse_content_length(v, vlen, fr);
        else if (span_is(name, nlen, "connection"))
          err = each_element(v, vlen, fr, connection_element);
        break;
      case 't':
        if (span_is(name, nlen, "transfer-encoding")) {
          fr->te_seen = 1;
          err = each_element(v, vlen, fr, te_element);
        }
        break;
      case 'h':
        if (span_is(name, nlen, "host"))
          fr->hosts++;
        break;
      case 'u':
        if (span_is(name, nlen, "upgrade"))
          fr->upgrade_field = 1;
        break;
      case 'e':
        if (span_is(name, nlen, "expect") && span_is(v, vlen, "100-continue"))
          fr->expect_continue = 1;
        break;
      default:
        break;
    }
    if (err < 0)
      return err;
  }
  return 0;
}


static int frame_request(const framing_t* fr, loom_http_head_t* head) {
  if (head->version_minor == 1 && fr->hosts != 1)
    return LOOM_HTTP_E_HOST;
  if (fr->hosts > 1)
    return LOOM_HTTP_E_HOST;
  if (fr->te_seen) {
    if (fr->cl_seen)
      return LOOM_HTTP_E_CL_AND_TE;
    /* HTTP/1.0 has no chunked coding: its framing cannot be trusted. */
    if (head->version_minor == 0 || fr->te_bad || !fr->te_chunked_last)
      return LOOM_HTTP_E_TRANSFER_ENCODING;
    head->body = LOOM_HTTP_BODY_CHUNKED;
  } else if (fr->cl_seen && fr->cl > 0) {
    head->body = LOOM_HTTP_BODY_LENGTH;
    head->content_length = fr->cl;
  } else {
    head->body = LOOM_HTTP_BODY_NONE;
  }
  head->upgrade = fr->conn_upgrade && fr->upgrade_field;
  head->expect_continue = fr->expect_continue && head->version_minor == 1;
  return 0;
}


static int frame_response(const framing_t* fr, const char* request_method,
                          loom_http_head_t* head) {
  int s = head->status;
  int is_head = request_method != NULL && strcmp(request_method, "HEAD") == 0;
  int is_connect = request_method != NULL && strcmp(request_method, "CONNECT") == 0;
  if (fr->te_seen && fr->cl_seen)
    return LOOM_HTTP_E_CL_AND_TE;
  if (fr->te_bad)
    return LOOM_HTTP_E_TRANSFER_ENCODING;
  head->upgrade = s == 101;
  head->connect = is_connect && s >= 200 && s < 300;
  if ((s >= 100 && s < 200) || s == 204 || s == 304 || is_head || head->connect) {
    head->body = LOOM_HTTP_BODY_NONE;
  } else if (fr->te_seen) {
    head->body = fr->te_chunked_last && head->version_minor == 1
                     ? LOOM_HTTP_BODY_CHUNKED : LOOM_HTTP_BODY_EOF;
  } else if (fr->cl_seen) {
    head->body = fr->cl > 0 ? LOOM_HTTP_BODY_LENGTH : LOOM_HTTP_BODY_NONE;
    head->content_length = fr->cl;
  } else {
    head->body = LOOM_HTTP_BODY_EOF;
  }
  return 0;
}


int loom_http_parse_head(loom_http_kind kind, const char* buf,
                         size_t head_len, const loom_http_limits_t* limits,
                         const char* request_method, loom_http_head_t* head,
                         loom_http_field_t* fields) {
  const char* end = buf + head_len;
  const char* p = buf + leading_empty_lines(buf, head_len);
  const char* eol;
  const char* after;
  framing_t fr;
  int err = 0;

  memset(head, 0, sizeof(*head));
  eol = line_end(p, end, &err);
  if (eol == NULL)
    return err;
  err = kind == LOOM_HTTP_REQUEST
            ? parse_request_line(buf, p, eol, limits, head)
            : parse_status_line(buf, p, eol, head);
  if (err < 0)
    return err;
  err = loom__http_parse_fields(buf, eol + 2, end, limits->max_fields, fields,
                                &head->nfields, &after);
  if (err < 0)
    return err;
  err = read_framing(buf, fields, head->nfields, &fr);
  if (err < 0)
    return err;
  err = kind == LOOM_HTTP_REQUEST ? frame_request(&fr, head)
                                  : frame_response(&fr, request_method, head);
  if (err < 0)
    return err;
  if (head->version_minor == 1)
    head->keep_alive = !fr.conn_close;
  else
    head->keep_alive = fr.conn_keep_alive && !fr.conn_close;
  if (head->body == LOOM_HTTP_BODY_EOF)
    head->keep_alive = 0;
  return 0;
}


int loom_http_error_status(int err) {
  switch (err) {
    case LOOM_HTTP_E_VERSION: return 505;
    case LOOM_HTTP_E_HEAD_TOO_LARGE:
    case LOOM_HTTP_E_TOO_MANY_FIELDS: return 431;
    case LOOM_HTTP_E_TARGET_TOO_LONG: return 414;
    default: return 400;
  }
}


const char* loom_http_error_message(int err) {
  switch (err) {
    case LOOM_HTTP_E_BARE_LF: return "LF without CR";
    case LOOM_HTTP_E_BARE_CR: return "CR without LF";
    case LOOM_HTTP_E_START_LINE: return "malformed start line";
    case LOOM_HTTP_E_METHOD: return "invalid method";
    case LOOM_HTTP_E_TARGET: return "invalid request target";
    case LOOM_HTTP_E_VERSION: return "HTTP version not supported";
    case LOOM_HTTP_E_STATUS: return "invalid status code";
    case LOOM_HTTP_E_FIELD_NAME: return "invalid header field name";
    case LOOM_HTTP_E_SPACE_BEFORE_COLON: return "whitespace before a header colon";
    case LOOM_HTTP_E_OBS_FOLD: return "obsolete line folding";
    case LOOM_HTTP_E_FIELD_VALUE: return "invalid header field value";
    case LOOM_HTTP_E_CONTENT_LENGTH: return "invalid or repeated Content-Length";
    case LOOM_HTTP_E_CL_AND_TE: return "both Content-Length and Transfer-Encoding";
    case LOOM_HTTP_E_TRANSFER_ENCODING: return "unsupported Transfer-Encoding";
    case LOOM_HTTP_E_HOST: return "missing or repeated Host";
    case LOOM_HTTP_E_HEAD_TOO_LARGE: return "header section too large";
    case LOOM_HTTP_E_TOO_MANY_FIELDS: return "too many header fields";
    case LOOM_HTTP_E_TARGET_TOO_LONG: return "request target too long";
    case LOOM_HTTP_E_CHUNK_SIZE: return "invalid chunk size";
    case LOOM_HTTP_E_CHUNK_EXT: return "invalid or too long chunk extension";
    case LOOM_HTTP_E_CHUNK_DATA: return "missing CRLF after chunk data";
    case LOOM_HTTP_E_TRAILER: return "invalid or too large trailer section";
    default: return "invalid HTTP message";
  }
}
