/* SPDX-License-Identifier: MIT */
/* lhttp.c: the HTTP/1.x parser of src/http bound to Lua (beyond luv), for
 * loom.http. A parser reads one connection's messages:
 *
 *   local p = uv.new_http_parser("request", {max_head = 16384, ...})
 *   local n, req = p:head(s, pos)   -- head bytes and a new table,
 *                                   -- false: need more,
 *                                   -- or nil, err, "EPROTO", status
 *   local data, pos, done, trailers = p:chunked(s, pos)
 *
 * head() fills the table it is given (method, url, httpVersion, headers,
 * and the framing loom.http needs), so a request costs one table for the
 * request and one for its headers. */
#include "lloom.h"
#include "../http/http_parser.h"

#include <string.h>

#define PARSER_MT "loom_http_parser"

static char headers_mt_key;

typedef struct {
  loom_http_kind kind;
  loom_http_limits_t limits;
  int raw_headers;         /* also fill req.rawHeaders */
  int lean;                /* framing only as results, not fields */
  int armed;               /* read_start: the next read may be parsed in C */
  size_t scanned;          /* how far the head's end was searched */
  loom_http_chunked_t chunked;
  loom_http_field_t fields[]; /* limits.max_fields */
} lhttp_parser;


static lhttp_parser* check_parser(lua_State* L) {
  return luaL_checkudata(L, 1, PARSER_MT);
}


static uint32_t limit_field(lua_State* L, int idx, const char* name,
                            uint32_t value, uint32_t max) {
  lua_Integer n;
  int isnum;
  if (lua_getfield(L, idx, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return value;
  }
  n = lua_tointegerx(L, -1, &isnum);
  if (!isnum || n < 1 || (lua_Unsigned) n > max)
    luaL_error(L, "bad argument #2 to 'new_http_parser' (%s must be an integer "
               "from 1 to %d)", name, (int) max);
  lua_pop(L, 1);
  return (uint32_t) n;
}


/* uv.new_http_parser(kind, [limits]): kind "request" or "response";
 * limits max_head, max_fields, max_target, max_chunk_ext, raw_headers,
 * lean (framing only in head()'s results), and metatable: the metatable
 * of the tables head() makes (user value 1 of the parser). */
static int new_http_parser(lua_State* L) {
  static const char* const kinds[] = {"request", "response", NULL};
  int kind = luaL_checkoption(L, 1, NULL, kinds);
  loom_http_limits_t limits;
  lhttp_parser* p;
  int raw = 0, lean = 0;

  lua_settop(L, 2);
  loom_http_limits_default(&limits);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    limits.max_head = limit_field(L, 2, "max_head", limits.max_head, 1u << 30);
    limits.max_fields = limit_field(L, 2, "max_fields", limits.max_fields, 65535);
    limits.max_target = limit_field(L, 2, "max_target", limits.max_target, 1u << 30);
    limits.max_chunk_ext = limit_field(L, 2, "max_chunk_ext", limits.max_chunk_ext,
                                       1u << 30);
    lua_getfield(L, 2, "raw_headers");
    raw = lua_toboolean(L, -1);
    lua_getfield(L, 2, "lean");
    lean = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  /* User values: 1 the messages' metatable, 2 the string cache, 3 the
   * read callback (read_start). */
  p = lua_newuserdatauv(L, sizeof(*p) + limits.max_fields * sizeof(loom_http_field_t), 3);
  if (!lua_isnoneornil(L, 2)) {
    if (lua_getfield(L, 2, "metatable") == LUA_TTABLE)
      lua_setiuservalue(L, -2, 1);
    else
      lua_pop(L, 1);
  }
  p->kind = kind == 0 ? LOOM_HTTP_REQUEST : LOOM_HTTP_RESPONSE;
  p->limits = limits;
  p->raw_headers = raw;
  p->lean = lean;
  p->armed = 0;
  p->scanned = 0;
  loom_http_chunked_init(&p->chunked);
  luaL_setmetatable(L, PARSER_MT);
  return 1;
}


/* nil, "EPROTO: message", "EPROTO", status. */
static int protocol_error(lua_State* L, int err) {
  lua_pushnil(L);
  lua_pushfstring(L, "EPROTO: %s", loom_http_error_message(err));
  lua_pushliteral(L, "EPROTO");
  lua_pushinteger(L, loom_http_error_status(err));
  return 4;
}


/* The string argument at idx and the 1-based start position after it,
 * as a pointer and the length from there. */
static const char* input_at(lua_State* L, int idx, size_t* len) {
  size_t total;
  const char* s = luaL_checklstring(L, idx, &total);
  lua_Integer pos = luaL_optinteger(L, idx + 1, 1);
  luaL_argcheck(L, pos >= 1 && (lua_Unsigned) pos <= total + 1, idx + 1,
                "position out of range");
  *len = total - (size_t) (pos - 1);
  return s + pos - 1;
}


/* Pushes the field name at f in lower case. */
static void push_lower_name(lua_State* L, const char* base,
                            const loom_http_field_t* f) {
  char small[64];
  const char* name = base + f->name_off;
  size_t n = f->name_len;
  char* out = small;
  luaL_Buffer b;
  size_t i;
  int upper = 0;

  for (i = 0; i < n; i++) {
    if (name[i] >= 'A' && name[i] <= 'Z') {
      upper = 1;
      break;
    }
  }
  if (!upper) {
    lua_pushlstring(L, name, n);
    return;
  }
  if (n > sizeof(small))
    out = luaL_buffinitsize(L, &b, n);
  for (i = 0; i < n; i++) {
    char c = name[i];
    out[i] = (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
  }
  if (out == small)
    lua_pushlstring(L, small, n);
  else
    luaL_pushresultsize(&b, n);
}


/* The first fields of a connection's messages repeat from one message
 * to the next (the same client sends the same Host, User-Agent,
 * Accept...): the parser keeps the strings of the last head's first
 * CACHED_FIELDS fields, and one that matches is reused instead of made
 * again (no hashing and interning; no copy of a long value). */
#define CACHED_FIELDS 32
#define CACHED_VALUE_MAX 512

static int same_lower(const char* lower, const char* s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char) (c + 32);
    if (c != lower[i])
      return 0;
  }
  return 1;
}


