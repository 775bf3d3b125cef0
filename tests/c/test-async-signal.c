/* SPDX-License-Identifier: MIT */
/* test-async-signal.c: async sends from several threads (coalescing) and
 * signal handles (several per signal, oneshot, disposition restored). */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

enum { NTHREADS = 4, SENDS = 20000 };
static loom_async_t async_h;
static int async_calls;
static int threads_done;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;

static void* sender(void* arg) {
  int i;
  (void) arg;
  for (i = 0; i < SENDS; i++)
    ASSERT_OK(loom_async_send(&async_h));
  pthread_mutex_lock(&done_lock);
  threads_done++;
  pthread_mutex_unlock(&done_lock);
  ASSERT_OK(loom_async_send(&async_h));
  return NULL;
}

static void async_cb(loom_async_t* a) {
  int done;
  async_calls++;
  pthread_mutex_lock(&done_lock);
  done = threads_done;
  pthread_mutex_unlock(&done_lock);
  if (done == NTHREADS)
    loom_close((loom_handle_t*) a, NULL);
}

TEST(async_coalesce_threads) {
  loom_loop_t* loop = new_loop();
  pthread_t threads[NTHREADS];
  int i;
  ASSERT_OK(loom_async_init(loop, &async_h, async_cb));
  ASSERT(loom_is_active((loom_handle_t*) &async_h));
  for (i = 0; i < NTHREADS; i++)
    ASSERT_OK(pthread_create(&threads[i], NULL, sender, NULL));
  loom_run(loop, LOOM_RUN_DEFAULT);
  for (i = 0; i < NTHREADS; i++)
    pthread_join(threads[i], NULL);
  /* Every send was seen, but they coalesced into far fewer calls. */
  ASSERT(async_calls >= 1);
  ASSERT(async_calls < NTHREADS * SENDS);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int pending_calls;
static void pending_cb(loom_async_t* a) { (void) a; pending_calls++; }

TEST(async_close_pending) {
  loom_loop_t* loop = new_loop();
  loom_async_t a;
  ASSERT_OK(loom_async_init(loop, &a, pending_cb));
  ASSERT_OK(loom_async_send(&a));
  ASSERT_OK(loom_async_send(&a));
  loom_close((loom_handle_t*) &a, NULL);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(pending_calls, 0); /* closed before dispatch: never called */
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int sig_calls[3];
static loom_signal_t sigs[3];
static void sig_cb(loom_signal_t* s, int signum) {
  int i = (int) (s - sigs);
  ASSERT_EQ(signum, SIGUSR1);
  sig_calls[i]++;
  if (i < 2 && sig_calls[0] + sig_calls[1] == 4) {
    loom_close((loom_handle_t*) &sigs[0], NULL);
    loom_close((loom_handle_t*) &sigs[1], NULL);
  }
}

TEST(signal_several_handles) {
  loom_loop_t* loop = new_loop();
  loom_loop_t* loop2 = new_loop();
  int i;
  for (i = 0; i < 2; i++) {
    ASSERT_OK(loom_signal_init(loop, &sigs[i]));
    ASSERT_OK(loom_signal_start(&sigs[i], sig_cb, SIGUSR1));
  }
  /* A second loop watching the same signal gets it too. */
  ASSERT_OK(loom_signal_init(loop2, &sigs[2]));
  ASSERT_OK(loom_signal_start(&sigs[2], sig_cb, SIGUSR1));
  raise(SIGUSR1);
  loom_run(loop, LOOM_RUN_ONCE);
  raise(SIGUSR1);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(sig_calls[0], 2);
  ASSERT_EQ(sig_calls[1], 2);
  loom_run(loop2, LOOM_RUN_NOWAIT);
  ASSERT_EQ(sig_calls[2], 2);
  loom_close((loom_handle_t*) &sigs[2], NULL);
  CLOSE_LOOP_OR_FAIL(loop);
  CLOSE_LOOP_OR_FAIL(loop2);
  return 0;
}

static void ignore_cb(loom_signal_t* s, int signum) { (void) s; (void) signum; }

static int oneshot_calls;
static void oneshot_cb(loom_signal_t* s, int signum) {
  (void) signum;
  oneshot_calls++;
  ASSERT(!loom_is_active((loom_handle_t*) s));
}

TEST(signal_oneshot) {
  loom_loop_t* loop = new_loop();
  loom_signal_t s;
  loom_signal_t keep;
  ASSERT_OK(loom_signal_init(loop, &s));
  ASSERT_OK(loom_signal_start_oneshot(&s, oneshot_cb, SIGUSR2));
  /* Keep the process-wide handler installed so the second raise is caught
   * (not fatal) even after the oneshot handle stopped. */
  ASSERT_OK(loom_signal_init(loop, &keep));
  ASSERT_OK(loom_signal_start(&keep, ignore_cb, SIGHUP));
  raise(SIGUSR2);
  loom_run(loop, LOOM_RUN_ONCE);
  ASSERT_EQ(oneshot_calls, 1);
  ASSERT(!loom_is_active((loom_handle_t*) &s));
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(signal_restores_disposition) {
  loom_loop_t* loop = new_loop();
  loom_signal_t a, b;
  struct sigaction sa;
  signal(SIGWINCH, SIG_IGN);
  ASSERT_OK(loom_signal_init(loop, &a));
  ASSERT_OK(loom_signal_init(loop, &b));
  ASSERT_OK(loom_signal_start(&a, ignore_cb, SIGWINCH));
  ASSERT_OK(loom_signal_start(&b, ignore_cb, SIGWINCH));
  sigaction(SIGWINCH, NULL, &sa);
  ASSERT(sa.sa_handler != SIG_IGN);
  ASSERT_OK(loom_signal_stop(&a));
  sigaction(SIGWINCH, NULL, &sa);
  ASSERT(sa.sa_handler != SIG_IGN); /* b still watches */
  loom_close((loom_handle_t*) &b, NULL);
  sigaction(SIGWINCH, NULL, &sa);
  ASSERT(sa.sa_handler == SIG_IGN); /* the last one restored it */
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(signal_rejects_uncatchable) {
  loom_loop_t* loop = new_loop();
  loom_signal_t s;
  ASSERT_OK(loom_signal_init(loop, &s));
  ASSERT_EQ(loom_signal_start(&s, ignore_cb, SIGKILL), LOOM_EINVAL);
  ASSERT_EQ(loom_signal_start(&s, ignore_cb, SIGSTOP), LOOM_EINVAL);
  ASSERT_EQ(loom_signal_start(&s, ignore_cb, 0), LOOM_EINVAL);
  ASSERT_EQ(loom_signal_start(&s, ignore_cb, 65), LOOM_EINVAL);
  ASSERT_EQ(loom_signal_start(&s, NULL, SIGINT), LOOM_EINVAL);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}
