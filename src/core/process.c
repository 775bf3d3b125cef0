/* SPDX-License-Identifier: MIT */
/* process.c: child processes: spawn (fork + exec with stdio, env, cwd,
 * credentials, sessions), exit reporting through SIGCHLD, kill.
 *
 * A loop with children watches SIGCHLD through the signal table it shares
 * with user signal handles (a user's SIGCHLD handle still fires), and on
 * each delivery reaps exactly its own children with waitpid(pid, WNOHANG):
 * a child that another part of the program waits for is never stolen.
 *
 * spawn reports exec failures synchronously: the child writes its errno
 * to a close-on-exec pipe; an empty read means exec succeeded. A child
 * that failed is reaped before spawn returns, so no zombie is left.
 */
#include "internal.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;


static int watch_children(loom_loop_t* loop) {
  int err;

  if (loop->child_watching)
    return 0;
  err = loom__signal_watch(loop, SIGCHLD);
  if (err == 0)
    loop->child_watching = 1;
  return err;
}


static void unwatch_children(loom_loop_t* loop) {
  if (loop->child_watching && loom__queue_empty(&loop->process_handles)) {
    loom__signal_unwatch(loop, SIGCHLD);
    loop->child_watching = 0;
  }
}


/* Creates what each stdio slot needs in the parent: a socketpair for
 * CREATE_PIPE (the parent keeps [0], the child gets [1]). */
static int make_stdio(const loom_process_options_t* o, int (*pairs)[2]) {
  int i;
  int err;

  for (i = 0; i < o->stdio_count; i++) {
    pairs[i][0] = pairs[i][1] = -1;
    const loom_stdio_container_t* c = &o->stdio[i];
    /* A closing stream can neither lend its descriptor nor take a new
     * one: the close would never release it. */
    if (c->stream != NULL && loom__is_closing((loom_handle_t*) c->stream))
      return LOOM_EINVAL;
    switch (c->flags & (LOOM_CREATE_PIPE | LOOM_INHERIT_FD |
                        LOOM_INHERIT_STREAM)) {
      case LOOM_IGNORE:
        break;
      case LOOM_CREATE_PIPE:
        if (c->stream == NULL || c->stream->type != LOOM_NAMED_PIPE ||
            c->stream->io.fd >= 0)
          return LOOM_EINVAL;
        err = loom_socketpair(SOCK_STREAM, 0, pairs[i], 0, 0);
        if (err != 0)
          return err;
        break;
      case LOOM_INHERIT_FD:
        pairs[i][1] = c->fd;
        break;
      case LOOM_INHERIT_STREAM:
        if (c->stream == NULL ||
            loom_fileno((loom_handle_t*) c->stream, &pairs[i][1]) != 0)
          return LOOM_EINVAL;
        break;
      default:
        return LOOM_EINVAL;
    }
  }
  return 0;
}


static void close_stdio(const loom_process_options_t* o, int (*pairs)[2],
                        int parent_too) {
  int i;

  for (i = 0; i < o->stdio_count; i++) {
    if (!(o->stdio[i].flags & LOOM_CREATE_PIPE))
      continue;
    if (pairs[i][1] >= 0)
      loom__close(pairs[i][1]);
    if (parent_too && pairs[i][0] >= 0)
      loom__close(pairs[i][0]);
  }
}


/* In the child: only async-signal-safe calls from here to exec. Reports
 * errno on the error pipe and exits 127 on failure. */
