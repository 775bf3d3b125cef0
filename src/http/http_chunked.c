/* SPDX-License-Identifier: MIT */
/* http_chunked.c: the chunked transfer coding (RFC 9112 7.1), decoded a
 * piece at a time. The data of each chunk is handed back as a span of
 * the caller's buffer; sizes, extensions and CRLFs are checked byte by
 * byte, so input may be split anywhere. */
#include "http_internal.h"

#include <string.h>

enum {
  S_SIZE,      /* hex digits of the chunk size */
  S_SIZE_WS,   /* whitespace after the size, before ';' or CR */
  S_EXT,       /* chunk extensions, up to CR */
  S_SIZE_LF,   /* the LF ending the size line */
  S_DATA,      /* remaining bytes of chunk data */
  S_DATA_CR,   /* the CRLF after the data */
  S_DATA_LF,
  S_TRAILERS,  /* the trailer section, parsed once whole */
  S_DONE
};

void loom_http_chunked_init(loom_http_chunked_t* dec) {
  memset(dec, 0, sizeof(*dec));
}


/* The end of the size line (after its LF): data, or the trailers. */
static void size_line_done(loom_http_chunked_t* dec) {
  dec->state = dec->remaining > 0 ? S_DATA : S_TRAILERS;
  dec->ext_len = 0;
  dec->size_digits = 0;
}


/* The trailer section starting at buf[p]: DONE with *used past it,
 * NEED_MORE while it is incomplete, or an error. */
static int read_trailers(loom_http_chunked_t* dec, const char* buf, size_t len,
                         size_t p, const loom_http_limits_t* limits, size_t* used,
                         loom_http_field_t* trailers, uint32_t* ntrailers) {
  size_t scanned = 0;
  int64_t n;
  const char* after;
  int err;

  *ntrailers = 0;
  if (len - p >= 2 && buf[p] == '\r' && buf[p + 1] == '\n') {
    *used = p + 2;
    dec->state = S_DONE;
    return LOOM_HTTP_CHUNK_DONE;
  }
  if (len - p >= 1 && buf[p] == '\n')
    return LOOM_HTTP_E_BARE_LF;
  if (len - p >= 2 && buf[p] == '\r')
    return LOOM_HTTP_E_BARE_CR;
  /* loom_http_head_end finds CRLF CRLF; an empty line at the start was
   * handled above, so a leading CRLF cannot be taken for one. */
  n = loom_http_head_end(buf + p, len - p, &scanned, limits);
  if (n == LOOM_HTTP_E_HEAD_TOO_LARGE)
    return LOOM_HTTP_E_TRAILER;
  if (n < 0)
    return (int) n;
  if (n == 0) {
    *used = p;
    return LOOM_HTTP_CHUNK_NEED_MORE;
  }
  err = loom__http_parse_fields(buf, buf + p, buf + p + n, limits->max_fields,
                                trailers, ntrailers, &after);
  if (err < 0)
    return err == LOOM_HTTP_E_TOO_MANY_FIELDS ? LOOM_HTTP_E_TRAILER : err;
  *used = (size_t) (after - buf);
  dec->state = S_DONE;
  return LOOM_HTTP_CHUNK_DONE;
}


int loom_http_chunked_next(loom_http_chunked_t* dec, const char* buf,
                           size_t len, const loom_http_limits_t* limits,
                           size_t* used, size_t* data_off, size_t* data_len,
                           loom_http_field_t* trailers, uint32_t* ntrailers) {
  size_t p = 0;
  *ntrailers = 0;
  while (p < len || dec->state == S_TRAILERS) {
    unsigned char c;
    if (dec->state == S_TRAILERS)
      return read_trailers(dec, buf, len, p, limits, used, trailers, ntrailers);
    if (dec->state == S_DONE)
      break;
    if (dec->state == S_DATA) {
      size_t take = len - p;
      if ((uint64_t) take > dec->remaining)
        take = (size_t) dec->remaining;
      dec->remaining -= take;
      if (dec->remaining == 0)
        dec->state = S_DATA_CR;
      *data_off = p;
      *data_len = take;
      *used = p + take;
      return LOOM_HTTP_CHUNK_DATA;
    }
    c = (unsigned char) buf[p++];
    switch (dec->state) {
      case S_SIZE:
        if (http_is_hex(c)) {
          unsigned d = c <= '9' ? (unsigned) (c - '0') : (unsigned) (http_lower(c) - 'a' + 10);
          /* Sixteen hex digits, leading zeros aside, would overflow. */
          if (dec->remaining >> 59)
            return LOOM_HTTP_E_CHUNK_SIZE;
          dec->remaining = dec->remaining * 16 + d;
          dec->size_digits++;
          break;
        }
        if (dec->size_digits == 0)
          return LOOM_HTTP_E_CHUNK_SIZE;
        if (c == '\r')
          dec->state = S_SIZE_LF;
        else if (c == ';')
          dec->state = S_EXT;
        else if (c == ' ' || c == '\t')
          dec->state = S_SIZE_WS; /* BWS before ';' */
        else
          return c == '\n' ? LOOM_HTTP_E_BARE_LF : LOOM_HTTP_E_CHUNK_SIZE;
        break;
      case S_SIZE_WS:
        if (c == ';')
          dec->state = S_EXT;
        else if (c == '\r')
          dec->state = S_SIZE_LF;
        else if (c != ' ' && c != '\t')
          return LOOM_HTTP_E_CHUNK_SIZE;
        if (++dec->ext_len > limits->max_chunk_ext)
          return LOOM_HTTP_E_CHUNK_EXT;
        break;
      case S_EXT:
        /* Names, values and quoted strings: visible bytes, SP, HTAB. */
        if (c == '\r') {
          dec->state = S_SIZE_LF;
        } else if (!http_is_value_char(c)) {
          return c == '\n' ? LOOM_HTTP_E_BARE_LF : LOOM_HTTP_E_CHUNK_EXT;
        }
        if (++dec->ext_len > limits->max_chunk_ext)
          return LOOM_HTTP_E_CHUNK_EXT;
        break;
      case S_SIZE_LF:
        if (c != '\n')
          return LOOM_HTTP_E_BARE_CR;
        size_line_done(dec);
        break;
      case S_DATA_CR:
        if (c != '\r')
          return LOOM_HTTP_E_CHUNK_DATA;
        dec->state = S_DATA_LF;
        break;
      case S_DATA_LF:
        if (c != '\n')
          return LOOM_HTTP_E_CHUNK_DATA;
        dec->state = S_SIZE;
        dec->remaining = 0;
        break;
      default:
        return LOOM_HTTP_E_CHUNK_SIZE;
    }
  }
  *used = p;
  return dec->state == S_DONE ? LOOM_HTTP_CHUNK_DONE : LOOM_HTTP_CHUNK_NEED_MORE;
}
