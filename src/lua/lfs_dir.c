/* SPDX-License-Identifier: MIT */
/* lfs_dir.c: reading directories from Lua.
 *
 * fs_scandir returns its request in both forms (as luv does); once the
 * scan is done the names move into a Lua table in the request's user
 * value and the C memory is freed at once, so a request that is never
 * iterated to the end holds nothing the collector cannot see.
 *
 * fs_opendir returns a uv_dir userdata holding the core's directory and
 * the entry array readdir fills. A request in flight anchors the dir
 * (busy), so it is never collected or closed under a worker.
 */
#include "lfs.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  loom_dir_t* dir; /* NULL once closed (or being closed) */
  int busy;        /* a readdir or closedir is in flight */
  size_t nentries;
  loom_dirent_t ents[];
} ldir;

#define LDIR_MT "uv_dir"


/* ---- scandir ---- */

/* Moves the entries of a finished scan into a table {name1, type1, ...}
 * stored as user value 2 of the request at idx. */
static void keep_entries(lua_State* L, int idx, loom_fs_t* req) {
  loom_dirent_t ent;
  lua_Integer i = 0;

  idx = lua_absindex(L, idx);
  lua_createtable(L, (int) (req->result * 2), 0);       /* entries */
  while (loom_fs_scandir_next(req, &ent) == 0) {
    lua_pushstring(L, ent.name);
    lua_rawseti(L, -2, ++i);
    lua_pushstring(L, lfs_dirent_type_name(ent.type));
    lua_rawseti(L, -2, ++i);
  }
  lua_setiuservalue(L, idx, 2);
  req->len = 0; /* the iteration's position */
  loom_fs_req_cleanup(req);
}


static void on_scandir(loom_fs_t* req) {
  lreq_t* r = LREQ_OF(req);
  lctx* ctx = loom_loop_get_data(req->loop);
  lua_State* L = ctx->L;

  lreq_take(ctx, r);                                    /* req */
  if (!lreq_release(L, -1)) {
    loom_fs_req_cleanup(req);
    lua_pop(L, 1);
    return;
  }                                                     /* req cb */
  lua_insert(L, -2);                                    /* cb req */
  if (req->result < 0) {
    /* The message reads the path inside the request: push it first. */
    lfs_push_error_message(L, req, (int) req->result);  /* cb req err */
    loom_fs_req_cleanup(req);
    lua_remove(L, -2);                                  /* cb err */
    lctx_call(ctx, 1);
    return;
  }
  keep_entries(L, -1, req);
  lua_pushnil(L);
  lua_insert(L, -2);                                    /* cb nil req */
  lctx_call(ctx, 2);
}


/* After the core was asked to start the anchored request r (at the top
 * of the stack): returns it, or undoes the anchor and returns the fail
 * triple. */
static int dir_started(lua_State* L, lreq_t* r, int ret) {
  if (ret < 0) {
    lreq_unanchor(L, r);
    return lfs_fail(L, &r->u.fs, ret);
  }
  return 1;
}


