/* SPDX-License-Identifier: MIT */
/* lsem.c: semaphores (luv's new_sem, sem_post, sem_wait, sem_trywait).
 * A semaphore is a shared object (lshared.c): pass it to new_thread or
 * queue_work and both sides hold the same one. */
#include "lloom.h"

#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>

typedef struct {
  lshared_t base;
  loom_sem_t sem;
} lsem_t;

static void sem_destroy_shared(lshared_t* base) {
  lsem_t* s = (lsem_t*) base;
  loom_sem_destroy(&s->sem);
  free(s);
}

static int sem_post_lua(lua_State* L);
static int sem_wait_lua(lua_State* L);
static int sem_trywait_lua(lua_State* L);

static const luaL_Reg sem_methods[] = {
  {"post", sem_post_lua},
  {"wait", sem_wait_lua},
  {"trywait", sem_trywait_lua},
  {NULL, NULL}
};

static const lshared_kind sem_kind = {
  "uv_sem", "uv_sem_t", sem_methods, NULL, sem_destroy_shared, NULL
};


static loom_sem_t* check_sem(lua_State* L, int idx) {
  return &((lsem_t*) lshared_check(L, idx, &sem_kind))->sem;
}


/* uv.new_sem([value]): value is 0 to SEM_VALUE_MAX. */
static int new_sem(lua_State* L) {
  lua_Integer value = luaL_optinteger(L, 1, 0);
  lsem_t* s;
  int err;

  luaL_argcheck(L, value >= 0 && value <= SEM_VALUE_MAX, 1,
                "value must be between 0 and SEM_VALUE_MAX");
  s = malloc(sizeof(*s));
  if (s == NULL)
    return lr_fail(L, LOOM_ENOMEM);
  err = loom_sem_init(&s->sem, (unsigned int) value);
  if (err != 0) {
    free(s);
    return lr_fail(L, err);
  }
  atomic_init(&s->base.refs, 0);
  s->base.kind = &sem_kind;
  LMEM_EXEMPT(LCTX(L));  /* s is C memory until the userdata owns it. */
  lshared_push(L, &s->base);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


static int sem_post_lua(lua_State* L) {
  loom_sem_post(check_sem(L, 1));
  return 0;
}


/* Blocks the calling thread (and its loop) until the value is positive. */
static int sem_wait_lua(lua_State* L) {
  loom_sem_wait(check_sem(L, 1));
  return 0;
}


static int sem_trywait_lua(lua_State* L) {
  lua_pushboolean(L, loom_sem_trywait(check_sem(L, 1)) == 0);
  return 1;
}


const luaL_Reg lsem_functions[] = {
  {"new_sem", new_sem},
  {"sem_post", sem_post_lua},
  {"sem_wait", sem_wait_lua},
  {"sem_trywait", sem_trywait_lua},
  {NULL, NULL}
};
