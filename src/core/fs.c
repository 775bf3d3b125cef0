/* SPDX-License-Identifier: MIT */
/* fs.c: the file system request's one code path, and the operations that
 * are a single system call.
 *
 * Each public function records its arguments in the request and calls
 * submit(): without a callback the operation runs here and now; with one
 * it goes to the thread pool, and the callback runs on the loop's thread.
 * The operation itself (run_op) is the same function either way, so the
 * synchronous and asynchronous forms cannot drift apart.
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#define SYSCALL(expr) (RETRY(expr) < 0 ? LOOM__ERR(errno) : 0)


static int64_t do_open(loom_fs_t* req) {
  long fd = RETRY(open(req->path, req->flags | O_CLOEXEC, req->mode));
  return fd < 0 ? LOOM__ERR(errno) : fd;
}


/* close(2) is not retried on EINTR: Linux has released the descriptor by
 * then, and a retry could close one another thread just opened. */
static int64_t do_close(loom_fs_t* req) {
  if (close(req->file) < 0 && errno != EINTR)
    return LOOM__ERR(errno);
  return 0;
}


static int64_t do_read(loom_fs_t* req) {
  const struct iovec* iov = (const struct iovec*) req->bufs;
  long n;
  int cnt = req->nbufs > IOV_MAX ? IOV_MAX : (int) req->nbufs;

  if (req->off < 0)
    n = RETRY(cnt == 1 ? read(req->file, iov[0].iov_base, iov[0].iov_len)
                       : readv(req->file, iov, cnt));
  else
    n = RETRY(cnt == 1 ? pread(req->file, iov[0].iov_base, iov[0].iov_len,
                               req->off)
                       : preadv(req->file, iov, cnt, req->off));
  return n < 0 ? LOOM__ERR(errno) : n;
}


/* Writes every byte: the kernel may take less than asked (a full disk
 * reports that only on the next call, a pipe takes what fits). Returns
 * the total, or the error when nothing was written. */
static int64_t do_write(loom_fs_t* req) {
  struct iovec small[8];
  struct iovec* iov = small;
  unsigned int first = 0;
  unsigned int n = req->nbufs;
  int64_t off = req->off;
  int64_t total = 0;
  long w;
  int cnt;

  if (n > 8) {
    iov = malloc(n * sizeof(*iov));
    if (iov == NULL)
      return LOOM_ENOMEM;
  }
  memcpy(iov, req->bufs, n * sizeof(*iov));
  while (first < n) {
    if (iov[first].iov_len == 0) {
      first++;
      continue;
    }
    cnt = n - first > IOV_MAX ? IOV_MAX : (int) (n - first);
    if (off < 0)
      w = RETRY(writev(req->file, iov + first, cnt));
    else
      w = RETRY(pwritev(req->file, iov + first, cnt, off + total));
    if (w < 0) {
      if (total == 0)
        total = LOOM__ERR(errno);
      break;
    }
    total += w;
    while (w > 0 && first < n) {
      size_t step = (size_t) w < iov[first].iov_len ? (size_t) w
                                                    : iov[first].iov_len;
      iov[first].iov_base = (char*) iov[first].iov_base + step;
      iov[first].iov_len -= step;
      w -= (long) step;
      if (iov[first].iov_len == 0)
        first++;
    }
  }
  if (iov != small)
    free(iov);
  return total;
}


static int64_t do_statfs(loom_fs_t* req) {
  struct statfs sf;
  loom_statfs_t* out;

  if (RETRY(statfs(req->path, &sf)) < 0)
    return LOOM__ERR(errno);
  out = malloc(sizeof(*out));
  if (out == NULL)
    return LOOM_ENOMEM;
  out->type = (uint64_t) sf.f_type;
  out->bsize = (uint64_t) sf.f_bsize;
  out->blocks = sf.f_blocks;
  out->bfree = sf.f_bfree;
  out->bavail = sf.f_bavail;
  out->files = sf.f_files;
  out->ffree = sf.f_ffree;
  out->frsize = (uint64_t) sf.f_frsize;
  req->ptr = req->mem = out;
  return 0;
}


static struct timespec to_timespec(double t) {
  struct timespec ts;

