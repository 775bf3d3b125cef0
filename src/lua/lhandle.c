/* SPDX-License-Identifier: MIT */
/* lhandle.c: handle userdata: creation, anchoring, checking, callbacks,
 * metatables, and the functions every handle type shares.
 *
 * Layout: the userdata's memory is the core handle itself (or a binding
 * struct that starts with it), so a handle costs one allocation, and it
 * has no user values (Lua's header is 24 bytes smaller without). The
 * handle's `data` packs two registry references: the low 32 bits anchor
 * the userdata from creation until its close callback has run (an open
 * handle is never collected, a closed one is ordinary garbage); the high
 * 32 bits hold the current callback. close() replaces the event callback
 * with the close callback, since a closing handle never fires events
 * again; restarting with a new callback overwrites the same registry slot.
 */
#include "lloom.h"

#include <stdint.h>

_Static_assert(sizeof(void*) >= 8, "two references are packed in `data`");


static int anchor_ref(const loom_handle_t* h) {
  return (int) (int32_t) (uint32_t) (uintptr_t) h->data;
}


static int callback_ref(const loom_handle_t* h) {
  return (int) (int32_t) (uint32_t) ((uintptr_t) h->data >> 32);
}


static void set_refs(loom_handle_t* h, int anchor, int callback) {
  h->data = (void*) (((uintptr_t) (uint32_t) callback << 32) |
                     (uintptr_t) (uint32_t) anchor);
}


void* lh_new(lua_State* L, const lh_type* type, size_t size) {
  void* p = lua_newuserdatauv(L, size, 0);              /* ud */
  lua_getiuservalue(L, lua_upvalueindex(1), (int) type->type); /* ud mt */
  lua_setmetatable(L, -2);                              /* ud */
  return p;
}


int lh_pin(lua_State* L, int idx) {
  lua_pushvalue(L, idx);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}


void lh_unpin(lua_State* L, int pin) {
  luaL_unref(L, LUA_REGISTRYINDEX, pin);
}


typedef struct {
  int first, second;
} pin_pair_t;

/* Takes both pins inside a protected call: the second luaL_ref may raise
 * a memory error, and the first pin must not be left behind then. */
static int pin_pair(lua_State* L) {
  pin_pair_t* p = lua_touserdata(L, 1);
  p->first = lh_pin(L, 2);
  if (!lua_isnil(L, 3))
    p->second = lh_pin(L, 3);
  return 0;
}


void lh_pin2(lua_State* L, int idx, int cb_idx, int* pin, int* cb_pin) {
  pin_pair_t p = {LUA_NOREF, LUA_NOREF};
  int status;

  idx = lua_absindex(L, idx);
  cb_idx = lua_absindex(L, cb_idx);
  luaL_checkstack(L, 4, NULL);
  lua_pushcfunction(L, pin_pair);
  lua_pushlightuserdata(L, &p);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, cb_idx);
  status = lua_pcall(L, 3, 0, 0);
  if (status != LUA_OK) {
    /* luaL_unref only writes into slots that exist: it cannot fail. */
    lh_unpin(L, p.first);
    lua_error(L);
  }
  *pin = p.first;
  *cb_pin = p.second;
}


void lh_anchor(loom_handle_t* h, int pin, int cb_pin) {
  set_refs(h, pin, cb_pin);
}


/* Every handle metatable holds this address at [1]: an integer key in
 * the metatable's array part is found without hashing a name, and this
 * check runs on every method call of every stream. */
static const char handle_marker = 0;

loom_handle_t* lh_test(lua_State* L, int idx) {
  void* p = lua_touserdata(L, idx);
  int is_handle;

  if (p == NULL || !lua_getmetatable(L, idx))
    return NULL;
  is_handle = lua_rawgeti(L, -1, 1) == LUA_TLIGHTUSERDATA &&
              lua_touserdata(L, -1) == &handle_marker;  /* mt marker */
  lua_pop(L, 2);
  return is_handle ? p : NULL;
}


