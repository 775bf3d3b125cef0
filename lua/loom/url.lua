-- loom.url: parse and format URLs (WHATWG-style for the special schemes
-- http, https, ws, wss, and a generic scheme://authority/path form).
--
--   local url = require "loom.url"
--   local u = url.parse("HTTP://user@Example.com:8080/a/../b?x=1#top")
--   u.protocol, u.hostname, u.port, u.pathname, u.search, u.hash
--   --> "http:", "example.com", "8080", "/b", "?x=1", "#top"
--   url.format(u)     --> "http://user@example.com:8080/b?x=1#top"
--   url.resolve("http://a/b/c", "../d")   --> "http://a/d"
--
-- As the WHATWG parser does for these schemes: the scheme and host are
-- lower-cased, the default port is dropped, "." and ".." segments are
-- resolved, backslashes count as slashes, an empty path is "/", and
-- spaces, controls and non-ASCII bytes in the path, query and fragment
-- are percent-encoded. A string that is not a URL gives
-- nil, "EINVAL: invalid URL", "EINVAL".
local querystring = require "loom.querystring"

local M = {}

local DEFAULT_PORT = {http = 80, https = 443, ws = 80, wss = 443, ftp = 21}

local function invalid(why)
  return nil, "EINVAL: invalid URL" .. (why and (" (" .. why .. ")") or ""), "EINVAL"
end

-- Percent-encodes what may not appear as it is in a path, query or
-- fragment; existing escapes are kept.
local function encode_part(s, extra)
  return (s:gsub("[%c%s\"<>`" .. (extra or "") .. "\128-\255]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

local function remove_dots(path)
  local out = {}
  local trailing = false
  for seg in (path .. "/"):gmatch("([^/]*)/") do
    trailing = false
    if seg == ".." or seg:lower() == "%2e%2e" then
      if #out > 0 then out[#out] = nil end
      trailing = true
    elseif seg == "." or seg:lower() == "%2e" then
      trailing = true
    else
      out[#out + 1] = seg
    end
  end
  local s = table.concat(out, "/")
  if s:sub(1, 1) ~= "/" then s = "/" .. s end
  if trailing and s:sub(-1) ~= "/" then s = s .. "/" end
  return s
end

local function parse_host(host)
  if host:sub(1, 1) == "[" then
    local inner = host:match("^%[([%x:%.]+)%]$")
    if not inner or not inner:find(":", 1, true) then return nil end
    return "[" .. inner:lower() .. "]"
  end
  if host == "" then return nil end
  -- Forbidden host code points (WHATWG): these never belong in a host.
  if host:find("[%z%s#%%/:<>%?@%[\\%]%^|]") then return nil end
  return host:lower()
end

--- Parses s; returns a table {href, protocol, username, password, host,
--- hostname, port, pathname, search, query, hash, origin}, or nil and
--- an error. port is a string ("" when default or absent); query is the
--- search without "?"; `u.searchParams` is not built (use
--- querystring.parse(u.query)).
function M.parse(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(s) .. ")", 2)
  end
  s = s:gsub("^[%c ]+", ""):gsub("[%c ]+$", ""):gsub("[\t\n\r]", "")
  local scheme, rest = s:match("^(%a[%w+%-.]*):(.*)$")
  if not scheme then return invalid("no scheme") end
  scheme = scheme:lower()
  local special = DEFAULT_PORT[scheme] ~= nil
  if special then rest = rest:gsub("\\", "/") end
  local u = {protocol = scheme .. ":", username = "", password = "", port = "",
             hostname = "", search = "", hash = "", query = ""}
  -- Fragment, then query.
  local frag_at = rest:find("#", 1, true)
  if frag_at then
    u.hash = "#" .. encode_part(rest:sub(frag_at + 1))
    rest = rest:sub(1, frag_at - 1)
  end
  local q_at = rest:find("?", 1, true)
  if q_at then
    u.query = encode_part(rest:sub(q_at + 1), "'")
    u.search = "?" .. u.query
    rest = rest:sub(1, q_at - 1)
    if u.search == "?" then u.search = "" end
  end
  if special or rest:sub(1, 2) == "//" then
    local authority, path = rest:match("^/*([^/]*)(.*)$")
    if not special then authority, path = rest:match("^//([^/]*)(.*)$") end
    local userinfo, hostport = authority:match("^(.*)@(.*)$")
    if userinfo then
      local user, pass = userinfo:match("^([^:]*):(.*)$")
      u.username = encode_part(user or userinfo, "@/:")
      u.password = pass and encode_part(pass, "@/:") or ""
    else
      hostport = authority
    end
    local host, port = hostport:match("^(%[.*%]):(%d*)$")
    if not host then
      host, port = hostport:match("^([^:]*):(%d*)$")
      if not host then
        if hostport:find(":", 1, true) and hostport:sub(1, 1) ~= "[" then
          return invalid("bad port")
        end
        host = hostport
      end
    end
    if host == "" and special then return invalid("no host") end
    if host ~= "" then
      local h = parse_host(host)
      if not h then return invalid("bad host") end
      u.hostname = h
    end
    if port and port ~= "" then
      local n = tonumber(port)
      if n > 65535 then return invalid("port out of range") end
      if n ~= DEFAULT_PORT[scheme] then u.port = tostring(math.tointeger(n)) end
    end
    u.pathname = special and remove_dots(encode_part(path)) or encode_part(path)
    if not special and u.pathname ~= "" then u.pathname = remove_dots(u.pathname) end
    u.slashes = true
  else
    -- mailto:x, urn:y: an opaque path.
    u.pathname = encode_part(rest)
  end
  u.host = u.hostname .. (u.port ~= "" and (":" .. u.port) or "")
  u.origin = special and (u.protocol .. "//" .. u.host) or "null"
  u.href = M.format(u)
  return u
end

--- Builds a URL string from a table shaped like parse's result (or
--- {protocol, hostname, port, pathname, search or query, hash}).
function M.format(u)
  if type(u) ~= "table" then
    error("bad argument #1 to 'format' (table expected, got " .. type(u) .. ")", 2)
  end
  local parts = {}
  local protocol = u.protocol or ""
  if protocol ~= "" and protocol:sub(-1) ~= ":" then protocol = protocol .. ":" end
  parts[#parts + 1] = protocol
  local hostname = u.hostname or (u.host and u.host:gsub(":%d*$", "")) or ""
  if u.slashes ~= false and (hostname ~= "" or DEFAULT_PORT[protocol:sub(1, -2)]) then
    parts[#parts + 1] = "//"
    if (u.username or "") ~= "" or (u.password or "") ~= "" then
      parts[#parts + 1] = u.username or ""
      if (u.password or "") ~= "" then parts[#parts + 1] = ":" .. u.password end
      parts[#parts + 1] = "@"
    end
    parts[#parts + 1] = hostname
    local port = u.port and tostring(u.port) or ""
    if port ~= "" then parts[#parts + 1] = ":" .. port end
  end
  local path = u.pathname or ""
  if u.slashes ~= false and hostname ~= "" and path:sub(1, 1) ~= "/" then path = "/" .. path end
  parts[#parts + 1] = path
  local search = u.search
  if (search == nil or search == "") and u.query and u.query ~= "" then
    search = "?" .. (type(u.query) == "table" and querystring.stringify(u.query) or u.query)
  end
  if search and search ~= "" then
    parts[#parts + 1] = search:sub(1, 1) == "?" and search or ("?" .. search)
  end
  local hash = u.hash
  if hash and hash ~= "" then parts[#parts + 1] = hash:sub(1, 1) == "#" and hash or ("#" .. hash) end
  return table.concat(parts)
end

--- The URL `ref` points to when read relative to `base` (an absolute
--- URL): as a browser resolves a link. Returns a string, or nil and an
--- error.
function M.resolve(base, ref)
  if type(base) ~= "string" or type(ref) ~= "string" then
    error("bad arguments to 'resolve' (two strings expected)", 2)
  end
  local b, err, name = M.parse(base)
  if not b then return nil, err, name end
  if ref:match("^%a[%w+%-.]*:") then
    local r, rerr, rname = M.parse(ref)
    if not r then return nil, rerr, rname end
    return r.href
  end
  local special = DEFAULT_PORT[b.protocol:sub(1, -2)] ~= nil
  if special then ref = ref:gsub("\\", "/") end
  if ref:sub(1, 2) == "//" then
    return M.resolve(base, b.protocol .. ref)
  end
  local target
  if ref == "" then
    target = b.pathname .. b.search
  elseif ref:sub(1, 1) == "#" then
    target = b.pathname .. b.search .. ref
  elseif ref:sub(1, 1) == "?" then
    target = b.pathname .. ref
  elseif ref:sub(1, 1) == "/" then
    target = ref
  else
    target = b.pathname:gsub("[^/]*$", "") .. ref
  end
  local r, rerr, rname = M.parse(b.protocol .. "//" .. (b.username ~= "" and
    (b.username .. (b.password ~= "" and (":" .. b.password) or "") .. "@") or "") ..
    b.host .. target)
  if not r then return nil, rerr, rname end
  return r.href
end

return M
