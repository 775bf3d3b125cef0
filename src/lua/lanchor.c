/* SPDX-License-Identifier: MIT */
/* lanchor.c: anchors for the values the core holds a pointer into (a
 * request the kernel or a worker is filling, a queued job): each sits in
 * one slot of a table until its completion takes it out again.
 *
 * luaL_ref does the same in the registry, but threads its free list
 * through the table: every ref and unref reads and writes the list head
 * there too, and a new ref asks the table for its length. Here the free
 * slots are a C array, so anchoring is one table write and taking is one
 * read and one write. Slots are reused last freed first, which keeps the
 * table's array part dense: it never holds more slots than the most
 * values ever anchored at once.
 */
#include "lloom.h"

#include <stdlib.h>


void lanchor_init(lctx* ctx, lua_State* L) {
  lua_createtable(L, 0, 0);
  ctx->anchors_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}


void lanchor_free(lctx* ctx) {
  free(ctx->anchor_free);
  ctx->anchor_free = NULL;
  ctx->anchor_nfree = 0;
  ctx->anchor_cap = 0;
  ctx->anchor_top = 0;
}


int lanchor_put(lctx* ctx, lua_State* L, int idx) {
  int slot;

  idx = lua_absindex(L, idx);
  /* The free array grows here, never in lanchor_take: a completion, or a
   * start that failed, must be able to give its slot back without
   * allocating. */
  if (ctx->anchor_nfree == 0 && ctx->anchor_top == ctx->anchor_cap) {
    int cap = ctx->anchor_cap > 0 ? ctx->anchor_cap * 2 : 64;
    int* grown = realloc(ctx->anchor_free, (size_t) cap * sizeof(int));
    if (grown == NULL)
      luaL_error(L, "not enough memory");
    ctx->anchor_free = grown;
    ctx->anchor_cap = cap;
  }
  slot = ctx->anchor_nfree > 0 ? ctx->anchor_free[ctx->anchor_nfree - 1]
                               : ctx->anchor_top + 1;
  /* The table may grow, and that may raise: the slot is claimed only
   * once the value is in. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->anchors_ref);  /* anchors */
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
  if (ctx->anchor_nfree > 0)
    ctx->anchor_nfree--;
  else
    ctx->anchor_top++;
  return slot;
}


void lanchor_take(lctx* ctx, lua_State* L, int slot) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->anchors_ref);  /* anchors */
  lua_rawgeti(L, -1, slot);                             /* anchors v */
  lua_pushnil(L);
  lua_rawseti(L, -3, slot);
  lua_remove(L, -2);                                    /* v */
  ctx->anchor_free[ctx->anchor_nfree++] = slot;
}
