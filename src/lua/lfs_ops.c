/* SPDX-License-Identifier: MIT */
/* lfs_ops.c: the fs functions with luv's argument forms. Each checks its
 * arguments, then makes the one call through lfs_begin/lfs_end: the
 * callback argument, when given, decides that the call is asynchronous.
 * Directory reading (scandir, opendir, readdir) is in lfs_dir.c. */
#include "lfs.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


/* A path argument: a string without zero bytes (the kernel would see a
 * shorter path than the caller meant). */
const char* lfs_check_path(lua_State* L, int idx, size_t* len) {
  const char* path = luaL_checklstring(L, idx, len);
  luaL_argcheck(L, strlen(path) == *len, idx, "path contains a zero byte");
  return path;
}


int lfs_check_fd(lua_State* L, int idx) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  luaL_argcheck(L, fd >= INT_MIN && fd <= INT_MAX, idx,
                "not a valid file descriptor");
  return (int) fd;
}


/* A mode: an integer, or an octal string ("755"); def when nil. */
int lfs_mode(lua_State* L, int idx, int def) {
  if (lua_isnoneornil(L, idx))
    return def;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char* s = lua_tostring(L, idx);
    char* end;
    long mode = strtol(s, &end, 8);
    luaL_argcheck(L, *s != '\0' && *end == '\0' && mode >= 0 &&
                         mode <= 07777,
                  idx, "mode must be an octal string");
    return (int) mode;
  }
  {
    /* Range-checked, not cut: -1 or 2^32 + 0600 would otherwise become
     * setuid bits or another mode. */
    lua_Integer mode = luaL_checkinteger(L, idx);
    luaL_argcheck(L, mode >= 0 && mode <= 07777, idx,
                  "mode must be between 0 and 07777");
    return (int) mode;
  }
}


/* A user or group id: 0 .. 2^32 - 2, or -1 for "leave it unchanged" (as
 * chown(2) takes it). Anything else raises: 2^32 cut to 32 bits is 0,
 * root. */
static lua_Integer owner_id(lua_State* L, int idx) {
  lua_Integer id = luaL_checkinteger(L, idx);
  luaL_argcheck(L, id >= -1 && id < (lua_Integer) UINT32_MAX, idx,
                "id must be between 0 and 4294967294, or -1 to leave it");
  return id;
}


/* For f(..., [opt], [callback]): a callable in opt's place is the
 * callback and opt was left out. Returns the callback's index or 0;
 * *opt_given tells whether the value at opt_idx is the option. */
static int split_optional(lua_State* L, int opt_idx, int* opt_given) {
  if (lh_is_callable(L, opt_idx) && lua_isnoneornil(L, opt_idx + 1)) {
    *opt_given = 0;
    return opt_idx;
  }
  *opt_given = !lua_isnoneornil(L, opt_idx);
  return lopt_callback(L, opt_idx + 1);
}


/* ---- one path, one file, two paths ---- */

#define PATH_FUNCTION(name)                                                   \
  static int fs_##name(lua_State* L) {                                        \
    size_t len;                                                               \
    const char* path = lfs_check_path(L, 1, &len);                            \
    int cb = lopt_callback(L, 2);                                             \
    lfs_call c;                                                               \
    loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);                        \
    return lfs_end(&c, loom_fs_##name(c.loop, req, lfs_path(&c, path, len),   \
                                      lfs_cb(&c)));                           \
  }

#define FILE_FUNCTION(name)                                                   \
  static int fs_##name(lua_State* L) {                                        \
    int fd = lfs_check_fd(L, 1);                                              \
    int cb = lopt_callback(L, 2);                                             \
    lfs_call c;                                                               \
    loom_fs_t* req = lfs_begin(L, &c, cb, 0, 0);                              \
    return lfs_end(&c, loom_fs_##name(c.loop, req, fd, lfs_cb(&c)));          \
  }

