/* SPDX-License-Identifier: MIT */
/* ldns.c: luv's dns section: getaddrinfo and getnameinfo. Without a
 * callback they block (getaddrinfo(3)); with one they run through c-ares
 * on the loop and return a request that can be cancelled. */
#include "lloom.h"

#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const char* socktype_name(int type) {
  switch (type) {
    case SOCK_STREAM: return "stream";
    case SOCK_DGRAM: return "dgram";
    case SOCK_RAW: return "raw";
    case SOCK_RDM: return "rdm";
    case SOCK_SEQPACKET: return "seqpacket";
    default: return NULL;
  }
}


/* A protocol's name as /etc/protocols gives it; the usual ones without
 * reading the file for every result. */
static const char* protocol_name(int protocol) {
  struct protoent* p;

  switch (protocol) {
    case IPPROTO_IP: return "ip";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_IPV6: return "ipv6";
    case IPPROTO_ICMPV6: return "ipv6-icmp";
    case IPPROTO_SCTP: return "sctp";
    default:
      p = getprotobynumber(protocol);
      return p != NULL ? p->p_name : NULL;
  }
}


/* luv's hints table: {family, socktype, protocol} and boolean flags. */
static void check_hints(lua_State* L, int idx, struct addrinfo* hints) {
  static const struct {
    const char* name;
    int flag;
  } flags[] = {
    {"addrconfig", AI_ADDRCONFIG}, {"v4mapped", AI_V4MAPPED},
    {"all", AI_ALL}, {"numerichost", AI_NUMERICHOST},
    {"passive", AI_PASSIVE}, {"numericserv", AI_NUMERICSERV},
    {"canonname", AI_CANONNAME},
  };
  size_t i;

  memset(hints, 0, sizeof(*hints));
  if (lua_isnoneornil(L, idx))
    return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "family");
  hints->ai_family = lfamily_check(L, -1);
  lua_getfield(L, idx, "socktype");
  hints->ai_socktype = lua_isnil(L, -1) ? 0 : lsocktype_check(L, -1);
  lua_getfield(L, idx, "protocol");
  hints->ai_protocol = lprotocol_check(L, -1);
  lua_pop(L, 3);
  for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (lflag(L, idx, flags[i].name))
      hints->ai_flags |= flags[i].flag;
}


/* The result list as luv gives it: an array of {addr, family, port,
 * socktype, protocol, canonname}. */
static void push_addrinfo(lua_State* L, const struct addrinfo* ai) {
  char ip[INET6_ADDRSTRLEN];
  int port;
  int i = 0;

  lua_newtable(L);
  for (; ai != NULL; ai = ai->ai_next) {
    lua_createtable(L, 0, 6);
    if (loom_ip_name(ai->ai_addr, ip, sizeof(ip)) == 0) {
      lua_pushstring(L, ip);
      lua_setfield(L, -2, "addr");
    }
    if (lfamily_name(ai->ai_family) != NULL) {
      lua_pushstring(L, lfamily_name(ai->ai_family));
      lua_setfield(L, -2, "family");
    }
    port = ai->ai_family == AF_INET6
               ? ntohs(((struct sockaddr_in6*) ai->ai_addr)->sin6_port)
               : ntohs(((struct sockaddr_in*) ai->ai_addr)->sin_port);
    if (port != 0) {
      lua_pushinteger(L, port);
      lua_setfield(L, -2, "port");
    }
    if (socktype_name(ai->ai_socktype) != NULL) {
      lua_pushstring(L, socktype_name(ai->ai_socktype));
      lua_setfield(L, -2, "socktype");
    }
    if (protocol_name(ai->ai_protocol) != NULL) {
      lua_pushstring(L, protocol_name(ai->ai_protocol));
      lua_setfield(L, -2, "protocol");
    }
    if (ai->ai_canonname != NULL) {
      lua_pushstring(L, ai->ai_canonname);
      lua_setfield(L, -2, "canonname");
    }
    lua_rawseti(L, -2, ++i);
  }
}


