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
  -- the internal check handle is reused and unreferenced: clean it up
  uv.walk(function(h) if not h:is_closing() and h:get_type() == "check" then h:close() end end)
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
  -- the error points at the caller's line, not inside loom.timer
  local ok, err = pcall(function() timer.setTimeout(-1, print) end)
  assert(not ok and err:match("test%-lib%-timer%.lua:%d+: bad delay"), err)
end)

T.run()
