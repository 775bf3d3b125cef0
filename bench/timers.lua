-- The million-timer workload (libuv's benchmark-million-timers, in Lua):
-- N timers with random timeouts of 0-100 ms, every one fires, then every
-- one is closed. Runs unchanged on loom (`loom timers.lua`) and on luv
-- (`lua5.4 timers.lua luv`).
local modname = arg[1] or "loom"
local uv = require(modname)
local N = tonumber(arg[2]) or 1000000

math.randomseed(42)
local fired = 0
local function on_timeout() fired = fired + 1 end

local timers = {}
local start = uv.hrtime()
for i = 1, N do
  local t = uv.new_timer()
  t:start(math.random(0, 100), 0, on_timeout)
  timers[i] = t
end
uv.run()
for i = 1, N do timers[i]:close() end
uv.run()
local elapsed = (uv.hrtime() - start) / 1e9
assert(fired == N, ("only %d of %d timers fired"):format(fired, N))
io.write(string.format("%s: %d timers in %.3f s\n", modname, N, elapsed))
