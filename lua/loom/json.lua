-- loom.json: JSON through lua-cjson (Debian `lua-cjson`, LuaRocks
-- `lua-cjson`): a C encoder and decoder, chosen for speed.
--
--   local json = require "loom.json"
--   json.encode{name = "loom", tags = json.array{}}   --> {"name":"loom","tags":[]}
--   local v, err = json.decode('{"a":[1,2,null]}')    --> v.a[3] == json.null
--
-- What JSON has and Lua does not:
--   * null is json.null (a light userdata), in both directions: a table
--     cannot hold nil, so decode gives json.null for JSON null.
--   * Empty arrays and objects: a Lua table is written as an array when
--     its keys are 1..n, and an empty table as `{}`. Where an empty array
--     must be written, put json.empty_array (json.array(t) gives it for
--     an empty t). Debian's lua-cjson 2.1.0 decodes `[]` and `{}` alike,
--     to an empty table without a mark: code that must tell them apart
--     cannot with this decoder.
--   * Numbers: JSON numbers decode to Lua integers when they are
--     integers that fit in 64 bits and to floats otherwise, through C's
--     strtod in lua-cjson 2.1: integers beyond 2^53 lose precision (keep
--     such ids as strings). Floats are written with 14 significant digits
--     (lua-cjson 2.1's most: 0.1 reads back as 0.1, 1/3 loses its last
--     digits); NaN and infinity are refused.
-- This module uses a private cjson instance: its settings do not change
-- anyone else's `require "cjson"`.
local cjson_module = require "cjson"

local cjson = cjson_module.new()
cjson.encode_number_precision(14) -- the most lua-cjson 2.1 allows
cjson.encode_sparse_array(false, 2, 10) -- refuse very sparse arrays
cjson.encode_invalid_numbers(false)
cjson.decode_invalid_numbers(false)
cjson.encode_max_depth(1000)
cjson.decode_max_depth(1000)

local M = {}

M.null = cjson.null

-- A value that is written as `[]`: a string with zero bytes that no text
-- a program writes contains, replaced in the output (cjson writes the
-- zero bytes as \u0000).
M.empty_array = "\0loom:[]\0"
local EMPTY_ARRAY_TEXT = '"\\u0000loom:[]\\u0000"'

--- t (default a new table) to be written as a JSON array: t itself when
--- it has elements, json.empty_array when it has none.
function M.array(t)
  if t == nil or next(t) == nil then return M.empty_array end
  return t
end

-- Integers in floats (decoded by strtod) come back as Lua integers when
-- they are whole and small enough to be exact.
local function integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do
      if type(x) == "number" or type(x) == "table" then v[k] = integers(x) end
    end
    return v
  end
  if math.type(v) == "float" and v == math.floor(v) and v >= -2^53 and v <= 2^53 then
    return math.tointeger(v)
  end
  return v
end

--- The JSON text of v; raises on values JSON cannot hold (functions,
--- NaN, cycles beyond the depth limit, mixed or very sparse tables).
function M.encode(v)
  local text = cjson.encode(v)
  if text:find("\\u0000loom:", 1, true) then
    text = text:gsub(EMPTY_ARRAY_TEXT:gsub("%p", "%%%0"), "[]")
  end
  return text
end

--- The value of JSON text s, or nil and "EINVAL: <cjson's message>" for
--- text that is not JSON.
function M.decode(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'decode' (string expected, got " .. type(s) .. ")", 2)
  end
  local ok, v = pcall(cjson.decode, s)
  if not ok then
    return nil, "EINVAL: " .. tostring(v):gsub("^.-:%d+: ", ""), "EINVAL"
  end
  return integers(v)
end

M.stringify = M.encode
M.parse = M.decode

return M
