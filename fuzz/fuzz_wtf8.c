/* SPDX-License-Identifier: MIT */
/* fuzz_wtf8.c: libFuzzer target for the WTF-8 <-> UTF-16 conversions.
 * The input is read both ways: as WTF-8 (accepted or refused; accepted
 * text must survive UTF-16 and back with the lengths the length
 * functions promised) and as UTF-16 (always accepted, and must come back
 * unit for unit). Built and run by .ci/run (job "fuzz"):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     fuzz/fuzz_wtf8.c src/core/wtf8.c -o fuzz-wtf8
 *   ./fuzz-wtf8 -max_total_time=30
 */
#include "loom.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* UTF-16 -> WTF-8 -> UTF-16 must give back the same units. */
static void round_trip_utf16(const void* utf16, size_t units) {
  size_t size = loom_utf16_length_as_wtf8(utf16, units);
  char* wtf8 = malloc(size + 1);
  void* back = malloc(2 * units + 1);

  if (wtf8 == NULL || back == NULL)
    abort();
  loom_utf16_to_wtf8(utf16, units, wtf8);
  if (loom_wtf8_length_as_utf16(wtf8, size) != (ssize_t) units)
    abort();
  loom_wtf8_to_utf16(wtf8, size, back);
  if (memcmp(back, utf16, 2 * units) != 0)
    abort();
  free(wtf8);
  free(back);
}


int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssize_t units = loom_wtf8_length_as_utf16((const char*) data, size);
  void* utf16;

  if (units >= 0) {
    utf16 = malloc(2 * (size_t) units + 1);
    if (utf16 == NULL)
      abort();
    loom_wtf8_to_utf16((const char*) data, size, utf16);
    /* Well-formed WTF-8 never needs more units than bytes. */
    if ((size_t) units > size)
      abort();
    round_trip_utf16(utf16, (size_t) units);
    free(utf16);
  }
  round_trip_utf16(data, size / 2);
  return 0;
}