  if (isinf(t)) {
    ts.tv_sec = 0;
    ts.tv_nsec = UTIME_NOW;
  } else if (isnan(t)) {
    ts.tv_sec = 0;
    ts.tv_nsec = UTIME_OMIT;
  } else {
    double sec = floor(t);
    ts.tv_sec = (time_t) sec;
    ts.tv_nsec = (long) ((t - sec) * 1e9);
    if (ts.tv_nsec > 999999999)
      ts.tv_nsec = 999999999;
  }
  return ts;
}


static int64_t do_utime(loom_fs_t* req) {
  struct timespec ts[2];

  ts[0] = to_timespec(req->atime);
  ts[1] = to_timespec(req->mtime);
  switch (req->fs_type) {
    case LOOM_FS_FUTIME:
      return SYSCALL(futimens(req->file, ts));
    case LOOM_FS_LUTIME:
      return SYSCALL(utimensat(AT_FDCWD, req->path, ts, AT_SYMLINK_NOFOLLOW));
    default:
      return SYSCALL(utimensat(AT_FDCWD, req->path, ts, 0));
  }
}


/* A result string of the given length, allocated for the request. */
static int64_t keep_string(loom_fs_t* req, const char* s, size_t len) {
  char* copy = malloc(len + 1);

  if (copy == NULL)
    return LOOM_ENOMEM;
  memcpy(copy, s, len);
  copy[len] = '\0';
  req->ptr = req->mem = copy;
  return 0;
}


static int64_t do_readlink(loom_fs_t* req) {
  char small[PATH_MAX];
  char* buf = small;
  size_t cap = sizeof(small);
  long n;
  int64_t ret;

  /* A target may be longer than PATH_MAX; grow until it fits. */
  for (;;) {
    n = RETRY(readlink(req->path, buf, cap));
    if (n < 0 || (size_t) n < cap)
      break;
    if (buf != small)
      free(buf);
    cap *= 2;
    buf = malloc(cap);
    if (buf == NULL)
      return LOOM_ENOMEM;
  }
  ret = n < 0 ? LOOM__ERR(errno) : keep_string(req, buf, (size_t) n);
  if (buf != small)
    free(buf);
  return ret;
}


static int64_t do_realpath(loom_fs_t* req) {
  char* resolved = realpath(req->path, NULL);

  if (resolved == NULL)
    return LOOM__ERR(errno);
  req->ptr = req->mem = resolved;
  return 0;
}


static int64_t do_mktemp(loom_fs_t* req) {
  size_t len = strlen(req->path);
  char* path;
  long fd = 0;

  if (len < 6 || strcmp(req->path + len - 6, "XXXXXX") != 0)
    return LOOM_EINVAL;
  if (keep_string(req, req->path, len) < 0)
    return LOOM_ENOMEM;
  path = req->mem;
  if (req->fs_type == LOOM_FS_MKDTEMP) {
    if (mkdtemp(path) == NULL)
      fd = -1;
  } else {
    fd = RETRY(mkostemp(path, O_CLOEXEC));
  }
  if (fd < 0) {
    int err = errno;
    free(path);
    req->ptr = req->mem = NULL;
    return LOOM__ERR(err);
  }
  return fd;
}


