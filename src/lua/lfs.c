/* SPDX-License-Identifier: MIT */
/* lfs.c: what every fs function shares: the call frame that makes one
 * code path out of the synchronous and asynchronous forms, the results
 * each operation returns, and errors that name the path.
 *
 * Synchronous calls use a request on the C stack and the caller's Lua
 * strings as they are: nothing is allocated. Asynchronous calls use one
 * request block (lfs_req, see lfs.h) that also holds copies of the
 * paths; it lives until the callback has its results.
 */
#include "lfs.h"

#include <string.h>
#include <sys/stat.h>


static void free_request(lfs_req* r) {
  lblock_free(&r->mem, r);
}


void lfs_free_pending(lctx* ctx, void* r) {
  (void) ctx;
  free_request(r);
}


/* Pushes the handle, anchors what the request needs kept and allocates
 * the request, in an order that leaves nothing behind when one of them
 * raises. */
static lfs_req* begin_async(lfs_call* c, int cb_idx, int data_idx,
                            unsigned int nbufs, size_t extra) {
  lua_State* L = c->L;
  size_t head = (sizeof(lfs_req) + sizeof(void*) - 1) & ~(sizeof(void*) - 1);
  lfs_handle* h;
  lblock mem;
  lfs_req* r;
  int slot;

  h = lua_newuserdatauv(L, sizeof(lfs_handle), 0);     /* ... handle */
  lua_getiuservalue(L, lua_upvalueindex(1), LCTX_FS_HANDLE_MT_SLOT);
  lua_setmetatable(L, -2);
  if (data_idx != 0) {
    /* {cb, data}, or {cb, strings...} for an array of strings: a private
     * copy, since the caller may change theirs while the write runs. */
    int is_array = lua_type(L, data_idx) == LUA_TTABLE;
    lua_Integer n = is_array ? (lua_Integer) lua_rawlen(L, data_idx) : 0;
    lua_Integer i;
    lua_createtable(L, (int) n + 2, 0);                 /* ... handle pair */
    lua_pushvalue(L, cb_idx);
    lua_rawseti(L, -2, 1);
    if (is_array) {
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, data_idx, i);
        lua_rawseti(L, -2, i + 1);
      }
    } else {
      lua_pushvalue(L, data_idx);
      lua_rawseti(L, -2, 2);
    }
    slot = lanchor_put(c->ctx, L, -1);                  /* ... handle pair */
  } else {
    slot = lanchor_put(c->ctx, L, cb_idx);
  }
  r = lblock_alloc(L, &mem,
                   head + (size_t) nbufs * sizeof(loom_buf_t) + extra);
  if (r == NULL) {
    if (data_idx != 0)
      lua_pop(L, 1);                                    /* ... handle */
    lanchor_take(c->ctx, L, slot);
    lua_pop(L, 1);
    luaL_error(L, "not enough memory");
  }
  r->mem = mem;
  r->slot = slot;
  r->with_data = data_idx != 0;
  r->bufs = (loom_buf_t*) ((char*) r + head);
  if (data_idx != 0) {
    /* Strings are taken from the private copy, not from the caller's
     * value: a finalizer run by an allocation above may have changed
     * the caller's table, never the copy. (Other data, an lbuffer,
     * gives its bytes itself.) */
    lbuf_fill_from(L, lua_gettop(L), 2, r->bufs, nbufs);
    lua_pop(L, 1);                                      /* ... handle */
  }
  r->fs.data = r;
  lanchor_own(c->ctx, slot, r);
  h->slot = slot;
  h->serial = lanchor_serial(c->ctx, slot);
  return r;
}


loom_fs_t* lfs_begin_with(lua_State* L, lfs_call* c, int cb_idx,
                          int data_idx, unsigned int nbufs, size_t extra) {
  c->L = L;
  c->ctx = LCTX(L);
  c->loop = lctx_loop(L, c->ctx);
  if (cb_idx == 0) {
    c->r = NULL;
    c->extra = NULL;
    c->req = &c->sync;
    c->req->data = NULL;
  } else {
    c->r = begin_async(c, cb_idx, data_idx, nbufs, extra); /* ... handle */
    c->req = &c->r->fs;
    c->extra = (char*) (c->r->bufs + nbufs);
  }
  /* What errors and cleanup read, should the core refuse the arguments
   * before it fills the request. */
  c->req->fs_type = LOOM_FS_UNKNOWN;
  c->req->path = NULL;
  c->req->new_path = NULL;
  c->req->ptr = NULL;
  c->req->mem = NULL;
  return c->req;
}


loom_buf_t* lfs_bufs(lfs_call* c, loom_buf_t* small) {
  return c->r != NULL ? c->r->bufs : small;
}


const char* lfs_path(lfs_call* c, const char* path, size_t len) {
  char* copy;

  if (c->r == NULL)
    return path;
  copy = c->extra;
  memcpy(copy, path, len + 1);
  c->extra += len + 1;
  return copy;
}


void* lfs_take_extra(lfs_call* c, size_t size) {
  void* p = c->extra;
  c->extra += size;
  return p;
}


