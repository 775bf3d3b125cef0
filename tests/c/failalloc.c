/* SPDX-License-Identifier: MIT */
/* failalloc.c: allocation failure injection for the test runner
 * build/loom-failalloc (reliability anchor 50, libuv's loop_init_oom).
 *
 * That runner is linked with --wrap for malloc, calloc, realloc and
 * strdup, so every allocation the runner, the binding and the core make
 * themselves comes through here; allocations inside other libraries
 * (libc's own, c-ares, liblua's default allocator) do not. The C tests
 * are linked the same way and call failalloc_arm directly; Lua scripts
 * use the module in lfailalloc.c.
 *
 * Only allocations made by the thread that armed it count, so a run is
 * the same every time: worker threads allocate when the scheduler lets
 * them, and counting them would make the n-th allocation a different
 * one from run to run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"

void* __real_malloc(size_t size);
void* __real_calloc(size_t count, size_t size);
void* __real_realloc(void* ptr, size_t size);
char* __real_strdup(const char* s);
void* __wrap_malloc(size_t size);
void* __wrap_calloc(size_t count, size_t size);
void* __wrap_realloc(void* ptr, size_t size);
char* __wrap_strdup(const char* s);

/* Set (with release order) only after armed_thread is written. */
static atomic_int armed;
static pthread_t armed_thread;
/* These belong to the armed thread alone. */
static long target;  /* the allocation that fails first; 0: none */
static int onward;   /* the ones after it fail too */
static size_t min_size; /* smaller allocations are not counted */
static long seen;
static long failed;


static int should_fail(size_t size) {
  if (!atomic_load_explicit(&armed, memory_order_acquire) ||
      !pthread_equal(pthread_self(), armed_thread) || size < min_size)
    return 0;
  seen++;
  if (target == 0 || seen < target || (seen > target && !onward))
    return 0;
  failed++;
  errno = ENOMEM;
  return 1;
}


void* __wrap_malloc(size_t size) {
  return should_fail(size) ? NULL : __real_malloc(size);
}


void* __wrap_calloc(size_t count, size_t size) {
  /* An overflowing product is left to calloc to refuse. */
  size_t bytes = size != 0 && count > SIZE_MAX / size ? SIZE_MAX
                                                       : count * size;
  return should_fail(bytes) ? NULL : __real_calloc(count, size);
}


/* A failed realloc leaves the old block as it was, as realloc does. */
void* __wrap_realloc(void* ptr, size_t size) {
  return should_fail(size) ? NULL : __real_realloc(ptr, size);
}


char* __wrap_strdup(const char* s) {
  return should_fail(strlen(s) + 1) ? NULL : __real_strdup(s);
}


void failalloc_arm(long n, int onward_too, size_t smallest) {
  atomic_store_explicit(&armed, 0, memory_order_release);
  target = n;
  onward = onward_too;
  min_size = smallest;
  seen = 0;
  failed = 0;
  armed_thread = pthread_self();
  atomic_store_explicit(&armed, 1, memory_order_release);
}


void failalloc_disarm(long* seen_out, long* failed_out) {
  atomic_store_explicit(&armed, 0, memory_order_release);
  if (seen_out != NULL)
    *seen_out = seen;
  if (failed_out != NULL)
    *failed_out = failed;
}