#define TWO_PATH_FUNCTION(name)                                               \
  static int fs_##name(lua_State* L) {                                        \
    size_t len, new_len;                                                      \
    const char* path = lfs_check_path(L, 1, &len);                            \
    const char* new_path = lfs_check_path(L, 2, &new_len);                    \
    int cb = lopt_callback(L, 3);                                             \
    lfs_call c;                                                               \
    loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + new_len + 2);              \
    path = lfs_path(&c, path, len);                                           \
    new_path = lfs_path(&c, new_path, new_len);                               \
    return lfs_end(&c, loom_fs_##name(c.loop, req, path, new_path,            \
                                      lfs_cb(&c)));                           \
  }

PATH_FUNCTION(unlink)
PATH_FUNCTION(rmdir)
PATH_FUNCTION(stat)
PATH_FUNCTION(lstat)
PATH_FUNCTION(statfs)
PATH_FUNCTION(mkdtemp)
PATH_FUNCTION(mkstemp)
PATH_FUNCTION(readlink)
PATH_FUNCTION(realpath)
FILE_FUNCTION(close)
FILE_FUNCTION(fstat)
FILE_FUNCTION(fsync)
FILE_FUNCTION(fdatasync)
TWO_PATH_FUNCTION(rename)
TWO_PATH_FUNCTION(link)


/* fs_readfile(path, [max], [callback]) -> the whole file as a string
 * (beyond luv: open, fstat, read and close in one pool job). max > 0
 * refuses a bigger file with EFBIG. */
static int fs_readfile(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int max_given;
  int cb = split_optional(L, 2, &max_given);
  lua_Integer max = max_given ? luaL_checkinteger(L, 2) : 0;
  lfs_call c;
  loom_fs_t* req;
  luaL_argcheck(L, max >= 0, 2, "max must be 0 (no limit) or more");
  req = lfs_begin(L, &c, cb, 0, len + 1);
  return lfs_end(&c, loom_fs_readfile(c.loop, req, lfs_path(&c, path, len),
                                      (uint64_t) max, lfs_cb(&c)));
}


/* ---- open ---- */

static int open_flags(lua_State* L, int idx) {
  static const struct {
    const char* name;
    int flags;
  } forms[] = {
    {"r", O_RDONLY}, {"rs", O_RDONLY | O_SYNC}, {"sr", O_RDONLY | O_SYNC},
    {"r+", O_RDWR}, {"rs+", O_RDWR | O_SYNC}, {"sr+", O_RDWR | O_SYNC},
    {"w", O_TRUNC | O_CREAT | O_WRONLY},
    {"wx", O_TRUNC | O_CREAT | O_WRONLY | O_EXCL},
    {"xw", O_TRUNC | O_CREAT | O_WRONLY | O_EXCL},
    {"w+", O_TRUNC | O_CREAT | O_RDWR},
    {"wx+", O_TRUNC | O_CREAT | O_RDWR | O_EXCL},
    {"xw+", O_TRUNC | O_CREAT | O_RDWR | O_EXCL},
    {"a", O_APPEND | O_CREAT | O_WRONLY},
    {"ax", O_APPEND | O_CREAT | O_WRONLY | O_EXCL},
    {"xa", O_APPEND | O_CREAT | O_WRONLY | O_EXCL},
    {"a+", O_APPEND | O_CREAT | O_RDWR},
    {"ax+", O_APPEND | O_CREAT | O_RDWR | O_EXCL},
    {"xa+", O_APPEND | O_CREAT | O_RDWR | O_EXCL},
  };
  const char* s;
  size_t i;

  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer n = luaL_checkinteger(L, idx);
    /* Cut to an int, a large number would open with other flags. */
    luaL_argcheck(L, n >= 0 && n <= INT_MAX, idx, "open flags out of range");
    return (int) n;
  }
  s = lcheck_cstring(L, idx);
  for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
    if (strcmp(s, forms[i].name) == 0)
      return forms[i].flags;
  return luaL_argerror(L, idx,
                       lua_pushfstring(L, "unknown file open flag '%s'", s));
}


static int fs_open(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int flags = open_flags(L, 2);
  int has_mode;
  int cb = split_optional(L, 3, &has_mode);
  int mode = has_mode ? lfs_mode(L, 3, 0666) : 0666;
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);

  return lfs_end(&c, loom_fs_open(c.loop, req, lfs_path(&c, path, len), flags,
                                  mode, lfs_cb(&c)));
}


