/* SPDX-License-Identifier: MIT */
/* http_parser.h: a strict HTTP/1.x message parser (RFC 9112). No Lua, no
 * I/O, no allocation: the caller owns every buffer.
 *
 * The head (start line and header fields) is parsed once it is whole:
 * loom_http_head_end finds where it ends, scanning only bytes it has not
 * seen before, and loom_http_parse_head then reads it in one pass,
 * leaving offsets into the caller's buffer (nothing is copied). The body
 * is framed by the head: a length, chunked coding (decoded incrementally
 * by loom_http_chunked_next, which hands back spans of the caller's
 * buffer), nothing, or (responses only) everything until the connection
 * closes.
 *
 * Every ambiguity a request smuggler could use is an error: both
 * Content-Length and Transfer-Encoding, a repeated or malformed
 * Content-Length, a Transfer-Encoding whose last coding is not chunked,
 * a bare CR or LF, obs-fold, whitespace before a colon, bytes a token or
 * a field value may not hold, chunk sizes that overflow and oversized
 * chunk extensions. */
#ifndef LOOM_HTTP_PARSER_H
#define LOOM_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  LOOM_HTTP_REQUEST,
  LOOM_HTTP_RESPONSE
} loom_http_kind;

/* How the body of a message is delimited. */
typedef enum {
  LOOM_HTTP_BODY_NONE,     /* no body */
  LOOM_HTTP_BODY_LENGTH,   /* content_length bytes */
  LOOM_HTTP_BODY_CHUNKED,  /* chunked coding, then trailer fields */
  LOOM_HTTP_BODY_EOF       /* a response read until the connection closes */
} loom_http_body_kind;

/* Errors (negative) with the status a server answers them with. */
typedef enum {
  LOOM_HTTP_OK = 0,
  LOOM_HTTP_E_BARE_LF = -1,         /* 400: LF without CR */
  LOOM_HTTP_E_BARE_CR = -2,         /* 400: CR without LF */
  LOOM_HTTP_E_START_LINE = -3,      /* 400: malformed request or status line */
  LOOM_HTTP_E_METHOD = -4,          /* 400: a method that is not a token */
  LOOM_HTTP_E_TARGET = -5,          /* 400: bytes a request-target may not hold */
  LOOM_HTTP_E_VERSION = -6,         /* 505: not HTTP/1.0 or HTTP/1.1 */
  LOOM_HTTP_E_STATUS = -7,          /* 502 (client side): bad status code */
  LOOM_HTTP_E_FIELD_NAME = -8,      /* 400: a field name that is not a token */
  LOOM_HTTP_E_SPACE_BEFORE_COLON = -9, /* 400 */
  LOOM_HTTP_E_OBS_FOLD = -10,       /* 400: a field line continued */
  LOOM_HTTP_E_FIELD_VALUE = -11,    /* 400: a control byte in a value */
  LOOM_HTTP_E_CONTENT_LENGTH = -12, /* 400: malformed or repeated */
  LOOM_HTTP_E_CL_AND_TE = -13,      /* 400: both framings */
  LOOM_HTTP_E_TRANSFER_ENCODING = -14, /* 400 (501 in a server for an
                                        unknown coding: see below) */
  LOOM_HTTP_E_HOST = -15,           /* 400: HTTP/1.1 without one Host */
  LOOM_HTTP_E_HEAD_TOO_LARGE = -16, /* 431 */
  LOOM_HTTP_E_TOO_MANY_FIELDS = -17,/* 431 */
  LOOM_HTTP_E_TARGET_TOO_LONG = -18,/* 414 */
  LOOM_HTTP_E_CHUNK_SIZE = -19,     /* 400: not hex, or overflowing */
  LOOM_HTTP_E_CHUNK_EXT = -20,      /* 400: malformed or too long */
  LOOM_HTTP_E_CHUNK_DATA = -21,     /* 400: no CRLF after the data */
  LOOM_HTTP_E_TRAILER = -22         /* 400: malformed or too large trailers */
} loom_http_error;

