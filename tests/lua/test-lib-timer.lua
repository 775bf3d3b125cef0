-- test-lib-timer.lua: the loom.timer Lua module.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local timer = require "loom.timer"

test("setTimeout passes its arguments once", function(expect, uv)
  timer.setTimeout(5, expect(function(a, b, c)
    assert(a == 1 and b == nil and c == "x")
  end), 1, nil, "x")
end)

test("setInterval repeats until cleared", function(expect, uv)
  local n = 0
  local i
  i = timer.setInterval(1, expect(function()
    n = n + 1
    if n == 4 then timer.clearInterval(i) end
  end, 4))
end)

test("clearTimeout cancels, twice is harmless", function(expect, uv)
  local t = timer.setTimeout(5, function() error("cancelled timeout ran") end)
  timer.clearTimeout(t)
  timer.clearTimeout(t)
end)

test("setImmediate runs in order before the next timers", function(expect, uv)
  local order = {}
  timer.setImmediate(expect(function() order[#order + 1] = "a" end))
  local c = timer.setImmediate(function() order[#order + 1] = "cancelled" end)
  timer.clearImmediate(c)
  timer.setImmediate(expect(function(x) order[#order + 1] = x end), "b")
  uv.run()
  assert(table.concat(order, ",") == "a,b", table.concat(order, ","))
  -- Once none waits, the module's check and idle handles are closed (the
  -- harness fails a test that leaves a handle open).
end)

test("setImmediate from an immediate runs on the next pass, and keeps the loop", function(expect, uv)
  local order, passes = {}, 0
  local idle = uv.new_idle()
  idle:start(function() passes = passes + 1 end)
  timer.setImmediate(expect(function()
    order[#order + 1] = "a" .. passes
    timer.setImmediate(expect(function()
      order[#order + 1] = "b" .. passes
      timer.setImmediate(expect(function()
        order[#order + 1] = "c" .. passes
        idle:close()
      end))
    end))
  end))
  uv.run()
  -- Each nested immediate waited for a pass of its own; with only the
  -- immediates alive the loop did not end early.
  assert(table.concat(order, ",") == "a1,b2,c3", table.concat(order, ","))
end)

test("an immediate that raises does not lose the others", function(expect, uv)
  local errors = {}
  local previous = uv.on_error(function(err) errors[#errors + 1] = err end)
  timer.setImmediate(function() error("first fails") end)
  timer.setImmediate(expect(function(x) assert(x == "second") end), "second")
  uv.run()
  uv.on_error(previous)
  assert(#errors == 1 and tostring(errors[1]):match("first fails"),
         tostring(errors[1]))
end)

test("immediates survive their handles being closed by uv.walk", function(expect, uv)
  local order = {}
  timer.setImmediate(expect(function() order[#order + 1] = "first" end))
  -- A shutdown that closes every handle leaves the immediate waiting...
  T.close_all()
  uv.run()
  assert(#order == 0)
  -- ... until the next setImmediate brings the handles back.
  timer.setImmediate(expect(function() order[#order + 1] = "second" end))
  uv.run()
  assert(table.concat(order, ",") == "first,second", table.concat(order, ","))
end)

test("sleep inside a coroutine", function(expect, uv)
  local start = uv.now()
  local co = coroutine.wrap(expect(function()
    timer.sleep(20)
    assert(uv.now() - start >= 19)
  end))
  co()
  assert(not pcall(timer.sleep, 1), "sleep outside a coroutine must raise")
end)

test("bad arguments raise", function()
  assert(not pcall(timer.setTimeout, -1, print))
  assert(not pcall(timer.setTimeout, 1, 42))
  assert(not pcall(timer.setInterval, "x", print))
  assert(not pcall(timer.setTimeout, math.huge, print))
  assert(not pcall(timer.setTimeout, 0/0, print))
  -- the error points at the caller's line, not inside loom.timer
  local ok, err = pcall(function() timer.setTimeout(-1, print) end)
  assert(not ok and err:match("test%-lib%-timer%.lua:%d+: bad delay"), err)
end)

test("the handles setTimeout and setInterval return have ref and unref", function(expect, uv)
  -- An unref'd timer does not keep the loop alive.
  local t = timer.setTimeout(10000, function() error("unref'd timer ran") end)
  t:unref()
  assert(t:has_ref() == false)
  local start = uv.now()
  uv.run()
  assert(uv.now() - start < 5000)
  t:ref()
  assert(t:has_ref())
  timer.clearTimeout(t)
end)

test("ticker: fixed rate on absolute deadlines, no drift", function(expect, uv)
  -- Only what holds however slow the machine is (no timing is asserted):
  -- a tick never comes before its deadline, the numbers count deadlines
  -- (calls plus skipped), and late_ms is the distance to the deadline.
  local ticks = {}
  local start = uv.hrtime()
  local calls, skipped_total = 0, 0
  local last_tick = 0
  timer.ticker({hz = 100}, function(tk, tick, late, skipped)
    calls = calls + 1
    skipped_total = skipped_total + skipped
    assert(tick == last_tick + 1 + skipped, "tick numbers count deadlines")
    last_tick = tick
    ticks[#ticks + 1] = {tick = tick, at = (uv.hrtime() - start) / 1e6, late = late}
    -- Work that takes part of the period must not push later ticks back.
    local busy = uv.hrtime()
    while uv.hrtime() - busy < 3e6 do end
    if tick >= 20 then tk:stop() end
  end)
  uv.run()
  assert(last_tick >= 20 and last_tick == calls + skipped_total)
  for _, t in ipairs(ticks) do
    assert(t.at >= t.tick * 10 - 0.01, ("tick %d at %.2f ms"):format(t.tick, t.at))
    assert(t.late >= 0 and t.late < 10, t.late)
    -- late_ms measures from the deadline start + tick * period.
    assert(math.abs((t.at - t.tick * 10) - t.late) < 2, ("tick %d: at %.2f, late %.2f"):format(t.tick, t.at, t.late))
  end
end)

test("ticker: a stalled loop skips ticks instead of bursting", function(expect, uv)
  local seen = {}
  local tk = timer.ticker(5, function(tk, tick, late, skipped)
    seen[#seen + 1] = {tick, skipped}
    if tick == 1 then
      local busy = uv.hrtime()
      while uv.hrtime() - busy < 32e6 do end -- hold the loop for 32 ms
    end
    if #seen == 3 then tk:stop() end
  end)
  uv.run()
  -- About six deadlines passed during the stall (more on a loaded
  -- machine): they were dropped, and the tick number jumped over them.
  assert(seen[2][2] >= 4 and seen[2][1] == seen[1][1] + 1 + seen[2][2],
         seen[2][1] .. " " .. seen[2][2])
  assert(tk.skipped == seen[1][2] + seen[2][2] + seen[3][2])
  assert(tk.max_late_ms >= 0 and tk.max_late_ms < 5)
end)

test("ticker without a function: a task waits for each tick", function(expect, uv)
  local task = require "loom.task"
  task.spawn(expect(function()
    local tk = timer.ticker(2)
    local n = 0
    local last
    for tick in tk:ticks() do
      n = n + 1
      last = tick
      if tick >= 5 then tk:stop() end
    end
    -- Five deadlines; fewer waits if a loaded machine skipped some.
    assert(last >= 5 and n >= 1 and n <= 5 and last == n + tk.skipped)
    assert(select(3, tk:wait()) == "EBADF")
  end))
end)

test("ticker arguments", function()
  T.raises("bad ticker interval", timer.ticker, 0, print)
  T.raises("bad ticker interval", timer.ticker, {hz = -1}, print)
  T.raises("callable expected", timer.ticker, 10, 42)
  local tk = timer.ticker(10, print)
  tk:unref()
  tk:stop()
  tk:stop()
end)

T.run()
