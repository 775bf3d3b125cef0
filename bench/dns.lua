-- bench/dns.lua MODULE [N]: N async getaddrinfo("localhost") calls in
-- flight at once; prints the seconds from the first call to the last
-- answer. MODULE is "loom" or "luv" (Debian lua-luv), so the same script
-- measures both.
local uv = require(arg[1] or "loom")
local n = tonumber(arg[2]) or 10000
local left = n
local hints = {family = "inet", socktype = "stream"}
local t0 = uv.hrtime()
for _ = 1, n do
  uv.getaddrinfo("localhost", "80", hints, function(err, res)
    assert(not err, err)
    assert(res[1].addr == "127.0.0.1")
    left = left - 1
  end)
end
uv.run()
assert(left == 0)
print(string.format("%.3f", (uv.hrtime() - t0) / 1e9))
