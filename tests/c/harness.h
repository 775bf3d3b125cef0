/* SPDX-License-Identifier: MIT */
/* harness.h: the C test harness. Each test is `TEST(name) { ... }`, listed
 * in test-list.h; the runner forks one process per test, enforces a
 * timeout and prints TAP. Assertions print both operands. */
#ifndef LOOM_TEST_HARNESS_H
#define LOOM_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

#define TEST(name)                                                            \
  int run_test_##name(void);                                                  \
  int run_test_##name(void)

#define FAIL_AT(fmt, ...)                                                     \
  do {                                                                        \
    fprintf(stderr, "# %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);   \
    abort();                                                                  \
  } while (0)

#define ASSERT(expr)                                                          \
  do {                                                                        \
    if (!(expr))                                                              \
      FAIL_AT("assertion failed: %s", #expr);                                 \
  } while (0)

#define ASSERT_EQ(a, b)                                                       \
  do {                                                                        \
    long long a_ = (long long) (a), b_ = (long long) (b);                     \
    if (a_ != b_)                                                             \
      FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_);                      \
  } while (0)

#define ASSERT_OK(a) ASSERT_EQ(a, 0)

/* Every test ends here: all handles closed, the loop closes with 0. */
#define CLOSE_LOOP_OR_FAIL(loop)                                              \
  do {                                                                        \
    loom_walk((loop), test_close_walk_cb, NULL);                              \
    loom_run((loop), LOOM_RUN_DEFAULT);                                       \
    ASSERT_EQ(loom_loop_close(loop), 0);                                      \
  } while (0)

static inline loom_loop_t* new_loop(void) {
  loom_loop_t* loop;
  ASSERT_OK(loom_loop_new(&loop));
  return loop;
}

static inline void test_close_walk_cb(loom_handle_t* h, void* arg) {
  (void) arg;
  if (!loom_is_closing(h))
    loom_close(h, NULL);
}

#endif
