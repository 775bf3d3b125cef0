/* SPDX-License-Identifier: MIT */
/* http_internal.h: byte classes (RFC 9110) and what http_parser.c shares
 * with http_chunked.c. */
#ifndef LOOM_HTTP_INTERNAL_H
#define LOOM_HTTP_INTERNAL_H

#include "http_parser.h"

/* Bits of loom__http_class[byte]. */
#define HTTP_TCHAR 1u   /* token: ALPHA DIGIT !#$%&'*+-.^_`|~ */
#define HTTP_TARGET 2u  /* request-target: visible ASCII (0x21-0x7E) */
#define HTTP_VALUE 4u   /* field value: SP HTAB VCHAR obs-text */
#define HTTP_DIGIT 8u
#define HTTP_HEX 16u

extern const unsigned char loom__http_class[256];

static inline int http_is_tchar(unsigned char c) { return loom__http_class[c] & HTTP_TCHAR; }
static inline int http_is_target_char(unsigned char c) { return loom__http_class[c] & HTTP_TARGET; }
static inline int http_is_value_char(unsigned char c) { return loom__http_class[c] & HTTP_VALUE; }
static inline int http_is_digit(unsigned char c) { return loom__http_class[c] & HTTP_DIGIT; }
static inline int http_is_hex(unsigned char c) { return loom__http_class[c] & HTTP_HEX; }
static inline unsigned char http_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}

/* Field lines from p up to and through the empty line that ends them
 * (the section must end in CRLF CRLF within end). Fills fields (room
 * for max_fields), *nfields and *after (the byte past the empty line).
 * Returns 0 or an error. */
int loom__http_parse_fields(const char* base, const char* p, const char* end,
                            uint32_t max_fields, loom_http_field_t* fields,
                            uint32_t* nfields, const char** after);

#endif /* LOOM_HTTP_INTERNAL_H */
