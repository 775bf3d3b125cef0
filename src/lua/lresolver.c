/* SPDX-License-Identifier: MIT */
/* lresolver.c: uv.new_resolver(options), beyond luv: DNS queries of any
 * record type against servers of the caller's choosing, through a c-ares
 * channel of the resolver's own on the loop. Records come as plain
 * tables, named as Node's dns module names their fields, each with its
 * TTL and its type.
 */
#include "lloom.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RESOLVER_MT "uv_resolver"
#define SERVERS_MAX 4096

typedef struct {
  loom_resolver_t r;
} lresolver_t;

static const struct {
  const char* name;
  int type;
} rr_types[] = {
  {"A", LOOM_DNS_A}, {"AAAA", LOOM_DNS_AAAA}, {"CNAME", LOOM_DNS_CNAME},
  {"MX", LOOM_DNS_MX}, {"TXT", LOOM_DNS_TXT}, {"SRV", LOOM_DNS_SRV},
  {"NS", LOOM_DNS_NS}, {"PTR", LOOM_DNS_PTR}, {"SOA", LOOM_DNS_SOA},
  {"CAA", LOOM_DNS_CAA}, {"NAPTR", LOOM_DNS_NAPTR}, {"ANY", LOOM_DNS_ANY},
};


static lresolver_t* check_resolver(lua_State* L, int idx) {
  return luaL_checkudata(L, idx, RESOLVER_MT);
}


/* The core resolver; a closed one makes its calls fail with EBADF. */
static loom_resolver_t* check_core(lua_State* L, int idx) {
  return &check_resolver(L, idx)->r;
}


/* A record type by name ("A", "mx", ...) or number. */
static int check_rrtype(lua_State* L, int idx) {
  const char* name;
  size_t i;

  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer t = luaL_checkinteger(L, idx);
    luaL_argcheck(L, t > 0 && t <= 65535, idx, "record type out of range");
    return (int) t;
  }
  name = lcheck_cstring(L, idx);
  for (i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++)
    if (strcasecmp(name, rr_types[i].name) == 0)
      return rr_types[i].type;
  return luaL_argerror(L, idx,
                       lua_pushfstring(L, "unknown record type '%s'", name));
}


static void push_rrtype(lua_State* L, int type) {
  size_t i;

  for (i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++)
    if (rr_types[i].type == type) {
      lua_pushstring(L, rr_types[i].name);
      return;
    }
  lua_pushinteger(L, type);
}


static void set_string(lua_State* L, const char* field, const char* value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, field);
}


static void set_lstring(lua_State* L, const char* field, loom_dns_str_t s) {
  lua_pushlstring(L, s.data, s.len);
  lua_setfield(L, -2, field);
}


static void set_integer(lua_State* L, const char* field, lua_Integer value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, field);
}


static void push_txt(lua_State* L, const loom_dns_record_t* rr) {
  luaL_Buffer text;
  loom_dns_str_t s;
  size_t offset = 0;
  int n = 0;

  lua_newtable(L);                                      /* rec strings */
  while (loom_dns_txt_next(&rr->rdata, &offset, &s)) {
    lua_pushlstring(L, s.data, s.len);
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "strings");                       /* rec */
  luaL_buffinit(L, &text);
  offset = 0;
  while (loom_dns_txt_next(&rr->rdata, &offset, &s))
    luaL_addlstring(&text, s.data, s.len);
  luaL_pushresult(&text);
  lua_setfield(L, -2, "text");
}


/* Appends one record to the array at the top of the stack. */
static int push_record(const loom_dns_record_t* rr, void* arg) {
  lua_State* L = arg;

  lua_createtable(L, 0, 4);
  push_rrtype(L, rr->type);
  lua_setfield(L, -2, "type");
  set_integer(L, "ttl", rr->ttl);
  switch (rr->type) {
    case LOOM_DNS_A:
    case LOOM_DNS_AAAA:
      set_string(L, "addr", rr->addr);
      break;
    case LOOM_DNS_CNAME:
    case LOOM_DNS_NS:
    case LOOM_DNS_PTR:
      set_string(L, "name", rr->name);
      break;
    case LOOM_DNS_MX:
      set_string(L, "exchange", rr->name);
      set_integer(L, "priority", rr->priority);
      break;
    case LOOM_DNS_SRV:
      set_string(L, "name", rr->name);
      set_integer(L, "port", rr->port);
      set_integer(L, "priority", rr->priority);
      set_integer(L, "weight", rr->weight);
      break;
    case LOOM_DNS_SOA:
      set_string(L, "nsname", rr->name);
      set_string(L, "hostmaster", rr->hostmaster);
      set_integer(L, "serial", rr->serial);
      set_integer(L, "refresh", rr->refresh);
      set_integer(L, "retry", rr->retry);
      set_integer(L, "expire", rr->expire);
      set_integer(L, "minttl", rr->minttl);
      break;
    case LOOM_DNS_TXT:
      push_txt(L, rr);
      break;
    case LOOM_DNS_CAA:
      lua_pushboolean(L, (rr->flags & 0x80) != 0);
      lua_setfield(L, -2, "critical");
      set_integer(L, "flags", rr->flags);
      set_lstring(L, "tag", rr->tag);
      set_lstring(L, "value", rr->value);
      break;
    case LOOM_DNS_NAPTR:
      set_integer(L, "order", rr->priority);
      set_integer(L, "preference", rr->weight);
      set_lstring(L, "flags", rr->naptr_flags);
      set_lstring(L, "service", rr->service);
      set_lstring(L, "regexp", rr->regexp);
      set_string(L, "replacement", rr->name);
      break;
    default:
      set_lstring(L, "data", rr->rdata);
      break;
  }
  lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
  return 0;
}


