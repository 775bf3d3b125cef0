/* SPDX-License-Identifier: MIT */
/* lprocess.c: uv_process_t (luv's process section): spawn, kill. */
#include "lfs.h"
#include "lloom.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const luaL_Reg process_methods[];
const lh_type lprocess_type = {"uv_process", LOOM_PROCESS, process_methods,
                               NULL};


static void on_exit_(loom_process_t* p, int64_t status, int term_signal) {
  lctx* ctx = loom_loop_get_data(p->loop);
  lua_State* L = ctx->L;

  lh_push_callback(L, (loom_handle_t*) p);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushinteger(L, (lua_Integer) status);
  lua_pushinteger(L, term_signal);
  lctx_call(ctx, 2);
}


/* A NULL-terminated array of the strings of a Lua array, in a userdata
 * block left on the stack (freed with the call); the strings are the
 * array's own, kept alive by the options table. `first` goes in front. */
static char** string_array(lua_State* L, int idx, const char* field,
                           const char* first) {
  lua_Integer n = 0;
  lua_Integer i;
  int off = first != NULL;
  char** arr;

  if (idx != 0) {
    luaL_checktype(L, idx, LUA_TTABLE);
    n = (lua_Integer) lua_rawlen(L, idx);
    luaL_argcheck(L, n < INT_MAX / 16, 2, "array too long");
  }
  /* User value 1: the strings made from numbers (luv takes a number as
   * its string form), kept alive as long as the array. */
  arr = lua_newuserdatauv(L, (size_t) (n + off + 1) * sizeof(char*), 1);
  if (off)
    arr[0] = (char*) first;
  for (i = 1; i <= n; i++) {
    size_t len;
    int t = lua_rawgeti(L, idx, i);
    if (t == LUA_TNUMBER) {
      lua_tostring(L, -1);
      if (lua_getiuservalue(L, -2, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, -4, 1);
      }
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
      lua_pop(L, 1);
    } else if (t != LUA_TSTRING) {
      return (char**) (intptr_t) luaL_error(
          L, "bad argument #2 to 'spawn' (options.%s[%d] must be a string)",
          field, (int) i);
    }
    arr[i - 1 + off] = (char*) lua_tolstring(L, -1, &len);
    /* exec would cut the string at the zero byte without a word. */
    if (strlen(arr[i - 1 + off]) != len)
      return (char**) (intptr_t) luaL_error(
          L, "bad argument #2 to 'spawn' (options.%s[%d] contains a zero "
             "byte)", field, (int) i);
    lua_pop(L, 1);
  }
  arr[n + off] = NULL;
  return arr;
}


static int opt_field(lua_State* L, const char* name) {
  lua_getfield(L, 2, name);
  return lua_gettop(L);
}


/* stdio entries as luv takes them: nil ignores, an integer fd is
 * inherited, a stream is inherited if open, else a pipe is made for it. */
static void fill_stdio(lua_State* L, int idx, loom_process_options_t* o) {
  loom_stdio_container_t* c;
  lua_Integer n;
  lua_Integer i;

  if (lua_isnil(L, idx))
    return;
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "bad argument #2 to 'spawn' (options.stdio must be a "
                  "table)");
  lua_len(L, idx);
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (n > 256)
    luaL_error(L, "bad argument #2 to 'spawn' (too many stdio entries)");
  c = lua_newuserdatauv(L, (size_t) (n > 0 ? n : 1) * sizeof(*c), 0);
  for (i = 1; i <= n; i++) {
    loom_stdio_container_t* e = &c[i - 1];
    int t = lua_geti(L, idx, i);
    memset(e, 0, sizeof(*e));
    if (t == LUA_TNIL) {
      e->flags = LOOM_IGNORE;
    } else if (t == LUA_TNUMBER && lua_isinteger(L, -1) &&
               lua_tointeger(L, -1) >= 0) {
      e->flags = LOOM_INHERIT_FD;
      e->fd = (int) lua_tointeger(L, -1);
    } else if (t == LUA_TUSERDATA) {
      loom_stream_t* s = lstream_test(L, -1);
      int fd;
      if (s == NULL)
        luaL_error(L, "bad argument #2 to 'spawn' (options.stdio[%d] must "
                      "be nil, an fd or a stream)", (int) i);
      e->stream = s;
      e->flags = loom_fileno((loom_handle_t*) s, &fd) == 0
                     ? LOOM_INHERIT_STREAM : LOOM_CREATE_PIPE;
      if (e->flags == LOOM_CREATE_PIPE && s->type != LOOM_NAMED_PIPE)
        luaL_error(L, "bad argument #2 to 'spawn' (options.stdio[%d]: "
                      "only a pipe can be created)", (int) i);
    } else {
      luaL_error(L, "bad argument #2 to 'spawn' (options.stdio[%d] must be "
                    "nil, an fd or a stream)", (int) i);
    }
    lua_pop(L, 1);
  }
  o->stdio = c;
  o->stdio_count = (int) n;
}


