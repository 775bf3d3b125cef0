/* SPDX-License-Identifier: MIT */
/* lfswatch.c: uv_fs_event_t and uv_fs_poll_t (luv's fs_event and fs_poll
 * sections). */
#include "lfs.h"

static const luaL_Reg fs_event_methods[];
static const luaL_Reg fs_poll_methods[];
const lh_type lfs_event_type = {"uv_fs_event", LOOM_FS_EVENT,
                                fs_event_methods, NULL};
const lh_type lfs_poll_type = {"uv_fs_poll", LOOM_FS_POLL, fs_poll_methods,
                               NULL};


static int new_fs_event(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_fs_event_t* h = lh_new(L, &lfs_event_type, sizeof(*h));
  int pin = lh_pin(L, -1);

  loom_fs_event_init(lctx_loop(L, ctx), h);
  lh_anchor((loom_handle_t*) h, pin, LUA_NOREF);
  return 1;
}


static void on_fs_event(loom_fs_event_t* h, const char* filename, int events,
                        int status) {
  lctx* ctx = loom_loop_get_data(h->loop);
  lua_State* L = ctx->L;

  lh_push_callback(L, (loom_handle_t*) h);
  lr_push_status(L, status);
  lua_pushstring(L, filename);
  lua_createtable(L, 0, 2);
  if (events & LOOM_FS_EVENT_RENAME) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "rename");
  }
  if (events & LOOM_FS_EVENT_CHANGE) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "change");
  }
  lctx_call(ctx, 3);
}


/* luv's flags table {watch_entry, stat, recursive}; nil means none. */
static unsigned int check_event_flags(lua_State* L, int idx) {
  unsigned int flags = 0;

  if (lua_isnoneornil(L, idx))
    return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lflag(L, idx, "watch_entry")) flags |= LOOM_FS_EVENT_WATCH_ENTRY;
  if (lflag(L, idx, "stat")) flags |= LOOM_FS_EVENT_STAT;
  if (lflag(L, idx, "recursive")) flags |= LOOM_FS_EVENT_RECURSIVE;
  return flags;
}


static int fs_event_start(lua_State* L) {
  loom_fs_event_t* h = (loom_fs_event_t*) lh_check(L, 1, &lfs_event_type);
  size_t len;
  const char* path = lfs_check_path(L, 2, &len);
  unsigned int flags = check_event_flags(L, 3);
  int ret;

  lh_check_callback(L, 1, 4);
  ret = loom_fs_event_start(h, on_fs_event, path, flags);
  if (ret == 0)
    lh_set_callback(L, 1, 4);
  return lr_result(L, ret);
}


static int fs_event_stop(lua_State* L) {
  loom_fs_event_t* h = (loom_fs_event_t*) lh_check(L, 1, &lfs_event_type);
  return lr_result(L, loom_fs_event_stop(h));
}


static int push_path(lua_State* L, const char* path) {
  if (path == NULL)
    return lr_fail(L, LOOM_EINVAL);
  lua_pushstring(L, path);
  return 1;
}


static int fs_event_getpath(lua_State* L) {
  loom_fs_event_t* h = (loom_fs_event_t*) lh_check(L, 1, &lfs_event_type);
  return push_path(L, loom_fs_event_getpath(h));
}


static int new_fs_poll(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_fs_poll_t* h = lh_new(L, &lfs_poll_type, sizeof(*h));
  int pin = lh_pin(L, -1);

  loom_fs_poll_init(lctx_loop(L, ctx), h);
  lh_anchor((loom_handle_t*) h, pin, LUA_NOREF);
  return 1;
}


static void push_stat_or_nil(lua_State* L, const loom_stat_t* s) {
  if (s != NULL)
    lfs_push_stat(L, s);
  else
    lua_pushnil(L);
}


static void on_fs_poll(loom_fs_poll_t* h, int status, const loom_stat_t* prev,
                       const loom_stat_t* curr) {
  lctx* ctx = loom_loop_get_data(h->loop);
  lua_State* L = ctx->L;

  lh_push_callback(L, (loom_handle_t*) h);
  lr_push_status(L, status);
  push_stat_or_nil(L, prev);
  push_stat_or_nil(L, curr);
  lctx_call(ctx, 3);
}


static int fs_poll_start(lua_State* L) {
  loom_fs_poll_t* h = (loom_fs_poll_t*) lh_check(L, 1, &lfs_poll_type);
  size_t len;
  const char* path = lfs_check_path(L, 2, &len);
  lua_Integer interval = luaL_checkinteger(L, 3);
  int ret;

  luaL_argcheck(L, interval >= 0 && interval <= UINT32_MAX, 3,
                "interval must be between 0 and 2^32-1 milliseconds");
  lh_check_callback(L, 1, 4);
  ret = loom_fs_poll_start(h, on_fs_poll, path, (unsigned int) interval);
  if (ret == 0)
    lh_set_callback(L, 1, 4);
  return lr_result(L, ret);
}


static int fs_poll_stop(lua_State* L) {
  loom_fs_poll_t* h = (loom_fs_poll_t*) lh_check(L, 1, &lfs_poll_type);
  return lr_result(L, loom_fs_poll_stop(h));
}


static int fs_poll_getpath(lua_State* L) {
  loom_fs_poll_t* h = (loom_fs_poll_t*) lh_check(L, 1, &lfs_poll_type);
  return push_path(L, loom_fs_poll_getpath(h));
}


static const luaL_Reg fs_event_methods[] = {
  {"start", fs_event_start},
  {"stop", fs_event_stop},
  {"getpath", fs_event_getpath},
  {NULL, NULL}
};

static const luaL_Reg fs_poll_methods[] = {
  {"start", fs_poll_start},
  {"stop", fs_poll_stop},
  {"getpath", fs_poll_getpath},
  {NULL, NULL}
};

const luaL_Reg lfswatch_functions[] = {
  {"new_fs_event", new_fs_event},
  {"fs_event_start", fs_event_start},
  {"fs_event_stop", fs_event_stop},
  {"fs_event_getpath", fs_event_getpath},
  {"new_fs_poll", new_fs_poll},
  {"fs_poll_start", fs_poll_start},
  {"fs_poll_stop", fs_poll_stop},
  {"fs_poll_getpath", fs_poll_getpath},
  {NULL, NULL}
};