/* Pushes "ENAME: message: path" (or "...: path -> dest"). */
static void push_error_message(lua_State* L, const loom_fs_t* req, int err) {
  const char* name = loom_err_name(err);
  const char* msg = loom_strerror(err);

  if (req->path != NULL && req->new_path != NULL)
    lua_pushfstring(L, "%s: %s: %s -> %s", name, msg, req->path,
                    req->new_path);
  else if (req->path != NULL)
    lua_pushfstring(L, "%s: %s: %s", name, msg, req->path);
  else
    lua_pushfstring(L, "%s: %s", name, msg);
}


static int fail(lua_State* L, const loom_fs_t* req, int err) {
  luaL_pushfail(L);
  push_error_message(L, req, err);
  lua_pushstring(L, loom_err_name(err));
  return 3;
}


/* Stat tables are built by a Lua function, compiled once per state:
 * its table constructors have the keys as constants, where lua_setfield
 * would look each key string up again for every field of every stat. */
static const char stat_constructor[] =
  "local t = ...\n"
  "return function(dev, mode, nlink, uid, gid, rdev, ino, size, blksize,\n"
  "                blocks, flags, gen, as, ans, ms, mns, cs, cns, bs, bns)\n"
  "  return {dev = dev, mode = mode, nlink = nlink, uid = uid, gid = gid,\n"
  "    rdev = rdev, ino = ino, size = size, blksize = blksize,\n"
  "    blocks = blocks, flags = flags, gen = gen,\n"
  "    atime = {sec = as, nsec = ans}, mtime = {sec = ms, nsec = mns},\n"
  "    ctime = {sec = cs, nsec = cns}, birthtime = {sec = bs, nsec = bns},\n"
  "    type = t[mode & 0xF000] or 'unknown'}\n"
  "end\n";

static char stat_constructor_key;


static void push_type_names(lua_State* L) {
  static const struct {
    int bits;
    const char* name;
  } types[] = {
    {S_IFREG, "file"}, {S_IFDIR, "directory"}, {S_IFLNK, "link"},
    {S_IFIFO, "fifo"}, {S_IFSOCK, "socket"}, {S_IFCHR, "char"},
    {S_IFBLK, "block"},
  };
  size_t i;

  lua_createtable(L, 0, 7);
  for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    lua_pushstring(L, types[i].name);
    lua_rawseti(L, -2, types[i].bits);
  }
}


void lfs_push_stat(lua_State* L, const loom_stat_t* s) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &stat_constructor_key) !=
      LUA_TFUNCTION) {
    lua_pop(L, 1);
    if (luaL_loadstring(L, stat_constructor) != LUA_OK)
      lua_error(L);
    push_type_names(L);
    lua_call(L, 1, 1);                                  /* ctor */
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &stat_constructor_key);
  }
  luaL_checkstack(L, 21, NULL);
  lua_pushinteger(L, (lua_Integer) s->dev);
  lua_pushinteger(L, (lua_Integer) s->mode);
  lua_pushinteger(L, (lua_Integer) s->nlink);
  lua_pushinteger(L, (lua_Integer) s->uid);
  lua_pushinteger(L, (lua_Integer) s->gid);
  lua_pushinteger(L, (lua_Integer) s->rdev);
  lua_pushinteger(L, (lua_Integer) s->ino);
  lua_pushinteger(L, (lua_Integer) s->size);
  lua_pushinteger(L, (lua_Integer) s->blksize);
  lua_pushinteger(L, (lua_Integer) s->blocks);
  lua_pushinteger(L, (lua_Integer) s->flags);
  lua_pushinteger(L, (lua_Integer) s->gen);
  lua_pushinteger(L, s->atime.sec);
  lua_pushinteger(L, s->atime.nsec);
  lua_pushinteger(L, s->mtime.sec);
  lua_pushinteger(L, s->mtime.nsec);
  lua_pushinteger(L, s->ctime.sec);
  lua_pushinteger(L, s->ctime.nsec);
  lua_pushinteger(L, s->birthtime.sec);
  lua_pushinteger(L, s->birthtime.nsec);
  lua_call(L, 20, 1);                                   /* st */
}


