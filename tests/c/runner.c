/* SPDX-License-Identifier: MIT */
/* runner.c: runs each C test in its own process with a timeout and
 * reports TAP. `c-tests NAME` runs one test in-process (for debugging). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-list.h"

#define DECLARE(name) int run_test_##name(void);
TEST_LIST(DECLARE)
#undef DECLARE

typedef struct {
  const char* name;
  int (*fn)(void);
} test_entry;

static const test_entry tests[] = {
#define ENTRY(name) {#name, run_test_##name},
  TEST_LIST(ENTRY)
#undef ENTRY
};

#define NTESTS ((int) (sizeof(tests) / sizeof(tests[0])))


static int timeout_seconds(void) {
  const char* m = getenv("LOOM_TEST_TIMEOUT_MULTIPLIER");
  int mult = m != NULL ? atoi(m) : 1;
  return 10 * (mult > 0 ? mult : 1);
}


static int run_in_child(const test_entry* t) {
  int status;
  pid_t pid = fork();

  if (pid < 0) {
    perror("fork");
    return 0;
  }
  if (pid == 0) {
    alarm((unsigned) timeout_seconds());
    exit(t->fn() == 0 ? 0 : 1);
  }
  while (waitpid(pid, &status, 0) < 0)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 1;
  if (WIFSIGNALED(status))
    printf("# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
           WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
  else
    printf("# %s: exit status %d\n", t->name, WEXITSTATUS(status));
  return 0;
}


int main(int argc, char** argv) {
  int failed = 0;
  int i;

  signal(SIGPIPE, SIG_DFL);
  if (argc > 1) {
    for (i = 0; i < NTESTS; i++)
      if (strcmp(tests[i].name, argv[1]) == 0)
        return tests[i].fn();
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
  }
  printf("1..%d\n", NTESTS);
  fflush(stdout);
  for (i = 0; i < NTESTS; i++) {
    int ok = run_in_child(&tests[i]);
    printf("%sok %d - %s\n", ok ? "" : "not ", i + 1, tests[i].name);
    fflush(stdout);
    failed += !ok;
  }
  return failed ? 1 : 0;
}
