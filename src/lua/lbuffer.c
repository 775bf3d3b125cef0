/* SPDX-License-Identifier: MIT */
/* lbuffer.c: byte buffers (beyond luv): fixed-size, reusable memory that
 * fs_read fills and fs_write sends without a Lua string in between, like
 * a Node Buffer. A read into a string costs a fresh string per chunk and
 * a copy of every byte; a read into a buffer costs neither.
 *
 * A worker may be writing into a buffer (an fs_read in flight) or reading
 * from it (an fs_write in flight). The binding keeps count of both on the
 * loop thread and refuses, with a Lua error, any use that would race the
 * worker: nothing touches a buffer being filled, and nothing changes a
 * buffer being sent. So Lua code never sees half-written bytes.
 */
#include "lloom.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#define LBUFFER_MT "loom_buffer"
/* Where the bytes start in the userdata. The kernel copies into and out
 * of cache-line-aligned memory fastest: 16-byte alignment made 64 KiB
 * reads from the page cache 40 % slower than 32 or more. */
#define LBUFFER_ALIGN 64

static char buffer_mt_key;


lbuffer* lbuffer_test(lua_State* L, int idx) {
  lbuffer* b = lua_touserdata(L, idx);
  int same;

  if (b == NULL || !lua_getmetatable(L, idx))
    return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &buffer_mt_key);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? b : NULL;
}


static lbuffer* check_buffer(lua_State* L, int idx) {
  lbuffer* b = lbuffer_test(L, idx);
  if (b == NULL)
    luaL_typeerror(L, idx, LBUFFER_MT);
  return b;
}


/* A slice shares its bytes, and so its counts, with the buffer it was
 * cut from: a read into one slice keeps Lua out of the whole buffer,
 * which is simpler than tracking ranges and as safe. */
void lbuffer_claim(lua_State* L, lbuffer* b, int arg, int to_fill) {
  if (b->owner->filling > 0)
    luaL_argerror(L, arg, "buffer is being filled by a pending fs_read");
  if (to_fill && b->owner->sending > 0)
    luaL_argerror(L, arg, "buffer is being sent by a pending fs_write");
}


void lbuffer_hold(lbuffer* b, int to_fill) {
  if (to_fill)
    b->owner->filling++;
  else
    b->owner->sending++;
}


void lbuffer_release(lbuffer* b, int to_fill) {
  if (to_fill)
    b->owner->filling--;
  else
    b->owner->sending--;
}


/* uv.new_buffer(size): size zeroed bytes. */
static int new_buffer(lua_State* L) {
  lua_Integer size = luaL_checkinteger(L, 1);
  lbuffer* b;
  uintptr_t start;

  luaL_argcheck(L, size >= 0 && (uint64_t) size <= SIZE_MAX / 2, 1,
                "size out of range");
  b = lua_newuserdatauv(L, sizeof(*b) + (size_t) size + LBUFFER_ALIGN, 0);
  start = (uintptr_t) (b + 1);
  b->base = (char*) ((start + LBUFFER_ALIGN - 1) &
                     ~(uintptr_t) (LBUFFER_ALIGN - 1));
  b->size = (size_t) size;
  b->owner = b;
  b->filling = 0;
  b->sending = 0;
  memset(b->base, 0, b->size);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &buffer_mt_key);
  lua_setmetatable(L, -2);
  return 1;
}


/* A position as string.sub takes it: negative counts from the end. */
static size_t start_of(lua_Integer pos, size_t len) {
  if (pos > 0)
    return (size_t) pos;
  if (pos == 0)
    return 1;
  if (pos < -(lua_Integer) len)
    return 1;
  return len + (size_t) pos + 1;
}


static size_t end_of(lua_Integer pos, size_t len) {
  if (pos > (lua_Integer) len)
    return len;
  if (pos >= 0)
    return (size_t) pos;
  if (pos < -(lua_Integer) len)
    return 0;
  return len + (size_t) pos + 1;
}


/* buf:sub([i [, j]]): the bytes i..j as a string, as string.sub. */
static int buffer_sub(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  size_t i = start_of(luaL_optinteger(L, 2, 1), b->size);
  size_t j = end_of(luaL_optinteger(L, 3, -1), b->size);

  lbuffer_claim(L, b, 1, 0);
  if (i > j)
    lua_pushliteral(L, "");
  else
    lua_pushlstring(L, b->base + i - 1, j - i + 1);
  return 1;
}


