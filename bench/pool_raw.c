/* bench/pool_raw.c N [THREADS]: the ceiling for the stat workload: N
 * stat calls shared by a fixed set of threads through one atomic
 * counter, no queue and no completion hand-off. Prints the seconds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static atomic_long remaining;

static void* worker(void* arg) {
  struct stat st;
  (void) arg;
  while (atomic_fetch_sub(&remaining, 1) > 0)
    if (stat("/tmp", &st) != 0)
      abort();
  return NULL;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  int threads = argc > 2 ? atoi(argv[2]) : 4;
  pthread_t tids[64];
  struct timespec a, b;
  int i;

  if (threads < 1 || threads > 64)
    return 2;
  atomic_store(&remaining, n);
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (i = 0; i < threads; i++)
    pthread_create(&tids[i], NULL, worker, NULL);
  for (i = 0; i < threads; i++)
    pthread_join(tids[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.4f\n", (double) (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
  return 0;
}
