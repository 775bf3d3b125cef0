-- demo.lua: timers, the loop phases and a signal the script sends itself.
-- Run: build/loom examples/demo.lua    (exits by itself)
local uv = require "loom"

local start = uv.now()
local function say(fmt, ...)
  print(("[%4d ms] " .. fmt):format(uv.now() - start, ...))
end

-- One pass of the loop, traced: timers, idle, prepare, (poll), check.
local trace = {}
local idle, prepare, check = uv.new_idle(), uv.new_prepare(), uv.new_check()
idle:start(function() trace[#trace + 1] = "idle"; idle:stop() end)
prepare:start(function() trace[#trace + 1] = "prepare"; prepare:stop() end)
check:start(function()
  trace[#trace + 1] = "check"
  check:stop()
  say("phases of the first pass: %s", table.concat(trace, " -> "))
  idle:close(); prepare:close(); check:close()
end)
local first = uv.new_timer()
first:start(0, 0, function() trace[#trace + 1] = "timer"; first:close() end)

-- Timers: a one-shot and a repeating one.
local once = uv.new_timer()
once:start(50, 0, function() say("one-shot timer fired"); once:close() end)

local ticks = 0
local tick = uv.new_timer()
tick:start(20, 20, function()
  ticks = ticks + 1
  say("tick %d", ticks)
  if ticks == 3 then
    tick:close()
    -- Now send ourselves SIGUSR1 through a real child process.
    os.execute("kill -s USR1 " .. uv.os_getpid())
  end
end)

-- The signal handle: the process catches SIGUSR1 and closes the handle,
-- after which nothing is left and the loop (and the script) ends.
local sig = uv.new_signal()
sig:start("sigusr1", function(name)
  say("caught %s; nothing left to do, so the loop ends", name)
  sig:close()
end)

say("script body done; the runner now runs the loop")
