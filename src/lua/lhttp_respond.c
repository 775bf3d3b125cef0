/* SPDX-License-Identifier: MIT */
/* lhttp_respond.c: uv.http_respond (beyond luv), the writer of loom.http's
 * common answer. The server's usual response (a status line from its
 * table, the fields setHeader collected, a Content-Length, the Date and
 * Connection lines, a small body) is made here in C memory and handed to
 * the kernel in one call, so it costs no Lua string and no Lua string
 * building; only a rest the kernel did not take becomes a string, for the
 * server's write queue. The checks of names and values stay in
 * loom.http's setHeader. */
#include "lloom.h"

#include <string.h>
#include <time.h>


/* The Date field's value for now, IMF-fixdate ("Sun, 06 Nov 1994
 * 08:49:37 GMT", RFC 9110 5.6.7), remade when the second changes. The
 * names are written here, not by strftime, whose %a and %b follow the
 * locale. The coarse real-time clock is read through the vDSO in a few
 * nanoseconds, so every answer carries the current second. One cache per
 * thread: each thread's Lua state answers on its own loop. */
#define DATE_LEN 29

static const char* date_now(void) {
  static _Thread_local time_t cached = -1;
  static _Thread_local char text[DATE_LEN + 1];
  static const char days[] = "SunMonTueWedThuFriSat";
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct timespec now;
  struct tm tm;
  char* p = text;

  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec == cached)
    return text;
  gmtime_r(&now.tv_sec, &tm);
  memcpy(p, days + 3 * tm.tm_wday, 3);
  p += 3;
  *p++ = ',';
  *p++ = ' ';
  *p++ = (char) ('0' + tm.tm_mday / 10);
  *p++ = (char) ('0' + tm.tm_mday % 10);
  *p++ = ' ';
  memcpy(p, months + 3 * tm.tm_mon, 3);
  p += 3;
  *p++ = ' ';
  /* Four digits: IMF-fixdate has no room for other years, and this
   * clock will not see them. */
  int year = (tm.tm_year + 1900) % 10000;
  *p++ = (char) ('0' + year / 1000);
  *p++ = (char) ('0' + year / 100 % 10);
  *p++ = (char) ('0' + year / 10 % 10);
  *p++ = (char) ('0' + year % 10);
  *p++ = ' ';
  *p++ = (char) ('0' + tm.tm_hour / 10);
  *p++ = (char) ('0' + tm.tm_hour % 10);
  *p++ = ':';
  *p++ = (char) ('0' + tm.tm_min / 10);
  *p++ = (char) ('0' + tm.tm_min % 10);
  *p++ = ':';
  *p++ = (char) ('0' + tm.tm_sec / 10);
  *p++ = (char) ('0' + tm.tm_sec % 10);
  memcpy(p, " GMT", 4);
  text[DATE_LEN] = '\0';
  cached = now.tv_sec;
  return text;
}


/* uv.http_date() (beyond luv): the Date field's value for now, as
 * http_respond writes it. */
static int http_date(lua_State* L) {
  lua_pushlstring(L, date_now(), DATE_LEN);
  return 1;
}


/* Where the response text goes: bytes are copied while they fit in cap,
 * and counted always, so that one pass makes the common small answer and
 * tells the size of a larger one. */
typedef struct {
  char* out;
  size_t cap;
  size_t pos;
} text_writer;

static void put(text_writer* w, const char* s, size_t n) {
  if (n <= w->cap && w->pos <= w->cap - n)
    memcpy(w->out + w->pos, s, n);
  w->pos += n;
}


/* "name: value\r\n" for the value on top (a string or a number). */
static void put_field(lua_State* L, text_writer* w, const char* name, size_t name_len) {
  size_t len;
  const char* v = lua_tolstring(L, -1, &len);
  if (v == NULL)
    luaL_error(L, "bad header value (string or number expected)");
  put(w, name, name_len);
  put(w, ": ", 2);
  put(w, v, len);
  put(w, "\r\n", 2);
}


/* The fields of setHeader's flat list {lower, Name, value, ...} at idx
 * (values strings, numbers, or arrays of them). */
static void put_fields(lua_State* L, int idx, text_writer* w) {
  lua_Integer n = (lua_Integer) lua_rawlen(L, idx);
  for (lua_Integer i = 1; i + 2 <= n; i += 3) {
    size_t name_len;
    const char* name;
    lua_rawgeti(L, idx, i + 1);
    name = lua_tolstring(L, -1, &name_len);
    if (name == NULL)
      luaL_error(L, "bad header name");
    if (lua_rawgeti(L, idx, i + 2) == LUA_TTABLE) {
      lua_Integer nv = (lua_Integer) lua_rawlen(L, -1);
      for (lua_Integer k = 1; k <= nv; k++) {
        lua_rawgeti(L, -1, k);
        put_field(L, w, name, name_len);
        lua_pop(L, 1);
      }
    } else {
      put_field(L, w, name, name_len);
    }
    lua_pop(L, 2);                                      /* name value */
  }
}


