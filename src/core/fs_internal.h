/* SPDX-License-Identifier: MIT */
/* fs_internal.h: the operations of fs.c that live in their own files.
 * Each runs on whichever thread executes the request and returns the
 * result (>= 0) or a negative error. */
#ifndef LOOM_FS_INTERNAL_H
#define LOOM_FS_INTERNAL_H

#include "internal.h"

#define loom__container_of(ptr, type, field) loom__queue_data(ptr, type, field)

int64_t loom__fs_stat(loom_fs_t* req);      /* fs_stat.c */
int64_t loom__fs_scandir(loom_fs_t* req);   /* fs_dir.c */
int64_t loom__fs_opendir(loom_fs_t* req);
int64_t loom__fs_readdir(loom_fs_t* req);
int64_t loom__fs_closedir(loom_fs_t* req);
int64_t loom__fs_copyfile(loom_fs_t* req);  /* fs_copy.c */
int64_t loom__fs_sendfile(loom_fs_t* req);

#endif /* LOOM_FS_INTERNAL_H */