/* The cache slots after the fields': the request's method and target, or
 * the response's reason phrase (they repeat from one head to the next as
 * fields do: GET, the same few paths, OK). */
#define CACHE_SLOT_FIRST (2 * CACHED_FIELDS + 1)
#define CACHE_SLOT_SECOND (2 * CACHED_FIELDS + 2)

/* Pushes the n bytes at s, from the cache's slot when it holds the same
 * bytes (no hashing and interning), else made and kept there. */
static void push_cached_bytes(lua_State* L, int cache_idx, int slot, const char* s, size_t n) {
  if (n <= CACHED_VALUE_MAX) {
    if (lua_rawgeti(L, cache_idx, slot) == LUA_TSTRING) {
      size_t cn;
      const char* c = lua_tolstring(L, -1, &cn);
      if (cn == n && memcmp(c, s, n) == 0)
        return;
    }
    lua_pop(L, 1);
  }
  lua_pushlstring(L, s, n);
  if (n <= CACHED_VALUE_MAX) {
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache_idx, slot);
  }
}


/* Pushes field i's lower-case name (what == 0) or value (what == 1),
 * from the cache at cache_idx (0: none) when it holds the same bytes. */
static void push_field_part(lua_State* L, int cache_idx, const char* base,
                            const loom_http_field_t* f, uint32_t i, int what) {
  const char* s = base + (what ? f->value_off : f->name_off);
  size_t n = what ? f->value_len : f->name_len;
  int slot = (int) (2 * i + 1 + (uint32_t) what);

  if (cache_idx == 0 || i >= CACHED_FIELDS || n > CACHED_VALUE_MAX) {
    if (what)
      lua_pushlstring(L, s, n);
    else
      push_lower_name(L, base, f);
    return;
  }
  if (lua_rawgeti(L, cache_idx, slot) == LUA_TSTRING) {
    size_t cn;
    const char* c = lua_tolstring(L, -1, &cn);
    if (cn == n && (what ? memcmp(c, s, n) == 0 : same_lower(c, s, n)))
      return;
  }
  lua_pop(L, 1);
  if (what)
    lua_pushlstring(L, s, n);
  else
    push_lower_name(L, base, f);
  lua_pushvalue(L, -1);
  lua_rawseti(L, cache_idx, slot);
}


