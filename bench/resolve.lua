-- bench/resolve.lua SERVER [N] [WINDOW]: N A queries for example.test
-- through uv.new_resolver against SERVER ("127.0.0.1:port", the loopback
-- fixture tests/lua/dns_fixture.lua), WINDOW of them in flight at a time
-- (a new one starts as each answer comes); prints the seconds from the
-- first query to the last answer.
local uv = require "loom"
local server = assert(arg[1], "usage: resolve.lua SERVER [N] [WINDOW]")
local n = tonumber(arg[2]) or 10000
local window = tonumber(arg[3]) or 100
local r = assert(uv.new_resolver({servers = {server}, timeout = 5000, tries = 2}))
local started, left = 0, n
local on_answer
local function start()
  started = started + 1
  r:query("example.test", "A", on_answer)
end
function on_answer(err, records)
  assert(not err, err)
  assert(#records == 2)
  left = left - 1
  if started < n then start() elseif left == 0 then r:close() end
end
local t0 = uv.hrtime()
for _ = 1, math.min(window, n) do start() end
uv.run()
assert(left == 0)
print(string.format("%.3f", (uv.hrtime() - t0) / 1e9))
