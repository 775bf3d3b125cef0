/* SPDX-License-Identifier: MIT */
/* xfer.c: copying Lua values out of one state and into another.
 *
 * Values cross as bytes: nil, booleans, integers and floats (kept
 * distinct), strings and, beyond luv, tables of those (nested, acyclic).
 * Shared objects (semaphores, threads, async handles: lshared.c) cross as
 * a pointer holding a reference.
 * Encoding runs in two passes. The first validates and measures and is the
 * only one that may raise, so a bad argument never leaks a half-built
 * buffer; the second fills a buffer of exactly the measured size.
 */
#include "lloom.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 100

enum { T_NIL = 'n', T_FALSE = 'f', T_TRUE = 't', T_INT = 'i', T_FLOAT = 'd',
       T_STRING = 's', T_TABLE = '{', T_END = '}', T_SHARED = 'u' };


/* Pass 1: returns the encoded size of the value at idx, or raises. The
 * table at seen_idx holds the tables on the current path (cycle check). */
static size_t measure(lua_State* L, int idx, int argn, int seen_idx,
                      int depth) {
  size_t size = 1;
  size_t len;

  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TBOOLEAN:
      return size;
    case LUA_TNUMBER:
      return size + 8;
    case LUA_TSTRING:
      lua_tolstring(L, idx, &len);
      return size + sizeof(uint64_t) + len;
    case LUA_TTABLE:
      if (depth >= MAX_DEPTH)
        luaL_argerror(L, argn, "table nested too deeply to transfer");
      luaL_checkstack(L, 4, "table nested too deeply to transfer");
      lua_pushvalue(L, idx);
      if (lua_rawget(L, seen_idx) != LUA_TNIL)
        luaL_argerror(L, argn, "cannot transfer a cyclic table");
      lua_pop(L, 1);
      lua_pushvalue(L, idx);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen_idx);
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {                   /* key value */
        size += measure(L, -2, argn, seen_idx, depth + 1);
        size += measure(L, -1, argn, seen_idx, depth + 1);
        lua_pop(L, 1);                                  /* key */
      }
      lua_pushvalue(L, idx);
      lua_pushnil(L);
      lua_rawset(L, seen_idx);
      return size + 1;
    case LUA_TUSERDATA:
      if (lshared_test(L, idx) != NULL || lfs_is_scan(L, idx))
        return size + sizeof(lshared_t*);
      /* fall through */
    default: {
      const char* msg = lua_pushfstring(L, "cannot transfer a %s value%s",
                                        luaL_typename(L, idx),
                                        depth > 0 ? " inside a table" : "");
      luaL_argerror(L, argn, msg);
      return 0;
    }
  }
}


/* Pass 2: writes the value at idx; the buffer is large enough. Counts
 * the shared references taken in *shared. */
static char* put(lua_State* L, int idx, char* p, int* shared) {
  lshared_t* obj;
  lua_Integer i;
  lua_Number d;
  uint64_t len;
  size_t slen;
  const char* s;

  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      *p++ = T_NIL;
      return p;
    case LUA_TBOOLEAN:
      *p++ = lua_toboolean(L, idx) ? T_TRUE : T_FALSE;
      return p;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        *p++ = T_INT;
        i = lua_tointeger(L, idx);
        memcpy(p, &i, 8);
      } else {
        *p++ = T_FLOAT;
        d = lua_tonumber(L, idx);
        memcpy(p, &d, 8);
      }
      return p + 8;
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &slen);
      len = slen;
      *p++ = T_STRING;
      memcpy(p, &len, sizeof(len));
      p += sizeof(len);
      memcpy(p, s, slen);
      return p + slen;
    case LUA_TUSERDATA: /* measure() let only shared objects through */
      obj = lshared_test(L, idx);
      if (obj == NULL) {
        /* A scandir request: the other state gets its own copy of the
         * entries left. */
        obj = lfs_scan_share(L, idx);
        if (obj == NULL)
          luaL_error(L, "not enough memory to copy a scandir request");
      }
      lshared_ref(obj);
      (*shared)++;
      *p++ = T_SHARED;
      memcpy(p, &obj, sizeof(obj));
      return p + sizeof(obj);
    default: /* a table */
      *p++ = T_TABLE;
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        p = put(L, -2, p, shared);
        p = put(L, -1, p, shared);
        lua_pop(L, 1);
      }
      *p++ = T_END;
      return p;
  }
}


size_t xfer_size(lua_State* L, int first, int count) {
  size_t size = 0;
  int seen_idx = 0;
  int i;

  first = lua_absindex(L, first);
  /* The cycle check needs a table only when a table is sent. */
  for (i = 0; i < count; i++)
    if (lua_type(L, first + i) == LUA_TTABLE) {
      lua_newtable(L);
      seen_idx = lua_gettop(L);
      break;
    }
  for (i = 0; i < count; i++)
    size += measure(L, first + i, first + i, seen_idx, 0);
  if (seen_idx != 0)
    lua_pop(L, 1);
  return size;
}


