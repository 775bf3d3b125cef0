/* SPDX-License-Identifier: MIT */
/* test-handle.c: close semantics, ref/unref, idle/prepare/check, walk,
 * metrics. */
#include "harness.h"

#include <stdint.h>

static int self_closed;
static void self_close_cb(loom_handle_t* h) {
  ASSERT(loom_is_closing(h));
  self_closed++;
}
static void close_self_timer(loom_timer_t* t) {
  /* Close the handle being dispatched, from its own callback. */
  loom_close((loom_handle_t*) t, self_close_cb);
  ASSERT_EQ(self_closed, 0);
}

TEST(close_in_own_callback) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, close_self_timer, 0, 1)); /* repeating */
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(self_closed, 1);
  ASSERT(loom_is_closed((loom_handle_t*) &t));
  ASSERT_EQ(loom_timer_start(&t, close_self_timer, 0, 0), LOOM_EINVAL);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int close_seq[4];
static int nclosed;
static void record_close(loom_handle_t* h) {
  close_seq[nclosed++] = (int) (intptr_t) h->data;
}

TEST(close_order_fifo) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t[4];
  int i;
  for (i = 0; i < 4; i++) {
    ASSERT_OK(loom_timer_init(loop, &t[i]));
    t[i].data = (void*) (intptr_t) i;
  }
  for (i = 0; i < 4; i++)
    loom_close((loom_handle_t*) &t[i], record_close);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(nclosed, 4);
  for (i = 0; i < 4; i++)
    ASSERT_EQ(close_seq[i], i);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* A handle closed from a close callback has its own callback on the next
 * pass, not in the batch that is running; the loop counts both. */
static loom_timer_t chained[2];
static int chained_closed[2];
static void second_closed(loom_handle_t* h) {
  (void) h;
  chained_closed[1]++;
}
static void first_closed(loom_handle_t* h) {
  (void) h;
  chained_closed[0]++;
  loom_close((loom_handle_t*) &chained[1], second_closed);
  ASSERT_EQ(chained_closed[1], 0);
}

TEST(close_from_close_callback) {
  loom_loop_t* loop = new_loop();
  ASSERT_OK(loom_timer_init(loop, &chained[0]));
  ASSERT_OK(loom_timer_init(loop, &chained[1]));
  loom_close((loom_handle_t*) &chained[0], first_closed);
  ASSERT(loom_loop_alive(loop));
  loom_run(loop, LOOM_RUN_NOWAIT);
  ASSERT_EQ(chained_closed[0], 1);
  ASSERT_EQ(chained_closed[1], 0);
  ASSERT(loom_loop_alive(loop));
  ASSERT_EQ(loom_loop_close(loop), LOOM_EBUSY);
  loom_run(loop, LOOM_RUN_NOWAIT);
  ASSERT_EQ(chained_closed[1], 1);
  ASSERT(loom_is_closed((loom_handle_t*) &chained[1]));
  ASSERT(!loom_loop_alive(loop));
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int unref_fired;
static void unref_cb(loom_timer_t* t) { (void) t; unref_fired++; }

TEST(ref_unref) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT(loom_has_ref((loom_handle_t*) &t));
  ASSERT_OK(loom_timer_start(&t, unref_cb, 10, 0));
  loom_unref((loom_handle_t*) &t);
  loom_unref((loom_handle_t*) &t); /* idempotent */
  ASSERT(!loom_has_ref((loom_handle_t*) &t));
  ASSERT_EQ(loom_loop_alive(loop), 0);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_DEFAULT), 0);
  ASSERT_EQ(unref_fired, 0);
  loom_ref((loom_handle_t*) &t);
  ASSERT_EQ(loom_loop_alive(loop), 1);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(unref_fired, 1);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int idle_count;
static void idle_cb(loom_idle_t* h) {
  if (++idle_count == 100)
    loom_idle_stop(h);
}

