/* SPDX-License-Identifier: MIT */
/* test-loop.c: running, stopping and closing the loop; phase order. */
#include "failalloc.h"
#include "harness.h"

#include <signal.h>

TEST(loop_empty_run) {
  loom_loop_t* loop = new_loop();
  ASSERT_EQ(loom_loop_alive(loop), 0);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_DEFAULT), 0);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_ONCE), 0);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_NOWAIT), 0);
  ASSERT(loom_backend_fd(loop) >= 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int closed_count;
static void count_close(loom_handle_t* h) { (void) h; closed_count++; }

TEST(loop_close_busy) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  /* An inactive but open handle still belongs to the loop. */
  ASSERT_EQ(loom_loop_close(loop), LOOM_EBUSY);
  loom_close((loom_handle_t*) &t, count_close);
  /* A closing handle too, until its close callback has run. */
  ASSERT_EQ(loom_loop_close(loop), LOOM_EBUSY);
  ASSERT_EQ(loom_loop_alive(loop), 1);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(closed_count, 1);
  ASSERT(loom_is_closed((loom_handle_t*) &t));
  ASSERT_OK(loom_loop_close(loop));
  return 0;
}

/* Phase order within one pass: timers, idle, prepare, poll, check, close. */
static char trace[64];
static int ntrace;
static loom_timer_t phase_timer;
static loom_idle_t phase_idle;
static loom_prepare_t phase_prepare;
static loom_check_t phase_check;

static void mark(char c) { if (ntrace < 63) trace[ntrace++] = c; }
static void phase_close_cb(loom_handle_t* h) { (void) h; mark('C'); }
static void phase_timer_cb(loom_timer_t* t) { (void) t; mark('T'); }
static void phase_idle_cb(loom_idle_t* h) { mark('I'); loom_idle_stop(h); }
static void phase_prepare_cb(loom_prepare_t* h) { mark('P'); loom_prepare_stop(h); }
static void phase_check_cb(loom_check_t* h) {
  mark('K');
  loom_close((loom_handle_t*) h, phase_close_cb);
}

TEST(loop_phase_order) {
  loom_loop_t* loop = new_loop();
  ASSERT_OK(loom_timer_init(loop, &phase_timer));
  ASSERT_OK(loom_idle_init(loop, &phase_idle));
  ASSERT_OK(loom_prepare_init(loop, &phase_prepare));
  ASSERT_OK(loom_check_init(loop, &phase_check));
  ASSERT_OK(loom_check_start(&phase_check, phase_check_cb));
  ASSERT_OK(loom_prepare_start(&phase_prepare, phase_prepare_cb));
  ASSERT_OK(loom_idle_start(&phase_idle, phase_idle_cb));
  ASSERT_OK(loom_timer_start(&phase_timer, phase_timer_cb, 0, 0));
  /* Callbacks never run inside the call that scheduled them. */
  ASSERT_EQ(ntrace, 0);
  /* NOWAIT: with only a check handle left active, a blocking pass would
   * wait for I/O forever. */
  loom_run(loop, LOOM_RUN_NOWAIT);
  ASSERT(strcmp(trace, "TIPKC") == 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int once_fired;
static void once_cb(loom_timer_t* t) { (void) t; once_fired++; }
static void idle_once_cb(loom_idle_t* h) { (void) h; once_fired++; }
static void signal_once_cb(loom_signal_t* s, int signum) {
  (void) s;
  (void) signum;
  once_fired++;
}

TEST(loop_run_once_fires_timer) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, once_cb, 20, 0));
  /* One blocking pass waits for the timer and fires it. */
  ASSERT_EQ(loom_run(loop, LOOM_RUN_ONCE), 0);
  ASSERT_EQ(once_fired, 1);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(loop_run_nowait) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  uint64_t before;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, once_cb, 10000, 0));
  before = loom_hrtime();
  ASSERT_EQ(loom_run(loop, LOOM_RUN_NOWAIT), 1);
  ASSERT(loom_hrtime() - before < 1000000000u); /* did not block */
  ASSERT_EQ(once_fired, 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int stop_count;
static void stop_cb(loom_timer_t* t) {
  stop_count++;
  loom_stop(t->loop);
}

TEST(loop_stop) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, stop_cb, 1, 1));
  ASSERT_EQ(loom_run(loop, LOOM_RUN_DEFAULT), 1); /* stopped, still alive */
  ASSERT_EQ(stop_count, 1);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_DEFAULT), 1); /* the stop flag was reset */
  ASSERT_EQ(stop_count, 2);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int reentry_result = 1;
