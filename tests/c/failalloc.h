/* SPDX-License-Identifier: MIT */
/* failalloc.h: the allocation failure injector (failalloc.c) for the C
 * tests and, through lfailalloc.c, for Lua scripts under
 * build/tests/c/loom-failalloc. Only the thread that arms it sees
 * failures. */
#ifndef LOOM_TESTS_FAILALLOC_H
#define LOOM_TESTS_FAILALLOC_H

#include <stddef.h>

/* From now on the n-th allocation of at least `smallest` bytes made by
 * the calling thread fails, and with onward_too every later one as well;
 * n == 0 only counts. */
void failalloc_arm(long n, int onward_too, size_t smallest);
/* Stops failing; reports how many allocations the armed thread made and
 * how many failed (either pointer may be NULL). */
void failalloc_disarm(long* seen, long* failed);

#endif
