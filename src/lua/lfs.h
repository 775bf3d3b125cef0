/* SPDX-License-Identifier: MIT */
/* lfs.h: what the fs binding's files (lfs.c, lfs_ops.c, lfs_dir.c)
 * share. A call goes: lfs_begin (sync when cb_idx is 0), lfs_path for
 * each path, the core function with lfs_cb(&c) as its callback,
 * then lfs_end. */
#ifndef LFS_H
#define LFS_H

#include "lloom.h"

/* An asynchronous request. It lives in C memory from the state's own
 * allocator (so a memory limit counts it) rather than in a userdata: the
 * collector then neither marks nor sweeps what is in flight, and the
 * block is freed the moment its callback has what it needs, so a burst
 * of requests reuses warm memory instead of leaving garbage for the
 * collector. The callback (or {callback, data} for a request whose
 * buffers point into a Lua value) is anchored at `slot`, which also
 * names the block for the request's Lua handle (lfs_handle). */
typedef struct {
  lblock mem;
  int slot;
  int with_data;
  loom_buf_t* bufs; /* nbufs buffers, then the extra bytes */
  loom_fs_t fs;
} lfs_req;

/* What an asynchronous call returns: a uv_req-like userdata that finds
 * its request through the anchor slot while it is in flight. */
typedef struct {
  int slot;
  unsigned int serial;
} lfs_handle;

typedef struct {
  lua_State* L;
  lctx* ctx;
  loom_loop_t* loop;
  lfs_req* r;      /* the request (async), or NULL (sync) */
  loom_fs_t* req;  /* &r->fs or &sync */
  char* extra;     /* the next free byte of r's extra space */
  loom_fs_t sync;
} lfs_call;

/* Starts a call; asynchronous when cb_idx is not 0. An async call pushes
 * its handle and anchors the callback, with the value at data_idx (0:
 * none) that the buffers will point into, then makes the request with
 * room for nbufs buffers and `extra` bytes (path copies, read buffers).
 * All of that may raise a memory error, before anything has started. */
loom_fs_t* lfs_begin_with(lua_State* L, lfs_call* c, int cb_idx,
                          int data_idx, unsigned int nbufs, size_t extra);
#define lfs_begin(L, c, cb_idx, nbufs, extra)                                \
  lfs_begin_with((L), (c), (cb_idx), 0, (nbufs), (extra))
/* The buffer array: the request's (async) or `small` (sync). */
loom_buf_t* lfs_bufs(lfs_call* c, loom_buf_t* small);
/* The path the core should use: a copy in the request when async. */
const char* lfs_path(lfs_call* c, const char* path, size_t len);
void* lfs_take_extra(lfs_call* c, size_t size);
/* The completion callback to give the core: NULL for a sync call. */
loom_fs_cb lfs_cb(lfs_call* c);
/* Undoes lfs_begin of an async call that will not start (never raises). */
void lfs_abandon(lfs_call* c);
/* Sync: pushes the results or the fail triple. Async: returns the
 * handle, or undoes lfs_begin and returns the fail triple. */
int lfs_end(lfs_call* c, int ret);
/* The request of the fs handle at idx while it is in flight, or NULL;
 * *is_handle tells whether idx holds an fs handle at all. */
lfs_req* lfs_handle_request(lua_State* L, int idx, int* is_handle);
/* Frees a request left in flight when the state closes. */
void lfs_free_pending(lctx* ctx, void* r);

int lfs_fail(lua_State* L, const loom_fs_t* req, int err);
void lfs_push_error_message(lua_State* L, const loom_fs_t* req, int err);
void lfs_push_stat(lua_State* L, const loom_stat_t* s);
const char* lfs_dirent_type_name(loom_dirent_type type);

/* Argument forms shared by several functions. */
const char* lfs_check_path(lua_State* L, int idx, size_t* len);
int lfs_check_fd(lua_State* L, int idx);
int lfs_mode(lua_State* L, int idx, int def);

#endif /* LFS_H */
