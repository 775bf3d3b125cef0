/* SPDX-License-Identifier: MIT */
/* fs_stat.c: stat, lstat and fstat through statx(2), which also gives the
 * birth time, with a fallback to the classic calls where statx is missing
 * or filtered (old kernels, some container seccomp profiles). */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static atomic_int statx_unusable;


static void from_statx(loom_stat_t* st, const struct statx* x) {
  st->dev = makedev(x->stx_dev_major, x->stx_dev_minor);
  st->mode = x->stx_mode;
  st->nlink = x->stx_nlink;
  st->uid = x->stx_uid;
  st->gid = x->stx_gid;
  st->rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
  st->ino = x->stx_ino;
  st->size = x->stx_size;
  st->blksize = x->stx_blksize;
  st->blocks = x->stx_blocks;
  st->flags = x->stx_attributes;
  st->gen = 0;
  st->atime.sec = x->stx_atime.tv_sec;
  st->atime.nsec = x->stx_atime.tv_nsec;
  st->mtime.sec = x->stx_mtime.tv_sec;
  st->mtime.nsec = x->stx_mtime.tv_nsec;
  st->ctime.sec = x->stx_ctime.tv_sec;
  st->ctime.nsec = x->stx_ctime.tv_nsec;
  if (x->stx_mask & STATX_BTIME) {
    st->birthtime.sec = x->stx_btime.tv_sec;
    st->birthtime.nsec = x->stx_btime.tv_nsec;
  } else {
    st->birthtime.sec = 0;
    st->birthtime.nsec = 0;
  }
}


static void from_stat(loom_stat_t* st, const struct stat* s) {
  st->dev = s->st_dev;
  st->mode = s->st_mode;
  st->nlink = s->st_nlink;
  st->uid = s->st_uid;
  st->gid = s->st_gid;
  st->rdev = s->st_rdev;
  st->ino = s->st_ino;
  st->size = (uint64_t) s->st_size;
  st->blksize = (uint64_t) s->st_blksize;
  st->blocks = (uint64_t) s->st_blocks;
  st->flags = 0;
  st->gen = 0;
  st->atime.sec = s->st_atim.tv_sec;
  st->atime.nsec = s->st_atim.tv_nsec;
  st->mtime.sec = s->st_mtim.tv_sec;
  st->mtime.nsec = s->st_mtim.tv_nsec;
  st->ctime.sec = s->st_ctim.tv_sec;
  st->ctime.nsec = s->st_ctim.tv_nsec;
  st->birthtime.sec = 0;
  st->birthtime.nsec = 0;
}


static int with_statx(loom_fs_t* req) {
  struct statx x;
  int r;

  do {
    if (req->fs_type == LOOM_FS_FSTAT)
      r = statx(req->file, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME,
                &x);
    else
      r = statx(AT_FDCWD, req->path,
                req->fs_type == LOOM_FS_LSTAT ? AT_SYMLINK_NOFOLLOW : 0,
                STATX_BASIC_STATS | STATX_BTIME, &x);
  } while (r < 0 && errno == EINTR);
  if (r == 0)
    from_statx(&req->statbuf, &x);
  return r < 0 ? LOOM__ERR(errno) : 0;
}


static int with_stat(loom_fs_t* req) {
  struct stat s;
  int r;

  do {
    if (req->fs_type == LOOM_FS_FSTAT)
      r = fstat(req->file, &s);
    else if (req->fs_type == LOOM_FS_LSTAT)
      r = lstat(req->path, &s);
    else
      r = stat(req->path, &s);
  } while (r < 0 && errno == EINTR);
  if (r == 0)
    from_stat(&req->statbuf, &s);
  return r < 0 ? LOOM__ERR(errno) : 0;
}


int64_t loom__fs_stat(loom_fs_t* req) {
  int r = LOOM_ENOSYS;

  if (!atomic_load_explicit(&statx_unusable, memory_order_relaxed)) {
    r = with_statx(req);
    /* ENOSYS: no statx; EPERM from a seccomp filter that denies it. A
     * real EPERM from stat is impossible (it needs no permission on the
     * file itself), so the fallback cannot hide a genuine error. */
    if (r == LOOM_ENOSYS || r == LOOM_EPERM)
      atomic_store_explicit(&statx_unusable, 1, memory_order_relaxed);
  }
  if (r == LOOM_ENOSYS || r == LOOM_EPERM)
    r = with_stat(req);
  if (r == 0)
    req->ptr = &req->statbuf;
  return r;
}
