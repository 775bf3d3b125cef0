/* SPDX-License-Identifier: MIT */
/* http_chars.c: the byte classes of http_internal.h, built as a table
 * the parser indexes once per byte. */
#include "http_internal.h"

#define T HTTP_TCHAR
#define G HTTP_TARGET
#define V HTTP_VALUE
#define D HTTP_DIGIT
#define H HTTP_HEX

/* Visible ASCII is a target and a value byte; tokens, digits and hex
 * digits add their bits. obs-text (0x80-0xFF) is only a value byte. */
#define VIS (G | V)
const unsigned char loom__http_class[256] = {
  /* 0x00-0x08 */ 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* \t */ V,
  /* 0x0A-0x1F */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  /* SP */ V,
  /* ! */ VIS | T, /* " */ VIS, /* # */ VIS | T, /* $ */ VIS | T, /* % */ VIS | T,
  /* & */ VIS | T, /* ' */ VIS | T, /* ( */ VIS, /* ) */ VIS, /* * */ VIS | T,
  /* + */ VIS | T, /* , */ VIS, /* - */ VIS | T, /* . */ VIS | T, /* / */ VIS,
  /* 0-9 */ VIS | T | D | H, VIS | T | D | H, VIS | T | D | H, VIS | T | D | H,
  VIS | T | D | H, VIS | T | D | H, VIS | T | D | H, VIS | T | D | H,
  VIS | T | D | H, VIS | T | D | H,
  /* : ; < = > ? @ */ VIS, VIS, VIS, VIS, VIS, VIS, VIS,
  /* A-F */ VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H,
  /* G-Z */ VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T,
  VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T,
  VIS | T, VIS | T, VIS | T,
  /* [ \ ] */ VIS, VIS, VIS,
  /* ^ _ ` */ VIS | T, VIS | T, VIS | T,
  /* a-f */ VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H, VIS | T | H,
  /* g-z */ VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T,
  VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T, VIS | T,
  VIS | T, VIS | T, VIS | T,
  /* { */ VIS, /* | */ VIS | T, /* } */ VIS, /* ~ */ VIS | T,
  /* DEL */ 0,
  /* 0x80-0xFF: obs-text */
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
  V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
};