static int fs_scandir(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int cb = lopt_callback(L, 2);
  loom_loop_t* loop = lctx_loop(L, LCTX(L));
  lreq_t* r;
  loom_fs_t* req;
  char* copy;
  int ret;

  r = lreq_new_extra(L, LOOM_FS, 0, len + 1);           /* req */
  req = &r->u.fs;
  copy = (char*) r->bufs;
  memcpy(copy, path, len + 1);
  req->mem = NULL;
  if (cb != 0)
    lreq_anchor(L, r, -1, cb, 0);
  ret = loom_fs_scandir(loop, req, copy, cb ? on_scandir : NULL);
  if (cb != 0)
    return dir_started(L, r, ret);
  if (ret < 0)
    return lfs_fail(L, req, ret);
  /* The entries are the core's memory until kept: exempt from the
   * memory limit, as in lfs_end. */
  LMEM_EXEMPT(LCTX(L));
  keep_entries(L, -1, req);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


/* ---- a scan handed to another state (new_thread, queue_work) ----
 *
 * luv lets a scandir request be passed to a thread. The other state gets
 * a copy of the entries not yet iterated, as a shared object (its own
 * position; nothing of the sender's Lua state). */
typedef struct {
  lshared_t base;
  size_t n;     /* strings: name, type, name, type, ... */
  size_t pos;   /* the next name */
  char** names;
} lscan_copy;

static const luaL_Reg scan_copy_methods[] = {{NULL, NULL}};

static void scan_copy_destroy(lshared_t* s) {
  lscan_copy* c = (lscan_copy*) s;
  for (size_t i = 0; i < c->n; i++)
    free(c->names[i]);
  free(c->names);
  free(c);
}

static const lshared_kind scan_copy_kind = {
  "loom.scandir_copy", "uv_fs_t", scan_copy_methods, NULL, scan_copy_destroy, NULL
};


/* The finished scandir request at idx, or NULL. */
static lreq_t* finished_scan(lua_State* L, int idx) {
  lreq_t* r = luaL_testudata(L, idx, "uv_req");
  if (r == NULL || r->u.req.type != LOOM_FS || r->u.fs.fs_type != LOOM_FS_SCANDIR ||
      r->u.fs.result < 0)
    return NULL;
  if (lua_getiuservalue(L, idx, 2) != LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pop(L, 1);
  return r;
}


int lfs_is_scan(lua_State* L, int idx) {
  return finished_scan(L, idx) != NULL;
}


lshared_t* lfs_scan_share(lua_State* L, int idx) {
  lreq_t* r;
  lscan_copy* c;
  size_t total, i;

  idx = lua_absindex(L, idx);
  r = finished_scan(L, idx);
  if (r == NULL)
    return NULL;
  lua_getiuservalue(L, idx, 2);                         /* entries */
  total = (size_t) lua_rawlen(L, -1);
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    lua_pop(L, 1);
    return NULL;
  }
  c->base.kind = &scan_copy_kind;
  atomic_init(&c->base.refs, 0);
  /* The request's position counts strings too (name and type). */
  c->n = total > r->u.fs.len ? (total - (size_t) r->u.fs.len) & ~(size_t) 1 : 0;
  c->names = calloc(c->n + 1, sizeof(char*));
  for (i = 0; c->names != NULL && i < c->n; i++) {
    lua_rawgeti(L, -1, (lua_Integer) (r->u.fs.len + i + 1));
    c->names[i] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (c->names[i] == NULL)
      break;
  }
  lua_pop(L, 1);
  if (c->names == NULL || i < c->n) {
    c->n = i; /* the destroy frees the strings that were made */
    scan_copy_destroy(&c->base);
    return NULL;
  }
  return &c->base;
}


/* name, type of the next entry; nothing at the end. */
static int fs_scandir_next(lua_State* L) {
  lreq_t* r = luaL_testudata(L, 1, "uv_req");
  loom_fs_t* req;
  int is_handle;
  lshared_t* copy = r == NULL ? lshared_test(L, 1) : NULL;

  if (copy != NULL && copy->kind == &scan_copy_kind) {
    lscan_copy* c = (lscan_copy*) copy;
    if (c->pos + 1 >= c->n)
      return 0;
    lua_pushstring(L, c->names[c->pos]);
    lua_pushstring(L, c->names[c->pos + 1]);
    c->pos += 2;
    return 2;
  }
  if (r == NULL) {
    /* Another fs call's handle names itself uv_req too. */
    lfs_handle_request(L, 1, &is_handle);
    if (is_handle)
      luaL_argerror(L, 1, "not a scandir request");
    luaL_typeerror(L, 1, "uv_req");
  }
  req = &r->u.fs;
  luaL_argcheck(L, r->u.req.type == LOOM_FS && req->fs_type == LOOM_FS_SCANDIR,
                1, "not a scandir request");
  if (req->result < 0)
    return lfs_fail(L, req, (int) req->result);
  if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE)         /* entries */
    return luaL_error(L, "the scan has not finished");
  if (lua_rawgeti(L, -1, (lua_Integer) req->len + 1) == LUA_TNIL)
    return 0;                                           /* entries name */
  lua_rawgeti(L, -2, (lua_Integer) req->len + 2);       /* entries name type */
  req->len += 2;
  return 2;
}


