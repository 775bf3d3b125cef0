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
 *
 * A slot may also name its owner: the C memory of a request that lives
 * outside the Lua heap (lfs.c). Each slot counts how often it was freed,
 * so a Lua handle that remembers a slot and that count finds its request
 * while it is in flight, and nothing once the slot was reused.
 */
#include "lloom.h"

#include <stdlib.h>
#include <string.h>


void lanchor_init(lctx* ctx, lua_State* L) {
  lua_createtable(L, 0, 0);
  ctx->anchors_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}


void lanchor_free(lctx* ctx, void (*free_owner)(lctx* ctx, void* owner)) {
  int slot;

  for (slot = 1; slot <= ctx->anchor_top; slot++) {
    if (ctx->anchor_owner[slot] != NULL)
      free_owner(ctx, ctx->anchor_owner[slot]);
  }
  free(ctx->anchor_free);
  free(ctx->anchor_owner);
  free(ctx->anchor_serial);
  ctx->anchor_free = NULL;
  ctx->anchor_owner = NULL;
  ctx->anchor_serial = NULL;
  ctx->anchor_nfree = 0;
  ctx->anchor_cap = 0;
  ctx->anchor_top = 0;
}


/* Grows the C arrays to `cap` slots; the capacity counts only once all
 * three have it. */
static int grow(lctx* ctx, int cap) {
  int* free_slots = realloc(ctx->anchor_free, (size_t) cap * sizeof(int));
  void** owners;
  unsigned int* serials;

  if (free_slots == NULL)
    return 0;
  ctx->anchor_free = free_slots;
  /* Owners and serials are indexed by slot, from 1. */
  owners = realloc(ctx->anchor_owner, (size_t) (cap + 1) * sizeof(void*));
  if (owners == NULL)
    return 0;
  ctx->anchor_owner = owners;
  serials = realloc(ctx->anchor_serial,
                    (size_t) (cap + 1) * sizeof(unsigned int));
  if (serials == NULL)
    return 0;
  ctx->anchor_serial = serials;
  memset(owners + ctx->anchor_cap + 1, 0,
         (size_t) (cap - ctx->anchor_cap) * sizeof(void*));
  memset(serials + ctx->anchor_cap + 1, 0,
         (size_t) (cap - ctx->anchor_cap) * sizeof(unsigned int));
  ctx->anchor_cap = cap;
  return 1;
}


int lanchor_put(lctx* ctx, lua_State* L, int idx) {
  int slot;

  idx = lua_absindex(L, idx);
  /* The arrays grow here, never in lanchor_take: a completion, or a
   * start that failed, must be able to give its slot back without
   * allocating. */
  if (ctx->anchor_nfree == 0 && ctx->anchor_top == ctx->anchor_cap &&
      !grow(ctx, ctx->anchor_cap > 0 ? ctx->anchor_cap * 2 : 64))
    luaL_error(L, "not enough memory");
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
  ctx->anchor_owner[slot] = NULL;
  ctx->anchor_serial[slot]++;
  ctx->anchor_free[ctx->anchor_nfree++] = slot;
}


void lanchor_own(lctx* ctx, int slot, void* owner) {
  ctx->anchor_owner[slot] = owner;
}


unsigned int lanchor_serial(lctx* ctx, int slot) {
  return ctx->anchor_serial[slot];
}


void* lanchor_owner(lctx* ctx, int slot, unsigned int serial) {
  /* Slots up to anchor_top exist, so the arrays do too. */
  if (slot < 1 || slot > ctx->anchor_top ||
      ctx->anchor_serial[slot] != serial)
    return NULL;
  return ctx->anchor_owner[slot];
}
