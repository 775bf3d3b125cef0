-- test-signal.lua: luv's signal section, with signals sent by a real
-- child process (kill(1)).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function kill_me(sig)
  assert(os.execute("kill -s " .. sig .. " " .. uv.os_getpid()))
end

test("a signal reaches every handle watching it", function(expect, uv)
  local s1, s2 = uv.new_signal(), uv.new_signal()
  local done = 0
  local function cb(name)
    assert(name == "sigusr1", name)
    done = done + 1
    if done == 2 then s1:close(); s2:close() end
  end
  assert(s1:start("sigusr1", expect(cb)) == 0)
  assert(uv.signal_start(s2, uv.constants.SIGUSR1, expect(cb)) == 0)
  kill_me("USR1")
end)

test("start_oneshot stops after one delivery", function(expect, uv)
  local s = uv.new_signal()
  -- A second, ordinary handle keeps the signal caught after the oneshot
  -- one stopped (otherwise the default action would end the process).
  local keep = uv.new_signal()
  keep:start("sigusr2", expect(function() end, 2))
  assert(s:start_oneshot("SIGUSR2", expect(function(name)
    assert(name == "sigusr2")
    assert(not s:is_active())
    kill_me("USR2")
    local t = uv.new_timer()
    t:start(50, 0, function() t:close(); s:close(); keep:close() end)
  end)) == 0)
  kill_me("USR2")
end)

test("signal_stop and errors", function(expect, uv)
  local s = uv.new_signal()
  assert(s:start("sigwinch", function() end) == 0)
  assert(s:stop() == 0)
  assert(not s:is_active())
  local ok, msg, name = s:start("sigkill", function() end)
  assert(ok == nil and name == "EINVAL", msg)
  local pok, err = pcall(s.start, s, "sigfoo", function() end)
  assert(not pok and err:match("unknown signal 'sigfoo'"), err)
  s:close()
end)

test("the default disposition comes back after the last handle", function(expect, uv)
  local out, err, code = T.loom([[
    local uv = require "loom"
    local s = uv.new_signal()
    s:start("sigterm", function() print("caught") s:close() end)
    os.execute("kill -s TERM " .. uv.os_getpid())
    uv.run()
    os.execute("kill -s TERM " .. uv.os_getpid())
    -- the default action of SIGTERM ends the process before this
    os.execute("sleep 1")
    print("survived")
  ]])
  assert(out:match("caught") and not out:match("survived"), out .. err)
  assert(code ~= 0)
end)

T.run()