/* spawn(path, options, on_exit) -> handle, pid */
static int spawn(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_process_options_t o;
  loom_process_t* p;
  size_t len;
  int cb_pin;
  int pin;
  int idx;
  int err;

  memset(&o, 0, sizeof(o));
  o.file = lfs_check_path(L, 1, &len);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
  }
  if (lua_gettop(L) >= 3 && !lua_isnil(L, 3))
    lh_check_callable(L, 3);
  lua_settop(L, 3);

  idx = opt_field(L, "args");
  o.args = string_array(L, lua_isnil(L, idx) ? 0 : idx, "args", o.file);
  idx = opt_field(L, "env");
  if (!lua_isnil(L, idx))
    o.env = string_array(L, idx, "env", NULL);
  idx = opt_field(L, "cwd");
  if (!lua_isnil(L, idx)) {
    if (lua_type(L, idx) != LUA_TSTRING)
      return luaL_error(L, "bad argument #2 to 'spawn' (options.cwd must be "
                           "a string)");
    o.cwd = lua_tolstring(L, idx, &len);
    if (strlen(o.cwd) != len)
      return luaL_error(L, "bad argument #2 to 'spawn' (options.cwd "
                           "contains a zero byte)");
  }
  idx = opt_field(L, "uid");
  if (!lua_isnil(L, idx)) {
    if (!lua_isinteger(L, idx))
      return luaL_error(L, "bad argument #2 to 'spawn' (options.uid must be "
                           "an integer)");
    o.uid = (unsigned int) lua_tointeger(L, idx);
    o.flags |= LOOM_PROCESS_SETUID;
  }
  idx = opt_field(L, "gid");
  if (!lua_isnil(L, idx)) {
    if (!lua_isinteger(L, idx))
      return luaL_error(L, "bad argument #2 to 'spawn' (options.gid must be "
                           "an integer)");
    o.gid = (unsigned int) lua_tointeger(L, idx);
    o.flags |= LOOM_PROCESS_SETGID;
  }
  if (lflag(L, 2, "detached")) o.flags |= LOOM_PROCESS_DETACHED;
  if (lflag(L, 2, "verbatim")) o.flags |= LOOM_PROCESS_WINDOWS_VERBATIM_ARGUMENTS;
  if (lflag(L, 2, "hide")) o.flags |= LOOM_PROCESS_WINDOWS_HIDE;
  idx = opt_field(L, "stdio");
  fill_stdio(L, idx, &o);
  o.exit_cb = on_exit_;

  p = lh_new(L, &lprocess_type, sizeof(*p));
  /* Both pinned before the child exists: a memory error after the spawn
   * would leave a child whose exit no one hears of. */
  lh_pin2(L, -1, 3, &pin, &cb_pin);
  err = loom_spawn(lctx_loop(L, ctx), p, &o);
  if (err != 0) {
    /* The handle exists but no child does: close it quietly, as luv. */
    lh_unpin(L, cb_pin);
    lh_anchor((loom_handle_t*) p, pin, LUA_NOREF);
    loom_close((loom_handle_t*) p, lh_on_close);
    return lr_fail(L, err);
  }
  lh_anchor((loom_handle_t*) p, pin, cb_pin);
  lua_pushinteger(L, p->pid);
  return 2;
}


static int check_signal(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx))
    return 15; /* SIGTERM */
  return lsignal_parse(L, idx);
}


static int process_kill(lua_State* L) {
  loom_process_t* p = (loom_process_t*) lh_check(L, 1, &lprocess_type);
  return lr_result(L, loom_process_kill(p, check_signal(L, 2)));
}


static int kill_(lua_State* L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  luaL_argcheck(L, pid >= INT_MIN && pid <= INT_MAX, 1, "out of range");
  return lr_result(L, loom_kill((int) pid, check_signal(L, 2)));
}


static int process_get_pid(lua_State* L) {
  loom_process_t* p = (loom_process_t*) lh_check(L, 1, &lprocess_type);
  lua_pushinteger(L, p->pid);
  return 1;
}


static int disable_stdio_inheritance(lua_State* L) {
  (void) L;
  loom_disable_stdio_inheritance();
  return 0;
}


static const luaL_Reg process_methods[] = {
  {"kill", process_kill},
  {"get_pid", process_get_pid},
  {NULL, NULL}
};

const luaL_Reg lprocess_functions[] = {
  {"spawn", spawn},
  {"process_kill", process_kill},
  {"kill", kill_},
  {"process_get_pid", process_get_pid},
  {"disable_stdio_inheritance", disable_stdio_inheritance},
  {NULL, NULL}
};
