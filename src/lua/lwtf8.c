/* SPDX-License-Identifier: MIT */
/* lwtf8.c: luv's string section: WTF-8 <-> UTF-16 over Lua strings.
 *
 * UTF-16 travels as a string of 16-bit units in the machine's byte order,
 * as in luv. Beyond luv: a NUL byte in WTF-8 is converted like any other
 * instead of ending the text (libuv reads WTF-8 up to a NUL), WTF-8 that
 * is not well formed fails with ECHARSET, and UTF-16 of an odd number of
 * bytes raises instead of losing its last byte.
 */
#include "lloom.h"


static const char* check_utf16(lua_State* L, int idx, size_t* units) {
  size_t len;
  const char* s = luaL_checklstring(L, idx, &len);

  if (len % 2 != 0)
    luaL_argerror(L, idx, lua_pushfstring(L, "UTF-16 of an odd number of "
                                             "bytes (%I)", (lua_Integer) len));
  *units = len / 2;
  return s;
}


static int utf16_length_as_wtf8(lua_State* L) {
  size_t units;
  const char* utf16 = check_utf16(L, 1, &units);

  lua_pushinteger(L, (lua_Integer) loom_utf16_length_as_wtf8(utf16, units));
  return 1;
}


static int utf16_to_wtf8(lua_State* L) {
  size_t units;
  const char* utf16 = check_utf16(L, 1, &units);
  size_t size = loom_utf16_length_as_wtf8(utf16, units);
  luaL_Buffer b;

  loom_utf16_to_wtf8(utf16, units, luaL_buffinitsize(L, &b, size));
  luaL_pushresultsize(&b, size);
  return 1;
}


static int wtf8_length_as_utf16(lua_State* L) {
  size_t len;
  const char* wtf8 = luaL_checklstring(L, 1, &len);
  ssize_t units = loom_wtf8_length_as_utf16(wtf8, len);

  if (units < 0)
    return lr_fail(L, (int) units);
  lua_pushinteger(L, (lua_Integer) units);
  return 1;
}


static int wtf8_to_utf16(lua_State* L) {
  size_t len;
  const char* wtf8 = luaL_checklstring(L, 1, &len);
  ssize_t units = loom_wtf8_length_as_utf16(wtf8, len);
  luaL_Buffer b;

  if (units < 0)
    return lr_fail(L, (int) units);
  loom_wtf8_to_utf16(wtf8, len, luaL_buffinitsize(L, &b, 2 * (size_t) units));
  luaL_pushresultsize(&b, 2 * (size_t) units);
  return 1;
}


const luaL_Reg lwtf8_functions[] = {
  {"utf16_length_as_wtf8", utf16_length_as_wtf8},
  {"utf16_to_wtf8", utf16_to_wtf8},
  {"wtf8_length_as_utf16", wtf8_length_as_utf16},
  {"wtf8_to_utf16", wtf8_to_utf16},
  {NULL, NULL},
};
