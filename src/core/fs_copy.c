/* SPDX-License-Identifier: MIT */
/* fs_copy.c: copyfile and sendfile. The kernel copies where it can
 * (reflink with FICLONE, copy_file_range, sendfile); a plain read/write
 * loop is the fallback for file systems and descriptors it refuses. */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 65536


/* Errors meaning "this kernel path does not apply here; copy by hand". */
static int must_fall_back(int err) {
  return err == ENOSYS || err == EXDEV || err == EINVAL ||
         err == EOPNOTSUPP || err == ENOTSUP || err == EPERM;
}


/* Writes all len bytes at the current position. */
static int write_all(int fd, const char* p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return LOOM__ERR(errno);
    }
    p += w;
    len -= (size_t) w;
  }
  return 0;
}


/* Copies the rest of src to dst with read and write. */
static int copy_by_hand(int src, int dst) {
  char* buf = malloc(CHUNK);
  ssize_t n;
  int err = 0;

  if (buf == NULL)
    return LOOM_ENOMEM;
  for (;;) {
    n = read(src, buf, CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = LOOM__ERR(errno);
      break;
    }
    if (n == 0)
      break;
    err = write_all(dst, buf, (size_t) n);
    if (err != 0)
      break;
  }
  free(buf);
  return err;
}


static int copy_contents(int src, int dst, int flags) {
  int64_t total = 0;
  ssize_t n;

  if (flags & (LOOM_FS_COPYFILE_FICLONE | LOOM_FS_COPYFILE_FICLONE_FORCE)) {
    if (ioctl(dst, FICLONE, src) == 0)
      return 0;
    if (flags & LOOM_FS_COPYFILE_FICLONE_FORCE)
      return LOOM__ERR(errno);
  }
  for (;;) {
    n = copy_file_range(src, NULL, dst, NULL, 1u << 30, 0);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0 && total > 0)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && !must_fall_back(errno))
      return LOOM__ERR(errno);
    /* Refused, or 0 at once: /proc and similar files report a size of 0
     * to copy_file_range but still have contents for read. */
    return copy_by_hand(src, dst);
  }
}


int64_t loom__fs_copyfile(loom_fs_t* req) {
  struct stat src_st;
  struct stat dst_st;
  int oflags = O_WRONLY | O_CREAT | O_CLOEXEC;
  int src;
  int dst;
  int err = 0;

  src = open(req->path, O_RDONLY | O_CLOEXEC);
  if (src < 0)
    return LOOM__ERR(errno);
  if (fstat(src, &src_st) < 0) {
    err = LOOM__ERR(errno);
    close(src);
    return err;
  }
  if (S_ISDIR(src_st.st_mode)) {
    close(src);
    return LOOM_EISDIR;
  }
  if (req->flags & LOOM_FS_COPYFILE_EXCL)
    oflags |= O_EXCL;
  dst = open(req->new_path, oflags, src_st.st_mode & 07777);
  if (dst < 0) {
    err = LOOM__ERR(errno);
    close(src);
    return err;
  }
  if (fstat(dst, &dst_st) < 0) {
    err = LOOM__ERR(errno);
  } else if (dst_st.st_dev == src_st.st_dev &&
             dst_st.st_ino == src_st.st_ino) {
    /* Copying a file onto itself: done, and nothing may be truncated. */
    close(dst);
    close(src);
    return 0;
  }
  /* Truncate only now, so the check above could not destroy the source. */
  if (err == 0 && ftruncate(dst, 0) < 0)
    err = LOOM__ERR(errno);
  if (err == 0 && fchmod(dst, src_st.st_mode & 07777) < 0)
    err = LOOM__ERR(errno);
  if (err == 0)
    err = copy_contents(src, dst, req->flags);
  if (close(dst) < 0 && err == 0 && errno != EINTR)
    err = LOOM__ERR(errno);
  close(src);
  if (err != 0)
    unlink(req->new_path);
  return err;
}


/* One transfer of up to len bytes, as sendfile(2): the count may be short.
 * out_fd is in req->flags and in_fd in req->file. */
int64_t loom__fs_sendfile(loom_fs_t* req) {
  int out_fd = req->flags;
  off_t off = (off_t) req->off;
  size_t len = req->len > (1u << 30) ? (1u << 30) : (size_t) req->len;
  char* buf;
  ssize_t n;
  int err;

  do
    n = sendfile(out_fd, req->file, req->off >= 0 ? &off : NULL, len);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    return n;
  if (!must_fall_back(errno))
    return LOOM__ERR(errno);
  /* sendfile refuses some pairs (EINVAL) where read and write work. */
  if (len > CHUNK)
    len = CHUNK;
  buf = malloc(len > 0 ? len : 1);
  if (buf == NULL)
    return LOOM_ENOMEM;
  do
    n = req->off >= 0 ? pread(req->file, buf, len, req->off)
                      : read(req->file, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    err = LOOM__ERR(errno);
    free(buf);
    return err;
  }
  err = write_all(out_fd, buf, (size_t) n);
  free(buf);
  return err != 0 ? err : n;
}
