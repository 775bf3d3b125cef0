/* SPDX-License-Identifier: MIT */
/* test-work.c: the thread pool: completions on the loop thread, FIFO
 * order, cancellation, the slow-I/O lane, pool sizing, and loops torn down
 * or closed with work in flight. Each test runs in its own process, so
 * each may size the pool through the environment before first use. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

static pthread_t loop_thread;
static atomic_int worked;
static int after_ok;
static int after_canceled;

/* A gate the workers wait at until the test opens it. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int at_gate;

static void wait_at_gate(loom_work_t* w) {
  (void) w;
  pthread_mutex_lock(&gate_lock);
  at_gate++;
  while (!gate_open)
    pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
  worked++;
}

static void open_gate(void) {
  pthread_mutex_lock(&gate_lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
}

static void wait_until_at_gate(int n) {
  int i;
  for (i = 0; i < 5000 && at_gate < n; i++)
    usleep(1000);
  ASSERT_EQ(at_gate, n);
}

static void count_work(loom_work_t* w) {
  (void) w;
  worked++;
}

static void count_after(loom_work_t* w, int status) {
  (void) w;
  ASSERT(pthread_equal(pthread_self(), loop_thread));
  if (status == 0)
    after_ok++;
  else if (status == LOOM_ECANCELED)
    after_canceled++;
  else
    FAIL_AT("unexpected status %d", status);
}

TEST(work_many_complete_on_loop_thread) {
  loom_loop_t* loop = new_loop();
  static loom_work_t reqs[2000];
  int i;

  loop_thread = pthread_self();
  for (i = 0; i < 2000; i++)
    ASSERT_OK(loom_queue_work(loop, &reqs[i], count_work, count_after));
  ASSERT(loom_loop_alive(loop));
  ASSERT_EQ(loom_loop_close(loop), LOOM_EBUSY);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(worked, 2000);
  ASSERT_EQ(after_ok, 2000);
  ASSERT_EQ(loom_threadpool_size(), 4);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int order[64];
static int norder;
static void record_order(loom_work_t* w) {
  order[norder++] = (int) (intptr_t) w->data; /* one worker: no race */
}

TEST(work_fifo_with_one_thread) {
  loom_loop_t* loop;
  static loom_work_t reqs[64];
  int i;

  setenv("LOOM_THREADPOOL_SIZE", "1", 1);
  loop = new_loop();
  loop_thread = pthread_self();
  for (i = 0; i < 64; i++) {
    reqs[i].data = (void*) (intptr_t) i;
    /* Mixed kinds still start in queue order when slots allow. */
    ASSERT_OK(loom_queue_work_kind(loop, &reqs[i],
                                   i % 3 == 0 ? LOOM_WORK_SLOW_IO
                                              : LOOM_WORK_FAST_IO,
                                   record_order, count_after));
  }
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(loom_threadpool_size(), 1);
  ASSERT_EQ(norder, 64);
  for (i = 0; i < 64; i++)
    ASSERT_EQ(order[i], i);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(work_cancel_queued_only) {
  loom_loop_t* loop;
  static loom_work_t blocker;
  static loom_work_t reqs[10];
  int i;

  setenv("LOOM_THREADPOOL_SIZE", "1", 1);
  loop = new_loop();
  loop_thread = pthread_self();
  ASSERT_OK(loom_queue_work(loop, &blocker, wait_at_gate, count_after));
  for (i = 0; i < 10; i++)
    ASSERT_OK(loom_queue_work(loop, &reqs[i], count_work, count_after));
  wait_until_at_gate(1);
  ASSERT_EQ(loom_work_cancel(&blocker), LOOM_EBUSY); /* running */
  for (i = 0; i < 10; i += 2)
    ASSERT_OK(loom_work_cancel(&reqs[i]));
  ASSERT_EQ(loom_work_cancel(&reqs[0]), LOOM_EBUSY); /* already cancelled */
  /* Cancelled requests still report from the loop, never from cancel. */
  ASSERT_EQ(after_canceled, 0);
  open_gate();
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(after_canceled, 5);
  ASSERT_EQ(after_ok, 6);
  ASSERT_EQ(worked, 6);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* Two threads: slow I/O may hold only one, so quick work queued behind a
 * burst of blocked slow requests still runs. */
static int quick_done;
static void quick_after(loom_work_t* w, int status) {
  (void) w;
  ASSERT_OK(status);
  quick_done = 1;
  open_gate();
}

TEST(work_slow_io_leaves_room_for_quick_work) {
  loom_loop_t* loop;
  static loom_work_t slow[3];
  static loom_work_t quick;
  int i;

  setenv("LOOM_THREADPOOL_SIZE", "2", 1);
  loop = new_loop();
  loop_thread = pthread_self();
  for (i = 0; i < 3; i++)
    ASSERT_OK(loom_queue_work_kind(loop, &slow[i], LOOM_WORK_SLOW_IO,
                                   wait_at_gate, count_after));
  ASSERT_OK(loom_queue_work_kind(loop, &quick, LOOM_WORK_FAST_IO, count_work,
                                 quick_after));
  /* The quick request finishes while the slow ones are still blocked; its
   * callback opens the gate. Without the lane this would hang. */
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT(quick_done);
  ASSERT_EQ(after_ok, 3);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(work_pool_size_from_environment) {
  setenv("UV_THREADPOOL_SIZE", "2", 1);
  setenv("LOOM_THREADPOOL_SIZE", "3", 1); /* loom's name wins */
  ASSERT_EQ(loom_threadpool_size(), 3);
  return 0;
}

TEST(work_pool_size_capped) {
  unsetenv("LOOM_THREADPOOL_SIZE");
  setenv("UV_THREADPOOL_SIZE", "100000", 1);
  ASSERT_EQ(loom_threadpool_size(), 1024);
  return 0;
}

static int torn_down;

/* At teardown the after function runs once per request, cancelled, with
 * the loop marked, so that the owner can free what the request holds. */
static void freed_at_teardown(loom_work_t* w, int status) {
  if (status != LOOM_ECANCELED || !loom_loop_tearing_down(w->loop))
    FAIL_AT("after function at teardown: status %d", status);
  torn_down++;
}

static void short_nap(loom_work_t* w) {
  (void) w;
  usleep(20000);
}

/* A host shutting down with work queued and running: teardown waits for
 * what runs, drops what waits, and reports each once as cancelled. */
TEST(work_teardown_in_flight) {
  loom_loop_t* loop;
  static loom_work_t reqs[20];
  int i;

  setenv("LOOM_THREADPOOL_SIZE", "2", 1);
  loop = new_loop();
  for (i = 0; i < 20; i++)
    ASSERT_OK(loom_queue_work(loop, &reqs[i], short_nap, freed_at_teardown));
  usleep(5000);
  loom_loop_teardown(loop);
  ASSERT_EQ(torn_down, 20);
  /* The pool outlives the loop and serves the next one. */
  loop = new_loop();
  loop_thread = pthread_self();
  ASSERT_OK(loom_queue_work(loop, &reqs[0], count_work, count_after));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(after_ok, 1);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(work_after_only) {
  loom_loop_t* loop = new_loop();
  static loom_work_t req;
  loop_thread = pthread_self();
  ASSERT_OK(loom_queue_work(loop, &req, NULL, count_after));
  ASSERT_EQ(loom_queue_work_kind(loop, &req, (loom_work_kind) 9, NULL,
                                 count_after), LOOM_EINVAL);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(after_ok, 1);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}