/* Whether n bytes at a and b are equal but for ASCII case (names are
 * tokens; strncasecmp would follow the locale). */
static int same_ascii_nocase(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char x = a[i], y = b[i];
    if (x != y) {
      if (x >= 'A' && x <= 'Z')
        x = (char) (x + 32);
      if (y >= 'A' && y <= 'Z')
        y = (char) (y + 32);
      if (x != y)
        return 0;
    }
  }
  return 1;
}


/* Whether a field before field i has its name (case-insensitive). A
 * look at the lengths settles most pairs; comparing here spares a table
 * lookup per field, and heads have few fields (max_fields bounds them). */
static int repeats_name(const char* base, const loom_http_field_t* fields, uint32_t i) {
  const loom_http_field_t* f = &fields[i];
  for (uint32_t j = 0; j < i; j++) {
    const loom_http_field_t* g = &fields[j];
    if (g->name_len == f->name_len &&
        same_ascii_nocase(base + g->name_off, base + f->name_off, f->name_len))
      return 1;
  }
  return 0;
}


/* A table of fields: lower-case names; a repeated field's values joined
 * with ", " (RFC 9110 5.3), except set-cookie, whose values become an
 * array (they may hold commas). Keys are looked up case-insensitively
 * (the metatable at mt_idx). cache_idx: the parser's string cache, or 0. */
static void push_fields(lua_State* L, const char* base,
                        const loom_http_field_t* fields, uint32_t n,
                        int mt_idx, int cache_idx) {
  lua_createtable(L, 0, (int) n);
  for (uint32_t i = 0; i < n; i++) {
    const loom_http_field_t* f = &fields[i];
    push_field_part(L, cache_idx, base, f, i, 0);      /* t name */
    if (!repeats_name(base, fields, i)) {
      push_field_part(L, cache_idx, base, f, i, 1);
      lua_rawset(L, -3);
      continue;
    }
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);                                 /* t name old */
    if (f->name_len == 10 && strcmp(lua_tostring(L, -2), "set-cookie") == 0) {
      if (lua_type(L, -1) == LUA_TSTRING) {
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);                         /* t name array */
      }
      lua_pushlstring(L, base + f->value_off, f->value_len);
      lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
    } else {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, base + f->value_off, f->value_len);
      lua_concat(L, 3);
    }
    lua_rawset(L, -3);
  }
  lua_pushvalue(L, mt_idx);
  lua_setmetatable(L, -2);
}


static void push_raw_fields(lua_State* L, const char* base,
                            const loom_http_field_t* fields, uint32_t n) {
  lua_createtable(L, (int) n * 2, 0);
  for (uint32_t i = 0; i < n; i++) {
    lua_pushlstring(L, base + fields[i].name_off, fields[i].name_len);
    lua_rawseti(L, -2, 2 * (lua_Integer) i + 1);
    lua_pushlstring(L, base + fields[i].value_off, fields[i].value_len);
    lua_rawseti(L, -2, 2 * (lua_Integer) i + 2);
  }
}


static const char* const body_names[] = {"none", "length", "chunked", "eof"};

