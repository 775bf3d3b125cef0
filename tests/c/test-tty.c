/* SPDX-License-Identifier: MIT */
/* test-tty.c: terminals, in a pseudo-terminal the test opens itself: the
 * modes really change the line discipline, the window size is read from
 * the kernel, bytes cross in both directions, and the mode the terminal
 * had comes back with reset_mode and at exit. */
#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

typedef struct {
  int master;
  int slave;
} pty_pair;

static pty_pair open_pty(void) {
  pty_pair p;
  struct winsize ws = {33, 101, 0, 0}; /* rows, columns */
  ASSERT_OK(openpty(&p.master, &p.slave, NULL, NULL, &ws));
  return p;
}

static tcflag_t lflag_of(int fd) {
  struct termios t;
  ASSERT_OK(tcgetattr(fd, &t));
  return t.c_lflag;
}

TEST(tty_modes_and_winsize) {
  loom_loop_t* loop = new_loop();
  pty_pair p = open_pty();
  loom_tty_t tty;
  struct termios t;
  int w = 0;
  int h = 0;

  ASSERT(lflag_of(p.slave) & ICANON);
  ASSERT_OK(loom_tty_init(loop, &tty, p.slave, 1));
  ASSERT_OK(loom_tty_get_winsize(&tty, &w, &h));
  ASSERT_EQ(w, 101);
  ASSERT_EQ(h, 33);

  ASSERT_OK(loom_tty_set_mode(&tty, LOOM_TTY_MODE_RAW));
  ASSERT(!(lflag_of(p.slave) & (ICANON | ECHO | ISIG)));
  ASSERT_OK(loom_tty_set_mode(&tty, LOOM_TTY_MODE_IO));
  ASSERT_OK(tcgetattr(p.slave, &t));
  ASSERT(!(t.c_oflag & OPOST));
  ASSERT(!(t.c_lflag & ICANON));
  ASSERT_OK(loom_tty_set_mode(&tty, LOOM_TTY_MODE_NORMAL));
  ASSERT(lflag_of(p.slave) & ICANON);
  ASSERT_OK(loom_tty_set_mode(&tty, LOOM_TTY_MODE_RAW));
  ASSERT_OK(loom_tty_reset_mode());
  ASSERT(lflag_of(p.slave) & ICANON);
  ASSERT(lflag_of(p.slave) & ECHO);
  ASSERT_EQ(loom_tty_set_mode(&tty, (loom_tty_mode_t) 99), LOOM_EINVAL);

  CLOSE_LOOP_OR_FAIL(loop);
  close(p.slave);
  close(p.master);
  return 0;
}

static char got[64];
static size_t ngot;
static int writes_done;

static void on_tty_read(loom_stream_t* s, ssize_t nread,
                        const loom_buf_t* buf) {
  if (nread < 0)
    return;
  ASSERT(ngot + (size_t) nread <= sizeof(got));
  memcpy(got + ngot, buf->base, (size_t) nread);
  ngot += (size_t) nread;
  if (ngot >= 3)
    loom_read_stop(s);
}

static void on_tty_write(loom_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  writes_done++;
}

/* Reads from the master side until `want` bytes arrived or 5 s passed. */
static size_t read_master(int master, char* out, size_t want) {
  size_t have = 0;
  struct pollfd pfd = {master, POLLIN, 0};
  while (have < want && poll(&pfd, 1, 5000) == 1) {
    ssize_t n = read(master, out + have, want - have);
    if (n <= 0)
      break;
    have += (size_t) n;
  }
  return have;
}

TEST(tty_reads_and_writes) {
  loom_loop_t* loop = new_loop();
  pty_pair p = open_pty();
  loom_tty_t tty;
  loom_write_t req;
  loom_buf_t buf;
  char out[16];

  ASSERT_OK(loom_tty_init(loop, &tty, p.slave, 1));
  /* io mode: the bytes cross untranslated and are not echoed back. */
  ASSERT_OK(loom_tty_set_mode(&tty, LOOM_TTY_MODE_IO));

  buf.base = "ping\n";
  buf.len = 5;
  ASSERT(loom_write(&req, (loom_stream_t*) &tty, &buf, 1, on_tty_write) >= 0);
  ASSERT(write(p.master, "abc", 3) == 3);
  ASSERT_OK(loom_read_start((loom_stream_t*) &tty, on_tty_read));
  loom_run(loop, LOOM_RUN_DEFAULT);
  ASSERT_EQ(writes_done, 1);
  ASSERT_EQ(ngot, 3);
  ASSERT(memcmp(got, "abc", 3) == 0);
  ASSERT_EQ(read_master(p.master, out, 5), 5);
  ASSERT(memcmp(out, "ping\n", 5) == 0);

  ASSERT_OK(loom_tty_reset_mode());
  CLOSE_LOOP_OR_FAIL(loop);
  close(p.slave);
  close(p.master);
  return 0;
}

/* A program that exits (without resetting) while its terminal is in raw
 * mode must leave the terminal as it found it. */
TEST(tty_mode_restored_at_exit) {
  pty_pair p = open_pty();
  pid_t pid;
  int status;

  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    loom_loop_t* loop;
    loom_tty_t tty;
    if (loom_loop_new(&loop) != 0 || loom_tty_init(loop, &tty, p.slave, 1) != 0 ||
        loom_tty_set_mode(&tty, LOOM_TTY_MODE_RAW) != 0 ||
        (lflag_of(p.slave) & ICANON))
      _exit(2);
    exit(0); /* atexit handlers run; the loop is simply abandoned */
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT(lflag_of(p.slave) & ICANON);
  ASSERT(lflag_of(p.slave) & ECHO);
  close(p.slave);
  close(p.master);
  return 0;
}
