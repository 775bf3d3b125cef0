-- test-failalloc.lua: every allocation loom makes failing in turn
-- (reliability anchor 50; libuv's loop_init_oom, tcp_alloc_cb_fail).
-- The session of session_fixture.lua runs in
-- build/tests/c/loom-failalloc, where tests/c/failalloc.c makes the n-th
-- allocation of the main thread fail (once, or that one and every one
-- after it), for every n the session reaches. Every run must end "done",
-- or with status 1 and a memory error (ENOMEM, EAI_MEMORY, ENOBUFS for a
-- read buffer, or Lua's "not enough memory"); never with a signal, a
-- hang, a sanitizer report or an operation lost without an error.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

local runner = os.getenv("LOOM_FAILALLOC_RUNNER")

local session = [==[
local uv = require "loom"
local fa = require "failalloc"
local n, mode, policy, tmp = tonumber(arg[1]), arg[2], arg[3], arg[4]
local run_session = dofile(arg[5])

-- With the "continue" policy an error in a callback is counted, every
-- handle is closed (the session cannot go on, and a listening server
-- would keep the loop alive), and the loop goes on, collecting garbage
-- at once: anything a failed call left running without its anchor would
-- then be freed under the core's feet (AddressSanitizer reports it in
-- the sanitizer build), and the callbacks of what was in flight still
-- come, with ECANCELED or their results.
local errors = 0
if policy == "continue" then
  uv.on_error(function(err)
    errors = errors + 1
    io.stderr:write("error: ", tostring(err), "\n")
    T.close_all()
    collectgarbage()
  end)
end
fa.arm(n, mode)
local pending = run_session(uv, tmp)
local seen, failed = fa.disarm()
-- Every operation finished, or an error said why not: nothing is lost
-- in silence.
assert(pending == 0 or errors > 0, "pending " .. pending .. " and no error")
print("done " .. seen .. " " .. failed)
]==]

-- Loading loom itself (its context, loop and tables) with the n-th
-- allocation failing, then a timer's round trip.
local loading = [==[
local fa = require "failalloc"
fa.arm(tonumber(arg[1]), arg[2])
local uv = require "loom"
local t = assert(uv.new_timer())
assert(t:start(1, 0, function() t:close() end))
uv.run()
local seen, failed = fa.disarm()
print("done " .. seen .. " " .. failed)
]==]

-- Runs the session once; returns stdout, stderr and the exit status.
local function run(path, n, mode, policy)
  local dir = T.tmpdir()
  return T.sh("timeout 60 " .. T.q(runner) .. " " .. T.q(path) .. " " ..
              n .. " " .. mode .. " " .. policy .. " " .. T.q(dir) .. " " ..
              T.q(T.dir .. "/session_fixture.lua"))
end

local function memory_error(err)
  return err:match("ENOMEM") or err:match("EAI_MEMORY") or
         err:match("ENOBUFS") or err:match("not enough memory")
end

-- Sweeps n over every allocation the script makes, plus two.
local function sweep(policy, script)
  local path = T.script_file(script)
  local out, err, code = run(path, 0, "once", policy)
  local total = tonumber(out:match("^done (%d+) 0\n$"))
  assert(code == 0 and total, "the session fails without failures: " .. err)
  assert(total > 0, "no allocation was counted")
  local outcomes = {done = 0, failed = 0, errors = 0}
  for _, mode in ipairs({"once", "onward"}) do
    for n = 1, total + 2 do
      out, err, code = run(path, n, mode, policy)
      local what = ("%s %d (%s): status %s, stdout %q, stderr %s"):format(
        mode, n, policy, tostring(code), out, err)
      assert(not err:match("Sanitizer") and not err:match("runtime error"),
             what)
      if code == 0 then
        assert(out:match("^done %d+ %d+\n$"), what)
        outcomes.done = outcomes.done + 1
        if out:match(" [1-9]%d*\n$") then
          outcomes.failed = outcomes.failed + 1
        end
        if err:match("error: ") then
          assert(memory_error(err), what)
          outcomes.errors = outcomes.errors + 1
        end
      else
        assert(code == 1 and memory_error(err), what)
        outcomes.errors = outcomes.errors + 1
      end
    end
  end
  -- Both ends were reached: runs that failed an allocation and still
  -- finished, and runs that reported the failure.
  assert(outcomes.failed > 0 and outcomes.errors > 0,
         ("done %d (with a failed allocation %d), errors %d"):format(
           outcomes.done, outcomes.failed, outcomes.errors))
end

-- Reliability anchor 29 (libuv's tcp_alloc_cb_fail): a peer streams 64
-- MiB while the loop cannot get its read buffer. The read callback gets
-- ENOBUFS, the bytes stay in the kernel, and once memory is back every
-- byte arrives, in order.
local read_buffer = [==[
local uv = require "loom"
local fa = require "failalloc"
local size = 64 * 1024 * 1024
local payload = ("0123456789abcdef"):rep(size // 16)
local enobufs, received = 0, 0
local server = assert(uv.new_tcp())
assert(server:bind("127.0.0.1", 0))
assert(server:listen(1, function()
  local c = assert(uv.new_tcp())
  assert(server:accept(c))
  local function on_read(err, data)
    if err == "ENOBUFS" then
      enobufs = enobufs + 1
      assert(c:read_stop())
      fa.disarm()
      local t = assert(uv.new_timer())
      assert(t:start(10, 0, function()
        t:close()
        assert(c:read_start(on_read))
      end))
      return
    end
    assert(not err, err)
    if data then
      assert(data == payload:sub(received + 1, received + #data),
             "wrong bytes at " .. received)
      received = received + #data
    else
      c:close()
      server:close()
    end
  end
  -- The loop's read buffer does not exist yet: its allocation, the
  -- first of 64 KiB or more from here, fails.
  fa.arm(1, "onward", 65536)
  assert(c:read_start(on_read))
end))
local client = assert(uv.new_tcp())
assert(client:connect("127.0.0.1", server:getsockname().port, function(err)
  assert(not err, err)
  assert(client:write(payload, function(werr)
    assert(not werr, werr)
    assert(client:shutdown(function() client:close() end))
  end))
end))
uv.run()
assert(enobufs == 1, "ENOBUFS " .. enobufs .. " times")
assert(received == size, "received " .. received)
print("done")
]==]

test("a read buffer that cannot be had: ENOBUFS, then every byte", function()
  local path = T.script_file(read_buffer)
  local out, err, code = T.sh("timeout 120 " .. T.q(runner) .. " " .. T.q(path))
  assert(code == 0 and out == "done\n", ("status %s: %s%s"):format(
    tostring(code), out, err))
end)

-- close(cb) and timer start(cb) with every allocation failing. A handle
-- takes a registry slot for such a callback when it has none, and now
-- and then the registry must grow for it. A call that cannot have that
-- memory must raise before the core closes or starts the handle: never
-- leave it closing or running without the callback its owner waits for.
-- Every call that went through must have its callback called once. Each
-- round makes as many handles as the last one freed slots, then closes
-- or starts them: the calls alone take the registry past its largest
-- size so far, so every growth from the first round's size up to the
-- last round's happens inside one of them.
local callbacks = [==[
local uv = require "loom"
local fa = require "failalloc"
local what = arg[1]
-- The sanitizer build's runner gives Lua the system allocator, whose
-- calls from liblua the injector cannot see: then only the invariants
-- are checked.
fa.arm(1, "onward")
local lua_visible = not pcall(function()
  local t = {}
  for i = 1, 100 do t[i] = {} end
end)
fa.disarm()
local refused = 0
for round = 0, 5 do
  local n, called, handles = 100 << round, {}, {}
  for i = 1, n do
    handles[i] = assert(what == "close" and uv.new_pipe() or uv.new_timer())
  end
  for i = 1, n do
    local h = handles[i]
    local function cb()
      called[i] = (called[i] or 0) + 1
      if what == "start" then h:close() end
    end
    local function call()
      if what == "close" then return h:close(cb) end
      return assert(h:start(0, 0, cb))
    end
    fa.arm(1, "onward")
    local ok, err = pcall(call)
    fa.disarm()
    if not ok then
      assert(tostring(err):match("not enough memory"), err)
      assert(not h:is_closing() and not h:is_active(),
             "a refused " .. what .. " went ahead")
      refused = refused + 1
      call()
    end
  end
  uv.run()
  for i = 1, n do assert(called[i] == 1, what .. " callback " .. i) end
end
assert(refused > 0 or not lua_visible, "no " .. what .. " needed memory")
print("done " .. refused)
]==]

for _, what in ipairs({"close", "start"}) do
  test(what .. " callbacks with every allocation failing: raised, or called",
       function()
    local path = T.script_file(callbacks)
    local out, err, code = T.sh("timeout 60 " .. T.q(runner) .. " " ..
                                T.q(path) .. " " .. what)
    assert(code == 0 and out:match("^done %d+\n$"),
           ("status %s: %s%s"):format(tostring(code), out, err))
  end)
end

-- A recursive fs_event start with each of its allocations failing in
-- turn: it watches the whole tree (21 directories) or fails with ENOMEM
-- and watches nothing; a part of the tree is never left unwatched in
-- silence. Then a new directory whose watch cannot be had is reported
-- with ENOMEM in its own event. The watches are counted in the kernel's
-- own list (/proc/self/fdinfo of the inotify descriptor).
local fs_event_walk = [==[
local uv = require "loom"
local fa = require "failalloc"
local dir = arg[1]
for i = 1, 4 do
  assert(uv.fs_mkdir(dir .. "/d" .. i, 493))
  for j = 1, 4 do assert(uv.fs_mkdir(dir .. "/d" .. i .. "/e" .. j, 493)) end
end
local function watches()
  local n = 0
  for fd = 0, 255 do
    local f = io.open("/proc/self/fdinfo/" .. fd)
    if f then
      for line in f:lines() do
        if line:match("^inotify wd:") then n = n + 1 end
      end
      f:close()
    end
  end
  return n
end
local whole, refused, k = 0, 0, 0
repeat
  k = k + 1
  local h = assert(uv.new_fs_event())
  fa.arm(k, "once")
  local ok, r, _, name = pcall(h.start, h, dir, {recursive = true}, print)
  local seen = fa.disarm()
  if ok and r == 0 then
    assert(watches() == 21, "watched " .. watches() .. " of 21")
    whole = whole + 1
  else
    assert(name == "ENOMEM" or tostring(r):match("not enough memory"),
           tostring(r))
    assert(watches() == 0, "a failed start left watches")
    refused = refused + 1
  end
  h:close()
  uv.run()
until seen < k
assert(whole > 0 and refused > 0, ("whole %d, refused %d"):format(whole, refused))

local h = assert(uv.new_fs_event())
local got
assert(h:start(dir, {recursive = true}, function(err, name, events)
  if name == "late" then
    got = {err = err, rename = events.rename}
    h:close()
  end
end) == 0)
assert(uv.fs_mkdir(dir .. "/late", 493))
-- The first allocation from here is the new directory's walk.
fa.arm(1, "once")
uv.run()
fa.disarm()
assert(got and got.err == "ENOMEM" and got.rename,
       "the unwatched directory was not reported")
print("done " .. whole .. " " .. refused)
]==]

test("a recursive fs_event with each allocation failing: all or an error", function()
  local path = T.script_file(fs_event_walk)
  local dir = T.tmpdir()
  local out, err, code = T.sh("timeout 60 " .. T.q(runner) .. " " ..
                              T.q(path) .. " " .. T.q(dir))
  assert(code == 0 and out:match("^done %d+ %d+\n$"),
         ("status %s: %s%s"):format(tostring(code), out, err))
end)

test("loading loom with each of its allocations failing", function()
  sweep("exit", loading)
end)

test("every allocation failing in turn, errors ending the run", function()
  sweep("exit", session)
end)

test("every allocation failing in turn, the loop going on past errors", function()
  sweep("continue", session)
end)

T.run()