static int64_t run_op(loom_fs_t* req) {
  switch (req->fs_type) {
    case LOOM_FS_OPEN: return do_open(req);
    case LOOM_FS_CLOSE: return do_close(req);
    case LOOM_FS_READ: return do_read(req);
    case LOOM_FS_WRITE: return do_write(req);
    case LOOM_FS_SENDFILE: return loom__fs_sendfile(req);
    case LOOM_FS_STAT:
    case LOOM_FS_LSTAT:
    case LOOM_FS_FSTAT: return loom__fs_stat(req);
    case LOOM_FS_STATFS: return do_statfs(req);
    case LOOM_FS_FTRUNCATE: return SYSCALL(ftruncate(req->file, req->off));
    case LOOM_FS_FSYNC: return SYSCALL(fsync(req->file));
    case LOOM_FS_FDATASYNC: return SYSCALL(fdatasync(req->file));
    case LOOM_FS_ACCESS: return SYSCALL(access(req->path, req->mode));
    case LOOM_FS_CHMOD: return SYSCALL(chmod(req->path, (mode_t) req->mode));
    case LOOM_FS_FCHMOD: return SYSCALL(fchmod(req->file, (mode_t) req->mode));
    case LOOM_FS_UTIME:
    case LOOM_FS_FUTIME:
    case LOOM_FS_LUTIME: return do_utime(req);
    case LOOM_FS_UNLINK: return SYSCALL(unlink(req->path));
    case LOOM_FS_RMDIR: return SYSCALL(rmdir(req->path));
    case LOOM_FS_MKDIR: return SYSCALL(mkdir(req->path, (mode_t) req->mode));
    case LOOM_FS_MKDTEMP:
    case LOOM_FS_MKSTEMP: return do_mktemp(req);
    case LOOM_FS_RENAME: return SYSCALL(rename(req->path, req->new_path));
    case LOOM_FS_LINK: return SYSCALL(link(req->path, req->new_path));
    case LOOM_FS_SYMLINK: return SYSCALL(symlink(req->path, req->new_path));
    case LOOM_FS_READLINK: return do_readlink(req);
    case LOOM_FS_REALPATH: return do_realpath(req);
    case LOOM_FS_CHOWN:
      return SYSCALL(chown(req->path, (uid_t) req->uid, (gid_t) req->gid));
    case LOOM_FS_FCHOWN:
      return SYSCALL(fchown(req->file, (uid_t) req->uid, (gid_t) req->gid));
    case LOOM_FS_LCHOWN:
      return SYSCALL(lchown(req->path, (uid_t) req->uid, (gid_t) req->gid));
    case LOOM_FS_COPYFILE: return loom__fs_copyfile(req);
    case LOOM_FS_SCANDIR: return loom__fs_scandir(req);
    case LOOM_FS_OPENDIR: return loom__fs_opendir(req);
    case LOOM_FS_READDIR: return loom__fs_readdir(req);
    case LOOM_FS_CLOSEDIR: return loom__fs_closedir(req);
    case LOOM_FS_READFILE: return loom__fs_readfile(req);
    default: return LOOM_ENOSYS;
  }
}


/* Reads, writes and copies may take long; they go to the pool's slow
 * lane so they never hold every thread. The rest are quick calls. */
static loom_work_kind kind_of(loom_fs_type type) {
  switch (type) {
    case LOOM_FS_READ:
    case LOOM_FS_READFILE:
    case LOOM_FS_WRITE:
    case LOOM_FS_SENDFILE:
    case LOOM_FS_COPYFILE:
    case LOOM_FS_FSYNC:
    case LOOM_FS_FDATASYNC:
      return LOOM_WORK_SLOW_IO;
    default:
      return LOOM_WORK_FAST_IO;
  }
}


static void fs_work(loom_work_t* w) {
  loom_fs_t* req = loom__container_of(w, loom_fs_t, work);
  req->result = run_op(req);
}


static void fs_after(loom_work_t* w, int status) {
  loom_fs_t* req = loom__container_of(w, loom_fs_t, work);
  if (status == LOOM_ECANCELED)
    req->result = LOOM_ECANCELED;
  /* At teardown nobody may be called back: only free the result. The
   * request's memory is its owner's, and teardown promises not to touch
   * the host's objects after it returns, which this respects. */
  if (req->loop->tearing_down) {
    loom_fs_req_cleanup(req);
    return;
  }
  req->cb(req);
}


/* Resets what every request sets. The caller then fills the arguments
 * and calls submit. */
static void prepare(loom_fs_t* req, loom_loop_t* loop, loom_fs_type type) {
  req->type = LOOM_FS;
  req->fs_type = type;
  req->loop = loop;
  req->result = 0;
  req->ptr = NULL;
  req->mem = NULL;
  req->path = NULL;
  req->new_path = NULL;
  req->off = -1;
}


/* An asynchronous positional read whose bytes are all in the page cache
 * is done here, on the loop thread: preadv2 with RWF_NOWAIT copies them
 * or fails with EAGAIN without waiting for the disk. That saves the two
 * thread hand-offs of a pool request (most of the cost of a cached
 * read). Only a read that gets every byte (or is at end of file) counts;
 * a partial one is done again by the pool from the same offset, which a
 * positional read allows. Requests over READ_INLINE_MAX, and reads past
 * READ_INLINE_BUDGET bytes in one pass of the loop, go to the pool, so
 * that a burst of large reads holds the loop for at most about 0.2 ms
 * before it polls again. The callback still runs later, from the loop's
 * next pass, like any pool completion: a reader that issues each read
 * from the previous one's callback reads one chunk per pass, all of them
 * here. (A budget per millisecond, as before, sent a fifth of such a
 * reader's chunks to the pool at page-cache speed, and let a burst hold
 * the loop for 0.8 ms.) */