/* ---- opendir, readdir, closedir ---- */

static ldir* check_dir(lua_State* L, int idx) {
  return luaL_checkudata(L, idx, LDIR_MT);
}


/* Pushes the entries readdir filled: an array of {name, type}, or nil
 * when the directory is exhausted. */
static int push_entries(lua_State* L, ldir* d, int64_t count) {
  int64_t i;

  if (count <= 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, (int) count, 0);
  for (i = 0; i < count; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, d->ents[i].name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, lfs_dirent_type_name(d->ents[i].type));
    lua_setfield(L, -2, "type");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}


/* Completion of opendir, readdir and closedir: the dir is the request's
 * user value 2. Both stay on the stack until the results are pushed (the
 * entries live in the dir; the request holds the path). */
static void on_dir_done(loom_fs_t* req) {
  lreq_t* r = LREQ_OF(req);
  lctx* ctx = loom_loop_get_data(req->loop);
  lua_State* L = ctx->L;
  int base;
  ldir* d;
  int n = 1;

  lreq_take(ctx, r);                                    /* req */
  base = lua_gettop(L);
  lua_getiuservalue(L, base, 2);                        /* req dir */
  d = lua_touserdata(L, -1);
  d->busy = 0;
  if (req->fs_type == LOOM_FS_OPENDIR && req->result >= 0) {
    d->dir = req->ptr;
    d->dir->dirents = d->ents;
    d->dir->nentries = d->nentries;
  }
  if (!lreq_release(L, base)) {
    loom_fs_req_cleanup(req);
    lua_pop(L, 2);
    return;
  }                                                     /* req dir cb */
  if (req->result < 0) {
    lfs_push_error_message(L, req, (int) req->result);
  } else {
    lua_pushnil(L);
    if (req->fs_type == LOOM_FS_OPENDIR)
      lua_pushvalue(L, base + 1);
    else if (req->fs_type == LOOM_FS_READDIR)
      push_entries(L, d, req->result);
    else
      lua_pushboolean(L, 1);
    n = 2;
  }                                                     /* req dir cb args */
  loom_fs_req_cleanup(req);
  lua_rotate(L, base, -2);
  lua_pop(L, 2);                                        /* cb args */
  lctx_call(ctx, n);
}




static int fs_opendir(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int cb = lopt_callback(L, 2);
  lua_Integer n = luaL_optinteger(L, 3, 1);
  loom_loop_t* loop = lctx_loop(L, LCTX(L));
  loom_fs_t sync;
  loom_fs_t* req = &sync;
  lreq_t* r = NULL;
  ldir* d;
  int dir_idx;
  int ret;

  luaL_argcheck(L, n >= 1 && n <= 65536, 3, "entries must be 1 to 65536");
  d = lua_newuserdatauv(L, sizeof(ldir) + (size_t) n * sizeof(loom_dirent_t),
                        0);                             /* dir */
  d->dir = NULL;
  d->busy = 0;
  d->nentries = (size_t) n;
  luaL_setmetatable(L, LDIR_MT);
  dir_idx = lua_gettop(L);
  if (cb != 0) {
    r = lreq_new_extra(L, LOOM_FS, 0, len + 1);         /* dir req */
    req = &r->u.fs;
    memcpy(r->bufs, path, len + 1);
    path = (const char*) r->bufs;
    lreq_anchor(L, r, -1, cb, dir_idx);
    d->busy = 1;
    ret = loom_fs_opendir(loop, req, path, on_dir_done);
    if (ret < 0)
      d->busy = 0;
    return dir_started(L, r, ret);
  }
  ret = loom_fs_opendir(loop, req, path, NULL);
  if (ret < 0)
    return lfs_fail(L, req, ret);
  d->dir = req->ptr;
  d->dir->dirents = d->ents;
  d->dir->nentries = d->nentries;
  return 1;                                             /* dir */
}


