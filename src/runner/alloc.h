/* SPDX-License-Identifier: MIT */
/* alloc.h: the runner's Lua allocator (see alloc.c). */
#ifndef LOOM_RUNNER_ALLOC_H
#define LOOM_RUNNER_ALLOC_H

#include <stddef.h>

typedef struct loom_lua_allocator_s loom_lua_allocator_t;

loom_lua_allocator_t* loom_lua_allocator_new(void);
void loom_lua_allocator_free(loom_lua_allocator_t* a);
/* A lua_Alloc: pass the allocator as its ud. */
void* loom_lua_alloc(void* ud, void* ptr, size_t osize, size_t nsize);

#endif
