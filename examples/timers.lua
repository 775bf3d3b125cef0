-- timers.lua: one-shot, repeating and restarted timers, and the Luvit-style
-- loom.timer module with a coroutine sleep.  Run: loom examples/timers.lua
local uv = require "loom"
local timer = require "loom.timer"

-- luv style: a handle with start/stop/again.
local heartbeat = uv.new_timer()
local beats = 0
heartbeat:start(0, 100, function()
  beats = beats + 1
  print("heartbeat", beats, "due again in", heartbeat:get_due_in(), "ms")
  if beats == 3 then heartbeat:close() end
end)

-- A watchdog that is pushed back every time something happens.
local watchdog = uv.new_timer()
watchdog:start(250, 250, function() print("watchdog: 250 ms without activity"); watchdog:close() end)
local activity = uv.new_timer()
local pokes = 0
activity:start(50, 50, function()
  pokes = pokes + 1
  watchdog:again() -- restart the 250 ms countdown
  if pokes == 4 then activity:close() end
end)

-- Node/Luvit style, and a coroutine that sleeps without blocking the loop.
timer.setTimeout(120, function(who) print("setTimeout says hello to", who) end, "you")
timer.setImmediate(function() print("setImmediate runs first, after the first poll") end)
coroutine.wrap(function()
  for i = 1, 3 do
    timer.sleep(80)
    print("coroutine woke up", i)
  end
end)()
