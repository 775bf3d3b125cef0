/* SPDX-License-Identifier: MIT */
/* fs_internal.h: the operations of fs.c that live in their own files.
 * Each runs on whichever thread executes the request and returns the
 * result (>= 0) or a negative error. */
#ifndef LOOM_FS_INTERNAL_H
#define LOOM_FS_INTERNAL_H

#include "internal.h"

#define loom__container_of(ptr, type, field) loom__queue_data(ptr, type, field)

/* The call's result, retried while a signal interrupts it (EINTR). */
#define RETRY(expr)                                                           \
  ({                                                                          \
    long r_;                                                                  \
    do                                                                        \
      r_ = (long) (expr);                                                     \
    while (r_ < 0 && errno == EINTR);                                         \
    r_;                                                                       \
  })

/* 0 or -errno from a call that returns -1 on failure. */

int64_t loom__fs_stat(loom_fs_t* req);      /* fs_stat.c */
int64_t loom__fs_scandir(loom_fs_t* req);   /* fs_dir.c */
int64_t loom__fs_opendir(loom_fs_t* req);
int64_t loom__fs_readdir(loom_fs_t* req);
int64_t loom__fs_closedir(loom_fs_t* req);
int64_t loom__fs_copyfile(loom_fs_t* req);  /* fs_copy.c */
int64_t loom__fs_sendfile(loom_fs_t* req);
int64_t loom__fs_readfile(loom_fs_t* req);  /* fs_readfile.c */

#endif /* LOOM_FS_INTERNAL_H */