/* The dir of readdir/closedir, open and idle; else pushes a failure. */
static ldir* usable_dir(lua_State* L, int idx, int* nret) {
  ldir* d = check_dir(L, idx);
  if (d->dir == NULL || d->busy) {
    *nret = lr_fail(L, d->dir == NULL ? LOOM_EBADF : LOOM_EBUSY);
    return NULL;
  }
  return d;
}


static int fs_readdir(lua_State* L) {
  int cb = lopt_callback(L, 2);
  loom_loop_t* loop = lctx_loop(L, LCTX(L));
  loom_fs_t sync;
  lreq_t* r;
  int nret;
  int ret;
  ldir* d = usable_dir(L, 1, &nret);

  if (d == NULL)
    return nret;
  if (cb == 0) {
    ret = loom_fs_readdir(loop, &sync, d->dir, NULL);
    if (ret < 0)
      return lfs_fail(L, &sync, ret);
    /* The names are the core's memory until pushed (see lfs_end). */
    LMEM_EXEMPT(LCTX(L));
    push_entries(L, d, sync.result);
    loom_fs_req_cleanup(&sync);
    LMEM_UNEXEMPT(LCTX(L));
    return 1;
  }
  r = lreq_new(L, LOOM_FS, 0);                          /* req */
  r->u.fs.mem = NULL;
  lreq_anchor(L, r, -1, cb, 1);
  ret = loom_fs_readdir(loop, &r->u.fs, d->dir, on_dir_done);
  d->busy = ret >= 0;
  return dir_started(L, r, ret);
}


static int fs_closedir(lua_State* L) {
  int cb = lopt_callback(L, 2);
  loom_loop_t* loop = lctx_loop(L, LCTX(L));
  loom_fs_t sync;
  loom_dir_t* dir;
  lreq_t* r;
  int nret;
  int ret;
  ldir* d = usable_dir(L, 1, &nret);

  if (d == NULL)
    return nret;
  dir = d->dir;
  if (cb == 0) {
    d->dir = NULL;
    ret = loom_fs_closedir(loop, &sync, dir, NULL);
    if (ret < 0)
      return lfs_fail(L, &sync, ret);
    lua_pushboolean(L, 1);
    return 1;
  }
  r = lreq_new(L, LOOM_FS, 0);                          /* req */
  r->u.fs.mem = NULL;
  lreq_anchor(L, r, -1, cb, 1);
  ret = loom_fs_closedir(loop, &r->u.fs, dir, on_dir_done);
  if (ret >= 0) {
    /* The worker frees it: no one may use it from now on. */
    d->dir = NULL;
    d->busy = 1;
  }
  return dir_started(L, r, ret);
}


/* Closes a directory the program dropped without closing. A busy dir is
 * anchored by its request, so it is seen here only while the state
 * closes; its worker may still use it, so it is left alone. */
static int dir_gc(lua_State* L) {
  ldir* d = check_dir(L, 1);
  loom_fs_t sync;

  if (d->dir != NULL && !d->busy) {
    loom_fs_closedir(NULL, &sync, d->dir, NULL);
    d->dir = NULL;
  }
  return 0;
}


static int dir_tostring(lua_State* L) {
  lua_pushfstring(L, "uv_dir_t: %p", (void*) check_dir(L, 1));
  return 1;
}


void lfs_dir_register(lua_State* L) {
  static const luaL_Reg methods[] = {
    {"readdir", fs_readdir},
    {"closedir", fs_closedir},
    {NULL, NULL}
  };

  lmeta_register(L, -1, LDIR_MT, dir_tostring, dir_gc, methods);
}


const luaL_Reg lfs_dir_functions[] = {
  {"fs_scandir", fs_scandir},
  {"fs_scandir_next", fs_scandir_next},
  {"fs_opendir", fs_opendir},
  {"fs_readdir", fs_readdir},
  {"fs_closedir", fs_closedir},
  {NULL, NULL}
};