static void child_init(const loom_process_options_t* o, int (*pairs)[2],
                       int error_fd) {
  sigset_t all;
  int fd;
  int i;
  int n = o->stdio_count < 3 ? 3 : o->stdio_count;
  int err;

  if (o->flags & LOOM_PROCESS_DETACHED)
    setsid();

  /* Move every source fd above the target range first, so that dup2 for
   * slot i never clobbers the source of a later slot. */
  for (i = 0; i < o->stdio_count; i++) {
    fd = pairs[i][1];
    if (fd >= 0 && fd < n) {
      int moved = fcntl(fd, F_DUPFD_CLOEXEC, n);
      if (moved < 0)
        goto fail;
      pairs[i][1] = moved;
    }
  }
  for (i = 0; i < n; i++) {
    fd = i < o->stdio_count ? pairs[i][1] : -1;
    if (fd < 0) {
      /* Ignored slots 0-2 get /dev/null, so the child's first open does
       * not become its stdin by accident. */
      if (i > 2)
        continue;
      fd = open("/dev/null", i == 0 ? O_RDONLY : O_RDWR);
      if (fd < 0)
        goto fail;
      if (fd != i) {
        if (dup2(fd, i) < 0)
          goto fail;
        close(fd);
      }
    } else if (dup2(fd, i) < 0) {
      goto fail;
    }
    /* dup2 clears close-on-exec; make sure it really is clear and the
     * slot is blocking, as programs expect of their stdio. */
    fcntl(i, F_SETFD, 0);
    {
      int fl = fcntl(i, F_GETFL);
      if (fl >= 0 && (fl & O_NONBLOCK) && i < o->stdio_count &&
          (o->stdio[i].flags & LOOM_CREATE_PIPE))
        fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
    }
  }

  if (o->cwd != NULL && chdir(o->cwd) != 0)
    goto fail;
  if (o->flags & (LOOM_PROCESS_SETUID | LOOM_PROCESS_SETGID))
    setgroups(0, NULL); /* drop supplementary groups; failure is benign */
  if ((o->flags & LOOM_PROCESS_SETGID) && setgid(o->gid) != 0)
    goto fail;
  if ((o->flags & LOOM_PROCESS_SETUID) && setuid(o->uid) != 0)
    goto fail;

  /* The parent's handlers must not run here; exec keeps ignored signals
   * ignored, so reset every disposition and unblock everything. */
  for (i = 1; i < LOOM__NSIG; i++) {
    if (i == SIGKILL || i == SIGSTOP)
      continue;
    signal(i, SIG_DFL);
  }
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);

  if (o->env != NULL)
    environ = o->env;
  execvp(o->file, o->args);

fail:
  err = errno;
  while (write(error_fd, &err, sizeof(err)) < 0 && errno == EINTR)
    ;
  _exit(127);
}


int loom_spawn(loom_loop_t* loop, loom_process_t* p,
               const loom_process_options_t* o) {
  int (*pairs)[2] = NULL;
  int errpipe[2];
  sigset_t all;
  sigset_t saved;
  ssize_t n;
  int child_err = 0;
  int err;
  int pid;
  int i;

  loom__handle_init(loop, (loom_handle_t*) p, LOOM_PROCESS);
  loom__queue_init(&p->process_queue);
  p->exit_cb = o->exit_cb;
  p->pid = 0;
  p->status = 0;

  if (o->file == NULL || o->args == NULL)
    return LOOM_EINVAL;
  if (o->flags & ~(unsigned int) (LOOM_PROCESS_SETUID | LOOM_PROCESS_SETGID |
                                  LOOM_PROCESS_DETACHED |
                                  LOOM_PROCESS_WINDOWS_HIDE |
                                  LOOM_PROCESS_WINDOWS_VERBATIM_ARGUMENTS))
    return LOOM_EINVAL;
  if (o->stdio_count > 0) {
    pairs = calloc((size_t) o->stdio_count, sizeof(*pairs));
    if (pairs == NULL)
      return LOOM_ENOMEM;
  }
  err = make_stdio(o, pairs);
  if (err == 0)
    err = watch_children(loop);
  if (err == 0 && pipe2(errpipe, O_CLOEXEC) != 0)
    err = LOOM__ERR(errno);
  if (err != 0) {
    close_stdio(o, pairs, 1);
    free(pairs);
    unwatch_children(loop);
    return err;
  }

  /* No handler may run in the child between fork and exec. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid = fork();
  if (pid == 0) {
    close(errpipe[0]);
    child_init(o, pairs, errpipe[1]);
  }
  err = pid < 0 ? LOOM__ERR(errno) : 0;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  loom__close(errpipe[1]);

  if (err == 0) {
    do
      n = read(errpipe[0], &child_err, sizeof(child_err));
    while (n < 0 && errno == EINTR);
    if (n == sizeof(child_err)) {
      /* exec failed: reap the child now, it must not linger. */
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
      err = LOOM__ERR(child_err);
    }
  }
  loom__close(errpipe[0]);

  close_stdio(o, pairs, err != 0);
  if (err == 0) {
    for (i = 0; i < o->stdio_count; i++) {
      if (!(o->stdio[i].flags & LOOM_CREATE_PIPE))
        continue;
      loom__nonblock(pairs[i][0], 1);
      loom__stream_open(o->stdio[i].stream, pairs[i][0],
                        LOOM__STREAM_READABLE | LOOM__STREAM_WRITABLE |
                            LOOM__STREAM_SOCKET);
    }
  }
  free(pairs);
  if (err != 0) {
    unwatch_children(loop);
    return err;
  }

  p->pid = pid;
  loom__queue_insert_tail(&loop->process_handles, &p->process_queue);
  loom__handle_start((loom_handle_t*) p);
  return 0;
}


