/* SPDX-License-Identifier: MIT */
/* loom/wtf8.h: conversion between WTF-8 and UTF-16 (luv's string section).
 * Included by loom.h.
 *
 * UTF-16 here is an array of 16-bit code units in the machine's byte
 * order, passed as bytes (as a Lua string holds it), so it may sit at any
 * address. Unpaired surrogates are allowed on both sides: that is what
 * WTF-8 is for (https://simonsapin.github.io/wtf-8/). Nothing is NUL
 * terminated; a NUL is a code unit like any other.
 */
#ifndef LOOM_WTF8_H
#define LOOM_WTF8_H

#include <stddef.h>
#include <sys/types.h>

/* The WTF-8 length, in bytes, of `units` UTF-16 code units. Every
 * sequence of code units has one. */
size_t loom_utf16_length_as_wtf8(const void* utf16, size_t units);
/* Writes that many bytes to wtf8. */
void loom_utf16_to_wtf8(const void* utf16, size_t units, char* wtf8);

/* The number of UTF-16 code units len bytes of WTF-8 become, or
 * LOOM_ECHARSET when they are not WTF-8: a truncated or overlong
 * sequence, a stray continuation byte, or a code point above U+10FFFF.
 * A surrogate pair whose halves are encoded one by one (as CESU-8 does)
 * is accepted and becomes the pair, as libuv accepts it. */
ssize_t loom_wtf8_length_as_utf16(const char* wtf8, size_t len);
/* Writes that many code units (twice as many bytes) to utf16; wtf8 must
 * have passed loom_wtf8_length_as_utf16. */
void loom_wtf8_to_utf16(const char* wtf8, size_t len, void* utf16);

#endif