/* What head() stores and checks against, made once and kept in one array
 * (head()'s upvalue, and the registry for reads parsed in C): lua_setfield
 * would find each key's string again on every call. */
enum {
  K_PARSER_MT = 1, K_HEADERS_MT, K_METHOD, K_URL, K_STATUS_CODE,
  K_STATUS_MESSAGE, K_HTTP_VERSION, K_HEADERS, K_V10, K_V11,
  K_BODY_NAMES, K_COUNT = K_BODY_NAMES + 3
};

static char keys_key;

/* The parser at idx, checked against the metatable in keys. */
static lhttp_parser* keyed_parser(lua_State* L, int idx, int keys) {
  lhttp_parser* p = lua_touserdata(L, idx);
  int ok = p != NULL && lua_getmetatable(L, idx);
  if (ok) {
    lua_rawgeti(L, keys, K_PARSER_MT);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok)
    luaL_typeerror(L, idx, PARSER_MT);
  return p;
}


/* The parser's string cache (user value 2), made for n fields when it
 * has none; its stack index. */
static int field_cache(lua_State* L, int parser, uint32_t n) {
  if (lua_getiuservalue(L, parser, 2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 2 * (int) (n < CACHED_FIELDS ? n : CACHED_FIELDS), 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, parser, 2);
  }
  return lua_gettop(L);
}


/* A new message table, with the metatable the parser was given. */
static void new_message(lua_State* L, lhttp_parser* p, int parser) {
  /* A lean message has its 4 fields and the few its user adds. */
  lua_createtable(L, 0, p->lean ? 8 : 16);
  if (lua_getiuservalue(L, parser, 1) == LUA_TTABLE)
    lua_setmetatable(L, -2);
  else
    lua_pop(L, 1);
}


/* Parses the whole head (n bytes at s) into the table at msg; 0, or the
 * parser's negative error. */
static int fill_head(lua_State* L, lhttp_parser* p, int parser, int keys, const char* s,
                     int64_t n, const char* method, int msg, loom_http_head_t* head) {
  int mt, cache;
  int err = loom_http_parse_head(p->kind, s, (size_t) n, &p->limits, method, head,
                                 p->fields);
  if (err < 0)
    return err;
  cache = field_cache(L, parser, head->nfields);        /* cache */
  /* Each key is pushed before its value: a value pushed first would have
   * to be moved under its key, and lua_insert's rotation costs more than
   * the store itself. */
  if (p->kind == LOOM_HTTP_REQUEST) {
    lua_rawgeti(L, keys, K_METHOD);
    push_cached_bytes(L, cache, CACHE_SLOT_FIRST, s + head->method_off, head->method_len);
    lua_rawset(L, msg);
    lua_rawgeti(L, keys, K_URL);
    push_cached_bytes(L, cache, CACHE_SLOT_SECOND, s + head->target_off, head->target_len);
    lua_rawset(L, msg);
  } else {
    lua_rawgeti(L, keys, K_STATUS_CODE);
    lua_pushinteger(L, head->status);
    lua_rawset(L, msg);
    lua_rawgeti(L, keys, K_STATUS_MESSAGE);
    push_cached_bytes(L, cache, CACHE_SLOT_FIRST, s + head->reason_off, head->reason_len);
    lua_rawset(L, msg);
  }
  lua_rawgeti(L, keys, K_HTTP_VERSION);
  lua_rawgeti(L, keys, head->version_minor == 1 ? K_V11 : K_V10);
  lua_rawset(L, msg);
  lua_rawgeti(L, keys, K_HEADERS);
  lua_rawgeti(L, keys, K_HEADERS_MT);
  mt = lua_gettop(L);                                   /* cache headers mt */
  push_fields(L, s, p->fields, head->nfields, mt, cache);  /* cache headers mt t */
  lua_replace(L, mt);                                   /* cache headers t */
  lua_rawset(L, msg);
  lua_settop(L, cache - 1);
  if (p->raw_headers) {
    push_raw_fields(L, s, p->fields, head->nfields);
    lua_setfield(L, msg, "rawHeaders");
  }
  if (!p->lean) {
    lua_rawgeti(L, keys, K_BODY_NAMES + (int) head->body);
    lua_setfield(L, msg, "_body");
    if (head->body == LOOM_HTTP_BODY_LENGTH) {
      lua_pushinteger(L, (lua_Integer) head->content_length);
      lua_setfield(L, msg, "_length");
    }
    lua_pushboolean(L, head->keep_alive);
    lua_setfield(L, msg, "_keepAlive");
  }
  if (head->upgrade) {
    lua_pushboolean(L, 1);
    lua_setfield(L, msg, "upgrade");
  }
  if (head->connect) {
    lua_pushboolean(L, 1);
    lua_setfield(L, msg, "_connect");
  }
  if (head->expect_continue) {
    lua_pushboolean(L, 1);
    lua_setfield(L, msg, "_expectContinue");
  }
  if (head->body == LOOM_HTTP_BODY_CHUNKED)
    loom_http_chunked_init(&p->chunked);
  return 0;
}