/* ---- read and write ---- */

/* The offset of f(fd, x, [offset], [cb]): nil or negative means the
 * file's current position. */
static int64_t offset_arg(lua_State* L, int idx, int given) {
  lua_Integer off;
  if (!given)
    return -1;
  off = luaL_checkinteger(L, idx);
  return off < 0 ? -1 : (int64_t) off;
}


/* fs_read(fd, buffer, ...) and fs_write(fd, buffer, ...) (beyond luv):
 * the worker uses the buffer's own bytes, all of them. The request
 * anchors the buffer, and the buffer counts the request until its
 * callback has been called (lbuffer.c). Results: the bytes read or
 * written, as an integer. */
static int buffer_rw(lua_State* L, int fd, lbuffer* buffer, int to_fill) {
  int has_off;
  int cb = split_optional(L, 3, &has_off);
  int64_t off = offset_arg(L, 3, has_off);
  loom_buf_t small[1];
  loom_buf_t* bufs;
  loom_fs_t* req;
  lfs_call c;
  int ret;

  lbuffer_claim(L, buffer, 2, to_fill);
  req = lfs_begin_with(L, &c, cb, 2, 1, 0);
  bufs = lfs_bufs(&c, small);
  bufs[0].base = buffer->base;
  bufs[0].len = buffer->size;
  if (to_fill)
    ret = loom_fs_read(c.loop, req, fd, bufs, 1, off, lfs_cb(&c));
  else
    ret = loom_fs_write(c.loop, req, fd, bufs, 1, off, lfs_cb(&c));
  if (ret >= 0) {
    /* Set after queueing, which resets it; for reads and writes only
     * the loop thread reads ptr (results, completion). */
    req->ptr = buffer;
    if (cb != 0)
      lbuffer_hold(buffer, to_fill);
  }
  return lfs_end(&c, ret);
}


/* A large read buffer asks for transparent huge pages before the worker
 * touches it: a first touch costs a page fault per 4 KiB page otherwise,
 * most of the time of a 1 GiB read on a virtual machine. (The runner's
 * allocator does the same for large Lua objects.) */
static void advise_huge(void* p, size_t size) {
  const uintptr_t huge = (uintptr_t) 2 << 20;

  if (size >= ((size_t) 8 << 20)) {
    uintptr_t start = ((uintptr_t) p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t) p + size) & ~(huge - 1);
    if (end > start)
      madvise((void*) start, end - start, MADV_HUGEPAGE);
  }
}


static int fs_read(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  lbuffer* buffer = lbuffer_test(L, 2);
  lua_Integer size;
  int has_off;
  int cb;
  int64_t off;
  loom_buf_t small[1];
  loom_buf_t* bufs;
  luaL_Buffer b;
  loom_fs_t* req;
  loom_fs_cb done_cb;
  lfs_call c;
  int ret;

  if (buffer != NULL)
    return buffer_rw(L, fd, buffer, 1);
  if (!lua_isnumber(L, 2))
    return luaL_typeerror(L, 2, "integer or loom_buffer");
  size = luaL_checkinteger(L, 2);
  cb = split_optional(L, 3, &has_off);
  off = offset_arg(L, 3, has_off);
  luaL_argcheck(L, size >= 0 && (uint64_t) size <= SIZE_MAX / 2, 2,
                "size out of range");
  /* An async read's buffer is the request block's extra bytes: the
   * state's allocator gives it, so a memory limit counts it, and it goes
   * with the request the moment the callback has its string. */
  req = lfs_begin(L, &c, cb, 1, cb == 0 ? 0 : (size_t) (size > 0 ? size : 1));
  bufs = lfs_bufs(&c, small);
  bufs[0].len = (size_t) size;
  if (cb == 0) {
    /* Read straight into the string being built. */
    bufs[0].base = luaL_buffinitsize(L, &b, (size_t) size);
    ret = loom_fs_read(c.loop, req, fd, bufs, 1, off, NULL);
    if (ret < 0)
      return lfs_fail(L, req, ret);
    luaL_pushresultsize(&b, (size_t) req->result);
    return 1;
  }
  done_cb = lfs_cb(&c);
  bufs[0].base = c.extra;
  advise_huge(c.extra, (size_t) size);
  ret = loom_fs_read(c.loop, req, fd, bufs, 1, off, done_cb);
  return lfs_end(&c, ret);
}