#define SET_INT(L, s, field)                                                  \
  do {                                                                        \
    lua_pushinteger((L), (lua_Integer) (s)->field);                           \
    lua_setfield((L), -2, #field);                                            \
  } while (0)

static void push_statfs(lua_State* L, const loom_statfs_t* s) {
  lua_createtable(L, 0, 8);
  SET_INT(L, s, type);
  SET_INT(L, s, bsize);
  SET_INT(L, s, blocks);
  SET_INT(L, s, bfree);
  SET_INT(L, s, bavail);
  SET_INT(L, s, files);
  SET_INT(L, s, ffree);
  SET_INT(L, s, frsize);
}


const char* lfs_dirent_type_name(loom_dirent_type type) {
  static const char* const names[] = {
    "unknown", "file", "directory", "link", "fifo", "socket", "char", "block",
  };
  if ((unsigned int) type >= sizeof(names) / sizeof(names[0]))
    return "unknown";
  return names[type];
}


/* Pushes what a successful request returns; returns how many values. */
static int push_result(lua_State* L, loom_fs_t* req) {
  switch (req->fs_type) {
    case LOOM_FS_OPEN:
    case LOOM_FS_WRITE:
    case LOOM_FS_SENDFILE:
      lua_pushinteger(L, req->result);
      return 1;
    case LOOM_FS_READ:
      if (req->ptr != NULL)                             /* a loom_buffer */
        lua_pushinteger(L, req->result);
      else
        lua_pushlstring(L, req->bufs[0].base, (size_t) req->result);
      return 1;
    case LOOM_FS_STAT:
    case LOOM_FS_LSTAT:
    case LOOM_FS_FSTAT:
      lfs_push_stat(L, &req->statbuf);
      return 1;
    case LOOM_FS_STATFS:
      push_statfs(L, req->ptr);
      return 1;
    case LOOM_FS_MKDTEMP:
    case LOOM_FS_READLINK:
    case LOOM_FS_REALPATH:
      lua_pushstring(L, req->ptr);
      return 1;
    case LOOM_FS_READFILE:
      lua_pushlstring(L, req->ptr, (size_t) req->result);
      return 1;
    case LOOM_FS_MKSTEMP:
      lua_pushinteger(L, req->result);
      lua_pushstring(L, req->ptr);
      return 2;
    default:
      lua_pushboolean(L, 1);
      return 1;
  }
}


/* Completion of an asynchronous request: callback(err) or
 * callback(nil, results...). Directory requests finish in lfs_dir.c.
 * The request is freed before the callback runs; the {callback, data}
 * pair of a request with data stays on the stack below the callback
 * until it returns, since a buffer read's bytes live in that data. */
typedef struct {
  loom_fs_t* req;
  int taken; /* the anchor has been taken back */
} completion;

/* lctx_call_with's push: the callback and its arguments. */
static int push_completion(lua_State* L, void* ud) {
  completion* c = ud;
  loom_fs_t* req = c->req;
  lfs_req* r = req->data;

  lanchor_take(loom_loop_get_data(req->loop), L, r->slot); /* cb | pair */
  c->taken = 1;
  if (r->with_data) {
    lua_rawgeti(L, -1, 1);                              /* pair cb */
    /* The pair anchors the buffer, and it is on the stack. */
    if ((req->fs_type == LOOM_FS_READ || req->fs_type == LOOM_FS_WRITE) &&
        req->ptr != NULL)
      lbuffer_release(req->ptr, req->fs_type == LOOM_FS_READ);
  }
  if (req->result < 0) {
    push_error_message(L, req, (int) req->result);
    return 1;
  }
  lua_pushnil(L);
  return 1 + push_result(L, req);                       /* [pair] cb args */
}


/* lctx_call_with's done: the request goes, pushed or not. */
static void free_completion(void* ud) {
  completion* c = ud;
  lfs_req* r = c->req->data;

  if (!c->taken) {
    lctx* ctx = loom_loop_get_data(c->req->loop);
    lanchor_take(ctx, ctx->L, r->slot);
    lua_pop(ctx->L, 1);
  }
  loom_fs_req_cleanup(c->req);
  free_request(r);
}


static void on_done(loom_fs_t* req) {
  completion c = {req, 0};
  lctx_call_with(loom_loop_get_data(req->loop), push_completion, free_completion, &c);
}


void lfs_abandon(lfs_call* c) {
  lanchor_take(c->ctx, c->L, c->r->slot);               /* cb | pair */
  lua_pop(c->L, 1);
  free_request(c->r);
  c->r = NULL;
}


int lfs_end(lfs_call* c, int ret) {
  lua_State* L = c->L;
  int n;

  if (c->r == NULL) {
    /* The result may live in memory the core allocated (a link target,
     * a path): a memory error while it is pushed would leak it, so the
     * push is exempt from the memory limit (lmemlimit.c). */
    LMEM_EXEMPT(c->ctx);
    if (ret < 0) {
      n = fail(L, c->req, ret);
    } else {
      n = push_result(L, c->req);
    }
    loom_fs_req_cleanup(c->req);
    LMEM_UNEXEMPT(c->ctx);
    return n;
  }
  /* Queueing failed: nothing was started. The message reads the paths
   * inside the request, so the request goes after it. */
  if (ret < 0) {
    n = fail(L, c->req, ret);
    lfs_abandon(c);
    return n;
  }
  return 1;                                             /* handle */
}


loom_fs_cb lfs_cb(lfs_call* c) {
  return c->r != NULL ? on_done : NULL;
}


lfs_req* lfs_handle_request(lua_State* L, int idx, int* is_handle) {
  lctx* ctx = LCTX(L);
  lfs_handle* h = lmeta_test(L, idx, ctx->fs_handle_mt);

  *is_handle = h != NULL;
  if (h == NULL)
    return NULL;
  return lanchor_owner(ctx, h->slot, h->serial);
}


int lfs_fail(lua_State* L, const loom_fs_t* req, int err) {
  return fail(L, req, err);
}


void lfs_push_error_message(lua_State* L, const loom_fs_t* req, int err) {
  push_error_message(L, req, err);
}