void xfer_put(lua_State* L, int first, int count, char* buf, xfer_t* x) {
  char* p = buf;
  int shared = 0;
  int i;

  first = lua_absindex(L, first);
  for (i = 0; i < count; i++)
    p = put(L, first + i, p, &shared);
  x->data = buf;
  x->len = (size_t) (p - buf);
  x->count = count;
  x->owned = 0;
  x->shared = shared;
}


void xfer_encode_into(lua_State* L, int first, int count, xfer_t* x,
                      char* spare, size_t spare_size) {
  size_t size;
  char* buf;

  x->data = NULL;
  x->len = 0;
  x->count = 0;
  x->owned = 0;
  x->shared = 0;
  if (count <= 0)
    return;
  size = xfer_size(L, first, count);
  if (size <= spare_size) {
    xfer_put(L, first, count, spare, x);
    return;
  }
  buf = malloc(size > 0 ? size : 1);
  if (buf == NULL)
    luaL_error(L, "not enough memory");
  xfer_put(L, first, count, buf, x);
  x->owned = 1;
}


void xfer_encode(lua_State* L, int first, int count, xfer_t* x) {
  xfer_encode_into(L, first, count, x, NULL, 0);
}


typedef struct {
  xfer_t* x;
  char* spare;
  size_t spare_size;
} encode_target;


/* Protected: encodes the values above index 1 (an encode_target). */
static int encode_above(lua_State* L) {
  encode_target* t = lua_touserdata(L, 1);
  xfer_encode_into(L, 2, lua_gettop(L) - 1, t->x, t->spare, t->spare_size);
  return 0;
}


int xfer_encode_rest(lua_State* L, int first, xfer_t* x, char* spare,
                     size_t spare_size) {
  encode_target t = {x, spare, spare_size};
  int n = lua_gettop(L) - first + 1;

  lua_pushcfunction(L, encode_above);
  lua_pushlightuserdata(L, &t);
  lua_rotate(L, first, 2);                              /* enc t values */
  return lua_pcall(L, n + 1, 0, 0);
}


static const char* get(lua_State* L, const char* p, int depth) {
  lshared_t* obj;
  lua_Integer i;
  lua_Number d;
  uint64_t len;

  switch (*p++) {
    case T_NIL:
      lua_pushnil(L);
      return p;
    case T_FALSE:
      lua_pushboolean(L, 0);
      return p;
    case T_TRUE:
      lua_pushboolean(L, 1);
      return p;
    case T_INT:
      memcpy(&i, p, 8);
      lua_pushinteger(L, i);
      return p + 8;
    case T_FLOAT:
      memcpy(&d, p, 8);
      lua_pushnumber(L, d);
      return p + 8;
    case T_STRING:
      memcpy(&len, p, sizeof(len));
      p += sizeof(len);
      lua_pushlstring(L, p, (size_t) len);
      return p + len;
    case T_SHARED:
      memcpy(&obj, p, sizeof(obj));
      lshared_push(L, obj);
      return p + sizeof(obj);
    default: /* T_TABLE */
      luaL_checkstack(L, 3, "table nested too deeply");
      lua_newtable(L);
      while (*p != T_END) {
        p = get(L, p, depth + 1);
        p = get(L, p, depth + 1);
        lua_rawset(L, -3);
      }
      return p + 1;
  }
}


int xfer_decode(lua_State* L, const xfer_t* x) {
  const char* p = x->data;
  int i;

  luaL_checkstack(L, x->count + 2, "too many values");
  for (i = 0; i < x->count; i++)
    p = get(L, p, 0);
  return x->count;
}


/* Steps over one encoded value, dropping the shared references in it. */
static const char* release(const char* p) {
  lshared_t* obj;
  uint64_t len;

  switch (*p++) {
    case T_INT:
    case T_FLOAT:
      return p + 8;
    case T_STRING:
      memcpy(&len, p, sizeof(len));
      return p + sizeof(len) + len;
    case T_SHARED:
      memcpy(&obj, p, sizeof(obj));
      lshared_unref(obj);
      return p + sizeof(obj);
    case T_TABLE:
      while (*p != T_END)
        p = release(release(p));
      return p + 1;
    default: /* nil, false, true */
      return p;
  }
}


void xfer_free(xfer_t* x) {
  const char* p = x->data;
  int i;

  if (x->shared > 0)
    for (i = 0; i < x->count; i++)
      p = release(p);
  if (x->owned)
    free(x->data);
  x->data = NULL;
  x->len = 0;
  x->count = 0;
  x->shared = 0;
}