static int fs_write(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  lbuffer* buffer = lbuffer_test(L, 2);
  unsigned int n;
  int has_off;
  int cb;
  int64_t off;
  loom_buf_t small[LBUF_SMALL];
  loom_buf_t* bufs;
  loom_fs_t* req;
  lfs_call c;
  int ret;

  if (buffer != NULL)
    return buffer_rw(L, fd, buffer, 0);
  n = lbuf_count(L, 2);
  cb = split_optional(L, 3, &has_off);
  off = offset_arg(L, 3, has_off);
  if (n == 0) {
    /* An empty array writes nothing, successfully. */
    req = lfs_begin_with(L, &c, cb, 2, 1, 0);
    bufs = lfs_bufs(&c, small);
    bufs[0].base = (char*) "";
    bufs[0].len = 0;
    n = 1;
  } else if (cb == 0) {
    req = lfs_begin(L, &c, 0, n, 0);
    bufs = lbuf_scratch(L, 2, n, small);
  } else {
    /* The request's buffers point into its private copy of the
     * strings, anchored with it (lfs_begin_with fills them). */
    req = lfs_begin_with(L, &c, cb, 2, n, 0);
    bufs = c.r->bufs;
  }
  ret = loom_fs_write(c.loop, req, fd, bufs, n, off, lfs_cb(&c));
  return lfs_end(&c, ret);
}


static int fs_sendfile(lua_State* L) {
  int out_fd = lfs_check_fd(L, 1);
  int in_fd = lfs_check_fd(L, 2);
  lua_Integer off = luaL_optinteger(L, 3, -1);
  lua_Integer len = luaL_checkinteger(L, 4);
  int cb = lopt_callback(L, 5);
  lfs_call c;
  loom_fs_t* req;

  luaL_argcheck(L, len >= 0, 4, "size must not be negative");
  req = lfs_begin(L, &c, cb, 0, 0);
  return lfs_end(&c, loom_fs_sendfile(c.loop, req, out_fd, in_fd,
                                      off < 0 ? -1 : off, (uint64_t) len,
                                      lfs_cb(&c)));
}


static int fs_ftruncate(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  int has_len;
  int cb = split_optional(L, 2, &has_len);
  lua_Integer len = has_len ? luaL_checkinteger(L, 2) : 0;
  lfs_call c;
  loom_fs_t* req;

  luaL_argcheck(L, len >= 0, 2, "length must not be negative");
  req = lfs_begin(L, &c, cb, 0, 0);
  return lfs_end(&c, loom_fs_ftruncate(c.loop, req, fd, len,
                                       lfs_cb(&c)));
}


/* ---- modes and permissions ---- */

/* access modes: an integer, or a string of r, w and x ("" is F_OK). */
static int access_mode(lua_State* L, int idx) {
  const char* s;
  int mode = F_OK;

  if (lua_type(L, idx) != LUA_TSTRING) {
    lua_Integer n = luaL_checkinteger(L, idx);
    luaL_argcheck(L, (n & ~(lua_Integer) (R_OK | W_OK | X_OK)) == 0, idx,
                  "access mode must be a combination of R_OK, W_OK, X_OK");
    return (int) n;
  }
  for (s = lua_tostring(L, idx); *s != '\0'; s++) {
    switch (*s) {
      case 'r': case 'R': mode |= R_OK; break;
      case 'w': case 'W': mode |= W_OK; break;
      case 'x': case 'X': mode |= X_OK; break;
      default:
        return luaL_argerror(L, idx, "access mode must use only r, w, x");
    }
  }
  return mode;
}


static int fs_access(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int mode = access_mode(L, 2);
  int cb = lopt_callback(L, 3);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);

  return lfs_end(&c, loom_fs_access(c.loop, req, lfs_path(&c, path, len),
                                    mode, lfs_cb(&c)));
}