/* The parts of one response, as http_respond's arguments give them. */
typedef struct {
  const char* status;
  size_t status_len;
  int has_fields;
  const char* length;
  size_t length_len;
  const char* date;     /* the current Date value, or NULL */
  const char* date_line; /* else the caller's whole line (maybe "") */
  size_t date_line_len;
  const char* conn;
  size_t conn_len;
  const char* body;
  size_t body_len;
} response_parts;

/* The whole response text into w. */
static void put_response(lua_State* L, text_writer* w, const response_parts* r) {
  put(w, r->status, r->status_len);
  if (r->has_fields)
    put_fields(L, 3, w);
  put(w, r->length, r->length_len);
  if (r->date != NULL) {
    put(w, "Date: ", 6);
    put(w, r->date, DATE_LEN);
    put(w, "\r\n", 2);
  } else {
    put(w, r->date_line, r->date_line_len);
  }
  put(w, r->conn, r->conn_len);
  put(w, "\r\n", 2);
  if (r->body != NULL)
    put(w, r->body, r->body_len);
}


/* "Content-Length: N\r\n" into out (room for any 64-bit N); returns its
 * length. Written by hand: snprintf's format machinery was 1 % of a
 * hello-world server's CPU. */
static size_t length_line(char* out, uint64_t n) {
  static const char prefix[] = "Content-Length: ";
  char digits[20];
  size_t nd = 0, len = sizeof(prefix) - 1;

  memcpy(out, prefix, len);
  do {
    digits[nd++] = (char) ('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (nd > 0)
    out[len++] = digits[--nd];
  out[len++] = '\r';
  out[len++] = '\n';
  return len;
}


/* uv.http_respond(stream, status_line, fields, code, body_len, body,
 * date_line, connection_line) (beyond luv; loom.http's common answer):
 * writes a whole response, head and body, as loom.http's server makes it
 * (fields: the flat {lower, Name, value, ...} list of setHeader, or
 * false; values already checked; Content-Length from body_len unless the
 * code has no body; body nil for HEAD; date_line a string, or else
 * true for the current Date line and false or nil for none). The text is made in C memory and
 * written at once when the stream has nothing queued: the common answer
 * makes no Lua string. Returns the bytes written, and the rest of the
 * text as a string when the kernel did not take it all (or the write
 * failed: then 0 and the whole text), for the caller to queue. */
static int http_respond(lua_State* L) {
  loom_stream_t* s = lstream_check(L, 1);
  response_parts r;
  lua_Integer code, content_length;
  char length[48];
  char small[4096];
  text_writer w = {small, sizeof(small), 0};
  loom_buf_t out;
  int n;

  r.status = luaL_checklstring(L, 2, &r.status_len);
  r.has_fields = lua_toboolean(L, 3);
  code = luaL_checkinteger(L, 4);
  content_length = luaL_checkinteger(L, 5);
  r.body_len = 0;
  r.body = luaL_optlstring(L, 6, NULL, &r.body_len);
  r.conn = luaL_checklstring(L, 8, &r.conn_len);
  r.date = NULL;
  r.date_line = "";
  r.date_line_len = 0;
  if (lua_type(L, 7) == LUA_TSTRING)
    r.date_line = lua_tolstring(L, 7, &r.date_line_len);
  else if (lua_toboolean(L, 7))
    r.date = date_now();
  if (r.has_fields)
    luaL_checktype(L, 3, LUA_TTABLE);
  luaL_argcheck(L, content_length >= 0, 5, "length must not be negative");
  lua_settop(L, 8);
  r.length_len = 0;
  r.length = length;
  if (code >= 200 && code != 204 && code != 304)
    r.length_len = length_line(length, (uint64_t) content_length);
  put_response(L, &w, &r);
  if (w.pos > w.cap) {
    /* Larger than the stack buffer: made again, in a block its size. */
    w.cap = w.pos;
    w.pos = 0;
    w.out = lua_newuserdatauv(L, w.cap, 0);
    put_response(L, &w, &r);
    /* A finalizer run by that allocation could have changed the fields:
     * never send past the block. */
    if (w.pos != w.cap)
      return luaL_error(L, "http_respond: the fields changed while the answer was made");
  }
  out.base = w.out;
  out.len = w.pos;
  n = loom_try_write(s, &out, 1);
  if (n < 0)
    n = 0;
  lua_pushinteger(L, n);
  if ((size_t) n == w.pos)
    return 1;
  /* The rest, for the caller's queue. */
  lua_pushlstring(L, w.out + n, w.pos - (size_t) n);
  return 2;
}


const luaL_Reg lhttp_respond_functions[] = {
  {"http_respond", http_respond},
  {"http_date", http_date},
  {NULL, NULL}
};