#define READ_INLINE_MAX (256u << 10)
#define READ_INLINE_BUDGET (2u << 20)

static int read_without_waiting(loom_fs_t* req) {
#ifdef RWF_NOWAIT
  const struct iovec* iov = (const struct iovec*) req->bufs;
  loom_loop_t* loop = req->loop;
  size_t total = 0;
  unsigned int i;
  long n;

  if (req->fs_type != LOOM_FS_READ || req->off < 0 || req->nbufs > 8)
    return 0;
  for (i = 0; i < req->nbufs; i++)
    total += iov[i].iov_len;
  if (total > READ_INLINE_MAX)
    return 0;
  if (loop->inline_read_pass != loop->metrics.loop_count) {
    loop->inline_read_pass = loop->metrics.loop_count;
    loop->inline_read_bytes = 0;
  }
  if (loop->inline_read_bytes + total > READ_INLINE_BUDGET)
    return 0;
  n = RETRY(preadv2(req->file, iov, (int) req->nbufs, req->off, RWF_NOWAIT));
  if (n < 0 || (n > 0 && (size_t) n < total))
    return 0; /* not cached, not supported here, or partly cached */
  loop->inline_read_bytes += (size_t) n;
  req->result = n;
  return 1;
#else
  (void) req;
  return 0;
#endif
}


static int submit(loom_fs_t* req, loom_fs_cb cb) {
  req->cb = cb;
  if (cb == NULL) {
    req->result = run_op(req);
    return req->result > INT_MAX ? INT_MAX : (int) req->result;
  }
  if (read_without_waiting(req)) {
    loom__work_post_finished(req->loop, &req->work, fs_after);
    return 0;
  }
  return loom_queue_work_kind(req->loop, &req->work, kind_of(req->fs_type),
                              fs_work, fs_after);
}


#define PATH_OP(name, TYPE)                                                   \
  int loom_fs_##name(loom_loop_t* loop, loom_fs_t* req, const char* path,     \
                     loom_fs_cb cb) {                                         \
    prepare(req, loop, TYPE);                                                 \
    req->path = path;                                                         \
    return submit(req, cb);                                                   \
  }

#define FILE_OP(name, TYPE)                                                   \
  int loom_fs_##name(loom_loop_t* loop, loom_fs_t* req, int file,             \
                     loom_fs_cb cb) {                                         \
    prepare(req, loop, TYPE);                                                 \
    req->file = file;                                                         \
    return submit(req, cb);                                                   \
  }

#define TWO_PATH_OP(name, TYPE)                                               \
  int loom_fs_##name(loom_loop_t* loop, loom_fs_t* req, const char* path,     \
                     const char* new_path, loom_fs_cb cb) {                   \
    prepare(req, loop, TYPE);                                                 \
    req->path = path;                                                         \
    req->new_path = new_path;                                                 \
    return submit(req, cb);                                                   \
  }

PATH_OP(stat, LOOM_FS_STAT)
PATH_OP(lstat, LOOM_FS_LSTAT)
PATH_OP(statfs, LOOM_FS_STATFS)
PATH_OP(unlink, LOOM_FS_UNLINK)
PATH_OP(rmdir, LOOM_FS_RMDIR)
PATH_OP(mkdtemp, LOOM_FS_MKDTEMP)
PATH_OP(mkstemp, LOOM_FS_MKSTEMP)
PATH_OP(readlink, LOOM_FS_READLINK)
PATH_OP(realpath, LOOM_FS_REALPATH)
PATH_OP(scandir, LOOM_FS_SCANDIR)
PATH_OP(opendir, LOOM_FS_OPENDIR)
FILE_OP(fstat, LOOM_FS_FSTAT)
FILE_OP(fsync, LOOM_FS_FSYNC)
FILE_OP(fdatasync, LOOM_FS_FDATASYNC)
TWO_PATH_OP(rename, LOOM_FS_RENAME)
TWO_PATH_OP(link, LOOM_FS_LINK)


int loom_fs_readfile(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     uint64_t max, loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_READFILE);
  req->path = path;
  req->len = max;
  return submit(req, cb);
}


/* The loop's own descriptors are not the caller's to close: with the
 * poller or the wake-up eventfd gone the loop would wait for ever. */