static int fs_mkdir(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int has_mode;
  int cb = split_optional(L, 2, &has_mode);
  int mode = has_mode ? lfs_mode(L, 2, 0777) : 0777;
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);

  return lfs_end(&c, loom_fs_mkdir(c.loop, req, lfs_path(&c, path, len), mode,
                                   lfs_cb(&c)));
}


static int fs_chmod(lua_State* L) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  int mode;
  int cb;
  lfs_call c;
  loom_fs_t* req;

  luaL_checkany(L, 2);
  mode = lfs_mode(L, 2, 0);
  cb = lopt_callback(L, 3);
  req = lfs_begin(L, &c, cb, 0, len + 1);
  return lfs_end(&c, loom_fs_chmod(c.loop, req, lfs_path(&c, path, len), mode,
                                   lfs_cb(&c)));
}


static int fs_fchmod(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  int mode;
  int cb;
  lfs_call c;
  loom_fs_t* req;

  luaL_checkany(L, 2);
  mode = lfs_mode(L, 2, 0);
  cb = lopt_callback(L, 3);
  req = lfs_begin(L, &c, cb, 0, 0);
  return lfs_end(&c, loom_fs_fchmod(c.loop, req, fd, mode, lfs_cb(&c)));
}


/* ---- times ---- */

/* A time: seconds (with a fraction), "now" or "omit"; nil means omit
 * (leave that time as it is), as in luv since 1.51. */
static double time_arg(lua_State* L, int idx) {
  double t;

  if (lua_isnoneornil(L, idx))
    return LOOM_FS_UTIME_OMIT;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char* s = lua_tostring(L, idx);
    if (strcmp(s, "now") == 0)
      return LOOM_FS_UTIME_NOW;
    if (strcmp(s, "omit") == 0)
      return LOOM_FS_UTIME_OMIT;
  }
  t = luaL_checknumber(L, idx);
  /* FS_UTIME_NOW is infinite and FS_UTIME_OMIT is NaN; any other time
   * must fit the kernel's 64-bit seconds. */
  luaL_argcheck(L, isnan(t) || isinf(t) || (t >= -0x1p63 && t < 0x1p63), idx,
                "time out of range");
  return t;
}


static int path_times(lua_State* L, int lutime) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  double atime = time_arg(L, 2);
  double mtime = time_arg(L, 3);
  int cb = lopt_callback(L, 4);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);
  int ret;

  path = lfs_path(&c, path, len);
  if (lutime)
    ret = loom_fs_lutime(c.loop, req, path, atime, mtime, lfs_cb(&c));
  else
    ret = loom_fs_utime(c.loop, req, path, atime, mtime, lfs_cb(&c));
  return lfs_end(&c, ret);
}


static int fs_utime(lua_State* L) {
  return path_times(L, 0);
}


static int fs_lutime(lua_State* L) {
  return path_times(L, 1);
}


static int fs_futime(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  double atime = time_arg(L, 2);
  double mtime = time_arg(L, 3);
  int cb = lopt_callback(L, 4);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, 0);

  return lfs_end(&c, loom_fs_futime(c.loop, req, fd, atime, mtime,
                                    lfs_cb(&c)));
}


/* ---- links, copies, owners ---- */

/* Flags as an integer or a table of booleans. */
static int flag_table(lua_State* L, int idx, const char* const names[],
                      const int values[]) {
  int flags = 0;
  int i;

  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    /* Every flag bit fits an int; a larger number is refused, not cut
     * (1 << 32 would otherwise act as 0). */
    lua_Integer n = luaL_checkinteger(L, idx);
    luaL_argcheck(L, n >= 0 && n <= INT_MAX, idx, "flags out of range");
    return (int) n;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  for (i = 0; names[i] != NULL; i++)
    if (lflag(L, idx, names[i]))
      flags |= values[i];
  return flags;
}


