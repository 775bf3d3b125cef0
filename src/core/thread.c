/* SPDX-License-Identifier: MIT */
/* thread.c: threads and semaphores (loom/thread.h). */
#include "internal.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  void (*entry)(void* arg);
  void* arg;
} start_t;


static void* thread_start(void* p) {
  start_t s = *(start_t*) p;
  free(p);
  s.entry(s.arg);
  return NULL;
}


int loom_thread_create(loom_thread_t* tid, size_t stack_size,
                       void (*entry)(void* arg), void* arg) {
  pthread_attr_t attr;
  sigset_t all, old;
  size_t page = (size_t) sysconf(_SC_PAGESIZE);
  start_t* s;
  int err;

  s = malloc(sizeof(*s));
  if (s == NULL)
    return LOOM_ENOMEM;
  s->entry = entry;
  s->arg = arg;
  pthread_attr_init(&attr);
  if (stack_size > 0) {
    stack_size = (stack_size + page - 1) / page * page;
    if (stack_size < (size_t) PTHREAD_STACK_MIN)
      stack_size = (size_t) PTHREAD_STACK_MIN;
    err = pthread_attr_setstacksize(&attr, stack_size);
    if (err != 0) {
      pthread_attr_destroy(&attr);
      free(s);
      return LOOM__ERR(err);
    }
  }
  /* The new thread starts with every signal blocked: signals are for the
   * loop threads, which hand them to every loop that watches them. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = pthread_create(tid, &attr, thread_start, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    free(s);
    return LOOM__ERR(err);
  }
  return 0;
}


int loom_thread_join(loom_thread_t tid) {
  return LOOM__ERR(pthread_join(tid, NULL));
}


int loom_thread_detach(loom_thread_t tid) {
  return LOOM__ERR(pthread_detach(tid));
}


loom_thread_t loom_thread_self(void) {
  return pthread_self();
}


int loom_thread_equal(loom_thread_t a, loom_thread_t b) {
  return pthread_equal(a, b) != 0;
}


pid_t loom_thread_gettid(void) {
  return (pid_t) syscall(SYS_gettid);
}


int loom_thread_setname(loom_thread_t tid, const char* name) {
  char cut[16];

  /* Linux takes 15 bytes and a terminator; longer names are cut, not
   * refused, as the documentation of luv promises. */
  strncpy(cut, name, sizeof(cut) - 1);
  cut[sizeof(cut) - 1] = '\0';
  return LOOM__ERR(pthread_setname_np(tid, cut));
}


int loom_thread_getname(loom_thread_t tid, char* buf, size_t size) {
  char name[16];
  int err = pthread_getname_np(tid, name, sizeof(name));

  if (err != 0)
    return LOOM__ERR(err);
  if (strlen(name) >= size)
    return LOOM_ENOBUFS;
  strcpy(buf, name);
  return 0;
}


static int mask_to_set(const char* mask, size_t n, cpu_set_t* set) {
  size_t i;

  CPU_ZERO(set);
  for (i = 0; i < n && i < CPU_SETSIZE; i++)
    if (mask[i])
      CPU_SET(i, set);
  return CPU_COUNT(set) > 0 ? 0 : LOOM_EINVAL;
}


static void set_to_mask(const cpu_set_t* set, char* mask, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    mask[i] = i < CPU_SETSIZE && CPU_ISSET(i, set);
}


int loom_thread_getaffinity(loom_thread_t tid, char* mask, size_t mask_size) {
  cpu_set_t set;
  int err;

  if (mask_size < (size_t) loom_cpumask_size())
    return LOOM_EINVAL;
  err = pthread_getaffinity_np(tid, sizeof(set), &set);
  if (err != 0)
    return LOOM__ERR(err);
  set_to_mask(&set, mask, mask_size);
  return 0;
}


int loom_thread_setaffinity(loom_thread_t tid, const char* mask, char* old,
                            size_t mask_size) {
  cpu_set_t set;
  int err;

  if (mask_size < (size_t) loom_cpumask_size())
    return LOOM_EINVAL;
  if (old != NULL) {
    err = loom_thread_getaffinity(tid, old, mask_size);
    if (err != 0)
      return err;
  }
  err = mask_to_set(mask, mask_size, &set);
  if (err != 0)
    return err;
  return LOOM__ERR(pthread_setaffinity_np(tid, sizeof(set), &set));
}


int loom_thread_getcpu(void) {
  int cpu = sched_getcpu();
  return cpu >= 0 ? cpu : LOOM__ERR(errno);
}


int loom_thread_setpriority(pid_t tid, int priority) {
  if (priority < LOOM_THREAD_PRIORITY_LOWEST ||
      priority > LOOM_THREAD_PRIORITY_HIGHEST)
    return LOOM_EINVAL;
  if (setpriority(PRIO_PROCESS, (id_t) tid, -2 * priority) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_thread_getpriority(pid_t tid, int* priority) {
  int nice;

  errno = 0;
  nice = getpriority(PRIO_PROCESS, (id_t) tid);
  if (nice == -1 && errno != 0)
    return LOOM__ERR(errno);
  /* The level whose nice value is nearest, rounding toward normal. */
  nice = -nice / 2;
  if (nice > LOOM_THREAD_PRIORITY_HIGHEST)
    nice = LOOM_THREAD_PRIORITY_HIGHEST;
  if (nice < LOOM_THREAD_PRIORITY_LOWEST)
    nice = LOOM_THREAD_PRIORITY_LOWEST;
  *priority = nice;
  return 0;
}


void loom_sleep(unsigned int msec) {
  struct timespec ts;

  ts.tv_sec = msec / 1000;
  ts.tv_nsec = (long) (msec % 1000) * 1000000;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}


int loom_sem_init(loom_sem_t* sem, unsigned int value) {
  if (sem_init(sem, 0, value) != 0)
    return LOOM__ERR(errno);
  return 0;
}


void loom_sem_destroy(loom_sem_t* sem) {
  sem_destroy(sem);
}


void loom_sem_post(loom_sem_t* sem) {
  sem_post(sem);
}


void loom_sem_wait(loom_sem_t* sem) {
  while (sem_wait(sem) != 0 && errno == EINTR)
    ;
}


int loom_sem_trywait(loom_sem_t* sem) {
  while (sem_trywait(sem) != 0) {
    if (errno != EINTR)
      return LOOM_EAGAIN;
  }
  return 0;
}
