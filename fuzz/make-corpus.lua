-- fuzz/make-corpus.lua DIR: writes the seed corpus for fuzz_dns_parse:
-- the loopback fixture's replies (tests/lua/dns_fixture.lua) for every
-- record type and every misbehaving name, each prefixed with the byte
-- that selects the type the target asks for.
local dir = assert(arg[1], "usage: make-corpus.lua DIR")
local here = arg[0]:match("^(.*)/") or "."
local fixture = dofile(here .. "/../tests/lua/dns_fixture.lua")
local types = {ANY = 255, A = 1, AAAA = 28, CNAME = 5, MX = 15, TXT = 16,
               SRV = 33, SOA = 6, CAA = 257, NAPTR = 35}
local selector = {ANY = 0, A = 1, AAAA = 2, CNAME = 3, MX = 4, TXT = 5,
                  SRV = 6, SOA = 7, CAA = 8, NAPTR = 9}
local function qname(name)
  local out = {}
  for label in name:gmatch("[^.]+") do out[#out + 1] = string.char(#label) .. label end
  return table.concat(out) .. "\0"
end
local names = {"example.test", "alias.example.test", "_sip._udp.example.test",
               "big.example.test", "loop.example.test", "forward.example.test",
               "absurd.example.test", "longname.example.test", "badrdata.example.test",
               "cutshort.example.test", "escape.example.test", "nx.example.test",
               "chain100.example.test", "chain200.example.test", "huge.example.test"}
local n = 0
for _, name in ipairs(names) do
  for tname, t in pairs(types) do
    local q = {id = 4660, rd = 0x100, name = name, qtype = t,
               question = qname(name) .. string.pack(">I2I2", t, 1)}
    local reply = fixture.answer({seen = {}, truncated = 0}, q, true)
    if reply and #reply > 0 then
      n = n + 1
      local f = assert(io.open(("%s/%s-%s"):format(dir, name, tname), "wb"))
      f:write(string.char(selector[tname]), reply)
      f:close()
    end
  end
end
print(n .. " seeds")
