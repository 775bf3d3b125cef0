/* SPDX-License-Identifier: MIT */
/* loom/thread.h: threads and semaphores, thinly over pthreads, with the
 * conventions of the rest of the API (0 or a negative LOOM_E* code).
 * Included by loom.h. Every function here is thread-safe.
 */
#ifndef LOOM_THREAD_H
#define LOOM_THREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <sys/types.h>

typedef pthread_t loom_thread_t;
typedef sem_t loom_sem_t;

/* Thread priorities (libuv's values): mapped to nice values on Linux
 * (nice = -2 * priority), which SCHED_OTHER threads honour. */
enum {
  LOOM_THREAD_PRIORITY_HIGHEST = 2,
  LOOM_THREAD_PRIORITY_ABOVE_NORMAL = 1,
  LOOM_THREAD_PRIORITY_NORMAL = 0,
  LOOM_THREAD_PRIORITY_BELOW_NORMAL = -1,
  LOOM_THREAD_PRIORITY_LOWEST = -2
};

/* Starts entry(arg) on a new thread. stack_size 0 means the default;
 * other sizes are rounded up to whole pages and to the system minimum.
 * Signals are blocked in the new thread (the loop thread takes them). */
int loom_thread_create(loom_thread_t* tid, size_t stack_size,
                       void (*entry)(void* arg), void* arg);
int loom_thread_join(loom_thread_t tid);
int loom_thread_detach(loom_thread_t tid);
loom_thread_t loom_thread_self(void);
int loom_thread_equal(loom_thread_t a, loom_thread_t b);
/* The kernel's id of the calling thread (what priorities apply to). */
pid_t loom_thread_gettid(void);

/* A thread's name (any thread of the process); longer names are cut to
 * 15 bytes. */
int loom_thread_setname(loom_thread_t tid, const char* name);
int loom_thread_getname(loom_thread_t tid, char* buf, size_t size);

/* Affinity masks are arrays of mask_size bytes, one per CPU (non-zero:
 * the thread may run there). old may be NULL. mask_size must be at least
 * loom_cpumask_size(). */
int loom_thread_setaffinity(loom_thread_t tid, const char* mask, char* old,
                            size_t mask_size);
int loom_thread_getaffinity(loom_thread_t tid, char* mask, size_t mask_size);
/* The CPU the calling thread runs on, from 0. */
int loom_thread_getcpu(void);
/* Priorities by kernel thread id (0: the calling thread). Raising one
 * above normal needs CAP_SYS_NICE (EACCES otherwise). getpriority maps
 * the nice value back onto the five levels. */
int loom_thread_setpriority(pid_t tid, int priority);
int loom_thread_getpriority(pid_t tid, int* priority);

void loom_sleep(unsigned int msec);

/* Semaphores (process-private). wait retries after signals. */
int loom_sem_init(loom_sem_t* sem, unsigned int value);
void loom_sem_destroy(loom_sem_t* sem);
void loom_sem_post(loom_sem_t* sem);
void loom_sem_wait(loom_sem_t* sem);
/* 0, or LOOM_EAGAIN when the value is zero. */
int loom_sem_trywait(loom_sem_t* sem);

#endif /* LOOM_THREAD_H */