static void on_addrinfo(loom_getaddrinfo_t* req, int status,
                        struct addrinfo* res) {
  lreq_t* r = LREQ_OF(req);
  lctx* ctx = loom_loop_get_data(req->loop);
  lua_State* L = ctx->L;

  if (loom_loop_tearing_down(req->loop) || !lreq_finish(ctx, r)) {
    loom_freeaddrinfo(res);
    return;
  }
  lr_push_status(L, status);
  if (status < 0)
    lua_pushnil(L);
  else
    push_addrinfo(L, res);
  loom_freeaddrinfo(res);
  lctx_call(ctx, 2);
}


/* getaddrinfo(host, service, hints, callback) */
static int getaddrinfo_(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  const char* host = lua_isnoneornil(L, 1) ? NULL : lcheck_cstring(L, 1);
  const char* service = lopt_cstring(L, 2, NULL);
  int cb = lopt_callback(L, 4);
  struct addrinfo hints;
  loom_getaddrinfo_t sync_req;
  lreq_t* r;
  int err;

  check_hints(L, 3, &hints);
  if (host == NULL && service == NULL)
    return luaL_argerror(L, 1, "host and service cannot both be nil");
  if (!cb) {
    err = loom_getaddrinfo(loop, &sync_req, NULL, host, service, &hints);
    if (err != 0)
      return lr_fail(L, err);
    LMEM_EXEMPT(LCTX(L));  /* The list is C memory until it is freed. */
    push_addrinfo(L, sync_req.res);
    loom_freeaddrinfo(sync_req.res);
    LMEM_UNEXEMPT(LCTX(L));
    return 1;
  }
  r = lreq_new(L, LOOM_GETADDRINFO, 0);
  r->u.getaddrinfo.data = r;
  lreq_anchor(L, r, -1, 4, 0);
  err = loom_getaddrinfo(loop, &r->u.getaddrinfo, on_addrinfo, host,
                         service, &hints);
  if (err != 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, err);
  }
  return 1;
}


static void on_nameinfo(loom_getnameinfo_t* req, int status,
                        const char* host, const char* service) {
  lreq_t* r = LREQ_OF(req);
  lctx* ctx = loom_loop_get_data(req->loop);
  lua_State* L = ctx->L;

  if (loom_loop_tearing_down(req->loop) || !lreq_finish(ctx, r))
    return;
  lr_push_status(L, status);
  lua_pushstring(L, status < 0 ? NULL : host);
  lua_pushstring(L, status < 0 ? NULL : service);
  lctx_call(ctx, 3);
}


/* getnameinfo({ip, port, family}, callback): as in luv, ip may be left
 * out (the unspecified address of family, "0.0.0.0" by default, or
 * "::"), and so may port (0). */
static int getnameinfo_(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  struct sockaddr_storage addr;
  loom_getnameinfo_t sync_req;
  int cb = lopt_callback(L, 2);
  int top;
  lreq_t* r;
  int err;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 1, "ip");
  lua_getfield(L, 1, "port");
  top = lua_gettop(L);
  if (lua_isnil(L, top - 1)) {
    const char* family;
    lua_getfield(L, 1, "family");
    family = lua_tostring(L, -1);
    lua_pushstring(L, family != NULL && (strcmp(family, "inet6") == 0 ||
                                         strcmp(family, "6") == 0)
                          ? "::" : "0.0.0.0");
    lua_replace(L, top - 1);
    lua_pop(L, 1);
  }
  if (lua_isnil(L, top)) {
    lua_pushinteger(L, 0);
    lua_replace(L, top);
  }
  laddr_check(L, top - 1, top, &addr);
  if (!cb) {
    err = loom_getnameinfo(loop, &sync_req, NULL, (struct sockaddr*) &addr, 0);
    if (err != 0)
      return lr_fail(L, err);
    lua_pushstring(L, sync_req.host);
    lua_pushstring(L, sync_req.service);
    return 2;
  }
  r = lreq_new(L, LOOM_GETNAMEINFO, 0);
  r->u.getnameinfo.data = r;
  lreq_anchor(L, r, -1, 2, 0);
  err = loom_getnameinfo(loop, &r->u.getnameinfo, on_nameinfo,
                         (struct sockaddr*) &addr, 0);
  if (err != 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, err);
  }
  return 1;
}


const luaL_Reg ldns_functions[] = {
  {"getaddrinfo", getaddrinfo_},
  {"getnameinfo", getnameinfo_},
  {NULL, NULL}
};