/* The framing as results (4 values): true when the message asks for more
 * than a plain exchange (upgrade, CONNECT, Expect: 100-continue), the
 * body's kind, its length, keep-alive. A caller that keeps them elsewhere
 * (lean) spares the message three fields. */
static void push_framing(lua_State* L, int keys, const loom_http_head_t* head) {
  lua_pushboolean(L, head->upgrade || head->connect || head->expect_continue);
  lua_rawgeti(L, keys, K_BODY_NAMES + (int) head->body);
  lua_pushinteger(L, head->body == LOOM_HTTP_BODY_LENGTH ? (lua_Integer) head->content_length : 0);
  lua_pushboolean(L, head->keep_alive);
}


/* p:head(s, [pos], [msg], [request_method]): fills msg, or a new table
 * with room for the fields loom.http adds (returned after the length),
 * then true when the message asks for more than a plain exchange
 * (upgrade, CONNECT, Expect: 100-continue), then the framing: the body's
 * kind, its Content-Length (0 unless "length"), keep-alive. Without the
 * lean option the framing is also in msg (_body, _length, _keepAlive). */
static int parser_head(lua_State* L) {
  int keys = lua_upvalueindex(1);
  lhttp_parser* p = keyed_parser(L, 1, keys);
  size_t len;
  const char* s = input_at(L, 2, &len);
  const char* method = luaL_optstring(L, 5, NULL);
  loom_http_head_t head;
  int64_t n;
  int err;

  if (lua_isnoneornil(L, 4)) {
    lua_settop(L, 5);
    new_message(L, p, 1);
    lua_replace(L, 4);
  } else {
    luaL_checktype(L, 4, LUA_TTABLE);
  }
  lua_settop(L, 4);
  if (p->scanned > len)
    p->scanned = 0; /* not the string the last call saw grow */
  n = loom_http_head_end(s, len, &p->scanned, &p->limits);
  if (n == 0) {
    lua_pushboolean(L, 0);
    return 1;
  }
  p->scanned = 0;
  if (n < 0)
    return protocol_error(L, (int) n);
  err = fill_head(L, p, 1, keys, s, n, method, 4, &head);
  if (err < 0)
    return protocol_error(L, err);
  lua_pushinteger(L, n);
  lua_pushvalue(L, 4);
  push_framing(L, keys, &head);
  return 6;
}


/* Reads parsed in C (p:read_start). The stream's callback slot holds the
 * parser, and the parser's user value 3 the Lua callback. While the
 * parser is armed (its owner has no unparsed bytes), a read that is
 * exactly one whole head is parsed here, before any Lua string of it is
 * made: cb(nil, false, msg, unusual, body kind, length, keep-alive), and
 * the callback's answer says whether to arm again (it is idle, with
 * nothing buffered). Anything else disarms and goes as read_start's
 * cb(err, data) would. */
