/* SPDX-License-Identifier: MIT */
/* loom/work.h: the thread pool. Included by loom.h.
 *
 * One pool per process, started on first use with 4 threads, or as many as
 * LOOM_THREADPOOL_SIZE (else UV_THREADPOOL_SIZE) says, from 1 to 1024. A
 * work request's work function runs on a pool thread; its after function
 * runs later on the loop's thread, from the loop's wake-up, with status 0
 * or LOOM_ECANCELED. Requests start in the order they were queued, except
 * that slow I/O (LOOM_WORK_SLOW_IO) never holds more than half the threads,
 * so quick work is not starved behind a burst of slow file reads.
 */
#ifndef LOOM_WORK_H
#define LOOM_WORK_H

typedef struct loom_work_s loom_work_t;
typedef void (*loom_work_cb)(loom_work_t* req);
typedef void (*loom_after_work_cb)(loom_work_t* req, int status);

typedef enum {
  LOOM_WORK_CPU = 0, /* user work: CPU-bound or unknown */
  LOOM_WORK_FAST_IO, /* quick system calls (stat, open, close, ...) */
  LOOM_WORK_SLOW_IO  /* reads, writes and copies that may take long */
} loom_work_kind;

struct loom_work_s {
  LOOM_REQ_FIELDS
  loom_loop_t* loop;
  loom_work_cb work_cb;
  loom_after_work_cb after_work_cb;
  loom_queue_t queue; /* in the pool's queue, then the loop's done queue */
  uint64_t seq;       /* queue order across the two lanes */
  int kind;
  int state;          /* private to the pool */
  int status;
};

/* Queues the request (the caller keeps it alive until after_work_cb).
 * work_cb may be NULL (only the after function runs).
 * loom_loop_teardown gives every request not yet reported its after
 * function once, with LOOM_ECANCELED, while loom_loop_tearing_down(loop)
 * is true: the owner frees what the request holds and calls no one. */
int loom_queue_work(loom_loop_t* loop, loom_work_t* req, loom_work_cb work_cb,
                    loom_after_work_cb after_work_cb);
/* As loom_queue_work, for a given kind of work (the fs layer's entry). */
int loom_queue_work_kind(loom_loop_t* loop, loom_work_t* req,
                         loom_work_kind kind, loom_work_cb work_cb,
                         loom_after_work_cb after_work_cb);
/* Cancels a work request that has not started: its after function gets
 * LOOM_ECANCELED. LOOM_EBUSY once it runs or ran. */
int loom_work_cancel(loom_work_t* req);
int loom_loop_tearing_down(const loom_loop_t* loop);
/* The number of pool threads (starts the pool if it was not running). */
unsigned int loom_threadpool_size(void);

#endif /* LOOM_WORK_H */
