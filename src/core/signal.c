/* SPDX-License-Identifier: MIT */
/* signal.c: signal handles.
 *
 * Signal dispositions are process-wide, handles belong to loops, and loops
 * may live on several threads. The process-wide part is a small table: how
 * many handles watch each signal, the disposition to restore when the last
 * one stops, and the list of loops that watch anything. The C handler only
 * bumps the caught counter of each interested loop and writes that loop's
 * eventfd; the loop calls the handles on its own thread.
 *
 * The table is guarded by a spin lock that the handler also takes. Code on
 * a loop thread takes it only with every signal blocked on that thread, so
 * a handler never spins on a lock held by the thread it interrupted; when
 * another thread holds it, that thread runs on and releases it.
 */
#include "internal.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static loom_loop_t* watching_loops;
static unsigned int users[LOOM__NSIG];
static struct sigaction saved_actions[LOOM__NSIG];


static void lock_table(sigset_t* saved_mask) {
  sigset_t all;

  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, saved_mask);
  while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
    ;
}


static void unlock_table(const sigset_t* saved_mask) {
  atomic_flag_clear_explicit(&table_lock, memory_order_release);
  pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
}


static void on_signal(int signum) {
  loom_loop_t* loop;
  int saved_errno = errno;

  while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
    ;
  for (loop = watching_loops; loop != NULL; loop = loop->sig_next) {
    if (loop->sig_watching[signum] == 0)
      continue;
    atomic_fetch_add(&loop->sig_caught[signum], 1);
    atomic_store(&loop->sig_any, 1);
    loom__wakeup(loop);
  }
  atomic_flag_clear_explicit(&table_lock, memory_order_release);
  errno = saved_errno;
}


/* Counts one more watcher of signum on the loop (a handle, or the loop's
 * child reaper for SIGCHLD), installing the handler for the first one. */
int loom__signal_watch(loom_loop_t* loop, int signum) {
  struct sigaction sa;
  sigset_t mask;

  lock_table(&mask);
  if (users[signum] == 0) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    /* Nothing may interrupt the handler while it holds the table lock. */
    sigfillset(&sa.sa_mask);
    if (sigaction(signum, &sa, &saved_actions[signum]) != 0) {
      int err = LOOM__ERR(errno);
      unlock_table(&mask);
      return err;
    }
  }
  users[signum]++;
  loop->sig_watching[signum]++;
  if (!loop->sig_registered) {
    loop->sig_next = watching_loops;
    watching_loops = loop;
    loop->sig_registered = 1;
  }
  unlock_table(&mask);
  return 0;
}


/* The disposition the process had comes back with the last watcher. */
void loom__signal_unwatch(loom_loop_t* loop, int signum) {
  sigset_t mask;

  lock_table(&mask);
  loop->sig_watching[signum]--;
  if (--users[signum] == 0)
    sigaction(signum, &saved_actions[signum], NULL);
  unlock_table(&mask);
}


int loom_signal_init(loom_loop_t* loop, loom_signal_t* s) {
  loom__handle_init(loop, (loom_handle_t*) s, LOOM_SIGNAL);
  s->cb = NULL;
  s->signum = 0;
  s->oneshot = 0;
  loom__queue_init(&s->signal_queue);
  return 0;
}


int loom_signal_stop(loom_signal_t* s) {
  loom_loop_t* loop = s->loop;
  int signum = s->signum;

  if (!loom__is_active((loom_handle_t*) s))
    return 0;
  loom__signal_unwatch(loop, signum);
  loom__queue_remove(&s->signal_queue);
  loom__handle_stop((loom_handle_t*) s);
  return 0;
}


static int start(loom_signal_t* s, loom_signal_cb cb, int signum,
                 int oneshot) {
  loom_loop_t* loop = s->loop;
  int err;

  if (cb == NULL || loom__is_closing((loom_handle_t*) s))
    return LOOM_EINVAL;
  if (signum <= 0 || signum >= LOOM__NSIG || signum == SIGKILL ||
      signum == SIGSTOP)
    return LOOM_EINVAL;

  if (loom__is_active((loom_handle_t*) s)) {
    if (s->signum == signum) {
      s->cb = cb;
      s->oneshot = oneshot;
      return 0;
    }
    loom_signal_stop(s);
  }

  err = loom__signal_watch(loop, signum);
  if (err != 0)
    return err;

  s->cb = cb;
  s->signum = signum;
  s->oneshot = oneshot;
  loom__queue_insert_tail(&loop->signal_handles, &s->signal_queue);
  loom__handle_start((loom_handle_t*) s);
  return 0;
}


int loom_signal_start(loom_signal_t* s, loom_signal_cb cb, int signum) {
  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) s))
    return LOOM_EINVAL;
  return start(s, cb, signum, 0);
}


int loom_signal_start_oneshot(loom_signal_t* s, loom_signal_cb cb,
                              int signum) {
  if (loom__is_closing((loom_handle_t*) s))
    return LOOM_EINVAL;
  return start(s, cb, signum, 1);
}


void loom__signal_close(loom_signal_t* s) {
  loom_signal_stop(s);
}


/* Delivers each caught signal once per catch to every handle watching it
 * when the delivery starts. */
static void deliver(loom_loop_t* loop, int signum) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  loom_signal_t* s;

  loom__queue_move(&loop->signal_handles, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    s = loom__queue_data(q, loom_signal_t, signal_queue);
    loom__queue_remove(q);
    loom__queue_insert_tail(&loop->signal_handles, q);
    if (s->signum != signum)
      continue;
    if (s->oneshot)
      loom_signal_stop(s);
    s->cb(s, signum);
  }
}


void loom__signal_dispatch(loom_loop_t* loop) {
  unsigned int count;
  int signum;

  if (atomic_exchange(&loop->sig_any, 0) == 0)
    return;
  for (signum = 1; signum < LOOM__NSIG; signum++) {
    count = atomic_exchange(&loop->sig_caught[signum], 0);
    if (count > 0 && signum == SIGCHLD && loop->child_watching)
      loom__process_reap(loop);
    while (count-- > 0)
      deliver(loop, signum);
  }
}


/* The loop is going away: the handler must never see it again. */
void loom__signal_loop_close(loom_loop_t* loop) {
  loom_loop_t** link;
  sigset_t mask;

  if (!loop->sig_registered)
    return;
  lock_table(&mask);
  for (link = &watching_loops; *link != NULL; link = &(*link)->sig_next) {
    if (*link == loop) {
      *link = loop->sig_next;
      break;
    }
  }
  loop->sig_registered = 0;
  unlock_table(&mask);
}