static void on_read_http(loom_stream_t* s, ssize_t nread, const loom_buf_t* buf) {
  lctx* ctx = loom_loop_get_data(s->loop);
  lua_State* L = ctx->L;
  lhttp_parser* p;
  int parser;

  lh_push_callback(L, (loom_handle_t*) s);              /* parser */
  parser = lua_gettop(L);
  p = lua_touserdata(L, parser);
  if (nread > 0 && p->armed && p->scanned == 0) {
    size_t scanned = 0;
    int64_t n = loom_http_head_end(buf->base, (size_t) nread, &scanned, &p->limits);
    if (n == nread) {
      loom_http_head_t head;
      int keys, msg;
      lua_rawgetp(L, LUA_REGISTRYINDEX, &keys_key);     /* parser keys */
      keys = parser + 1;
      lua_getiuservalue(L, parser, 3);                  /* parser keys cb */
      lua_pushnil(L);
      lua_pushboolean(L, 0);
      new_message(L, p, parser);                        /* ... cb nil false msg */
      msg = lua_gettop(L);
      if (fill_head(L, p, parser, keys, buf->base, n, NULL, msg, &head) == 0) {
        push_framing(L, keys, &head);                   /* ... msg 4 values */
        p->armed = 0;
        p->armed = lctx_call_bool(ctx, 7);
        lua_settop(L, parser - 1);
        return;
      }
      /* A head the parser refuses: the Lua side parses it again and
       * answers the error. */
      lua_settop(L, parser);
    }
  }
  p->armed = 0;
  lua_getiuservalue(L, parser, 3);                      /* parser cb */
  lstream_push_read(L, nread, buf);
  lctx_call(ctx, 2);
  lua_pop(L, 1);                                        /* parser */
}


/* p:read_start(stream, cb): reads stream as stream:read_start(cb) would,
 * with whole heads parsed in C while the parser is armed (above). */
static int parser_read_start(lua_State* L) {
  int keys = lua_upvalueindex(1);
  lhttp_parser* p = keyed_parser(L, 1, keys);
  loom_stream_t* s = lstream_check(L, 2);
  int ret;

  lh_check_callback(L, 2, 3);
  ret = loom_read_start(s, on_read_http);
  if (ret == 0) {
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, 1, 3);
    lh_set_callback(L, 2, 1);
    p->scanned = 0;
  }
  return lr_result(L, ret);
}


/* p:arm(): the owner has no unparsed bytes: the next read may be parsed
 * in C. */
static int parser_arm(lua_State* L) {
  lhttp_parser* p = keyed_parser(L, 1, lua_upvalueindex(1));
  p->armed = lua_isnone(L, 2) || lua_toboolean(L, 2);
  return 0;
}


/* p:chunked(s, [pos]) -> data, next_pos, done, [trailers]: the body data
 * of every whole piece of chunked coding in s from pos on. */
static int parser_chunked(lua_State* L) {
  lhttp_parser* p = check_parser(L);
  size_t len;
  const char* s = input_at(L, 2, &len);
  lua_Integer pos = luaL_optinteger(L, 3, 1);
  size_t at = 0;
  luaL_Buffer b;
  int pieces = 0;
  const char* first = NULL;
  size_t first_len = 0;

  for (;;) {
    size_t used = 0, off = 0, n = 0;
    uint32_t ntrailers = 0;
    int r = loom_http_chunked_next(&p->chunked, s + at, len - at, &p->limits, &used,
                                   &off, &n, p->fields, &ntrailers);
    if (r < 0)
      return protocol_error(L, r);
    if (r == LOOM_HTTP_CHUNK_DATA) {
      /* One piece is pushed as it is; more are joined. */
      if (pieces == 0) {
        first = s + at + off;
        first_len = n;
      } else {
        if (pieces == 1) {
          luaL_buffinit(L, &b);
          luaL_addlstring(&b, first, first_len);
        }
        luaL_addlstring(&b, s + at + off, n);
      }
      pieces++;
      at += used;
      continue;
    }
    at += used;
    if (pieces <= 1)
      lua_pushlstring(L, first != NULL ? first : "", first_len);
    else
      luaL_pushresult(&b);
    lua_pushinteger(L, pos + (lua_Integer) at);
    if (r == LOOM_HTTP_CHUNK_DONE) {
      lua_pushboolean(L, 1);
      lua_rawgetp(L, LUA_REGISTRYINDEX, &headers_mt_key);
      push_fields(L, s + at - used, p->fields, ntrailers, lua_gettop(L), 0);
      lua_remove(L, -2);
      return 4;
    }
    lua_pushboolean(L, 0);
    return 3;
  }
}