/* SIGCHLD arrived: collect the loop's children that exited, then report
 * them (a callback may spawn or close, so the list is not walked while
 * calling out). */
void loom__process_reap(loom_loop_t* loop) {
  loom_queue_t exited;
  loom_queue_t* q;
  loom_queue_t* next;
  loom_process_t* p;
  int status;
  int rc;
  int64_t code;
  int term;

  loom__queue_init(&exited);
  for (q = loop->process_handles.next; q != &loop->process_handles;
       q = next) {
    next = q->next;
    p = loom__queue_data(q, loom_process_t, process_queue);
    do
      rc = waitpid(p->pid, &status, WNOHANG);
    while (rc < 0 && errno == EINTR);
    if (rc == 0)
      continue;
    if (rc < 0)
      status = 0; /* reaped elsewhere (ECHILD): report a plain exit */
    p->status = status;
    loom__queue_remove(q);
    loom__queue_insert_tail(&exited, q);
  }
  while (!loom__queue_empty(&exited)) {
    q = loom__queue_head(&exited);
    loom__queue_remove(q);
    p = loom__queue_data(q, loom_process_t, process_queue);
    loom__handle_stop((loom_handle_t*) p);
    code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 0;
    term = WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
    if (p->exit_cb != NULL)
      p->exit_cb(p, code, term);
  }
  unwatch_children(loop);
}


int loom_process_kill(loom_process_t* p, int signum) {
  if (p->pid <= 0 || !loom__is_active((loom_handle_t*) p))
    return LOOM_ESRCH;
  return loom_kill(p->pid, signum);
}


int loom_kill(int pid, int signum) {
  if (signum < 0 || signum >= LOOM__NSIG)
    return LOOM_EINVAL;
  if (kill(pid, signum) != 0)
    return LOOM__ERR(errno);
  return 0;
}


/* Closing a handle forgets the child but does not kill it; a child that
 * exits later is reaped by the next SIGCHLD of a loop that still watches,
 * or stays for the parent to collect, as with libuv. */
void loom__process_close(loom_process_t* p) {
  loom__queue_remove(&p->process_queue);
  loom__handle_stop((loom_handle_t*) p);
  unwatch_children(p->loop);
}


/* Marks every inherited descriptor from 3 up close-on-exec, so children
 * spawned later do not inherit them by accident. */
void loom_disable_stdio_inheritance(void) {
  struct rlimit rl;
  int fd;
  int max = 1024;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < 65536)
    max = (int) rl.rlim_cur;
  for (fd = 3; fd < max; fd++)
    loom__cloexec(fd, 1);
}