/* buf:byte([i [, j]]): the bytes i..j as integers, as string.byte. */
static int buffer_byte(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  lua_Integer first = luaL_optinteger(L, 2, 1);
  size_t i = start_of(first, b->size);
  size_t j = end_of(luaL_optinteger(L, 3, first), b->size);
  size_t k;

  lbuffer_claim(L, b, 1, 0);
  if (i > j)
    return 0;
  if (j - i >= INT_MAX || !lua_checkstack(L, (int) (j - i + 1)))
    return luaL_error(L, "byte: too many results");
  for (k = i; k <= j; k++)
    lua_pushinteger(L, (unsigned char) b->base[k - 1]);
  return (int) (j - i + 1);
}


/* buf:slice([i [, j]]): a buffer over bytes i..j of this one (indices as
 * string.sub), sharing them: no copy. The slice keeps the buffer alive. */
static int buffer_slice(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  size_t i = start_of(luaL_optinteger(L, 2, 1), b->size);
  size_t j = end_of(luaL_optinteger(L, 3, -1), b->size);
  lbuffer* s = lua_newuserdatauv(L, sizeof(*s), 1);    /* b [i j] s */

  s->base = b->base + (i <= j ? i - 1 : 0);
  s->size = i <= j ? j - i + 1 : 0;
  s->owner = b->owner;
  s->filling = 0;
  s->sending = 0;
  /* The anchor is the owner, not b: a slice of a slice must not keep a
   * chain of intermediate slices alive. */
  if (b->owner == b)
    lua_pushvalue(L, 1);                                /* ... s owner */
  else
    lua_getiuservalue(L, 1, 1);                         /* ... s owner */
  lua_setiuservalue(L, -2, 1);                          /* ... s */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &buffer_mt_key);
  lua_setmetatable(L, -2);
  return 1;
}


/* buf:set(i, s): copies s into the buffer from position i (negative
 * counts from the end); returns the position after the last byte. */
static int buffer_set(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  lua_Integer pos = luaL_checkinteger(L, 2);
  size_t len;
  const char* s = luaL_checklstring(L, 3, &len);
  size_t i;

  if (pos < 0)
    pos += (lua_Integer) b->size + 1;
  luaL_argcheck(L, pos >= 1 && (uint64_t) pos <= b->size + 1, 2,
                "position out of range");
  i = (size_t) pos;
  luaL_argcheck(L, len <= b->size - (i - 1), 3,
                "string does not fit in the buffer");
  lbuffer_claim(L, b, 1, 1);
  memcpy(b->base + i - 1, s, len);
  lua_pushinteger(L, (lua_Integer) (i + len));
  return 1;
}


/* buf:fill(byte [, i [, j]]): sets bytes i..j (default all) to byte. */
static int buffer_fill(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  lua_Integer value = luaL_checkinteger(L, 2);
  size_t i = start_of(luaL_optinteger(L, 3, 1), b->size);
  size_t j = end_of(luaL_optinteger(L, 4, -1), b->size);

  luaL_argcheck(L, value >= 0 && value <= 255, 2, "byte out of range");
  lbuffer_claim(L, b, 1, 1);
  if (i <= j)
    memset(b->base + i - 1, (int) value, j - i + 1);
  lua_settop(L, 1);
  return 1;
}


static int buffer_len(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) check_buffer(L, 1)->size);
  return 1;
}


static int buffer_tostring(lua_State* L) {
  lbuffer* b = check_buffer(L, 1);
  lua_pushfstring(L, LBUFFER_MT ": %p (%I bytes)", (void*) b,
                  (lua_Integer) b->size);
  return 1;
}


void lbuffer_register(lua_State* L) {
  static const luaL_Reg methods[] = {
    {"sub", buffer_sub},
    {"slice", buffer_slice},
    {"byte", buffer_byte},
    {"set", buffer_set},
    {"fill", buffer_fill},
    {NULL, NULL}
  };

  lmeta_register(L, -1, LBUFFER_MT, buffer_tostring, NULL, methods);
  luaL_getmetatable(L, LBUFFER_MT);                     /* mt */
  lua_pushcfunction(L, buffer_len);
  lua_setfield(L, -2, "__len");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &buffer_mt_key);
}


const luaL_Reg lbuffer_functions[] = {
  {"new_buffer", new_buffer},
  {NULL, NULL}
};
