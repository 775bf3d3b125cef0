-- dns_fixture.lua: a DNS server for tests, written with loom's own UDP and
-- TCP, on 127.0.0.1 (UDP and TCP on the same port, as c-ares expects).
-- It serves a small zone under example.test and, for names that say so,
-- misbehaves (on ::1 too, with fixture.start(uv, nil, "::1")): no reply, a wrong ID, an empty datagram, a pointer loop, an
-- absurd record count, an oversize name, a truncated UDP reply that only
-- TCP answers in full.
--
--   local fixture = dofile(dir .. "/dns_fixture.lua")
--   local fx = fixture.start(uv)      -- fx.port, fx.server ("127.0.0.1:N")
--   fx.seen["silent.example.test"]    -- queries received for a name
--   fx:close()
--
-- Run as a script (`loom dns_fixture.lua PORT`) it serves until killed,
-- for the benchmark against Node.
local M = {}

local pack, unpack = string.pack, string.unpack

local TYPE = {A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16,
              AAAA = 28, SRV = 33, NAPTR = 35, ANY = 255, CAA = 257}

local function encode_name(name)
  local out = {}
  for label in name:gmatch("[^.]+") do
    out[#out + 1] = string.char(#label) .. label
  end
  out[#out + 1] = "\0"
  return table.concat(out)
end

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return string.char(tonumber(a), tonumber(b), tonumber(c), tonumber(d))
end

local function ipv6(s)
  -- Only the forms this zone uses: groups with one "::".
  local head, tail = s:match("^(.-)::(.*)$")
  local function groups(part)
    local g = {}
    for x in part:gmatch("[^:]+") do g[#g + 1] = tonumber(x, 16) end
    return g
  end
  local h, t = groups(head or s), groups(tail or "")
  local all = {}
  for _, v in ipairs(h) do all[#all + 1] = v end
  for _ = 1, 8 - #h - #t do all[#all + 1] = 0 end
  for _, v in ipairs(t) do all[#all + 1] = v end
  local out = {}
  for i = 1, 8 do out[i] = pack(">I2", all[i]) end
  return table.concat(out)
end

local function str(s) return string.char(#s) .. s end

-- The zone: name -> list of {type, ttl, rdata}.
local zone = {}
local function add(name, rtype, ttl, rdata)
  zone[name] = zone[name] or {}
  table.insert(zone[name], {type = TYPE[rtype], ttl = ttl, rdata = rdata})
end

add("example.test", "A", 300, ipv4("192.0.2.1"))
add("example.test", "A", 300, ipv4("192.0.2.2"))
add("example.test", "AAAA", 600, ipv6("2001:db8::1"))
add("example.test", "MX", 3600, pack(">I2", 10) .. encode_name("mail.example.test"))
add("example.test", "MX", 3600, pack(">I2", 20) .. encode_name("backup.example.test"))
add("example.test", "TXT", 120, str("v=spf1 -all"))
add("example.test", "TXT", 120, str("part one, ") .. str("part two"))
add("example.test", "NS", 86400, encode_name("ns1.example.test"))
add("example.test", "SOA", 900, encode_name("ns1.example.test") ..
  encode_name("hostmaster.example.test") .. pack(">I4I4I4I4I4", 2026112401, 7200, 3600, 1209600, 300))
add("example.test", "CAA", 1800, "\0" .. str("issue") .. "ca.example.net")
add("example.test", "CAA", 1800, "\128" .. str("iodef") .. "mailto:security@example.test")
add("_sip._udp.example.test", "SRV", 60, pack(">I2I2I2", 10, 5, 5060) .. encode_name("sip.example.test"))
add("example.test", "NAPTR", 30, pack(">I2I2", 100, 10) .. str("S") .. str("SIP+D2U") .. str("") ..
  encode_name("_sip._udp.example.test"))
add("www.example.test", "A", 300, ipv4("192.0.2.10"))
add("alias.example.test", "CNAME", 100, encode_name("www.example.test"))
add("dangling.example.test", "CNAME", 100, encode_name("nowhere.example.test"))
add("1.2.0.192.in-addr.arpa", "PTR", 500, encode_name("example.test"))
add("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR", 500,
  encode_name("v6.example.test"))
add("host.search.test", "A", 60, ipv4("192.0.2.77"))
add("nodata.example.test", "TXT", 60, str("only text here"))
for i = 1, 200 do
  add("big.example.test", "A", 60, ipv4("198.51.100." .. (i % 250)))
end
for i = 1, 2000 do
  add("huge.example.test", "A", 60, ipv4(("10.%d.%d.%d"):format(i >> 16, (i >> 8) & 255, i & 255)))
end
M.zone = zone

-- The question at offset 13: name (uncompressed), type, class; and where
-- the question ends.
local function parse_query(q)
  if #q < 17 then return nil end
  local id, flags, qd = unpack(">I2I2I2", q)
  if qd ~= 1 then return nil end
  local labels, pos = {}, 13
  while true do
    local n = q:byte(pos)
    if n == nil then return nil end
    if n == 0 then pos = pos + 1 break end
    if n >= 64 then return nil end
    labels[#labels + 1] = q:sub(pos + 1, pos + n)
    pos = pos + 1 + n
  end
  if pos + 3 > #q then return nil end
  local qtype = unpack(">I2", q, pos)
  return {id = id, rd = flags & 0x100, name = table.concat(labels, "."):lower(),
          qtype = qtype, question = q:sub(13, pos + 3), edns = #q > pos + 3}
end

local function header(id, rd, rcode, qd, an, tc)
  local flags = 0x8000 | 0x0400 | rd | 0x80 | rcode | (tc and 0x200 or 0)
  return pack(">I2I2I2I2I2I2", id, flags, qd, an, 0, 0)
end

local function rr(rtype, ttl, rdata, name)
  -- name: a pointer to the question's name (offset 12) unless given.
  return (name or "\192\12") .. pack(">I2I2I4I2", rtype, 1, ttl, #rdata) .. rdata
end

-- The reply for a parsed query; nil for no reply. over_tcp: the full
-- answer even when it is large.
local function answer(fx, q, over_tcp)
  local name = q.name
  fx.seen[name] = (fx.seen[name] or 0) + 1
  local function reply(rcode, records, tc)
    return header(q.id, q.rd, rcode, 1, #records, tc) .. q.question ..
      table.concat(records)
  end
  if name == "silent.example.test" then return nil end
  if name == "nx.example.test" then return reply(3, {}) end
  if name == "servfail.example.test" then return reply(2, {}) end
  if name == "refused.example.test" then return reply(5, {}) end
  if name == "wrongid.example.test" then
    return header((q.id + 1) & 0xFFFF, q.rd, 0, 1, 1) .. q.question ..
      rr(TYPE.A, 60, ipv4("192.0.2.99"))
  end
  if name == "empty.example.test" then return "" end
  if name == "loop.example.test" then
    -- The answer's name is a pointer to itself.
    local base = 12 + #q.question
    return reply(0, {pack(">I2", 0xC000 | base) .. pack(">I2I2I4I2", TYPE.A, 1, 60, 4) .. ipv4("192.0.2.5")})
  end
  if name == "forward.example.test" then
    -- A pointer forward, into the record's own data.
    local base = 12 + #q.question
    return reply(0, {pack(">I2", 0xC000 | (base + 12)) .. pack(">I2I2I4I2", TYPE.CNAME, 1, 60, 2) .. "\192\12"})
  end
  local chain = tonumber(name:match("^chain(%d+)%.example%.test$"))
  if chain then
    -- A first record of a type nobody asks for holds "test" and then a
    -- chain of pointers, each to the one before; the A record's owner
    -- is the last of them: `chain` jumps to read one name.
    local x0 = 12 + #q.question + 12
    local data = {"\4test\0"}
    local prev = x0
    for i = 1, chain do
      data[#data + 1] = pack(">I2", 0xC000 | prev)
      prev = x0 + 6 + 2 * (i - 1)
    end
    local filler = table.concat(data)
    return reply(0, {rr(99, 60, filler), rr(TYPE.A, 60, ipv4("192.0.2.8"), pack(">I2", 0xC000 | prev))})
  end
  if name == "absurd.example.test" then
    return header(q.id, q.rd, 0, 1, 65535) .. q.question .. rr(TYPE.A, 60, ipv4("192.0.2.6"))
  end
  if name == "longname.example.test" then
    local long = {}
    for i = 1, 5 do long[i] = string.rep(string.char(96 + i), 60) end
    local target = encode_name(table.concat(long, "."))
    return reply(0, {rr(TYPE.CNAME, 60, target)})
  end
  if name == "badrdata.example.test" then
    return reply(0, {rr(TYPE.A, 60, "\1\2\3")})
  end
  if name == "cutshort.example.test" then
    return reply(0, {rr(TYPE.A, 60, ipv4("192.0.2.7"))}):sub(1, -3)
  end
  if name == "escape.example.test" then
    return reply(0, {rr(TYPE.CNAME, 60, "\3a.b\3c\\d\1\0\4test\0")})
  end
  local records = {}
  local function collect(owner, ptr)
    for _, r in ipairs(zone[owner] or {}) do
      if r.type == q.qtype or q.qtype == TYPE.ANY then
        records[#records + 1] = rr(r.type, r.ttl, r.rdata, ptr)
      end
    end
  end
  local entries = zone[name]
  if entries == nil then return reply(3, {}) end
  collect(name)
  -- A CNAME answers for every type, followed by its target's records.
  for _, r in ipairs(entries) do
    if r.type == TYPE.CNAME and q.qtype ~= TYPE.CNAME then
      records[#records + 1] = rr(r.type, r.ttl, r.rdata)
      local target = {}
      local pos = 1
      while r.rdata:byte(pos) ~= 0 do
        local n = r.rdata:byte(pos)
        target[#target + 1] = r.rdata:sub(pos + 1, pos + n)
        pos = pos + 1 + n
      end
      collect(table.concat(target, "."), encode_name(table.concat(target, ".")))
    end
  end
  local out = reply(0, records)
  if #out > 512 and not over_tcp and not q.edns then
    fx.truncated = fx.truncated + 1
    return header(q.id, q.rd, 0, 1, 0, true) .. q.question
  end
  return out
end
M.answer = answer

local function serve_tcp_client(fx, client)
  local buf = ""
  fx.clients[client] = true
  client:read_start(function(err, data)
    if err or not data then
      fx.clients[client] = nil
      if not client:is_closing() then client:close() end
      return
    end
    buf = buf .. data
    while #buf >= 2 do
      local len = unpack(">I2", buf)
      if #buf < 2 + len then break end
      local q = parse_query(buf:sub(3, 2 + len))
      buf = buf:sub(3 + len)
      if q then
        fx.tcp_queries = fx.tcp_queries + 1
        local out = answer(fx, q, true)
        if out then client:write(pack(">s2", out)) end
      end
    end
  end)
end

function M.start(uv, port, host)
  host = host or "127.0.0.1"
  local fx = {seen = {}, clients = {}, truncated = 0, tcp_queries = 0}
  local udp, tcp
  local function on_connection(err)
    if err then return end
    local client = uv.new_tcp()
    tcp:accept(client)
    serve_tcp_client(fx, client)
  end
  -- UDP and TCP on one port: try ephemeral ports until both bind (a TCP
  -- bind error may only show at listen).
  for _ = 1, 20 do
    udp = uv.new_udp()
    assert(udp:bind(host, port or 0))
    local p = udp:getsockname().port
    tcp = uv.new_tcp()
    if tcp:bind(host, p) and tcp:listen(64, on_connection) then
      fx.port = p
      break
    end
    udp:close()
    tcp:close()
    assert(port == nil, "port in use")
  end
  assert(fx.port, "no port for both UDP and TCP")
  fx.server = (host:find(":") and "[" .. host .. "]" or host) .. ":" .. fx.port
  -- Room for a burst: the tests send thousands of queries at once from
  -- the same thread, before the fixture reads any.
  udp:recv_buffer_size(4 * 1024 * 1024)
  udp:send_buffer_size(4 * 1024 * 1024)
  udp:recv_start(function(err, data, addr)
    if err or not data or not addr then return end
    local q = parse_query(data)
    if not q then return end
    local out = answer(fx, q, false)
    if out then udp:send(out, addr.ip, addr.port) end
  end)
  function fx.close()
    udp:close()
    tcp:close()
    for c in pairs(fx.clients) do
      if not c:is_closing() then c:close() end
    end
  end
  fx.udp, fx.tcp = udp, tcp
  return fx
end

-- As a script: serve on the given port until killed.
if arg and arg[0] and arg[0]:match("dns_fixture%.lua$") and tonumber(arg[1]) then
  local uv = require "loom"
  local fx = M.start(uv, tonumber(arg[1]))
  io.stdout:write("serving on ", fx.server, "\n")
  io.stdout:flush()
  uv.run()
end

return M
