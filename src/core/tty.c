/* SPDX-License-Identifier: MIT */
/* tty.c: terminals as streams, terminal modes and window size.
 *
 * The mode the terminal had before the first set_mode is saved once per
 * process; reset_mode (also run at exit) restores it, so a program that
 * dies in raw mode does not leave the user's shell unusable.
 */
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static pthread_mutex_t saved_lock = PTHREAD_MUTEX_INITIALIZER;
static struct termios saved_termios;
static int saved_fd = -1;
static int atexit_registered;


/* Reopens the terminal so that making it non-blocking does not change the
 * file description other processes (the shell) share with us. */
static int reopen_tty(int fd) {
  char path[256];
  int newfd;

  if (ttyname_r(fd, path, sizeof(path)) != 0)
    return -1;
  newfd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  return newfd;
}


int loom_tty_init(loom_loop_t* loop, loom_tty_t* tty, int fd, int readable) {
  unsigned int flags = 0;
  int usefd = fd;
  loom_handle_type type;
  int mode;
  int err;

  if (fd < 0)
    return LOOM_EBADF;
  /* As in libuv: a file (epoll refuses regular files) or something
   * unknown cannot be a tty stream; a pipe or socket can. */
  type = loom_guess_handle(fd);
  if (type == LOOM_FILE || type == LOOM_UNKNOWN_HANDLE)
    return LOOM_EINVAL;
  mode = fcntl(fd, F_GETFL);
  if (mode < 0)
    return LOOM__ERR(errno);
  /* As libuv: readable and writable follow how the descriptor was opened
   * (a read-only /dev/tty is not writable, a pty master opened for both
   * can be read whatever `readable` says). */
  (void) readable;
  readable = (mode & O_ACCMODE) != O_WRONLY;
  if ((mode & O_ACCMODE) != O_RDONLY)
    flags |= LOOM__STREAM_WRITABLE;
  if (isatty(fd)) {
    int newfd = reopen_tty(fd);
    if (newfd >= 0)
      usefd = newfd;
  }
  if (usefd == fd) {
    /* Could not reopen: a shared description stays blocking for writes
     * unless we must read from it. */
    if (readable) {
      err = loom__nonblock(fd, 1);
      if (err != 0)
        return err;
    }
  } else {
    err = loom__nonblock(usefd, 1);
    if (err != 0) {
      loom__close(usefd);
      return err;
    }
  }
  if (readable)
    flags |= LOOM__STREAM_READABLE;
  loom__stream_init(loop, (loom_stream_t*) tty, LOOM_TTY);
  tty->orig_fd = fd;
  loom__stream_open((loom_stream_t*) tty, usefd, flags);
  if (usefd == fd && !readable)
    tty->flags |= LOOM__STREAM_BLOCKING;
  return 0;
}


static void reset_at_exit(void) {
  loom_tty_reset_mode();
}


int loom_tty_set_mode(loom_tty_t* tty, loom_tty_mode_t mode) {
  struct termios t;
  int fd = tty->io.fd;

  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) tty))
    return LOOM_EINVAL;

  if (fd < 0)
    return LOOM_EBADF;
  if (tcgetattr(fd, &t) != 0)
    return LOOM__ERR(errno);
  pthread_mutex_lock(&saved_lock);
  if (saved_fd == -1 && mode != LOOM_TTY_MODE_NORMAL) {
    saved_termios = t;
    saved_fd = tty->orig_fd;
    if (!atexit_registered) {
      atexit(reset_at_exit);
      atexit_registered = 1;
    }
  }
  pthread_mutex_unlock(&saved_lock);

  switch (mode) {
    case LOOM_TTY_MODE_NORMAL:
      pthread_mutex_lock(&saved_lock);
      if (saved_fd != -1)
        t = saved_termios;
      pthread_mutex_unlock(&saved_lock);
      break;
    case LOOM_TTY_MODE_RAW:
    case LOOM_TTY_MODE_RAW_VT:
      t.c_iflag &= ~(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
      t.c_oflag |= ONLCR;
      t.c_cflag |= CS8;
      t.c_lflag &= ~(ECHO | ICANON | IEXTEN | ISIG);
      t.c_cc[VMIN] = 1;
      t.c_cc[VTIME] = 0;
      break;
    case LOOM_TTY_MODE_IO:
      /* Binary-safe: nothing translated, nothing echoed. */
      t.c_iflag &= ~(BRKINT | ICRNL | INPCK | ISTRIP | IXON | IGNBRK |
                     PARMRK | INLCR | IGNCR);
      t.c_oflag &= ~OPOST;
      t.c_cflag &= ~(CSIZE | PARENB);
      t.c_cflag |= CS8;
      t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
      t.c_cc[VMIN] = 1;
      t.c_cc[VTIME] = 0;
      break;
    default:
      return LOOM_EINVAL;
  }
  if (tcsetattr(fd, TCSADRAIN, &t) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_tty_reset_mode(void) {
  int err = 0;

  /* trylock: this also runs at exit, possibly while another thread holds
   * the lock; better to skip than to hang the exit. */
  if (pthread_mutex_trylock(&saved_lock) != 0)
    return LOOM_EBUSY;
  if (saved_fd != -1 && tcsetattr(saved_fd, TCSANOW, &saved_termios) != 0)
    err = LOOM__ERR(errno);
  pthread_mutex_unlock(&saved_lock);
  return err;
}


int loom_tty_get_winsize(loom_tty_t* tty, int* width, int* height) {
  struct winsize ws;

  if (tty->io.fd < 0)
    return LOOM_EBADF;
  if (ioctl(tty->io.fd, TIOCGWINSZ, &ws) != 0)
    return LOOM__ERR(errno);
  *width = ws.ws_col;
  *height = ws.ws_row;
  return 0;
}
