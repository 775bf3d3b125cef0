-- resolve.lua: DNS lookups of any record type with uv.new_resolver, next
-- to getaddrinfo. The resolver is c-ares on the loop: no thread, any
-- number in flight, each record with its TTL.
--   loom examples/resolve.lua NAME [TYPE] [SERVER]  e.g. example.com MX 9.9.9.9
--   loom examples/resolve.lua --self-test           against a tiny DNS server
--                                                   made here with a UDP handle
local uv = require "loom"

local function show(name, rtype, err, records)
  if err then return print(("%s %s: %s"):format(name, rtype, err)) end
  for _, r in ipairs(records) do
    local fields = {}
    for k, v in pairs(r) do
      if k ~= "type" and k ~= "ttl" then
        fields[#fields + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, "|") or tostring(v))
      end
    end
    table.sort(fields)
    print(("%s %d %s %s"):format(name, r.ttl, r.type, table.concat(fields, " ")))
  end
end

if arg[1] ~= "--self-test" then
  local name = assert(arg[1], "usage: loom resolve.lua NAME [TYPE] [SERVER]")
  local rtype = arg[2] or "A"
  local resolver = assert(uv.new_resolver({servers = arg[3] and {arg[3]} or nil, timeout = 2000}))
  resolver:query(name, rtype, function(err, records)
    show(name, rtype, err, records)
    resolver:close()
  end)
  uv.getaddrinfo(name, nil, {socktype = "stream"}, function(err, list)
    for _, a in ipairs(list or {}) do print(name, "getaddrinfo", a.addr) end
    if err then print(name, "getaddrinfo", err) end
  end)
  return
end

-- Self-test: a DNS server on 127.0.0.1 that answers every A query with
-- 192.0.2.1 (TTL 60) and anything else with NXDOMAIN, then three queries.
local server = uv.new_udp()
assert(server:bind("127.0.0.1", 0))
server:recv_start(function(err, query, addr)
  if err or not query or #query < 17 then return end
  local id, _, qdcount = string.unpack(">I2I2I2", query)
  local pos = 13
  while query:byte(pos) and query:byte(pos) ~= 0 do pos = pos + 1 + query:byte(pos) end
  local qtype = string.unpack(">I2", query, pos + 1)
  local question = query:sub(13, pos + 4)
  local found = qdcount == 1 and qtype == 1
  local reply = string.pack(">I2I2I2I2I2I2", id, found and 0x8180 or 0x8183, 1, found and 1 or 0, 0, 0)
    .. question
    .. (found and ("\192\12" .. string.pack(">I2I2I4s2", 1, 1, 60, "\192\0\2\1")) or "")
  server:send(reply, addr.ip, addr.port)
end)

local resolver = assert(uv.new_resolver({
  servers = {"127.0.0.1:" .. server:getsockname().port}, timeout = 1000, tries = 2}))
local left = 3
local function done()
  left = left - 1
  if left == 0 then resolver:close() server:close() end
end
resolver:query("www.example.test", "A", function(err, records)
  show("www.example.test", "A", err, records)
  assert(not err and records[1].addr == "192.0.2.1" and records[1].ttl == 60)
  done()
end)
resolver:query("www.example.test", "MX", function(err)
  assert(err == "ENOTFOUND", err)
  print("www.example.test MX: " .. err)
  done()
end)
-- getaddrinfo answers names from the hosts file without any query.
uv.getaddrinfo("localhost", "80", {family = "inet", socktype = "stream"}, function(err, list)
  assert(not err and list[1].addr == "127.0.0.1", err)
  print("localhost getaddrinfo " .. list[1].addr .. " port " .. list[1].port)
  done()
end)