static int two_paths_with_flags(lua_State* L, int copy) {
  static const char* const symlink_names[] = {"dir", "junction", NULL};
  static const int symlink_values[] = {LOOM_FS_SYMLINK_DIR,
                                       LOOM_FS_SYMLINK_JUNCTION};
  static const char* const copy_names[] = {"excl", "ficlone",
                                           "ficlone_force", NULL};
  static const int copy_values[] = {LOOM_FS_COPYFILE_EXCL,
                                    LOOM_FS_COPYFILE_FICLONE,
                                    LOOM_FS_COPYFILE_FICLONE_FORCE};
  size_t len, new_len;
  const char* path = lfs_check_path(L, 1, &len);
  const char* new_path = lfs_check_path(L, 2, &new_len);
  int has_flags;
  int cb = split_optional(L, 3, &has_flags);
  int flags = !has_flags ? 0
              : copy     ? flag_table(L, 3, copy_names, copy_values)
                         : flag_table(L, 3, symlink_names, symlink_values);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + new_len + 2);
  int ret;

  path = lfs_path(&c, path, len);
  new_path = lfs_path(&c, new_path, new_len);
  if (copy)
    ret = loom_fs_copyfile(c.loop, req, path, new_path, flags,
                           lfs_cb(&c));
  else
    ret = loom_fs_symlink(c.loop, req, path, new_path, flags,
                          lfs_cb(&c));
  return lfs_end(&c, ret);
}


static int fs_symlink(lua_State* L) {
  return two_paths_with_flags(L, 0);
}


static int fs_copyfile(lua_State* L) {
  return two_paths_with_flags(L, 1);
}


static int path_owner(lua_State* L, int lchown) {
  size_t len;
  const char* path = lfs_check_path(L, 1, &len);
  lua_Integer uid = owner_id(L, 2);
  lua_Integer gid = owner_id(L, 3);
  int cb = lopt_callback(L, 4);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, len + 1);
  int ret;

  path = lfs_path(&c, path, len);
  if (lchown)
    ret = loom_fs_lchown(c.loop, req, path, uid, gid, lfs_cb(&c));
  else
    ret = loom_fs_chown(c.loop, req, path, uid, gid, lfs_cb(&c));
  return lfs_end(&c, ret);
}


static int fs_chown(lua_State* L) {
  return path_owner(L, 0);
}


static int fs_lchown(lua_State* L) {
  return path_owner(L, 1);
}


static int fs_fchown(lua_State* L) {
  int fd = lfs_check_fd(L, 1);
  lua_Integer uid = owner_id(L, 2);
  lua_Integer gid = owner_id(L, 3);
  int cb = lopt_callback(L, 4);
  lfs_call c;
  loom_fs_t* req = lfs_begin(L, &c, cb, 0, 0);

  return lfs_end(&c, loom_fs_fchown(c.loop, req, fd, uid, gid,
                                    lfs_cb(&c)));
}


const luaL_Reg lfs_functions[] = {
  {"fs_open", fs_open},
  {"fs_close", fs_close},
  {"fs_read", fs_read},
  {"fs_write", fs_write},
  {"fs_unlink", fs_unlink},
  {"fs_mkdir", fs_mkdir},
  {"fs_mkdtemp", fs_mkdtemp},
  {"fs_mkstemp", fs_mkstemp},
  {"fs_rmdir", fs_rmdir},
  {"fs_stat", fs_stat},
  {"fs_fstat", fs_fstat},
  {"fs_lstat", fs_lstat},
  {"fs_statfs", fs_statfs},
  {"fs_rename", fs_rename},
  {"fs_fsync", fs_fsync},
  {"fs_fdatasync", fs_fdatasync},
  {"fs_ftruncate", fs_ftruncate},
  {"fs_sendfile", fs_sendfile},
  {"fs_access", fs_access},
  {"fs_chmod", fs_chmod},
  {"fs_fchmod", fs_fchmod},
  {"fs_utime", fs_utime},
  {"fs_futime", fs_futime},
  {"fs_lutime", fs_lutime},
  {"fs_link", fs_link},
  {"fs_symlink", fs_symlink},
  {"fs_readlink", fs_readlink},
  {"fs_readfile", fs_readfile},
  {"fs_realpath", fs_realpath},
  {"fs_chown", fs_chown},
  {"fs_fchown", fs_fchown},
  {"fs_lchown", fs_lchown},
  {"fs_copyfile", fs_copyfile},
  {NULL, NULL}
};
