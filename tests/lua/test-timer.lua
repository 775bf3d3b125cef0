-- test-timer.lua: every function of luv's timer section, with luv's shapes.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

test("new_timer, start, fire once, close", function(expect, uv)
  local t = uv.new_timer()
  assert(tostring(t):match("^uv_timer_t: 0x%x+$"), tostring(t))
  assert(getmetatable(t).__name == "uv_timer")
  assert(uv.timer_start(t, 10, 0, expect(function()
    assert(not t:is_active())
    t:close(expect())
  end)) == 0)
  assert(t:is_active())
end)

test("method forms and repeat with stop", function(expect, uv)
  local t = uv.new_timer()
  local n = 0
  assert(t:start(1, 1, expect(function()
    n = n + 1
    if n == 3 then
      assert(t:stop() == 0)
      t:close()
    end
  end, 3)) == 0)
  assert(t:get_repeat() == 1)
end)

test("equal timeouts fire in start order", function(expect, uv)
  local order = {}
  local timers = {}
  for i = 1, 20 do
    local t = uv.new_timer()
    timers[i] = t
    t:start(5, 0, function() order[#order + 1] = i; t:close() end)
  end
  uv.run()
  for i = 1, 20 do assert(order[i] == i, "out of order at " .. i) end
end)

test("again, set_repeat, get_repeat, get_due_in", function(expect, uv)
  local t = uv.new_timer()
  local ok, msg, name = t:again()
  assert(ok == nil and name == "EINVAL" and msg == "EINVAL: invalid argument")
  assert(t:get_due_in() == 0)
  t:start(1000, 0, function() end)
  local due = t:get_due_in()
  assert(math.type(due) == "integer" and due > 900 and due <= 1000, due)
  assert(t:set_repeat(5) == nil)
  assert(t:get_repeat() == 5)
  assert(t:again() == 0)
  assert(t:get_due_in() <= 5)
  t:stop()
  assert(t:get_due_in() == 0)
  t:close()
end)

test("huge timeouts do not overflow", function(expect, uv)
  local t = uv.new_timer()
  assert(t:start(2^53, 2^53, function() error("must not fire") end) == 0)
  assert(t:get_due_in() == 2^53)
  t:unref()
  local t2 = uv.new_timer()
  t2:start(math.maxinteger, 0, function() error("must not fire") end)
  t2:unref()
  uv.run()
  t:close()
  t2:close()
end)

test("negative timeouts raise", function(expect, uv)
  local t = uv.new_timer()
  local ok, err = pcall(t.start, t, -1, 0, function() end)
  assert(not ok and err:match("bad argument #2 to '.-' %(must not be negative%)"), err)
  ok, err = pcall(uv.timer_start, t, 1, -5, function() end)
  assert(not ok and err:match("bad argument #3 to '.-timer_start'"), err)
  t:close()
end)

test("stop another due timer from a callback", function(expect, uv)
  local a, b = uv.new_timer(), uv.new_timer()
  a:start(1, 0, expect(function() b:stop() end))
  b:start(1, 0, function() error("stopped timer fired") end)
  uv.run()
  a:close(); b:close()
end)

test("restart from own callback with 0 fires on a later pass", function(expect, uv)
  local t = uv.new_timer()
  local n = 0
  t:start(0, 0, expect(function()
    n = n + 1
    if n < 5 then t:start(0, 0, debug.getinfo(1, "f").func) else t:close() end
  end, 1))
  uv.run()
  assert(n == 5)
end)

test("callable table as callback", function(expect, uv)
  local t = uv.new_timer()
  local obj = setmetatable({}, {__call = expect(function(self)
    assert(type(self) == "table")
    t:close()
  end)})
  t:start(1, 0, obj)
end)

test("<close> closes a timer at scope exit", function(expect, uv)
  local seen
  do
    local t <close> = uv.new_timer()
    seen = t
    t:start(10000, 0, function() error("closed timer fired") end)
  end
  assert(seen:is_closing())
end)

test("close twice is an error, is_closing after close", function(expect, uv)
  local t = uv.new_timer()
  t:close(expect())
  assert(t:is_closing() == true)
  local ok, err = pcall(t.close, t)
  assert(not ok and err:match("is already closing"), err)
  uv.run()
  -- fully closed: operations answer with an error, as in luv
  assert(t:is_closing() == true)
  local r, _, name = t:start(1, 0, function() end)
  assert(r == nil and name == "EINVAL")
end)

test("start with a non-callable raises", function(expect, uv)
  local t = uv.new_timer()
  local ok, err = pcall(t.start, t, 1, 0, 42)
  assert(not ok and err:match("callable expected"), err)
  t:close()
end)

T.run()