void* lmeta_test(lua_State* L, int idx, const void* mt) {
  void* p = lua_touserdata(L, idx);
  int same;

  if (p == NULL || !lua_getmetatable(L, idx))
    return NULL;
  same = lua_topointer(L, -1) == mt;
  lua_pop(L, 1);
  return same ? p : NULL;
}


/* The userdata at idx if its metatable is the type's, else NULL. */
static void* test_type(lua_State* L, int idx, const lh_type* type) {
  const lctx* ctx = lua_touserdata(L, lua_upvalueindex(1));

  return lmeta_test(L, idx, ctx->metatables[type->type]);
}


static loom_handle_t* check_maybe_closed(lua_State* L, int idx,
                                         const lh_type* type) {
  loom_handle_t* h = type != NULL ? test_type(L, idx, type)
                                  : lh_test(L, idx);
  if (h == NULL)
    luaL_typeerror(L, idx, type != NULL ? type->mtname : "uv_handle");
  return h;
}


/* A closed handle passes as a closing one does: as in luv, operations on
 * it answer with the core's error (EINVAL, EBADF, ENOTCONN) instead of
 * raising, so a program that closes a handle in one callback and touches
 * it in another goes on. Only close itself raises ("already closing"). */
loom_handle_t* lh_check(lua_State* L, int idx, const lh_type* type) {
  loom_handle_t* h = check_maybe_closed(L, idx, type);
  if (loom_is_closed(h)) {
    /* After loop_close the handle's loop is gone: nothing may reach the
     * core with it. */
    const lctx* ctx = lua_touserdata(L, lua_upvalueindex(1));
    if (ctx == NULL || ctx->closed || ctx->loop == NULL)
      luaL_argerror(L, idx, "handle is closed, and so is its loop");
  }
  return h;
}


int lh_is_callable(lua_State* L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TFUNCTION)
    return 1;
  if ((t == LUA_TTABLE || t == LUA_TUSERDATA) &&
      luaL_getmetafield(L, idx, "__call") != LUA_TNIL) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}


void lh_check_callable(lua_State* L, int idx) {
  if (!lh_is_callable(L, idx))
    luaL_typeerror(L, idx, "callable");
}


void lh_check_callback(lua_State* L, int handle_idx, int cb_idx) {
  loom_handle_t* h = lua_touserdata(L, handle_idx);

  lh_check_callable(L, cb_idx);
  /* A closing handle's slot belongs to its close callback, and the core
   * refuses to start it anyway. */
  if (callback_ref(h) < 0 && !loom_is_closing(h)) {
    lua_pushboolean(L, 0);
    set_refs(h, anchor_ref(h), luaL_ref(L, LUA_REGISTRYINDEX));
  }
}


/* Stores the value at cb_idx as h's callback: in its existing registry
 * slot if it has one, so restarting a handle allocates nothing. */
static void store_callback(lua_State* L, loom_handle_t* h, int cb_idx) {
  int ref = callback_ref(h);

  lua_pushvalue(L, cb_idx);
  if (ref >= 0)
    lua_rawseti(L, LUA_REGISTRYINDEX, ref);
  else
    set_refs(h, anchor_ref(h), luaL_ref(L, LUA_REGISTRYINDEX));
}


static void clear_callback(lua_State* L, loom_handle_t* h) {
  int ref = callback_ref(h);

  if (ref >= 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    set_refs(h, anchor_ref(h), LUA_NOREF);
  }
}


void lh_set_callback(lua_State* L, int handle_idx, int cb_idx) {
  store_callback(L, lua_touserdata(L, handle_idx), cb_idx);
}


void lh_push_handle(lua_State* L, loom_handle_t* h) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, anchor_ref(h));
}


void lh_push_callback(lua_State* L, loom_handle_t* h) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, callback_ref(h));
}


/* What the binding attached to a handle beyond its Lua values. */
static void release_extra(loom_handle_t* h) {
  if (h->type == LOOM_ASYNC)
    lasync_release(h);
}


