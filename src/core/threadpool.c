/* SPDX-License-Identifier: MIT */
/* threadpool.c: the process-wide worker pool behind fs, work, and every
 * other operation that cannot be made non-blocking.
 *
 * Requests wait in two FIFO lanes under one lock: quick work (CPU work and
 * fast system calls) and slow I/O. A worker takes the older of the two
 * heads, except that slow I/O may occupy at most half the threads: a burst
 * of large file reads then cannot starve a stat or a user's work item.
 * Finished requests go onto their loop's done queue (its own lock), and
 * the loop is woken through its eventfd; the after functions run on the
 * loop's thread in the order the requests finished.
 */
#include "internal.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_THREADS 4
#define MAX_THREADS 1024
/* How much nicer than the process its workers run (LOOM_THREADPOOL_NICE). */
#define DEFAULT_NICE 10

enum { QUEUED = 1, RUNNING, FINISHED };

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
/* Adaptive locks spin briefly before sleeping: the critical sections are
 * a few list operations, and with many small jobs a futex sleep and
 * wake-up per hand-off costs more than the work itself. */
static pthread_mutex_t pool_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static loom_queue_t quick_lane;
static loom_queue_t slow_lane;
static unsigned int nthreads;
static unsigned int slow_running;
static unsigned int slow_max;
static unsigned int idle_threads;
static int worker_nice;
static uint64_t next_seq;
static int pool_started; /* under pool_lock */


static unsigned int configured_size(void) {
  const char* v = getenv("LOOM_THREADPOOL_SIZE");
  long n;

  if (v == NULL || *v == '\0')
    v = getenv("UV_THREADPOOL_SIZE");
  if (v == NULL || *v == '\0')
    return DEFAULT_THREADS;
  n = strtol(v, NULL, 10);
  if (n < 1)
    n = 1;
  if (n > MAX_THREADS)
    n = MAX_THREADS;
  return (unsigned int) n;
}


/* LOOM_THREADPOOL_NICE: 0 (the process's own priority) to 19. */
static int configured_nice(void) {
  const char* v = getenv("LOOM_THREADPOOL_NICE");
  long n;

  if (v == NULL || *v == '\0')
    return DEFAULT_NICE;
  n = strtol(v, NULL, 10);
  if (n < 0)
    n = 0;
  if (n > 19)
    n = 19;
  return (int) n;
}


/* The loop thread issues every request and runs every completion, so it
 * is the pool's bottleneck. When more threads are runnable than there are
 * cores, the fair scheduler would give it one share among the workers
 * and the whole pool would wait on it; a lower weight for the workers
 * keeps it running. When the loop thread is idle, the workers still get
 * every free core. On Linux the nice value is a thread's own. */
static void lower_own_priority(void) {
  id_t tid = (id_t) syscall(SYS_gettid);
  int now;

  if (worker_nice == 0)
    return;
  errno = 0;
  now = getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0)
    return;
  now += worker_nice;
  (void) setpriority(PRIO_PROCESS, tid, now > 19 ? 19 : now);
}


/* The next request a worker may start, or NULL; under pool_lock. */
static loom_work_t* take_next(void) {
  loom_work_t* quick = NULL;
  loom_work_t* slow = NULL;
  loom_work_t* w;

  if (!loom__queue_empty(&quick_lane))
    quick = loom__queue_data(loom__queue_head(&quick_lane), loom_work_t,
                             queue);
  if (!loom__queue_empty(&slow_lane) && slow_running < slow_max)
    slow = loom__queue_data(loom__queue_head(&slow_lane), loom_work_t, queue);
  if (quick != NULL && slow != NULL)
    w = quick->seq < slow->seq ? quick : slow;
  else
    w = quick != NULL ? quick : slow;
  if (w == NULL)
    return NULL;
  loom__queue_remove(&w->queue);
  if (w->kind == LOOM_WORK_SLOW_IO)
    slow_running++;
  w->state = RUNNING;
  /* Counted under pool_lock, which teardown takes before it waits for
   * the count to drop: no request of that loop can start afterwards. */
  atomic_fetch_add_explicit(&w->loop->work_running, 1, memory_order_relaxed);
  return w;
}


/* Hands a finished request to its loop. Everything happens under the
 * loop's lock, the eventfd write included: once the loop thread has taken
 * the request (under that lock) it may close the loop and free it, so the
 * worker must not touch the loop after unlocking. */
static void post_done(loom_work_t* w, int status, int was_running) {
  loom_loop_t* loop = w->loop;

  int first;

  pthread_mutex_lock(&loop->work_lock);
  w->status = status;
  /* The loop takes the whole done queue at once, so only the completion
   * that finds it empty needs to wake the loop; the others ride along. */
  first = loom__queue_empty(&loop->work_done);
  loom__queue_insert_tail(&loop->work_done, &w->queue);
  if (was_running && atomic_fetch_sub_explicit(&loop->work_running, 1,
                                               memory_order_relaxed) == 1)
    pthread_cond_signal(&loop->work_idle);
  if (first)
    loom__wakeup(loop);
  pthread_mutex_unlock(&loop->work_lock);
}