/* p:reset(): forget a partly searched head and the chunked state (a
 * connection that starts over, or a parser reused for another). */
static int parser_reset(lua_State* L) {
  lhttp_parser* p = check_parser(L);
  p->scanned = 0;
  loom_http_chunked_init(&p->chunked);
  return 0;
}


static int parser_tostring(lua_State* L) {
  lhttp_parser* p = check_parser(L);
  lua_pushfstring(L, "loom_http_parser (%s): %p",
                  p->kind == LOOM_HTTP_REQUEST ? "request" : "response", (void*) p);
  return 1;
}


/* headers[key] for a key not stored as it is: look it up in lower case. */
static int headers_index(lua_State* L) {
  size_t n;
  const char* key = lua_tolstring(L, 2, &n);
  luaL_Buffer b;
  char* out;
  if (key == NULL || lua_type(L, 2) != LUA_TSTRING)
    return 0;
  out = luaL_buffinitsize(L, &b, n);
  for (size_t i = 0; i < n; i++)
    out[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char) (key[i] + 32) : key[i];
  luaL_pushresultsize(&b, n);
  lua_rawget(L, 1);
  return 1;
}


static const luaL_Reg parser_methods[] = {
  {"chunked", parser_chunked},
  {"reset", parser_reset},
  {NULL, NULL}
};


void lhttp_register(lua_State* L) {
  static const char* const names[] = {"method", "url", "statusCode", "statusMessage",
                                      "httpVersion", "headers", "1.0", "1.1"};
  static const struct { const char* name; lua_CFunction fn; } keyed[] = {
    {"head", parser_head}, {"read_start", parser_read_start}, {"arm", parser_arm}};
  int mt, methods, keys;

  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, headers_index);
  lua_setfield(L, -2, "__index");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &headers_mt_key);

  luaL_newmetatable(L, PARSER_MT);
  mt = lua_gettop(L);
  luaL_newlib(L, parser_methods);
  methods = lua_gettop(L);
  lua_createtable(L, K_COUNT, 0);
  keys = lua_gettop(L);
  lua_pushvalue(L, mt);
  lua_rawseti(L, keys, K_PARSER_MT);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &headers_mt_key);
  lua_rawseti(L, keys, K_HEADERS_MT);
  for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, keys, K_METHOD + i);
  }
  for (int i = 0; i < 4; i++) {
    lua_pushstring(L, body_names[i]);
    lua_rawseti(L, keys, K_BODY_NAMES + i);
  }
  lua_pushvalue(L, keys);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &keys_key);
  for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
    lua_pushvalue(L, keys);
    lua_pushcclosure(L, keyed[i].fn, 1);
    lua_setfield(L, methods, keyed[i].name);
  }
  lua_pop(L, 1);                                        /* keys */
  lua_setfield(L, mt, "__index");
  lua_pushcfunction(L, parser_tostring);
  lua_setfield(L, mt, "__tostring");
  lua_pop(L, 1);
}


const luaL_Reg lhttp_functions[] = {
  {"new_http_parser", new_http_parser},
  {NULL, NULL}
};