static void on_reply(loom_dns_query_t* req, int status,
                     const unsigned char* reply, size_t len) {
  lreq_t* r = LREQ_OF(req);
  lctx* ctx = loom_loop_get_data(req->loop);
  lua_State* L = ctx->L;
  /* Read before lreq_finish: once the anchor is gone, any allocation
   * below may collect the request, and req with it. */
  int rrtype = req->rrtype;
  int top;

  if (loom_loop_tearing_down(req->loop) || !lreq_finish(ctx, r))
    return;
  top = lua_gettop(L);                                  /* cb */
  if (status == 0) {
    lua_newtable(L);                                    /* cb records */
    status = loom_dns_parse(reply, len, rrtype, push_record, L);
    /* An answer with only other types (a CNAME chain that ends nowhere)
     * is no data, as c-ares says when there is no answer at all. */
    if (status == 0 && lua_rawlen(L, -1) == 0)
      status = LOOM_ENODATA;
  }
  if (status == 0) {
    lua_pushnil(L);
    lua_insert(L, -2);                                  /* cb nil records */
  } else {
    lua_settop(L, top);
    lr_push_status(L, status);
    lua_pushnil(L);                                     /* cb err nil */
  }
  lctx_call(ctx, 2);
}


/* Starts a query for the resolver at 1; the callback is at cb_idx. */
static int start_query(lua_State* L, loom_resolver_t* res, const char* name,
                       int rrtype, int cb_idx) {
  lreq_t* r;
  int err;

  lh_check_callable(L, cb_idx);
  r = lreq_new(L, LOOM_DNS_QUERY, 0);
  r->u.dns_query.data = r;
  /* The request holds the resolver: it is not collected mid-query. */
  lreq_anchor(L, r, -1, cb_idx, 1);
  err = loom_resolver_query(res, &r->u.dns_query, on_reply, name, rrtype);
  if (err != 0) {
    lreq_unanchor(L, r);
    return lr_fail(L, err);
  }
  return 1;
}


/* resolver:query(name, type, callback) -> req */
static int resolver_query(lua_State* L) {
  loom_resolver_t* res = check_core(L, 1);
  const char* name = lcheck_cstring(L, 2);
  int rrtype = check_rrtype(L, 3);

  return start_query(L, res, name, rrtype, 4);
}


/* resolver:reverse(ip, callback) -> req: the PTR records of an address. */
static int resolver_reverse(lua_State* L) {
  loom_resolver_t* res = check_core(L, 1);
  const char* ip = lcheck_cstring(L, 2);
  char name[80];

  if (loom_dns_reverse_name(ip, name, sizeof(name)) != 0)
    return luaL_argerror(L, 2, "not an IPv4 or IPv6 address");
  return start_query(L, res, name, LOOM_DNS_PTR, 3);
}


/* resolver:cancel() -> count: every pending callback gets ECANCELED. */
static int resolver_cancel(lua_State* L) {
  lresolver_t* res = check_resolver(L, 1);

  lua_pushinteger(L, loom_resolver_cancel(&res->r));
  return 1;
}


static int resolver_close(lua_State* L) {
  lresolver_t* res = check_resolver(L, 1);

  loom_resolver_close(&res->r);
  return 0;
}


static int resolver_is_closed(lua_State* L) {
  lresolver_t* res = check_resolver(L, 1);

  lua_pushboolean(L, res->r.dns == NULL);
  return 1;
}


/* Raises a bad argument, or a bad option when idx holds an option. */
static int servers_error(lua_State* L, int idx, int is_option,
                         const char* msg) {
  if (is_option)
    return luaL_error(L, "bad option 'servers' (%s)", msg);
  return luaL_argerror(L, idx, msg);
}


