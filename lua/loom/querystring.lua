-- loom.querystring: URL query strings, as Node's `querystring`.
--
--   local qs = require "loom.querystring"
--   qs.parse("a=1&b=x%20y&a=2")   --> {a = {"1", "2"}, b = "x y"}
--   qs.stringify{q = "lua 5.4", tag = {"a", "b"}}  --> "q=lua%205.4&tag=a&tag=b"
--
-- A key seen more than once gives an array of its values, in order.
-- Keys are sorted by stringify, so its output does not depend on the
-- order of a table's traversal.
local M = {}

local function hexval(h)
  return string.char(tonumber(h, 16))
end

--- Percent-decoding; "+" is a space (form encoding). Malformed escapes
--- ("%zz", a lone "%") are kept as they are, as Node does.
function M.unescape(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'unescape' (string expected, got " .. type(s) .. ")", 2)
  end
  return (s:gsub("%+", " "):gsub("%%(%x%x)", hexval))
end

local function hexbyte(c)
  return ("%%%02X"):format(c:byte())
end

--- Percent-encoding of everything but unreserved characters
--- (A-Z a-z 0-9 - _ . ! ~ * ' ( )), as encodeURIComponent.
function M.escape(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'escape' (string expected, got " .. type(s) .. ")", 2)
  end
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", hexbyte))
end

local function split(s, sep)
  local out, from = {}, 1
  while true do
    local i, j = s:find(sep, from, true)
    if not i then
      out[#out + 1] = s:sub(from)
      return out
    end
    out[#out + 1] = s:sub(from, i - 1)
    from = j + 1
  end
end

--- parse(str, [sep = "&"], [eq = "="], [{maxKeys = 1000}]) -> table.
--- A leading "?" is not skipped (Node does not either); pass the query
--- part. Pairs past maxKeys (0: no limit) are ignored.
function M.parse(str, sep, eq, opts)
  if type(str) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(str) .. ")", 2)
  end
  sep, eq = sep or "&", eq or "="
  if sep == "" or eq == "" then error("bad separator (empty)", 2) end
  local max = opts and opts.maxKeys or 1000
  local out = {}
  if str == "" then return out end
  local count = 0
  for _, pair in ipairs(split(str, sep)) do
    if pair ~= "" then
      count = count + 1
      if max > 0 and count > max then break end
      local i = pair:find(eq, 1, true)
      local k, v
      if i then
        k, v = M.unescape(pair:sub(1, i - 1)), M.unescape(pair:sub(i + #eq))
      else
        k, v = M.unescape(pair), ""
      end
      local cur = out[k]
      if cur == nil then
        out[k] = v
      elseif type(cur) == "table" then
        cur[#cur + 1] = v
      else
        out[k] = {cur, v}
      end
    end
  end
  return out
end
M.decode = M.parse

local function value_string(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if math.type(v) == "float" and v == math.floor(v) and v > -2^53 and v < 2^53 then
      return ("%d"):format(v)
    end
    return tostring(v)
  end
  if t == "boolean" then return tostring(v) end
  return "" -- nil and anything else, as Node
end

--- stringify(obj, [sep = "&"], [eq = "="]) -> string. Array values give
--- one pair each; booleans and numbers are written as text; other
--- values give an empty value.
function M.stringify(obj, sep, eq)
  if type(obj) ~= "table" then
    error("bad argument #1 to 'stringify' (table expected, got " .. type(obj) .. ")", 2)
  end
  sep, eq = sep or "&", eq or "="
  local keys = {}
  for k in pairs(obj) do
    if type(k) == "string" or type(k) == "number" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local ek = M.escape(tostring(k))
    local v = obj[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do
        parts[#parts + 1] = ek .. eq .. M.escape(value_string(item))
      end
    else
      parts[#parts + 1] = ek .. eq .. M.escape(value_string(v))
    end
  end
  return table.concat(parts, sep)
end
M.encode = M.stringify

return M