/* Limits; loom_http_limits_default fills the defaults given here. */
typedef struct {
  uint32_t max_head;      /* bytes of the start line and the fields: 16 KiB */
  uint32_t max_fields;    /* header fields: 100 */
  uint32_t max_target;    /* request-target bytes: 8 KiB */
  uint32_t max_chunk_ext; /* bytes of one chunk's extensions: 1 KiB */
} loom_http_limits_t;

/* One field line: offsets into the parsed buffer. */
typedef struct {
  uint32_t name_off, name_len;
  uint32_t value_off, value_len;
} loom_http_field_t;

typedef struct {
  /* The start line (offsets into the buffer). */
  uint32_t method_off, method_len;  /* requests */
  uint32_t target_off, target_len;  /* requests */
  uint32_t reason_off, reason_len;  /* responses */
  int status;                       /* responses */
  int version_minor;                /* 0 or 1 (HTTP/1.x) */
  uint32_t nfields;
  loom_http_body_kind body;
  uint64_t content_length;          /* LOOM_HTTP_BODY_LENGTH */
  unsigned keep_alive : 1;          /* the connection may carry another message */
  unsigned upgrade : 1;             /* Connection: upgrade with an Upgrade field */
  unsigned connect : 1;             /* a CONNECT request */
  unsigned expect_continue : 1;     /* Expect: 100-continue */
} loom_http_head_t;

void loom_http_limits_default(loom_http_limits_t* limits);

/* Finds the end of a head in buf[0..len). *scanned is how far an earlier
 * call on the same (since grown) buffer got: start it at 0, keep it
 * between calls, and reset it once a head was found. Returns the head's
 * length (through the empty line), 0 if more bytes are needed, or an
 * error: a bare LF, or LOOM_HTTP_E_HEAD_TOO_LARGE once max_head bytes
 * hold no end. Empty lines before a request line are part of the head
 * (RFC 9112 2.2 says to ignore them). */
int64_t loom_http_head_end(const char* buf, size_t len, size_t* scanned,
                           const loom_http_limits_t* limits);

/* Parses a whole head of head_len bytes (as loom_http_head_end found).
 * fields has room for limits->max_fields entries. For a response,
 * request_method is the method of the request it answers ("HEAD" and
 * "CONNECT" change its framing); NULL means GET. Returns 0 or an error. */
int loom_http_parse_head(loom_http_kind kind, const char* buf,
                         size_t head_len, const loom_http_limits_t* limits,
                         const char* request_method, loom_http_head_t* head,
                         loom_http_field_t* fields);

/* The status a server answers an error with (400, 414, 431, 501, 505). */
int loom_http_error_status(int err);
/* A short English description of an error. */
const char* loom_http_error_message(int err);

/* The chunked-coding decoder's state; zero it (or call
 * loom_http_chunked_init) before the body starts. */
typedef struct {
  int state;
  uint64_t remaining;    /* bytes left in the current chunk */
  uint32_t ext_len;      /* bytes of the current chunk's extensions */
  uint32_t line_len;     /* bytes of the trailer section so far */
  int size_digits;
} loom_http_chunked_t;

void loom_http_chunked_init(loom_http_chunked_t* dec);

typedef enum {
  LOOM_HTTP_CHUNK_NEED_MORE = 0, /* all input used; nothing complete */
  LOOM_HTTP_CHUNK_DATA = 1,      /* a span of body data */
  LOOM_HTTP_CHUNK_DONE = 2       /* the last chunk and trailers were read */
} loom_http_chunk_result;

/* Decodes from buf[0..len). Sets *used to the bytes it took. Returns
 * DATA with the span buf[*data_off .. *data_off + *data_len) (ending at
 * *used), NEED_MORE (the input was framing only, or ends inside a
 * trailer section: the caller keeps buf[*used..] and calls again with
 * more appended), DONE (*used includes the trailer section, whose fields
 * are parsed into trailers/ntrailers as offsets into buf), or an error. */
int loom_http_chunked_next(loom_http_chunked_t* dec, const char* buf,
                           size_t len, const loom_http_limits_t* limits,
                           size_t* used, size_t* data_off, size_t* data_len,
                           loom_http_field_t* trailers, uint32_t* ntrailers);

#endif /* LOOM_HTTP_PARSER_H */
