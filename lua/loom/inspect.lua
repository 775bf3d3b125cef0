-- loom.inspect: a readable text for any Lua value (Node's util.inspect,
-- Luvit's p()).
--
--   local inspect = require "loom.inspect"
--   print(inspect({1, 2, x = {y = "z"}}))   --> { 1, 2, x = { y = "z" } }
--   inspect.p(value, ...)                    -- prints each, in colour on a terminal
--
-- Options: depth (default 4; deeper tables print as "{...}"), colors
-- (default false; p() turns them on when stdout is a terminal), indent
-- (default "  "; output longer than `width`, 72, goes on several
-- lines). A table seen again on the way down prints as "<cycle>"; a
-- table with a metatable named by __name prints its name first.
local uv = require "loom"

local M = {}

local COLORS = {
  string = "\27[32m", number = "\27[33m", boolean = "\27[35m", ["nil"] = "\27[90m",
  ["function"] = "\27[36m", userdata = "\27[36m", thread = "\27[36m", cycle = "\27[31m",
}
local RESET = "\27[0m"

local ESCAPES = {["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
                 ["\r"] = "\\r", ["\t"] = "\\t", ["\v"] = "\\v", ["\\"] = "\\\\",
                 ['"'] = '\\"'}

local function quote(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return ESCAPES[c] or ("\\%d"):format(c:byte())
  end) .. '"'
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local KEY_ORDER = {number = 1, string = 2, boolean = 3}

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (KEY_ORDER[ta] or 9) < (KEY_ORDER[tb] or 9) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function paint(opts, kind, text)
  if opts.colors and COLORS[kind] then return COLORS[kind] .. text .. RESET end
  return text
end

local render -- forward

local function render_table(t, opts, depth, seen, level)
  if seen[t] then return paint(opts, "cycle", "<cycle>") end
  local mt = getmetatable(t)
  local name = type(mt) == "table" and rawget(mt, "__name")
  local prefix = type(name) == "string" and (name .. " ") or ""
  if depth > opts.depth then return prefix .. "{...}" end
  seen[t] = true
  local items = {}
  local n = rawlen(t)
  for i = 1, n do items[#items + 1] = render(rawget(t, i), opts, depth + 1, seen, level + 1) end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  for _, k in ipairs(keys) do
    local ks = is_identifier(k) and k or ("[" .. render(k, opts, depth + 1, seen, level + 1) .. "]")
    items[#items + 1] = ks .. " = " .. render(rawget(t, k), opts, depth + 1, seen, level + 1)
  end
  seen[t] = nil
  if #items == 0 then return prefix .. "{}" end
  local one_line = prefix .. "{ " .. table.concat(items, ", ") .. " }"
  if #one_line + #opts.indent * level <= opts.width and not one_line:find("\n", 1, true) then
    return one_line
  end
  local pad = opts.indent:rep(level + 1)
  return prefix .. "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" ..
         opts.indent:rep(level) .. "}"
end

function render(v, opts, depth, seen, level)
  local t = type(v)
  if t == "string" then return paint(opts, "string", quote(v)) end
  if t == "number" then
    local s
    if v ~= v then s = "nan"
    elseif v == math.huge then s = "inf"
    elseif v == -math.huge then s = "-inf"
    elseif math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e16 then
      s = ("%.1f"):format(v)
    else s = tostring(v) end
    return paint(opts, "number", s)
  end
  if t == "boolean" or t == "nil" then return paint(opts, t, tostring(v)) end
  if t == "table" then return render_table(v, opts, depth, seen, level) end
  -- Functions, threads, userdata: their own text (handles print as
  -- "uv_tcp_t: 0x..."); a __tostring that raises is not trusted.
  local ok, s = pcall(tostring, v)
  return paint(opts, t, ok and s or (t .. ": ?"))
end

--- The text of v. opts: depth, colors, indent, width.
function M.inspect(v, opts)
  opts = opts or {}
  local o = {depth = opts.depth or 4, colors = opts.colors or false,
             indent = opts.indent or "  ", width = opts.width or 72}
  return render(v, o, 1, {}, 0)
end

local stdout_is_tty
--- Prints each argument inspected, separated by tabs, in colour when
--- stdout is a terminal. Returns its arguments.
function M.p(...)
  if stdout_is_tty == nil then stdout_is_tty = uv.guess_handle(1) == "tty" end
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do
    parts[i] = M.inspect((select(i, ...)), {colors = stdout_is_tty})
  end
  io.stdout:write(table.concat(parts, "\t"), "\n")
  return ...
end

return setmetatable(M, {__call = function(_, v, opts) return M.inspect(v, opts) end})