static void* worker(void* arg) {
  loom_work_t* w;
  (void) arg;

  lower_own_priority();
  /* Named so that top, perf and gdb tell the workers from the loop. */
  pthread_setname_np(pthread_self(), "loom-pool");
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    while ((w = take_next()) == NULL) {
      idle_threads++;
      pthread_cond_wait(&pool_cond, &pool_lock);
      idle_threads--;
    }
    pthread_mutex_unlock(&pool_lock);

    if (w->work_cb != NULL)
      w->work_cb(w);

    /* Only a slow request has a slot to give back. The others stay
     * RUNNING until their loop takes them, which is all cancel needs to
     * know, so finishing one costs no pool lock. */
    if (w->kind == LOOM_WORK_SLOW_IO) {
      pthread_mutex_lock(&pool_lock);
      slow_running--;
      /* A slow request may have waited only for this slot. */
      if (!loom__queue_empty(&slow_lane))
        pthread_cond_signal(&pool_cond);
      pthread_mutex_unlock(&pool_lock);
    }
    /* The last touch of w and of its loop. */
    post_done(w, 0, 1);
    pthread_mutex_lock(&pool_lock);
  }
  return NULL;
}


static void start_pool(void) {
  pthread_attr_t attr;
  pthread_t tid;
  sigset_t all;
  sigset_t old;
  unsigned int i;

  loom__queue_init(&quick_lane);
  loom__queue_init(&slow_lane);
  nthreads = configured_size();
  worker_nice = configured_nice();
  slow_max = (nthreads + 1) / 2;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 8u << 20);
  /* Workers never take signals: they belong to the loop threads. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  for (i = 0; i < nthreads; i++) {
    if (pthread_create(&tid, &attr, worker, NULL) != 0)
      break;
    pthread_detach(tid);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (i == 0)
    abort(); /* not even one thread: nothing queued could ever finish */
  pthread_mutex_lock(&pool_lock);
  nthreads = i;
  slow_max = (nthreads + 1) / 2;
  pool_started = 1;
  pthread_mutex_unlock(&pool_lock);
}


unsigned int loom_threadpool_size(void) {
  pthread_once(&pool_once, start_pool);
  return nthreads;
}


/* Fills a request for the loop and counts it there as active. */
static void work_init(loom_loop_t* loop, loom_work_t* req,
                      loom_work_kind kind, loom_work_cb work_cb,
                      loom_after_work_cb after_work_cb) {
  req->type = LOOM_WORK;
  req->loop = loop;
  req->work_cb = work_cb;
  req->after_work_cb = after_work_cb;
  req->kind = kind;
  req->status = 0;
  loop->active_reqs++;
}


int loom_queue_work_kind(loom_loop_t* loop, loom_work_t* req,
                         loom_work_kind kind, loom_work_cb work_cb,
                         loom_after_work_cb after_work_cb) {
  if (kind != LOOM_WORK_CPU && kind != LOOM_WORK_FAST_IO &&
      kind != LOOM_WORK_SLOW_IO)
    return LOOM_EINVAL;
  pthread_once(&pool_once, start_pool);
  work_init(loop, req, kind, work_cb, after_work_cb);

  pthread_mutex_lock(&pool_lock);
  req->seq = next_seq++;
  req->state = QUEUED;
  loom__queue_insert_tail(kind == LOOM_WORK_SLOW_IO ? &slow_lane
                                                    : &quick_lane,
                          &req->queue);
  if (idle_threads > 0)
    pthread_cond_signal(&pool_cond);
  pthread_mutex_unlock(&pool_lock);
  return 0;
}


/* A request its submitter already completed on the loop thread (a read
 * the page cache could answer at once): reported like any completion,
 * from the loop, in order with the pool's. The wake-up watcher is fed to
 * the pending phase instead of writing the eventfd, which would cost a
 * system call on each side. It never runs on a worker, so cancel finds
 * it busy. */
void loom__work_post_finished(loom_loop_t* loop, loom_work_t* req,
                              loom_after_work_cb after_work_cb) {
  work_init(loop, req, LOOM_WORK_FAST_IO, NULL, after_work_cb);
  req->state = FINISHED;
  pthread_mutex_lock(&loop->work_lock);
  loom__queue_insert_tail(&loop->work_done, &req->queue);
  pthread_mutex_unlock(&loop->work_lock);
  loom__io_feed(loop, &loop->wakeup_watcher);
}