int loom_fs_close(loom_loop_t* loop, loom_fs_t* req, int file, loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_CLOSE);
  req->file = file;
  if (loom__fd_internal(loop, file))
    return LOOM_EBADF;
  return submit(req, cb);
}


int loom_fs_open(loom_loop_t* loop, loom_fs_t* req, const char* path,
                 int flags, int mode, loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_OPEN);
  req->path = path;
  req->flags = flags;
  req->mode = mode;
  return submit(req, cb);
}


static int rw(loom_loop_t* loop, loom_fs_t* req, loom_fs_type type, int file,
              const loom_buf_t bufs[], unsigned int nbufs, int64_t off,
              loom_fs_cb cb) {
  if (bufs == NULL || nbufs == 0)
    return LOOM_EINVAL;
  prepare(req, loop, type);
  req->file = file;
  req->bufs = bufs;
  req->nbufs = nbufs;
  req->off = off < 0 ? -1 : off;
  return submit(req, cb);
}


int loom_fs_read(loom_loop_t* loop, loom_fs_t* req, int file,
                 const loom_buf_t bufs[], unsigned int nbufs, int64_t off,
                 loom_fs_cb cb) {
  return rw(loop, req, LOOM_FS_READ, file, bufs, nbufs, off, cb);
}


int loom_fs_write(loom_loop_t* loop, loom_fs_t* req, int file,
                  const loom_buf_t bufs[], unsigned int nbufs, int64_t off,
                  loom_fs_cb cb) {
  return rw(loop, req, LOOM_FS_WRITE, file, bufs, nbufs, off, cb);
}


int loom_fs_sendfile(loom_loop_t* loop, loom_fs_t* req, int out_fd,
                     int in_fd, int64_t in_offset, uint64_t length,
                     loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_SENDFILE);
  req->flags = out_fd;
  req->file = in_fd;
  req->off = in_offset;
  req->len = length;
  return submit(req, cb);
}


int loom_fs_ftruncate(loom_loop_t* loop, loom_fs_t* req, int file,
                      int64_t length, loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_FTRUNCATE);
  req->file = file;
  req->off = length;
  return submit(req, cb);
}


static int path_mode(loom_loop_t* loop, loom_fs_t* req, loom_fs_type type,
                     const char* path, int mode, loom_fs_cb cb) {
  prepare(req, loop, type);
  req->path = path;
  req->mode = mode;
  return submit(req, cb);
}


int loom_fs_access(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   int mode, loom_fs_cb cb) {
  return path_mode(loop, req, LOOM_FS_ACCESS, path, mode, cb);
}


int loom_fs_chmod(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int mode, loom_fs_cb cb) {
  return path_mode(loop, req, LOOM_FS_CHMOD, path, mode, cb);
}


int loom_fs_mkdir(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int mode, loom_fs_cb cb) {
  return path_mode(loop, req, LOOM_FS_MKDIR, path, mode, cb);
}


int loom_fs_fchmod(loom_loop_t* loop, loom_fs_t* req, int file, int mode,
                   loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_FCHMOD);
  req->file = file;
  req->mode = mode;
  return submit(req, cb);
}


/* A time the kernel can be given: LOOM_FS_UTIME_NOW (infinite),
 * LOOM_FS_UTIME_OMIT (NaN), or seconds that fit a 64-bit time_t (any
 * other double would make the conversion undefined). */
static int time_ok(double t) {
  return isnan(t) || isinf(t) || (t >= -0x1p63 && t < 0x1p63);
}


static int times(loom_loop_t* loop, loom_fs_t* req, loom_fs_type type,
                 const char* path, int file, double atime, double mtime,
                 loom_fs_cb cb) {
  if (!time_ok(atime) || !time_ok(mtime))
    return LOOM_EINVAL;
  prepare(req, loop, type);
  req->path = path;
  req->file = file;
  req->atime = atime;
  req->mtime = mtime;
  return submit(req, cb);
}


int loom_fs_utime(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  double atime, double mtime, loom_fs_cb cb) {
  return times(loop, req, LOOM_FS_UTIME, path, -1, atime, mtime, cb);
}


int loom_fs_futime(loom_loop_t* loop, loom_fs_t* req, int file,
                   double atime, double mtime, loom_fs_cb cb) {
  return times(loop, req, LOOM_FS_FUTIME, NULL, file, atime, mtime, cb);
}


