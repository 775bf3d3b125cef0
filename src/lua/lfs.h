/* SPDX-License-Identifier: MIT */
/* lfs.h: what the fs binding's files (lfs.c, lfs_ops.c, lfs_dir.c)
 * share. A call goes: lfs_begin (sync when cb_idx is 0), lfs_path for
 * each path, the core function with lfs_anchor(&c) as its callback,
 * then lfs_end. */
#ifndef LFS_H
#define LFS_H

#include "lloom.h"

typedef struct {
  lua_State* L;
  lctx* ctx;
  loom_loop_t* loop;
  lreq_t* r;       /* the request userdata (async), or NULL (sync) */
  loom_fs_t* req;  /* &r->u.fs or &sync */
  char* extra;     /* the next free byte of r's extra space */
  int cb_idx;
  int req_idx;     /* where the request userdata is on the stack */
  int data_idx;    /* the value the buffers point into, or 0 */
  unsigned int nbufs;
  loom_fs_t sync;
} lfs_call;

/* extra: bytes the async request needs for path copies (length + 1
 * each) and read buffers. Pushes the request userdata when async. */
loom_fs_t* lfs_begin(lua_State* L, lfs_call* c, int cb_idx,
                     unsigned int nbufs, size_t extra);
/* The buffer array: the request's (async) or `small` (sync). */
loom_buf_t* lfs_bufs(lfs_call* c, loom_buf_t* small);
/* The path the core should use: a copy in the request when async. */
const char* lfs_path(lfs_call* c, const char* path, size_t len);
void* lfs_take_extra(lfs_call* c, size_t size);
/* The completion callback to give the core: NULL for a sync call. An
 * async request is anchored here (with its callback and the value at
 * c->data_idx), before the core starts it, since anchoring may raise a
 * memory error and then nothing must have started. */
loom_fs_cb lfs_anchor(lfs_call* c);
/* Sync: pushes the results or the fail triple. Async: returns the
 * request, or undoes the anchor and returns the fail triple. */
int lfs_end(lfs_call* c, int ret);

int lfs_fail(lua_State* L, const loom_fs_t* req, int err);
void lfs_push_error_message(lua_State* L, const loom_fs_t* req, int err);
void lfs_push_stat(lua_State* L, const loom_stat_t* s);
const char* lfs_dirent_type_name(loom_dirent_type type);

/* Argument forms shared by several functions. */
const char* lfs_check_path(lua_State* L, int idx, size_t* len);
int lfs_check_fd(lua_State* L, int idx);
int lfs_mode(lua_State* L, int idx, int def);

#endif /* LFS_H */
