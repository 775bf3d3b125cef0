-- test-handles.lua: luv's handle section (the parts for these handle
-- types) and the idle, prepare and check sections.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

test("handle_get_type, tostring, metatable names", function(expect, uv)
  local cases = {
    {uv.new_timer(), "timer", 13, "uv_timer"},
    {uv.new_idle(), "idle", 6, "uv_idle"},
    {uv.new_prepare(), "prepare", 9, "uv_prepare"},
    {uv.new_check(), "check", 2, "uv_check"},
    {uv.new_async(function() end), "async", 1, "uv_async"},
    {uv.new_signal(), "signal", 16, "uv_signal"},
  }
  for _, c in ipairs(cases) do
    local h, name, num, mt = c[1], c[2], c[3], c[4]
    local n1, n2 = uv.handle_get_type(h)
    assert(n1 == name and n2 == num, name)
    assert(h:get_type() == name)
    assert(getmetatable(h).__name == mt)
    assert(tostring(h):match("^" .. mt .. "_t: 0x%x+$"), tostring(h))
    h:close()
  end
end)

test("ref, unref, has_ref, is_active", function(expect, uv)
  local t = uv.new_timer()
  assert(t:has_ref() == true and uv.has_ref(t) == true)
  assert(t:is_active() == false and uv.is_active(t) == false)
  t:start(10000, 0, function() error("unreferenced timer fired") end)
  assert(t:is_active() == true)
  assert(t:unref() == nil)
  assert(t:has_ref() == false)
  assert(uv.loop_alive() == false)
  assert(uv.run() == false)
  uv.ref(t)
  assert(uv.loop_alive() == true)
  t:close()
end)

test("close callback runs once with no arguments, after the close phase", function(expect, uv)
  local t = uv.new_timer()
  local closed = false
  uv.close(t, expect(function(...)
    assert(select("#", ...) == 0)
    closed = true
  end))
  assert(not closed)
end)

test("idle runs every pass until stopped", function(expect, uv)
  local idle = uv.new_idle()
  local n = 0
  assert(idle:start(expect(function()
    n = n + 1
    if n == 10 then assert(idle:stop() == 0); idle:close() end
  end, 10)) == 0)
end)

test("prepare runs before the poll, check after", function(expect, uv)
  local order = {}
  local p, c, t = uv.new_prepare(), uv.new_check(), uv.new_timer()
  assert(uv.prepare_start(p, function() order[#order + 1] = "prepare" end) == 0)
  assert(uv.check_start(c, function() order[#order + 1] = "check" end) == 0)
  t:start(20, 0, function()
    order[#order + 1] = "timer"
    uv.prepare_stop(p); uv.check_stop(c)
    p:close(); c:close(); t:close()
  end)
  uv.run()
  -- the first pass: prepare, (wait), check; the timer fires on a later pass
  assert(order[1] == "prepare" and order[2] == "check", table.concat(order, ","))
  assert(order[#order] == "timer")
end)

test("function and method forms of idle/prepare/check", function(expect, uv)
  local i, p, c = uv.new_idle(), uv.new_prepare(), uv.new_check()
  assert(uv.idle_start(i, function() end) == 0 and uv.idle_stop(i) == 0)
  assert(p:start(function() end) == 0 and p:stop() == 0)
  assert(c:start(function() end) == 0 and uv.check_stop(c) == 0)
  -- a prepare is not an idle
  local ok, err = pcall(uv.idle_start, p, function() end)
  assert(not ok and err:match("uv_idle expected, got uv_prepare"), err)
  i:close(); p:close(); c:close()
end)

test("a handle stopping and closing others in the same phase", function(expect, uv)
  local checks = {}
  for i = 1, 3 do checks[i] = uv.new_check() end
  checks[1]:start(expect(function()
    checks[2]:stop()
    checks[3]:close()
    checks[1]:close()
  end))
  checks[2]:start(function() error("stopped check ran") end)
  checks[3]:start(function() error("closed check ran") end)
  uv.run("nowait")
  checks[2]:close()
end)

test("an open handle survives collectgarbage; a closed one is collected", function(expect, uv)
  local weak = setmetatable({}, {__mode = "v"})
  do
    local t = uv.new_timer()
    t:start(5, 0, expect(function() end))
    weak[1] = t
    local t2 = uv.new_timer()
    weak[2] = t2
    t2:close()
  end
  collectgarbage(); collectgarbage()
  assert(weak[1] ~= nil, "an open timer was collected")
  uv.run()
  collectgarbage(); collectgarbage()
  assert(weak[2] == nil, "a closed timer was not collected")
  weak[1]:close()
  uv.run()
  collectgarbage(); collectgarbage()
  assert(weak[1] == nil)
end)

test("gc stress: many handles created and closed", function(expect, uv)
  for round = 1, 20 do
    for i = 1, 500 do
      local t = uv.new_timer()
      t:start(0, 0, function() t:close() end)
      local idle = uv.new_idle()
      idle:close()
    end
    collectgarbage()
    uv.run()
  end
end)

test("print_all_handles and print_active_handles", function(expect, uv)
  local out, err, code = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer(); t:start(1000, 0, function() end)
    local i = uv.new_idle()
    uv.print_all_handles()
    io.stderr:write("--\n")
    uv.print_active_handles()
    t:close(); i:close()
  ]])
  assert(code == 0, err)
  local all, active = err:match("^(.-)%-%-\n(.*)$")
  assert(all:match("%[RA%-%] timer") and all:match("%[R%-%-%] idle"), all)
  assert(active:match("timer") and not active:match("idle"), active)
end)

T.run()