int loom_fs_lutime(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   double atime, double mtime, loom_fs_cb cb) {
  return times(loop, req, LOOM_FS_LUTIME, path, -1, atime, mtime, cb);
}


int loom_fs_symlink(loom_loop_t* loop, loom_fs_t* req, const char* path,
                    const char* new_path, int flags, loom_fs_cb cb) {
  prepare(req, loop, LOOM_FS_SYMLINK);
  req->path = path;
  req->new_path = new_path;
  req->flags = flags;
  return submit(req, cb);
}


int loom_fs_copyfile(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     const char* new_path, int flags, loom_fs_cb cb) {
  if (flags & ~(LOOM_FS_COPYFILE_EXCL | LOOM_FS_COPYFILE_FICLONE |
                LOOM_FS_COPYFILE_FICLONE_FORCE))
    return LOOM_EINVAL;
  prepare(req, loop, LOOM_FS_COPYFILE);
  req->path = path;
  req->new_path = new_path;
  req->flags = flags;
  return submit(req, cb);
}


static int owner(loom_loop_t* loop, loom_fs_t* req, loom_fs_type type,
                 const char* path, int file, int64_t uid, int64_t gid,
                 loom_fs_cb cb) {
  prepare(req, loop, type);
  req->path = path;
  req->file = file;
  req->uid = uid;
  req->gid = gid;
  return submit(req, cb);
}


int loom_fs_chown(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int64_t uid, int64_t gid, loom_fs_cb cb) {
  return owner(loop, req, LOOM_FS_CHOWN, path, -1, uid, gid, cb);
}


int loom_fs_fchown(loom_loop_t* loop, loom_fs_t* req, int file, int64_t uid,
                   int64_t gid, loom_fs_cb cb) {
  return owner(loop, req, LOOM_FS_FCHOWN, NULL, file, uid, gid, cb);
}


int loom_fs_lchown(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   int64_t uid, int64_t gid, loom_fs_cb cb) {
  return owner(loop, req, LOOM_FS_LCHOWN, path, -1, uid, gid, cb);
}


int loom_fs_readdir(loom_loop_t* loop, loom_fs_t* req, loom_dir_t* dir,
                    loom_fs_cb cb) {
  if (dir == NULL || dir->dir == NULL || dir->dirents == NULL ||
      dir->nentries == 0)
    return LOOM_EINVAL;
  prepare(req, loop, LOOM_FS_READDIR);
  req->ptr = dir;
  return submit(req, cb);
}


int loom_fs_closedir(loom_loop_t* loop, loom_fs_t* req, loom_dir_t* dir,
                     loom_fs_cb cb) {
  if (dir == NULL)
    return LOOM_EINVAL;
  prepare(req, loop, LOOM_FS_CLOSEDIR);
  req->ptr = dir;
  return submit(req, cb);
}


int loom_fs_cancel(loom_fs_t* req) {
  if (req->type != LOOM_FS || req->cb == NULL)
    return LOOM_EINVAL;
  return loom_work_cancel(&req->work);
}


void loom_fs_req_cleanup(loom_fs_t* req) {
  free(req->mem);
  req->mem = NULL;
  if (req->fs_type == LOOM_FS_SCANDIR || req->fs_type == LOOM_FS_MKDTEMP ||
      req->fs_type == LOOM_FS_MKSTEMP || req->fs_type == LOOM_FS_READLINK ||
      req->fs_type == LOOM_FS_REALPATH || req->fs_type == LOOM_FS_STATFS ||
      req->fs_type == LOOM_FS_READFILE)
    req->ptr = NULL;
}


const char* loom_fs_type_name(loom_fs_type type) {
  static const char* const names[LOOM_FS_TYPE_MAX] = {
    "custom", "open", "close", "read", "write", "sendfile", "stat", "lstat",
    "fstat", "ftruncate", "utime", "futime", "access", "chmod", "fchmod",
    "fsync", "fdatasync", "unlink", "rmdir", "mkdir", "mkdtemp", "rename",
    "scandir", "link", "symlink", "readlink", "chown", "fchown", "realpath",
    "copyfile", "lchown", "opendir", "readdir", "closedir", "statfs",
    "mkstemp", "lutime", "readfile",
  };
  if ((int) type < 0 || type >= LOOM_FS_TYPE_MAX)
    return "unknown";
  return names[type];
}