void lh_on_close(loom_handle_t* h) {
  lctx* ctx = loom_loop_get_data(h->loop);
  lua_State* L = ctx->L;
  int anchor = anchor_ref(h);

  release_extra(h);
  lh_push_callback(L, h);                               /* cb */
  clear_callback(L, h);
  /* From here the userdata is ordinary garbage; h is not touched again. */
  set_refs(h, LUA_NOREF, LUA_NOREF);
  luaL_unref(L, LUA_REGISTRYINDEX, anchor);
  if (lua_isnil(L, -1))
    lua_pop(L, 1);
  else
    lctx_call(ctx, 0);
}


static int plain_closer(loom_handle_t* h, loom_close_cb cb) {
  loom_close(h, cb);
  return 0;
}


int lh_close_with(lua_State* L, int idx, int cb_idx, lh_closer closer) {
  loom_handle_t* h = lh_check(L, idx, NULL);
  int pin = LUA_NOREF;
  int err;

  if (loom_is_closing(h))
    return luaL_error(L, "handle %p is already closing", (void*) h);
  if (!lua_isnoneornil(L, cb_idx)) {
    lh_check_callable(L, cb_idx);
    /* Pinned before the close starts: should that take memory Lua does
     * not have, the handle is left as it was instead of closing without
     * the callback its owner waits for. */
    pin = lh_pin(L, cb_idx);
  }
  release_extra(h);
  err = closer(h, lh_on_close);
  if (err != 0) {
    lh_unpin(L, pin);
    return lr_fail(L, err);
  }
  /* Closing: the event callback gives way to the close callback. */
  clear_callback(L, h);
  if (pin != LUA_NOREF)
    set_refs(h, anchor_ref(h), pin);
  return 0;
}


static int handle_close(lua_State* L) {
  return lh_close_with(L, 1, 2, plain_closer);
}


static void release_walk(loom_handle_t* h, void* arg) {
  (void) arg;
  release_extra(h);
}


void lh_release_all(lctx* ctx) {
  loom_walk(ctx->loop, release_walk, NULL);
}


/* __close: `local t <close> = uv.new_timer()` closes t at scope exit. */
static int handle_close_mm(lua_State* L) {
  loom_handle_t* h = lh_test(L, 1);

  if (h == NULL || loom_is_closing(h))
    return 0;
  clear_callback(L, h);
  release_extra(h);
  loom_close(h, lh_on_close);
  return 0;
}


static int handle_tostring(lua_State* L) {
  loom_handle_t* h = check_maybe_closed(L, 1, NULL);
  lua_pushfstring(L, "uv_%s_t: %p", loom_handle_type_name(h->type), (void*) h);
  return 1;
}


static int handle_is_active(lua_State* L) {
  loom_handle_t* h = lh_check(L, 1, NULL);
  lua_pushboolean(L, loom_is_active(h));
  return 1;
}


/* A fully closed handle is still "closing" (it will never be anything
 * else), so this one question accepts it. */
static int handle_is_closing(lua_State* L) {
  loom_handle_t* h = check_maybe_closed(L, 1, NULL);
  lua_pushboolean(L, loom_is_closing(h));
  return 1;
}


static int handle_ref(lua_State* L) {
  loom_ref(lh_check(L, 1, NULL));
  return 0;
}


static int handle_unref(lua_State* L) {
  loom_unref(lh_check(L, 1, NULL));
  return 0;
}


static int handle_has_ref(lua_State* L) {
  lua_pushboolean(L, loom_has_ref(lh_check(L, 1, NULL)));
  return 1;
}


static int handle_fileno(lua_State* L) {
  loom_handle_t* h = lh_check(L, 1, NULL);
  int fd;
  int err = loom_fileno(h, &fd);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, fd);
  return 1;
}


/* With no size (or 0) the current size is returned; otherwise it is set
 * and 0 returned, as luv does. */