static void reentry_cb(loom_timer_t* t) {
  reentry_result = loom_run(t->loop, LOOM_RUN_NOWAIT);
  ASSERT_EQ(loom_loop_mode(t->loop), LOOM_RUN_DEFAULT);
}

TEST(loop_reentry_refused) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_EQ(loom_loop_mode(loop), -1);
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, reentry_cb, 0, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(reentry_result, LOOM_EBUSY);
  ASSERT_EQ(loom_loop_mode(loop), -1);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(loop_backend_timeout) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  loom_idle_t idle;
  int timeout;
  ASSERT_EQ(loom_backend_timeout(loop), 0); /* nothing to wait for */
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, once_cb, 5000, 0));
  timeout = loom_backend_timeout(loop);
  ASSERT(timeout > 4000 && timeout <= 5000);
  loom_unref((loom_handle_t*) &t);
  ASSERT_EQ(loom_backend_timeout(loop), 0); /* only unreferenced handles */
  loom_ref((loom_handle_t*) &t);
  ASSERT_OK(loom_idle_init(loop, &idle));
  ASSERT_OK(loom_idle_start(&idle, idle_once_cb));
  ASSERT_EQ(loom_backend_timeout(loop), 0); /* idle: never block */
  ASSERT_OK(loom_idle_stop(&idle));
  ASSERT_OK(loom_timer_stop(&t));
  ASSERT_EQ(loom_backend_timeout(loop), 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* libuv's loop_init_oom: creating a loop with each of its allocations
 * failing in turn (and every one after it) reports ENOMEM and leaks
 * nothing (LeakSanitizer checks in the sanitizer build); once memory is
 * there, it works. */
TEST(loop_new_without_memory) {
  loom_loop_t* loop;
  long needed;
  long n;

  failalloc_arm(0, 0, 0);
  ASSERT_OK(loom_loop_new(&loop));
  failalloc_disarm(&needed, NULL);
  ASSERT(needed > 0);
  ASSERT_EQ(loom_loop_close(loop), 0);
  for (n = 1; n <= needed; n++) {
    failalloc_arm(n, 1, 0);
    ASSERT_EQ(loom_loop_new(&loop), LOOM_ENOMEM);
    failalloc_disarm(NULL, NULL);
  }
  ASSERT_OK(loom_loop_new(&loop));
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static void noop_close(loom_handle_t* h) { (void) h; }

TEST(teardown_with_open_handles) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  loom_async_t a;
  loom_signal_t s;
  loom_idle_t idle;
  loom_timer_t closing;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, once_cb, 100, 100));
  ASSERT_OK(loom_async_init(loop, &a, NULL));
  ASSERT_OK(loom_signal_init(loop, &s));
  ASSERT_OK(loom_signal_start(&s, signal_once_cb, SIGUSR2));
  ASSERT_OK(loom_idle_init(loop, &idle));
  ASSERT_OK(loom_idle_start(&idle, idle_once_cb));
  ASSERT_OK(loom_timer_init(loop, &closing));
  loom_close((loom_handle_t*) &closing, noop_close);
  /* A host shutting down: nothing may be called, nothing may leak, and the
   * signal disposition must be back to the default. */
  loom_loop_teardown(loop);
  ASSERT(loom_is_closed((loom_handle_t*) &t));
  ASSERT(loom_is_closed((loom_handle_t*) &s));
  {
    struct sigaction sa;
    sigaction(SIGUSR2, NULL, &sa);
    ASSERT(sa.sa_handler == SIG_DFL);
  }
  ASSERT_EQ(once_fired, 0);
  return 0;
}
