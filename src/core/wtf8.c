/* SPDX-License-Identifier: MIT */
/* wtf8.c: WTF-8 <-> UTF-16, for strings that came from (or go to)
 * Windows-style 16-bit text, unpaired surrogates included.
 *
 * WTF-8 is UTF-8 that may also encode a lone surrogate (U+D800..U+DFFF)
 * in the usual three bytes. Code units are read and written through
 * memcpy because a Lua string gives no alignment promise.
 */
#include "loom.h"

#include <stdint.h>
#include <string.h>

#define HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define LOW_SURROGATE(u) ((u) >= 0xDC00 && (u) <= 0xDFFF)


static uint32_t load_unit(const void* utf16, size_t i) {
  uint16_t u;

  memcpy(&u, (const char*) utf16 + 2 * i, sizeof(u));
  return u;
}


static void store_unit(void* utf16, size_t i, uint32_t u) {
  uint16_t v = (uint16_t) u;

  memcpy((char*) utf16 + 2 * i, &v, sizeof(v));
}


/* The code point a run of UTF-16 starting at unit i stands for, and in
 * *used how many units it took: a well-formed pair is one supplementary
 * code point, every other unit (lone surrogates too) is itself. */
static uint32_t utf16_code_point(const void* utf16, size_t units, size_t i,
                                 size_t* used) {
  uint32_t u = load_unit(utf16, i);
  uint32_t next;

  *used = 1;
  if (HIGH_SURROGATE(u) && i + 1 < units) {
    next = load_unit(utf16, i + 1);
    if (LOW_SURROGATE(next)) {
      *used = 2;
      return 0x10000 + ((u - 0xD800) << 10) + (next - 0xDC00);
    }
  }
  return u;
}


static size_t wtf8_size(uint32_t cp) {
  if (cp < 0x80)
    return 1;
  if (cp < 0x800)
    return 2;
  if (cp < 0x10000)
    return 3;
  return 4;
}


/* Converts UTF-16 to WTF-8 into out, or only counts the bytes when out
 * is NULL: one walk for both, so the count and the conversion cannot
 * disagree. Returns the number of bytes. */
static size_t utf16_walk(const void* utf16, size_t units, unsigned char* out) {
  size_t bytes = 0;
  size_t i = 0;
  size_t used;
  size_t size;
  uint32_t cp;

  while (i < units) {
    cp = utf16_code_point(utf16, units, i, &used);
    i += used;
    size = wtf8_size(cp);
    bytes += size;
    if (out == NULL)
      continue;
    switch (size) {
      case 1:
        *out++ = (unsigned char) cp;
        break;
      case 2:
        *out++ = (unsigned char) (0xC0 | cp >> 6);
        *out++ = (unsigned char) (0x80 | (cp & 0x3F));
        break;
      case 3:
        *out++ = (unsigned char) (0xE0 | cp >> 12);
        *out++ = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
        *out++ = (unsigned char) (0x80 | (cp & 0x3F));
        break;
      default:
        *out++ = (unsigned char) (0xF0 | cp >> 18);
        *out++ = (unsigned char) (0x80 | (cp >> 12 & 0x3F));
        *out++ = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
        *out++ = (unsigned char) (0x80 | (cp & 0x3F));
        break;
    }
  }
  return bytes;
}


size_t loom_utf16_length_as_wtf8(const void* utf16, size_t units) {
  return utf16_walk(utf16, units, NULL);
}


void loom_utf16_to_wtf8(const void* utf16, size_t units, char* wtf8) {
  utf16_walk(utf16, units, (unsigned char*) wtf8);
}


/* The code point at s[*at], moving *at past it; -1 when the bytes there
 * are not WTF-8. Overlong forms are refused: each code point has exactly
 * one encoding, so a check made on the text still holds after it. */
static int32_t wtf8_code_point(const unsigned char* s, size_t len,
                               size_t* at) {
  size_t i = *at;
  uint32_t lead = s[i];
  uint32_t cp;
  uint32_t least;
  size_t follow;
  size_t k;

  if (lead < 0x80) {
    *at = i + 1;
    return (int32_t) lead;
  }
  if (lead < 0xC2)
    return -1; /* a continuation byte, or the lead of an overlong pair */
  if (lead < 0xE0) {
    follow = 1;
    cp = lead & 0x1F;
    least = 0x80;
  } else if (lead < 0xF0) {
    follow = 2;
    cp = lead & 0x0F;
    least = 0x800;
  } else if (lead < 0xF5) {
    follow = 3;
    cp = lead & 0x07;
    least = 0x10000;
  } else {
    return -1;
  }
  if (len - i - 1 < follow)
    return -1;
  for (k = 1; k <= follow; k++) {
    if ((s[i + k] & 0xC0) != 0x80)
      return -1;
    cp = cp << 6 | (s[i + k] & 0x3F);
  }
  if (cp < least || cp > 0x10FFFF)
    return -1;
  *at = i + 1 + follow;
  return (int32_t) cp;
}


/* Converts WTF-8 to UTF-16 into out, or only counts the units when out
 * is NULL. Returns the number of units, or LOOM_ECHARSET at the first
 * malformed sequence (after writing the units before it). */
static ssize_t wtf8_walk(const char* wtf8, size_t len, void* out) {
  const unsigned char* s = (const unsigned char*) wtf8;
  size_t at = 0;
  size_t n = 0;
  int32_t cp;

  while (at < len) {
    cp = wtf8_code_point(s, len, &at);
    if (cp < 0)
      return LOOM_ECHARSET;
    if (cp >= 0x10000) {
      if (out != NULL) {
        store_unit(out, n, 0xD800 + ((uint32_t) (cp - 0x10000) >> 10));
        store_unit(out, n + 1, 0xDC00 + ((uint32_t) (cp - 0x10000) & 0x3FF));
      }
      n += 2;
    } else {
      if (out != NULL)
        store_unit(out, n, (uint32_t) cp);
      n++;
    }
  }
  return (ssize_t) n;
}


ssize_t loom_wtf8_length_as_utf16(const char* wtf8, size_t len) {
  return wtf8_walk(wtf8, len, NULL);
}


void loom_wtf8_to_utf16(const char* wtf8, size_t len, void* utf16) {
  (void) wtf8_walk(wtf8, len, utf16);
}
