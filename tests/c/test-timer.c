/* SPDX-License-Identifier: MIT */
/* test-timer.c: ordering, repeat, again, huge values, stop and restart
 * from callbacks. */
#include "failalloc.h"
#include "harness.h"

#include <limits.h>

enum { NORDER = 50 };
static loom_timer_t order_timers[NORDER];
static int order_seen[NORDER];
static int order_n;

static void order_cb(loom_timer_t* t) {
  order_seen[order_n++] = (int) (t - order_timers);
}

TEST(timer_order_equal_timeouts) {
  loom_loop_t* loop = new_loop();
  int i;
  for (i = 0; i < NORDER; i++) {
    ASSERT_OK(loom_timer_init(loop, &order_timers[i]));
    ASSERT_OK(loom_timer_start(&order_timers[i], order_cb, 5, 0));
  }
  /* Restarting moves a timer behind the others with the same due time. */
  ASSERT_OK(loom_timer_start(&order_timers[0], order_cb, 5, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(order_n, NORDER);
  for (i = 0; i < NORDER - 1; i++)
    ASSERT_EQ(order_seen[i], i + 1);
  ASSERT_EQ(order_seen[NORDER - 1], 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int repeat_count;
static void repeat_cb(loom_timer_t* t) {
  repeat_count++;
  if (repeat_count == 3)
    ASSERT_OK(loom_timer_stop(t));
}

static int again_count;
static void again_cb(loom_timer_t* t) { (void) t; again_count++; }

TEST(timer_repeat_and_again) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  loom_timer_t a;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, repeat_cb, 1, 2));
  ASSERT_EQ(loom_timer_get_repeat(&t), 2);
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(repeat_count, 3);
  ASSERT(!loom_is_active((loom_handle_t*) &t));

  ASSERT_OK(loom_timer_init(loop, &a));
  ASSERT_EQ(loom_timer_again(&a), LOOM_EINVAL); /* never started */
  ASSERT_OK(loom_timer_start(&a, again_cb, 1000, 0));
  ASSERT_OK(loom_timer_again(&a)); /* no repeat: does nothing */
  ASSERT(loom_is_active((loom_handle_t*) &a));
  loom_timer_set_repeat(&a, 1);
  ASSERT_OK(loom_timer_again(&a)); /* now restarts with timeout 1 */
  ASSERT(loom_timer_get_due_in(&a) <= 1);
  loom_run(loop, LOOM_RUN_ONCE);
  loom_run(loop, LOOM_RUN_ONCE);
  ASSERT(again_count >= 1);
  ASSERT_OK(loom_timer_stop(&a));
  ASSERT_EQ(loom_timer_start(&a, NULL, 1, 0), LOOM_EINVAL);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

static int huge_fired;
static void huge_cb(loom_timer_t* t) { (void) t; huge_fired++; }

TEST(timer_huge_timeout) {
  loom_loop_t* loop = new_loop();
  loom_timer_t big, max, soon;
  ASSERT_OK(loom_timer_init(loop, &big));
  ASSERT_OK(loom_timer_init(loop, &max));
  ASSERT_OK(loom_timer_init(loop, &soon));
  ASSERT_OK(loom_timer_start(&big, huge_cb, (uint64_t) 1 << 53, 0));
  ASSERT_OK(loom_timer_start(&max, huge_cb, UINT64_MAX, UINT64_MAX));
  ASSERT_OK(loom_timer_start(&soon, huge_cb, 1, 0));
  ASSERT_EQ(loom_timer_get_due_in(&big), (uint64_t) 1 << 53);
  /* Overflow clamps to "never" instead of wrapping into the past. */
  ASSERT(loom_timer_get_due_in(&max) >= ((uint64_t) 1 << 62));
  loom_unref((loom_handle_t*) &big);
  loom_unref((loom_handle_t*) &max);
  ASSERT_EQ(loom_run(loop, LOOM_RUN_DEFAULT), 0);
  ASSERT_EQ(huge_fired, 1); /* only the near one */
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* Two timers due in the same pass; the first stops the second, which must
 * then not fire. */
static loom_timer_t victim;
static int victim_fired;
static void killer_cb(loom_timer_t* t) { (void) t; ASSERT_OK(loom_timer_stop(&victim)); }
static void victim_cb(loom_timer_t* t) { (void) t; victim_fired++; }
static void closer_cb(loom_timer_t* t) {
  (void) t;
  loom_close((loom_handle_t*) &victim, NULL);
}

TEST(timer_stop_other_due_timer) {
  loom_loop_t* loop = new_loop();
  loom_timer_t killer;
  ASSERT_OK(loom_timer_init(loop, &killer));
  ASSERT_OK(loom_timer_init(loop, &victim));
  ASSERT_OK(loom_timer_start(&killer, killer_cb, 1, 0));
  ASSERT_OK(loom_timer_start(&victim, victim_cb, 1, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(victim_fired, 0);
  /* The same when the first closes the second. */
  ASSERT_OK(loom_timer_start(&killer, closer_cb, 1, 0));
  ASSERT_OK(loom_timer_start(&victim, victim_cb, 1, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(victim_fired, 0);
  ASSERT(loom_is_closed((loom_handle_t*) &victim));
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* A timer restarted with timeout 0 from its own callback fires on the next
 * pass, not again in this one (no starvation of the other phases). */
static int restart_count;
static uint64_t restart_passes[3];
static void restart_cb(loom_timer_t* t) {
  loom_metrics_t m;
  loom_metrics_info(t->loop, &m);
  restart_passes[restart_count++] = m.loop_count;
  if (restart_count < 3)
    ASSERT_OK(loom_timer_start(t, restart_cb, 0, 0));
}

TEST(timer_restart_in_callback) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_OK(loom_timer_start(&t, restart_cb, 0, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(restart_count, 3);
  ASSERT(restart_passes[1] > restart_passes[0]);
  ASSERT(restart_passes[2] > restart_passes[1]);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

TEST(timer_due_in) {
  loom_loop_t* loop = new_loop();
  loom_timer_t t;
  ASSERT_OK(loom_timer_init(loop, &t));
  ASSERT_EQ(loom_timer_get_due_in(&t), 0);
  ASSERT_OK(loom_timer_start(&t, huge_cb, 250, 0));
  ASSERT_EQ(loom_timer_get_due_in(&t), 250);
  ASSERT_OK(loom_timer_stop(&t));
  ASSERT_EQ(loom_timer_get_due_in(&t), 0);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* Many timers with random timeouts fire in (due, start) order. */
enum { NRANDOM = 20000 };
static loom_timer_t random_timers[NRANDOM];
static uint64_t last_due;
static uint64_t last_start_id;
static int random_fired;
static void random_cb(loom_timer_t* t) {
  ASSERT(t->timeout > last_due ||
         (t->timeout == last_due && (random_fired == 0 || t->start_id > last_start_id)));
  last_due = t->timeout;
  last_start_id = t->start_id;
  random_fired++;
}

TEST(timer_many_random) {
  loom_loop_t* loop = new_loop();
  unsigned seed = 99;
  int i;
  for (i = 0; i < NRANDOM; i++) {
    seed = seed * 1103515245u + 12345u;
    ASSERT_OK(loom_timer_init(loop, &random_timers[i]));
    ASSERT_OK(loom_timer_start(&random_timers[i], random_cb, (seed >> 8) % 30, 0));
  }
  for (i = 0; i < NRANDOM; i += 7)
    ASSERT_OK(loom_timer_stop(&random_timers[i]));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(random_fired, NRANDOM - (NRANDOM + 6) / 7);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}

/* Starting a timer never fails for want of memory: a timeout that gets
 * no list of its own joins the loop's sorted overflow list, and the
 * timers still fire in due order, mixed with those in ordinary lists. */
TEST(timer_start_without_memory) {
  loom_loop_t* loop = new_loop();
  unsigned seed = 7;
  long failed;
  int i;

  random_fired = 0;
  last_due = 0;
  /* Some timeouts get their lists while memory is still there. */
  for (i = 0; i < NRANDOM / 2; i++) {
    seed = seed * 1103515245u + 12345u;
    ASSERT_OK(loom_timer_init(loop, &random_timers[i]));
    ASSERT_OK(loom_timer_start(&random_timers[i], random_cb, (seed >> 8) % 8,
                               0));
  }
  failalloc_arm(1, 1, 0);
  for (; i < NRANDOM; i++) {
    seed = seed * 1103515245u + 12345u;
    ASSERT_OK(loom_timer_init(loop, &random_timers[i]));
    ASSERT_OK(loom_timer_start(&random_timers[i], random_cb, (seed >> 8) % 30,
                               0));
  }
  /* Stopping and restarting in the overflow list keeps it sorted. */
  for (i = NRANDOM / 2; i < NRANDOM; i += 5)
    ASSERT_OK(loom_timer_stop(&random_timers[i]));
  for (i = NRANDOM / 2; i < NRANDOM; i += 10)
    ASSERT_OK(loom_timer_start(&random_timers[i], random_cb, 3, 0));
  loom_run(loop, LOOM_RUN_DEFAULT);
  failalloc_disarm(NULL, &failed);
  ASSERT(failed > 0);
  ASSERT_EQ(random_fired, NRANDOM - (NRANDOM / 2 + 4) / 5 +
                              (NRANDOM / 2 + 9) / 10);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}
