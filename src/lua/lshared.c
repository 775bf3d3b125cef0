/* SPDX-License-Identifier: MIT */
/* lshared.c: objects that several Lua states (threads, workers) may hold
 * at once: semaphores, threads and async handles.
 *
 * The object lives in C memory with an atomic reference count. In each
 * state it is a small userdata that holds one reference; passing it to
 * another state (thread arguments, work arguments, async sends) encodes
 * the pointer with a reference of its own (xfer.c), and the receiving
 * state gets a new userdata. The last reference destroys the object,
 * whichever thread drops it.
 *
 * A metatable that can be shared has a `__loom_share` field: a light
 * userdata pointing to an lshared_getter, which finds the object in the
 * userdata. The proxy types made here store just the pointer; an async
 * handle stores it beside the core handle (lasync.c).
 */
#include "lloom.h"

#include <stdlib.h>


static lshared_t* box_get(void* ud) {
  return *(lshared_t**) ud;
}

static const lshared_getter box_getter = {box_get};


void lshared_ref(lshared_t* s) {
  atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}


void lshared_unref(lshared_t* s) {
  if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
    s->kind->destroy(s);
}


lshared_t* lshared_test(lua_State* L, int idx) {
  const lshared_getter* g;
  void* ud = lua_touserdata(L, idx);

  if (ud == NULL || lua_islightuserdata(L, idx) ||
      luaL_getmetafield(L, idx, "__loom_share") == LUA_TNIL)
    return NULL;
  g = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return g != NULL ? g->get(ud) : NULL;
}


void lshared_mark(lua_State* L, int mt_idx, const lshared_getter* getter) {
  mt_idx = lua_absindex(L, mt_idx);
  lua_pushlightuserdata(L, (void*) getter);
  lua_setfield(L, mt_idx, "__loom_share");
}


static int box_gc(lua_State* L) {
  lshared_t** box = lua_touserdata(L, 1);

  if (*box != NULL) {
    lshared_unref(*box);
    *box = NULL;
  }
  return 0;
}


static int box_tostring(lua_State* L) {
  lshared_t** box = lua_touserdata(L, 1);
  const void* id = *box;

  if (*box != NULL && (*box)->kind->identity != NULL)
    id = (*box)->kind->identity(*box);
  luaL_getmetafield(L, 1, "__loom_display");
  lua_pushfstring(L, "%s: %p", lua_tostring(L, -1), id);
  return 1;
}


void lshared_metatable(lua_State* L, const lshared_kind* kind) {
  if (luaL_newmetatable(L, kind->mtname)) {             /* mt */
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, box_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, kind->display);
    lua_setfield(L, -2, "__loom_display");
    if (kind->eq != NULL) {
      lua_pushcfunction(L, kind->eq);
      lua_setfield(L, -2, "__eq");
    }
    lua_newtable(L);
    luaL_setfuncs(L, kind->methods, 0);
    lua_setfield(L, -2, "__index");
    lshared_mark(L, -1, &box_getter);
  }
}


void lshared_push(lua_State* L, lshared_t* s) {
  lshared_t** box = lua_newuserdatauv(L, sizeof(*box), 0);

  *box = NULL;
  lshared_metatable(L, s->kind);
  lua_setmetatable(L, -2);
  lshared_ref(s);
  *box = s;
}


lshared_t* lshared_check(lua_State* L, int idx, const lshared_kind* kind) {
  lshared_t** box = luaL_checkudata(L, idx, kind->mtname);
  if (*box == NULL)
    luaL_argerror(L, idx, "object was finalized");
  return *box;
}
