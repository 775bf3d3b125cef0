/* SPDX-License-Identifier: MIT */
/* echo_floor.c: the two bounds between the raw C echo server and loom's
 * Lua echo server, for the TCP rows of bench/net.sh.
 *
 *   echo_floor core PORT   echo on loom's core alone: the read callback
 *                          writes the bytes back with loom_try_write
 *   echo_floor lua PORT    the same, plus one protected call per read of
 *                          the Lua function
 *                            function(err, data) if data then w(data) end end
 *                          where w is a bare C function that writes its
 *                          string (no handle argument to check, no
 *                          method lookup, no request to return)
 *
 * "core" is what loom costs without Lua; "lua" is the least any Lua
 * binding can cost, since each read must become a Lua string passed to a
 * Lua callback. loom's own server (bench/echo.lua) does what "lua" does
 * plus the binding's work: the handle check, `client:write`'s method
 * lookup and its checks, the returned request. Prints "ready" once
 * listening, runs until killed. */
#include <loom.h>
#include <loom/net.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static loom_loop_t* loop;
static loom_tcp_t server;
static lua_State* L;
static int with_lua;
/* The connection whose read callback is running: the Lua function's
 * write goes there. */
static loom_stream_t* reading;


static int write_string(lua_State* L) {
  size_t len;
  const char* bytes = luaL_checklstring(L, 1, &len);
  loom_buf_t buf = {.base = (char*) bytes, .len = len};

  /* Like the core server: a 64-byte echo on loopback always fits. */
  loom_try_write(reading, &buf, 1);
  return 0;
}


static void free_handle(loom_handle_t* h) {
  free(h);
}


static void on_read(loom_stream_t* s, ssize_t nread, const loom_buf_t* buf) {
  if (nread < 0) {
    loom_close((loom_handle_t*) s, free_handle);
    return;
  }
  if (nread == 0)
    return;
  if (!with_lua) {
    loom_buf_t echo = {.base = buf->base, .len = (size_t) nread};
    loom_try_write(s, &echo, 1);
    return;
  }
  reading = s;
  lua_pushvalue(L, 1);                                  /* fn fn */
  lua_pushnil(L);
  lua_pushlstring(L, buf->base, (size_t) nread);        /* fn fn nil data */
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    fprintf(stderr, "echo_floor: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}


static void on_connection(loom_stream_t* listener, int status) {
  loom_tcp_t* client;

  if (status != 0 || (client = malloc(sizeof(*client))) == NULL)
    return;
  loom_tcp_init_ex(loop, client, 0);
  if (loom_accept(listener, (loom_stream_t*) client) != 0 ||
      loom_read_start((loom_stream_t*) client, on_read) != 0)
    loom_close((loom_handle_t*) client, free_handle);
}


static void start_lua(void) {
  static const char chunk[] =
      "local w = ...\n"
      "return function(err, data) if data then w(data) end end\n";

  L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_loadstring(L, chunk) != LUA_OK)
    exit(1);
  lua_pushcfunction(L, write_string);
  lua_call(L, 1, 1);                                    /* fn at index 1 */
}


int main(int argc, char** argv) {
  struct sockaddr_in addr;

  if (argc != 3 || (strcmp(argv[1], "core") != 0 && strcmp(argv[1], "lua") != 0)) {
    fprintf(stderr, "usage: echo_floor core|lua PORT\n");
    return 2;
  }
  with_lua = strcmp(argv[1], "lua") == 0;
  if (with_lua)
    start_lua();
  if (loom_loop_new(&loop) != 0 ||
      loom_tcp_init_ex(loop, &server, 0) != 0 ||
      loom_ip4_addr("127.0.0.1", atoi(argv[2]), &addr) != 0 ||
      loom_tcp_bind(&server, (struct sockaddr*) &addr, 0) != 0 ||
      loom_listen((loom_stream_t*) &server, 1024, on_connection) != 0) {
    fprintf(stderr, "echo_floor: cannot listen on port %s\n", argv[2]);
    return 1;
  }
  puts("ready");
  fflush(stdout);
  return loom_run(loop, LOOM_RUN_DEFAULT) < 0;
}
