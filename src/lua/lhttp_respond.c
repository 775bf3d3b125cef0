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


/* Copies n bytes to out at *pos, or only counts them when out is NULL. */
static void put(char* out, size_t* pos, const char* s, size_t n) {
  if (out != NULL)
    memcpy(out + *pos, s, n);
  *pos += n;
}


/* "name: value\r\n" for the value on top (a string or a number). */
static void put_field(lua_State* L, char* out, size_t* pos, const char* name,
                      size_t name_len) {
  size_t len;
  const char* v = lua_tolstring(L, -1, &len);
  if (v == NULL)
    luaL_error(L, "bad header value (string or number expected)");
  put(out, pos, name, name_len);
  put(out, pos, ": ", 2);
  put(out, pos, v, len);
  put(out, pos, "\r\n", 2);
}


/* The fields of setHeader's flat list {lower, Name, value, ...} at idx
 * (values strings, numbers, or arrays of them). */
static void put_fields(lua_State* L, int idx, char* out, size_t* pos) {
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
        put_field(L, out, pos, name, name_len);
        lua_pop(L, 1);
      }
    } else {
      put_field(L, out, pos, name, name_len);
    }
    lua_pop(L, 2);                                      /* name value */
  }
}


/* The whole response text into out (or only its size when out is NULL). */
static size_t put_response(lua_State* L, char* out, const char* status,
                           size_t status_len, int has_fields, const char* length,
                           size_t length_len, const char* date, size_t date_len,
                           const char* conn, size_t conn_len, const char* body,
                           size_t body_len) {
  size_t pos = 0;
  put(out, &pos, status, status_len);
  if (has_fields)
    put_fields(L, 3, out, &pos);
  put(out, &pos, length, length_len);
  put(out, &pos, date, date_len);
  put(out, &pos, conn, conn_len);
  put(out, &pos, "\r\n", 2);
  if (body != NULL)
    put(out, &pos, body, body_len);
  return pos;
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
  size_t status_len, date_len, conn_len, body_len = 0, size, length_len = 0;
  const char* status = luaL_checklstring(L, 2, &status_len);
  lua_Integer code = luaL_checkinteger(L, 4);
  lua_Integer content_length = luaL_checkinteger(L, 5);
  const char* body = luaL_optlstring(L, 6, NULL, &body_len);
  const char* date;
  const char* conn = luaL_checklstring(L, 8, &conn_len);
  int has_fields = lua_toboolean(L, 3);
  char length[48];
  char date_buf[sizeof("Date: \r\n") + DATE_LEN];
  char small[4096];
  char* text;
  loom_buf_t out;
  int n;

  if (lua_type(L, 7) != LUA_TSTRING) {
    date_len = 0;
    if (lua_toboolean(L, 7)) {
      memcpy(date_buf, "Date: ", 6);
      memcpy(date_buf + 6, date_now(), DATE_LEN);
      memcpy(date_buf + 6 + DATE_LEN, "\r\n", 2);
      date_len = 6 + DATE_LEN + 2;
    }
    date = date_buf;
  } else {
    date = lua_tolstring(L, 7, &date_len);
  }
  if (has_fields)
    luaL_checktype(L, 3, LUA_TTABLE);
  luaL_argcheck(L, content_length >= 0, 5, "length must not be negative");
  lua_settop(L, 8);
  if (code >= 200 && code != 204 && code != 304)
    length_len = length_line(length, (uint64_t) content_length);
  size = put_response(L, NULL, status, status_len, has_fields, length, length_len,
                      date, date_len, conn, conn_len, body, body_len);
  text = size <= sizeof(small) ? small : lua_newuserdatauv(L, size, 0);
  put_response(L, text, status, status_len, has_fields, length, length_len, date,
               date_len, conn, conn_len, body, body_len);
  out.base = text;
  out.len = size;
  n = loom_try_write(s, &out, 1);
  if (n < 0)
    n = 0;
  lua_pushinteger(L, n);
  if ((size_t) n == size)
    return 1;
  /* The rest, for the caller's queue. */
  lua_pushlstring(L, text + n, size - (size_t) n);
  return 2;
}


const luaL_Reg lhttp_respond_functions[] = {
  {"http_respond", http_respond},
  {"http_date", http_date},
  {NULL, NULL}
};