TEST(idle_keeps_polling_nonblocking) {
  loom_loop_t* loop = new_loop();
  loom_idle_t idle;
  loom_timer_t t;
  uint64_t start = loom_hrtime();
  ASSERT_OK(loom_idle_init(loop, &idle));
  ASSERT_OK(loom_idle_start(&idle, idle_cb));
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, unref_cb, 60000, 0));
  loom_unref((loom_handle_t*) &t);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(idle_count, 100);
  ASSERT(loom_hrtime() - start < 5000000000u);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* A check callback stops the other check handles and closes itself; the
 * stopped ones must not run in this pass. */
static loom_check_t checks[3];
static int check_calls[3];
static void check_cb(loom_check_t* h) {
  int i = (int) (h - checks);
  check_calls[i]++;
  if (i == 0) {
    loom_check_stop(&checks[1]);
    loom_close((loom_handle_t*) &checks[2], NULL);
    loom_close((loom_handle_t*) h, NULL);
  }
}

TEST(watcher_stop_others_in_callback) {
  loom_loop_t* loop = new_loop();
  int i;
  for (i = 0; i < 3; i++) {
    ASSERT_OK(loom_check_init(loop, &checks[i]));
    ASSERT_OK(loom_check_start(&checks[i], check_cb));
  }
  loom_run(loop, LOOM_RUN_NOWAIT);
  ASSERT_EQ(check_calls[0], 1);
  ASSERT_EQ(check_calls[1], 0);
  ASSERT_EQ(check_calls[2], 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

typedef struct {
  int seen;
  int closed_now;
} walk_state;

static void walk_cb(loom_handle_t* h, void* arg) {
  walk_state* ws = arg;
  ws->seen++;
  if (!loom_is_closing(h)) {
    loom_close(h, NULL);
    ws->closed_now++;
  }
}

TEST(walk_and_close) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t[3];
  loom_idle_t idle;
  walk_state ws = {0, 0};
  int i;
  for (i = 0; i < 3; i++)
    ASSERT_OK(loom_timer_init(loop, &t[i]));
  ASSERT_OK(loom_idle_init(loop, &idle));
  loom_close((loom_handle_t*) &t[1], NULL);
  loom_walk(loop, walk_cb, &ws);
  ASSERT_EQ(ws.seen, 4);      /* the closing one included */
  ASSERT_EQ(ws.closed_now, 3);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ws.seen = 0;
  loom_walk(loop, walk_cb, &ws);
  ASSERT_EQ(ws.seen, 0);
  ASSERT_OK(loom_loop_close(loop));
  return 0;
}

static void metrics_cb(loom_timer_t* t) { (void) t; }

TEST(metrics) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  loom_metrics_t m;
  ASSERT_OK(loom_loop_enable_idle_metrics(loop));
  ASSERT_EQ(loom_loop_block_signal(loop, 2), LOOM_EINVAL);
  ASSERT_OK(loom_loop_block_signal(loop, 27 /* SIGPROF */));
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, metrics_cb, 50, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  loom_metrics_info(loop, &m);
  ASSERT(m.loop_count >= 1);
  /* The loop waited about 50 ms for the timer. */
  ASSERT(loom_metrics_idle_time(loop) >= 30000000u);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(errors_names_messages) {
  ASSERT(strcmp(loom_err_name(LOOM_ENOENT), "ENOENT") == 0);
  ASSERT(strcmp(loom_strerror(LOOM_ENOENT), "no such file or directory") == 0);
  ASSERT(strcmp(loom_err_name(LOOM_EOF), "EOF") == 0);
  ASSERT(strcmp(loom_strerror(LOOM_EOF), "end of file") == 0);
  ASSERT(strcmp(loom_err_name(LOOM_EAI_NONAME), "EAI_NONAME") == 0);
  ASSERT_EQ(LOOM_ECANCELED, -ECANCELED);
  ASSERT_EQ(loom_translate_sys_error(EPIPE), LOOM_EPIPE);
  ASSERT(strcmp(loom_err_name(-10), "Unknown system error -10") == 0);
  ASSERT(strcmp(loom_handle_type_name(LOOM_TIMER), "timer") == 0);
  ASSERT(loom_handle_type_name((loom_handle_type) 99) == NULL);
  return 0;
}
