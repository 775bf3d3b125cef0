-- offload.lua: CPU work moved off the loop thread. A timer ticks every
-- 10 ms on the loop while the thread pool counts primes in slices, each
-- slice in a worker's own Lua state; the ticks keep coming because the
-- loop never computes anything itself.
--   loom examples/offload.lua [LIMIT]     count the primes below LIMIT
--   loom examples/offload.lua --self-test the primes below 200,000
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local limit = self_test and 200000 or tonumber(arg[1] or 2000000)
local slices = 16
local on_slice -- defined below; after_fn runs on the loop thread

-- Runs on a worker: it sees only its arguments (no upvalues cross).
local count_primes = uv.new_work(function(from, to)
  local count = 0
  for n = math.max(from, 2), to - 1 do
    local prime = true
    for d = 2, math.floor(math.sqrt(n)) do
      if n % d == 0 then prime = false break end
    end
    if prime then count = count + 1 end
  end
  return from, count
end, function(from, count)
  -- Back on the loop thread, with the worker's results.
  on_slice(from, count)
end)

local total, done, ticks = 0, 0, 0
local ticker = uv.new_timer()
ticker:start(10, 10, function() ticks = ticks + 1 end)
local t0 = uv.hrtime()

on_slice = function(_, count)
  total = total + count
  done = done + 1
  if done == slices then
    ticker:close()
    print(("%d primes below %d in %.3f s; the loop ticked %d times meanwhile"):format(
      total, limit, (uv.hrtime() - t0) / 1e9, ticks))
    if self_test then assert(total == 17984, total) end
  end
end

local step = math.ceil(limit / slices)
for i = 0, slices - 1 do
  count_primes:queue(i * step, math.min((i + 1) * step, limit))
end
uv.run()