/* Whether one server of a servers string (between commas) has a port
 * c-ares would take as given: c-ares 1.18 cuts a port above 65535 to 16
 * bits, so "127.0.0.1:99999" would silently ask port 34463. A port
 * follows "]:" (IPv6) or the one colon of an IPv4 address. */
static int server_port_ok(const char* s, size_t len) {
  const char* colon = NULL;
  size_t colons = 0;
  size_t i;
  long port = 0;

  for (i = 0; i < len; i++)
    if (s[i] == ':') {
      colons++;
      colon = s + i;
    }
  if (colons == 0 || (s[0] != '[' && colons > 1))
    return 1; /* no port: an IPv4 address, or a bare IPv6 one */
  if (s[0] == '[' && (colon == s || colon[-1] != ']'))
    return 1; /* a bracketed address without a port: c-ares judges it */
  if (colon + 1 == s + len)
    return 0;
  for (i = (size_t) (colon + 1 - s); i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    port = port * 10 + (s[i] - '0');
    if (port > 65535)
      return 0;
  }
  return port > 0;
}


/* The servers as "ip[:port]" strings from the array (or one string) at
 * idx, comma-joined into buf. */
static void check_servers(lua_State* L, int idx, int is_option, char* buf,
                          size_t size) {
  luaL_Buffer b;
  const char* csv;
  size_t len;
  lua_Integer i, n;

  if (lua_type(L, idx) == LUA_TSTRING) {
    lua_pushvalue(L, idx);
  } else {
    if (lua_type(L, idx) != LUA_TTABLE)
      servers_error(L, idx, is_option,
                    "array of \"ip[:port]\" strings expected");
    luaL_buffinit(L, &b);
    n = (lua_Integer) luaL_len(L, idx);
    for (i = 1; i <= n; i++) {
      if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
        servers_error(L, idx, is_option, "servers must be strings");
      if (i > 1)
        luaL_addchar(&b, ',');
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
  }
  csv = lua_tolstring(L, -1, &len);
  if (len >= size)
    servers_error(L, idx, is_option, "too many servers");
  for (i = 0; (size_t) i < len; i += (lua_Integer) n + 1) {
    const char* end = memchr(csv + i, ',', len - (size_t) i);
    n = (lua_Integer) ((end != NULL ? end : csv + len) - (csv + i));
    if (!server_port_ok(csv + i, (size_t) n)) {
      lua_pushlstring(L, csv + i, (size_t) n);
      servers_error(L, idx, is_option, lua_pushfstring(
                        L, "bad port in '%s'", lua_tostring(L, -1)));
    }
  }
  memcpy(buf, csv, len + 1);
  lua_pop(L, 1);
}


static int resolver_set_servers(lua_State* L) {
  loom_resolver_t* res = &check_resolver(L, 1)->r;
  char csv[SERVERS_MAX];
  int err;

  check_servers(L, 2, 0, csv, sizeof(csv));
  err = loom_resolver_set_servers(res, csv);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


static int resolver_get_servers(lua_State* L) {
  loom_resolver_t* res = check_core(L, 1);
  char csv[SERVERS_MAX];
  const char* p;
  const char* comma;
  int err, n = 0;

  err = loom_resolver_get_servers(res, csv, sizeof(csv));
  if (err != 0)
    return lr_fail(L, err);
  lua_newtable(L);
  for (p = csv; *p != '\0'; p = *comma ? comma + 1 : comma) {
    comma = strchr(p, ',');
    if (comma == NULL)
      comma = p + strlen(p);
    lua_pushlstring(L, p, (size_t) (comma - p));
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}


static int resolver_tostring(lua_State* L) {
  lua_pushfstring(L, RESOLVER_MT ": %p", lua_touserdata(L, 1));
  return 1;
}


static int resolver_gc(lua_State* L) {
  loom_resolver_close(&check_resolver(L, 1)->r);
  return 0;
}


static lua_Integer opt_integer(lua_State* L, int idx, const char* field,
                               lua_Integer dflt, lua_Integer min,
                               lua_Integer max) {
  lua_Integer v;

  if (lua_getfield(L, idx, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  if (!lua_isinteger(L, -1))
    luaL_error(L, "bad option '%s' (integer expected, got %s)", field,
               luaL_typename(L, -1));
  v = lua_tointeger(L, -1);
  if (v < min || v > max)
    luaL_error(L, "bad option '%s' (out of range)", field);
  lua_pop(L, 1);
  return v;
}


/* The search option: an array of domains, kept in a table at the top of
 * the stack so the strings outlive the call to loom_resolver_init. */
static const char** opt_search(lua_State* L, int idx, int* count) {
  const char** domains;
  lua_Integer i, n;

  if (lua_getfield(L, idx, "search") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (!lua_istable(L, -1))
    luaL_error(L, "bad option 'search' (array of domains expected)");
  n = (lua_Integer) luaL_len(L, -1);
  if (n > 64)
    luaL_error(L, "bad option 'search' (at most 64 domains)");
  domains = lua_newuserdatauv(L, sizeof(char*) * (size_t) (n + 1), 0);
  lua_insert(L, -2);                                    /* domains search */
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
      luaL_error(L, "bad option 'search' (domains must be strings)");
    domains[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* still referenced by the search table */
  }
  lua_pop(L, 1);                                        /* domains */
  lua_getfield(L, idx, "search");                       /* domains search */
  *count = (int) n;
  return domains;
}


/* Raises for a key of the options table that names no option: a
 * misspelt option ("timout") would otherwise be dropped without a word.
 * (luv's own functions keep luv's leniency; this one is loom's.) */
static void check_option_names(lua_State* L, int idx) {
  static const char* const known[] = {
    "servers", "timeout", "tries", "ndots", "udp_max_size",
    "recv_buffer_size", "send_buffer_size", "rotate", "tcp", "tcp_fallback",
    "servfail_failover", "search", NULL,
  };
  size_t i;

  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);                                      /* key */
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bad option (option names are strings)");
    for (i = 0; known[i] != NULL; i++)
      if (strcmp(lua_tostring(L, -1), known[i]) == 0)
        break;
    if (known[i] == NULL)
      luaL_error(L, "unknown option '%s'", lua_tostring(L, -1));
  }
}


/* uv.new_resolver([options]) */
static int new_resolver(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_loop_t* loop = lctx_loop(L, ctx);
  loom_resolver_options_t opts;
  char servers[SERVERS_MAX];
  lresolver_t* res;
  int err;

  memset(&opts, 0, sizeof(opts));
  opts.rotate = -1;
  opts.ndots = -1;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    check_option_names(L, 1);
    if (lua_getfield(L, 1, "servers") != LUA_TNIL) {
      check_servers(L, 2, 1, servers, sizeof(servers));
      opts.servers = servers;
    }
    lua_pop(L, 1);
    opts.timeout_ms = (int) opt_integer(L, 1, "timeout", 0, 1, 3600000);
    opts.tries = (int) opt_integer(L, 1, "tries", 0, 1, 100);
    opts.ndots = (int) opt_integer(L, 1, "ndots", -1, 0, 15);
    opts.udp_max_size = (int) opt_integer(L, 1, "udp_max_size", 0, 512,
                                          65535);
    opts.recv_buffer_size = (int) opt_integer(L, 1, "recv_buffer_size", 0, 1,
                                              1 << 30);
    opts.send_buffer_size = (int) opt_integer(L, 1, "send_buffer_size", 0, 1,
                                              1 << 30);
    if (lua_getfield(L, 1, "rotate") != LUA_TNIL)
      opts.rotate = lua_toboolean(L, -1);
    lua_pop(L, 1);
    opts.tcp = lflag(L, 1, "tcp");
    if (lua_getfield(L, 1, "tcp_fallback") != LUA_TNIL)
      opts.no_tcp_fallback = !lua_toboolean(L, -1);
    lua_pop(L, 1);
    opts.servfail_failover = lflag(L, 1, "servfail_failover");
    opts.search = opt_search(L, 1, &opts.nsearch);      /* [domains search] */
  }
  res = lua_newuserdatauv(L, sizeof(*res), 0);
  memset(res, 0, sizeof(*res));
  luaL_setmetatable(L, RESOLVER_MT);
  err = loom_resolver_init(loop, &res->r, &opts);
  if (err != 0)
    return lr_fail(L, err);
  res->r.data = res;
  return 1;
}


void lresolver_register(lua_State* L) {
  static const luaL_Reg methods[] = {
    {"query", resolver_query},
    {"reverse", resolver_reverse},
    {"cancel", resolver_cancel},
    {"close", resolver_close},
    {"is_closed", resolver_is_closed},
    {"set_servers", resolver_set_servers},
    {"get_servers", resolver_get_servers},
    {NULL, NULL}
  };

  lmeta_register(L, -1, RESOLVER_MT, resolver_tostring, resolver_gc, methods);
  luaL_getmetatable(L, RESOLVER_MT);
  lua_pushcfunction(L, resolver_gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}


const luaL_Reg lresolver_functions[] = {
  {"new_resolver", new_resolver},
  {NULL, NULL}
};
