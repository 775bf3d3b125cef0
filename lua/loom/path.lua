-- loom.path: POSIX path strings, as Node's `path` (path.posix).
--
--   local path = require "loom.path"
--   path.join("/a", "b", "../c")        --> "/a/c"
--   path.resolve("x")                   --> cwd .. "/x"
--   path.relative("/a/b/c", "/a/d")     --> "../../d"
--
-- Pure string work: nothing touches the file system (resolve reads the
-- current directory, nothing else).
local uv = require "loom"

local M = {sep = "/", delimiter = ":"}

local function check(p, i, name)
  if type(p) ~= "string" then
    error(("bad argument #%d to '%s' (string expected, got %s)"):format(i, name, type(p)), 3)
  end
end

-- Collapses ".", ".." and repeated slashes of a path; keeps a leading
-- "/" and, for a relative path, the ".." that climb above its start.
local function normalize_parts(p, absolute)
  local out = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." then
      if #out > 0 and out[#out] ~= ".." then
        out[#out] = nil
      elseif not absolute then
        out[#out + 1] = ".."
      end
    elseif part ~= "." then
      out[#out + 1] = part
    end
  end
  return table.concat(out, "/")
end

--- "/a//b/../c/." -> "/a/c"; "" -> "."; a trailing "/" is kept.
function M.normalize(p)
  check(p, 1, "normalize")
  if p == "" then return "." end
  local absolute = p:sub(1, 1) == "/"
  local trailing = p:sub(-1) == "/"
  local s = normalize_parts(p, absolute)
  if s == "" and not absolute then s = "." end
  if trailing and s ~= "" and s:sub(-1) ~= "/" then s = s .. "/" end
  if absolute then return "/" .. s end
  return s
end

--- Joins the non-empty arguments with "/" and normalizes the result.
function M.join(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    check(p, i, "join")
    if p ~= "" then parts[#parts + 1] = p end
  end
  if #parts == 0 then return "." end
  return M.normalize(table.concat(parts, "/"))
end

function M.isAbsolute(p)
  check(p, 1, "isAbsolute")
  return p:sub(1, 1) == "/"
end

--- The absolute path of the arguments taken right to left until one is
--- absolute, from the current directory; normalized, no trailing "/".
function M.resolve(...)
  local resolved, absolute = "", false
  for i = select("#", ...), 1, -1 do
    local p = select(i, ...)
    check(p, i, "resolve")
    if p ~= "" then
      resolved = resolved == "" and p or (p .. "/" .. resolved)
      if p:sub(1, 1) == "/" then absolute = true; break end
    end
  end
  if not absolute then
    local cwd = assert(uv.cwd())
    resolved = resolved == "" and cwd or (cwd .. "/" .. resolved)
  end
  return "/" .. normalize_parts(resolved, true)
end

--- The directory part: "/a/b/c" -> "/a/b", "a" -> ".", "/" -> "/".
function M.dirname(p)
  check(p, 1, "dirname")
  if p == "" then return "." end
  local s = p:gsub("/+$", "")
  if s == "" then return "/" end
  local dir = s:match("^(.*)/[^/]*$")
  if dir == nil then return "." end
  dir = dir:gsub("/+$", "")
  if dir == "" then return "/" end
  return dir
end

--- The last part: "/a/b.txt" -> "b.txt"; ext given and matching: cut off.
function M.basename(p, ext)
  check(p, 1, "basename")
  if ext ~= nil then check(ext, 2, "basename") end
  local base = p:gsub("/+$", ""):match("([^/]*)$")
  if ext and ext ~= base and #ext > 0 and base:sub(-#ext) == ext then
    base = base:sub(1, -#ext - 1)
  end
  return base
end

--- The extension from the last "." of the last part: "a/b.tar.gz" ->
--- ".gz"; none for "b", ".profile" (a leading dot is not one) or "b.".
function M.extname(p)
  check(p, 1, "extname")
  local base = M.basename(p)
  local ext = base:match("^.+(%.[^.]*)$")
  if ext == nil or ext == "." and base:match("^%.+$") then return "" end
  return ext
end

--- The path from `from` to `to` (both resolved first).
function M.relative(from, to)
  check(from, 1, "relative")
  check(to, 2, "relative")
  from, to = M.resolve(from), M.resolve(to)
  if from == to then return "" end
  local a, b = {}, {}
  for part in from:gmatch("[^/]+") do a[#a + 1] = part end
  for part in to:gmatch("[^/]+") do b[#b + 1] = part end
  local i = 1
  while i <= #a and i <= #b and a[i] == b[i] do i = i + 1 end
  local out = {}
  for _ = i, #a do out[#out + 1] = ".." end
  for j = i, #b do out[#out + 1] = b[j] end
  return table.concat(out, "/")
end

--- {root, dir, base, ext, name}, as Node's path.parse.
function M.parse(p)
  check(p, 1, "parse")
  local root = p:sub(1, 1) == "/" and "/" or ""
  local base = M.basename(p)
  local ext = M.extname(p)
  local dir = ""
  if p:find("/", 1, true) then dir = M.dirname(p) end
  return {root = root, dir = dir, base = base, ext = ext,
          name = ext ~= "" and base:sub(1, -#ext - 1) or base}
end

--- The inverse of parse: dir (or root) .. "/" .. base (or name .. ext).
function M.format(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'format' (table expected, got " .. type(t) .. ")", 2)
  end
  local dir = t.dir or t.root or ""
  local base = t.base or ((t.name or "") .. (t.ext or ""))
  if dir == "" then return base end
  if dir == t.root then return dir .. base end
  return dir .. "/" .. base
end

M.posix = M
return M
