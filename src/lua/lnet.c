/* SPDX-License-Identifier: MIT */
/* lnet.c: what the socket bindings share: buffers from Lua strings,
 * addresses as luv shapes them ({ip, port, family}), family names, fds. */
#include "lloom.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>


/* Numbers are taken as their string forms, as luv takes them
 * (lua_tostring). A table holding numbers is copied with the numbers
 * converted, and the copy replaces the argument: the strings must stay
 * alive for as long as the argument does, and the caller's table is not
 * changed. */
static void strings_for_numbers(lua_State* L, int idx, lua_Integer n) {
  lua_Integer i;
  lua_createtable(L, (int) n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    lua_tostring(L, -1);
    lua_rawseti(L, -2, i);
  }
  lua_replace(L, idx);
}


unsigned int lbuf_count(lua_State* L, int idx) {
  lua_Integer n;
  lua_Integer i;
  int numbers = 0;

  if (lua_type(L, idx) == LUA_TSTRING)
    return 1;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_tostring(L, idx);  /* converts the argument in place */
    return 1;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_typeerror(L, idx, "string or table of strings");
  n = (lua_Integer) lua_rawlen(L, idx);
  for (i = 1; i <= n; i++) {
    int t = lua_rawgeti(L, idx, i);
    if (t == LUA_TNUMBER)
      numbers = 1;
    else if (t != LUA_TSTRING)
      luaL_argerror(L, idx, lua_pushfstring(L, "item %d is not a string",
                                             (int) i));
    lua_pop(L, 1);
  }
  if (numbers)
    strings_for_numbers(L, idx, n);
  if (n > INT_MAX / 2)
    luaL_argerror(L, idx, "too many buffers");
  return (unsigned int) n;
}


/* The bufs point into the Lua strings: the caller keeps them alive. */
void lbuf_fill(lua_State* L, int idx, loom_buf_t* bufs, unsigned int n) {
  size_t len;

  if (lua_type(L, idx) == LUA_TSTRING) {
    bufs[0].base = (void*) lua_tolstring(L, idx, &len);
    bufs[0].len = len;
    return;
  }
  lbuf_fill_from(L, idx, 1, bufs, n);
}


void lbuf_fill_from(lua_State* L, int idx, lua_Integer first, loom_buf_t* bufs,
                    unsigned int n) {
  unsigned int i;
  size_t len;

  for (i = 0; i < n; i++) {
    lua_rawgeti(L, idx, first + (lua_Integer) i);
    bufs[i].base = (void*) lua_tolstring(L, -1, &len);
    bufs[i].len = len;
    lua_pop(L, 1); /* the table still holds the string */
  }
}


/* The buffers of the value at idx, in `small` when n fits (LBUF_SMALL),
 * else in a scratch userdata left on the stack. For calls that are done
 * with the bytes before they return (try_write, try_send, sends the core
 * copies). */
loom_buf_t* lbuf_scratch(lua_State* L, int idx, unsigned int n,
                         loom_buf_t* small) {
  loom_buf_t* bufs = small;
  if (n > LBUF_SMALL)
    bufs = lua_newuserdatauv(L, n * sizeof(loom_buf_t), 0);
  lbuf_fill(L, idx, bufs, n);
  return bufs;
}


int lnet_check_fd(lua_State* L, int idx) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, idx,
                "not a valid file descriptor");
  return (int) fd;
}


int lnet_check_port(lua_State* L, int idx) {
  lua_Integer port = luaL_checkinteger(L, idx);
  luaL_argcheck(L, port >= 0 && port <= 65535, idx, "port out of range");
  return (int) port;
}


const char* lcheck_cstring(lua_State* L, int idx) {
  size_t len;
  const char* s = luaL_checklstring(L, idx, &len);
  luaL_argcheck(L, strlen(s) == len, idx, "contains a zero byte");
  return s;
}


const char* lopt_cstring(lua_State* L, int idx, const char* def) {
  if (lua_isnoneornil(L, idx))
    return def;
  return lcheck_cstring(L, idx);
}


/* host and port as luv takes them; a host that is not a numeric address
 * raises, as in luv ("use getaddrinfo for names"). */
void laddr_check(lua_State* L, int host_idx, int port_idx,
                 struct sockaddr_storage* addr) {
  const char* host = lcheck_cstring(L, host_idx);
  int port = lnet_check_port(L, port_idx);

  if (loom_ip_addr(host, port, addr) != 0)
    luaL_error(L, "invalid IP address or port [%s:%d]", host, port);
}


const char* lfamily_name(int family) {
  switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    case AF_UNSPEC: return "unspec";
    default: return NULL;
  }
}


/* nil, a family name ("inet", "inet6", "unix", "unspec") or its number. */
int lfamily_check(lua_State* L, int idx) {
  static const char* const names[] = {"unspec", "inet", "inet6", "unix",
                                      NULL};
  static const int values[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX};

  if (lua_isnoneornil(L, idx))
    return AF_UNSPEC;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer f = luaL_checkinteger(L, idx);
    luaL_argcheck(L, f >= 0 && f < 64, idx, "invalid address family");
    return (int) f;
  }
  return values[luaL_checkoption(L, idx, NULL, names)];
}


void laddr_push(lua_State* L, const struct sockaddr* addr) {
  char ip[INET6_ADDRSTRLEN];
  int port = 0;

  lua_createtable(L, 0, 3);
  if (loom_ip_name(addr, ip, sizeof(ip)) == 0) {
    lua_pushstring(L, ip);
    lua_setfield(L, -2, "ip");
  }
  if (addr->sa_family == AF_INET)
    port = ntohs(((const struct sockaddr_in*) addr)->sin_port);
  else if (addr->sa_family == AF_INET6)
    port = ntohs(((const struct sockaddr_in6*) addr)->sin6_port);
  lua_pushinteger(L, port);
  lua_setfield(L, -2, "port");
  if (lfamily_name(addr->sa_family) != NULL) {
    lua_pushstring(L, lfamily_name(addr->sa_family));
    lua_setfield(L, -2, "family");
  }
}


/* A boolean field of an optional flags table. */
int lflag(lua_State* L, int idx, const char* name) {
  int on;
  if (lua_type(L, idx) != LUA_TTABLE)
    return 0;
  lua_getfield(L, idx, name);
  on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}


/* Callers pass a callback or nothing; anything else is a mistake. */
int lopt_callback(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx))
    return 0;
  lh_check_callable(L, idx);
  return idx;
}