int loom_queue_work(loom_loop_t* loop, loom_work_t* req, loom_work_cb work_cb,
                    loom_after_work_cb after_work_cb) {
  return loom_queue_work_kind(loop, req, LOOM_WORK_CPU, work_cb,
                              after_work_cb);
}


int loom_work_cancel(loom_work_t* req) {
  pthread_mutex_lock(&pool_lock);
  if (req->state != QUEUED) {
    pthread_mutex_unlock(&pool_lock);
    return LOOM_EBUSY;
  }
  loom__queue_remove(&req->queue);
  req->state = FINISHED;
  pthread_mutex_unlock(&pool_lock);
  /* Reported like any completion: later, from the loop. */
  post_done(req, LOOM_ECANCELED, 0);
  return 0;
}


int loom__work_loop_init(loom_loop_t* loop) {
  pthread_mutexattr_t attr;
  int err;

  loom__queue_init(&loop->work_done);
  loom__queue_init(&loop->work_dispatching);
  atomic_init(&loop->work_running, 0);
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
  err = pthread_mutex_init(&loop->work_lock, &attr);
  pthread_mutexattr_destroy(&attr);
  if (err != 0)
    return LOOM_ENOMEM;
  if (pthread_cond_init(&loop->work_idle, NULL) != 0) {
    pthread_mutex_destroy(&loop->work_lock);
    return LOOM_ENOMEM;
  }
  return 0;
}


void loom__work_loop_free(loom_loop_t* loop) {
  pthread_cond_destroy(&loop->work_idle);
  pthread_mutex_destroy(&loop->work_lock);
}


void loom__work_dispatch(loom_loop_t* loop) {
  loom_queue_t* done = &loop->work_dispatching;
  loom_work_t* w;

  /* A dispatch inside a callback of this one (a nested run is refused,
   * but be safe) adds its batch behind the rest. */
  pthread_mutex_lock(&loop->work_lock);
  while (!loom__queue_empty(&loop->work_done)) {
    loom_queue_t* q = loom__queue_head(&loop->work_done);
    loom__queue_remove(q);
    loom__queue_insert_tail(done, q);
  }
  pthread_mutex_unlock(&loop->work_lock);
  while (!loom__queue_empty(done)) {
    w = loom__queue_data(loom__queue_head(done), loom_work_t, queue);
    loom__queue_remove(&w->queue);
    loop->active_reqs--;
    if (w->after_work_cb != NULL)
      w->after_work_cb(w, w->status);
  }
}


/* Moves the loop's queued requests from a lane to `out`. */
static void drop_lane(loom_loop_t* loop, loom_queue_t* lane,
                      loom_queue_t* out) {
  loom_queue_t* q;
  loom_queue_t* next;
  loom_work_t* w;

  for (q = loom__queue_head(lane); q != lane; q = next) {
    next = q->next;
    w = loom__queue_data(q, loom_work_t, queue);
    if (w->loop == loop) {
      loom__queue_remove(q);
      w->state = FINISHED;
      loom__queue_insert_tail(out, q);
    }
  }
}


void loom__work_loop_teardown(loom_loop_t* loop) {
  loom_queue_t gone;
  loom_work_t* w;

  loom__queue_init(&gone);
  pthread_mutex_lock(&pool_lock);
  if (pool_started) {
    drop_lane(loop, &quick_lane, &gone);
    drop_lane(loop, &slow_lane, &gone);
  }
  pthread_mutex_unlock(&pool_lock);
  /* Nothing of this loop can start now; wait for what runs. */
  pthread_mutex_lock(&loop->work_lock);
  while (atomic_load_explicit(&loop->work_running, memory_order_relaxed) > 0)
    pthread_cond_wait(&loop->work_idle, &loop->work_lock);
  while (!loom__queue_empty(&loop->work_done)) {
    loom_queue_t* q = loom__queue_head(&loop->work_done);
    loom__queue_remove(q);
    loom__queue_insert_tail(&gone, q);
  }
  pthread_mutex_unlock(&loop->work_lock);
  while (!loom__queue_empty(&loop->work_dispatching)) {
    loom_queue_t* q = loom__queue_head(&loop->work_dispatching);
    loom__queue_remove(q);
    loom__queue_insert_tail(&gone, q);
  }
  /* Every request not yet reported gets its after function once, with
   * ECANCELED and the loop marked as tearing down, so its owner can free
   * what it holds without calling anyone (see loom_loop_teardown). */
  while (!loom__queue_empty(&gone)) {
    w = loom__queue_data(loom__queue_head(&gone), loom_work_t, queue);
    loom__queue_remove(&w->queue);
    loop->active_reqs--;
    if (w->after_work_cb != NULL)
      w->after_work_cb(w, LOOM_ECANCELED);
  }
}
