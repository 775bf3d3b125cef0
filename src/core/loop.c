/* SPDX-License-Identifier: MIT */
/* loop.c: creating, running and closing a loop; time; metrics. */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


uint64_t loom_hrtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}


/* The loop's clock. CLOCK_MONOTONIC_COARSE would be cheaper but its tick
 * (often 4 ms) is too coarse for 1 ms timers. */
uint64_t loom__clock_ms(void) {
  return loom_hrtime() / 1000000u;
}


int loom_loop_new(loom_loop_t** out) {
  loom_loop_t* loop;
  int err;

  loop = calloc(1, sizeof(*loop));
  if (loop == NULL)
    return LOOM_ENOMEM;
  loom__queue_init(&loop->handle_queue);
  loom__queue_init(&loop->closing_queue);
  loop->nclosing = 0;
  loom__queue_init(&loop->walks);
  loom__queue_init(&loop->idle_handles);
  loom__queue_init(&loop->prepare_handles);
  loom__queue_init(&loop->check_handles);
  loom__queue_init(&loop->async_handles);
  loom__queue_init(&loop->signal_handles);
  loom__queue_init(&loop->process_handles);
  loom__queue_init(&loop->fs_poll_ctxs);
  loom__queue_init(&loop->dns_resolvers);
  loom__timers_init(loop);
  loop->run_mode = -1;
  loop->backend_fd = -1;
  loop->wakeup_fd = -1;
  loop->time = loom__clock_ms();

  err = loom__work_loop_init(loop);
  if (err != 0) {
    free(loop);
    return err;
  }
  err = loom__poller_init(loop);
  if (err == 0)
    err = loom__wakeup_init(loop);
  if (err != 0) {
    loom__wakeup_close(loop);
    loom__poller_close(loop);
    loom__work_loop_free(loop);
    loom__io_loop_free(loop);
    free(loop);
    return err;
  }
  *out = loop;
  return 0;
}


static void release(loom_loop_t* loop) {
  loom__dns_loop_free(loop); /* first: it detaches its internal timer */
  loom__hosts_free(loop);
  loom__timers_free(loop);
  loom__signal_loop_close(loop);
  loom__wakeup_close(loop);
  loom__poller_close(loop);
  loom__udp_loop_free(loop);
  loom__fs_event_loop_free(loop);
  loom__fs_poll_loop_free(loop);
  free(loop->read_buf);
  loom__io_loop_free(loop);
  loom__work_loop_free(loop);
  free(loop);
}


/* Whether a handle of the user's is open. The core's own internal
 * handles (the DNS timer) go with the loop. */
static int has_user_handles(loom_loop_t* loop) {
  loom_queue_t* q;

  for (q = loop->handle_queue.next; q != &loop->handle_queue; q = q->next)
    if (!(loom__queue_data(q, loom_handle_t, handle_queue)->flags &
          LOOM__HANDLE_INTERNAL))
      return 1;
  return 0;
}


int loom_loop_close(loom_loop_t* loop) {
  if (loop->run_mode != -1)
    return LOOM_EBUSY;
  if (has_user_handles(loop) || loop->active_reqs != 0 ||
      !loom__queue_empty(&loop->closing_queue))
    return LOOM_EBUSY;
  release(loop);
  return 0;
}


void loom_loop_teardown(loom_loop_t* loop) {
  loom_queue_t* q;

  /* Set first: handles that own requests (fs_poll) see it while they are
   * detached and leave the requests to the pool's teardown. */
  loop->tearing_down = 1;
  while (!loom__queue_empty(&loop->handle_queue)) {
    q = loom__queue_head(&loop->handle_queue);
    loom__handle_detach(loom__queue_data(q, loom_handle_t, handle_queue));
  }
  while (!loom__queue_empty(&loop->closing_queue)) {
    q = loom__queue_head(&loop->closing_queue);
    loom__handle_detach(loom__queue_data(q, loom_handle_t, handle_queue));
  }
  assert(loop->nclosing == 0);
  loom__walk_teardown(loop);
  loom__work_loop_teardown(loop);
  release(loop);
}


int loom_loop_tearing_down(const loom_loop_t* loop) {
  return loop->tearing_down;
}


void loom_update_time(loom_loop_t* loop) {
  loop->time = loom__clock_ms();
}


uint64_t loom_now(const loom_loop_t* loop) {
  return loop->time;
}


int loom_loop_alive(const loom_loop_t* loop) {
  return loop->active_handles > 0 || loop->active_reqs > 0 ||
         !loom__queue_empty(&loop->closing_queue);
}


int loom_backend_fd(const loom_loop_t* loop) {
  return loop->backend_fd;
}


int loom_backend_timeout(const loom_loop_t* loop) {
  if (loop->stop_flag != 0)
    return 0;
  if (loop->active_handles == 0 && loop->active_reqs == 0)
    return 0;
  if (!loom__queue_empty(&loop->idle_handles))
    return 0;
  if (loom__io_pending(loop))
    return 0;
  if (!loom__queue_empty(&loop->closing_queue))
    return 0;
  return loom__next_timeout(loop);
}


int loom_loop_mode(const loom_loop_t* loop) {
  return loop->run_mode;
}


void loom_stop(loom_loop_t* loop) {
  loop->stop_flag = 1;
}


/* One pass runs the phases in the order DESIGN.md §2 gives: time, timers,
 * pending, idle, prepare, poll, check, closing. */
int loom_run(loom_loop_t* loop, loom_run_mode mode) {
  int timeout;
  int ran_pending;
  int alive;

  if (loop->run_mode != -1)
    return LOOM_EBUSY;
  loop->run_mode = (int) mode;

  alive = loom_loop_alive(loop);
  if (!alive)
    loom_update_time(loop);

  while (alive && loop->stop_flag == 0) {
    loom_update_time(loop);
    loom__run_timers(loop);
    ran_pending = loom__run_pending(loop);
    loom__run_idle(loop);
    loom__run_prepare(loop);

    timeout = 0;
    if ((mode == LOOM_RUN_ONCE && !ran_pending) || mode == LOOM_RUN_DEFAULT)
      timeout = loom_backend_timeout(loop);
    loom__poll(loop, timeout);

    loom__run_check(loop);
    loom__run_closing_handles(loop);

    /* ONCE promises progress: if the wait ended because a timer came due,
     * fire it now rather than on a pass that may never happen. */
    if (mode == LOOM_RUN_ONCE) {
      loom_update_time(loop);
      loom__run_timers(loop);
    }

    loop->metrics.loop_count++;
    alive = loom_loop_alive(loop);
    if (mode == LOOM_RUN_ONCE || mode == LOOM_RUN_NOWAIT)
      break;
  }

  /* A stop request ends this run only; the next run starts afresh. */
  loop->stop_flag = 0;
  loop->run_mode = -1;
  return alive;
}



int loom_loop_block_signal(loom_loop_t* loop, int signum) {
  if (signum != SIGPROF)
    return LOOM_EINVAL;
  loop->block_sigprof = 1;
  return 0;
}


int loom_loop_enable_idle_metrics(loom_loop_t* loop) {
  loop->idle_metrics = 1;
  return 0;
}


uint64_t loom_metrics_idle_time(const loom_loop_t* loop) {
  return loop->idle_time;
}


void loom_metrics_info(const loom_loop_t* loop, loom_metrics_t* metrics) {
  *metrics = loop->metrics;
}


void loom_loop_set_data(loom_loop_t* loop, void* data) {
  loop->data = data;
}


void* loom_loop_get_data(const loom_loop_t* loop) {
  return loop->data;
}