static int buffer_size(lua_State* L, int (*fn)(loom_handle_t*, int*)) {
  loom_handle_t* h = lh_check(L, 1, NULL);
  lua_Integer size = luaL_optinteger(L, 2, 0);
  int value;
  int err;

  luaL_argcheck(L, size >= 0 && size <= 0x7fffffff, 2, "out of range");
  value = (int) size;
  err = fn(h, &value);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, size == 0 ? value : 0);
  return 1;
}


static int handle_send_buffer_size(lua_State* L) {
  return buffer_size(L, loom_send_buffer_size);
}


static int handle_recv_buffer_size(lua_State* L) {
  return buffer_size(L, loom_recv_buffer_size);
}


static int handle_get_type(lua_State* L) {
  loom_handle_t* h = check_maybe_closed(L, 1, NULL);
  lua_pushstring(L, loom_handle_type_name(h->type));
  lua_pushinteger(L, h->type);
  return 2;
}


const luaL_Reg lh_handle_functions[] = {
  {"is_active", handle_is_active},
  {"is_closing", handle_is_closing},
  {"close", handle_close},
  {"ref", handle_ref},
  {"unref", handle_unref},
  {"has_ref", handle_has_ref},
  {"handle_get_type", handle_get_type},
  {"fileno", handle_fileno},
  {"send_buffer_size", handle_send_buffer_size},
  {"recv_buffer_size", handle_recv_buffer_size},
  {NULL, NULL}
};

static const luaL_Reg handle_methods[] = {
  {"is_active", handle_is_active},
  {"is_closing", handle_is_closing},
  {"close", handle_close},
  {"ref", handle_ref},
  {"unref", handle_unref},
  {"has_ref", handle_has_ref},
  {"get_type", handle_get_type},
  {"fileno", handle_fileno},
  {"send_buffer_size", handle_send_buffer_size},
  {"recv_buffer_size", handle_recv_buffer_size},
  {NULL, NULL}
};

static const luaL_Reg handle_meta[] = {
  {"__tostring", handle_tostring},
  {"__close", handle_close_mm},
  {NULL, NULL}
};


/* Builds the metatable "uv_<type>": __name, __tostring, __close, the
 * handle marker for argument checks (at [1]), and __index with the
 * shared handle methods plus the type's own. Expects the context on top
 * of the stack. */
void lh_register_type(lua_State* L, const lh_type* type) {
  int ctx_idx = lua_gettop(L);
  lctx* ctx = lua_touserdata(L, ctx_idx);

  luaL_newmetatable(L, type->mtname);                   /* ctx mt */
  ctx->metatables[type->type] = lua_topointer(L, -1);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, ctx_idx, (int) type->type);
  lua_pushlightuserdata(L, (void*) &handle_marker);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, ctx_idx);
  luaL_setfuncs(L, handle_meta, 1);
  lua_newtable(L);                                      /* ctx mt methods */
  lua_pushvalue(L, ctx_idx);
  luaL_setfuncs(L, handle_methods, 1);
  if (type->shared != NULL) {
    lua_pushvalue(L, ctx_idx);
    luaL_setfuncs(L, type->shared, 1);
  }
  lua_pushvalue(L, ctx_idx);
  luaL_setfuncs(L, type->methods, 1);
  lua_setfield(L, -2, "__index");                       /* ctx mt */
  lua_pop(L, 1);                                        /* ctx */
}


/* A metatable for a non-handle userdata (dir, work ctx): __tostring, an
 * optional __gc, and methods that get the context (at ctx_idx) as their
 * upvalue, as the module's functions do. */
void lmeta_register(lua_State* L, int ctx_idx, const char* name,
                    lua_CFunction tostring, lua_CFunction gc,
                    const luaL_Reg* methods) {
  ctx_idx = lua_absindex(L, ctx_idx);
  luaL_newmetatable(L, name);                           /* mt */
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  if (gc != NULL) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_newtable(L);                                      /* mt index */
  lua_pushvalue(L, ctx_idx);
  luaL_setfuncs(L, methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
