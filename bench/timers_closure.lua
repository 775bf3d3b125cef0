-- bench/timers_closure.lua [loom|luv] [N]: N one-shot timers with random
-- timeouts of 0-100 ms, each with a closure of its own, each closed by
-- its own callback (the shape programs have; bench/timers.lua keeps the
-- handles in a table and shares one callback). Prints wall time and peak
-- RSS. Runs on loom (`loom timers_closure.lua`) and luv (`lua5.4
-- timers_closure.lua luv`).
local modname = arg[1] or "loom"
local uv = require(modname)
local N = tonumber(arg[2]) or 1000000

math.randomseed(42)
local fired = 0
local start = uv.hrtime()
for i = 1, N do
  local t = uv.new_timer()
  -- The closure holds what it needs, as Node's does: the shared counter
  -- and, since a Lua timer must be closed, its own timer.
  t:start(math.random(0, 100), 0, function()
    fired = fired + 1
    t:close()
  end)
end
uv.run()
local elapsed = (uv.hrtime() - start) / 1e9
assert(fired == N, ("only %d of %d timers fired"):format(fired, N))
local rss = uv.resident_set_memory and uv.resident_set_memory() or 0
local f = io.open("/proc/self/status")
local peak = f and f:read("a"):match("VmHWM:%s*(%d+)")
if f then f:close() end
io.write(string.format("%s: %d timers (closure each, closed in the callback) in %.3f s, peak RSS %.0f MiB\n",
                       modname, N, elapsed, (tonumber(peak) or rss / 1024) / 1024))
