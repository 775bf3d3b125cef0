-- test-memory.lua: uv.set_memory_limit (beyond luv) and what happens
-- when the main state runs out of memory: Lua code gets "not enough
-- memory", a callback follows the error policy, the loop goes on, and no
-- amount of memory makes loom crash (a sweep of limits over a session
-- that uses every kind of handle and request, each in a child process).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function in_use()
  return math.floor(collectgarbage("count") * 1024)
end

-- Runs fn with the limit `headroom` bytes above what is in use now, and
-- removes the limit afterwards whatever happens.
local function with_headroom(headroom, fn)
  collectgarbage()
  uv.set_memory_limit(in_use() + headroom)
  local ok, err = pcall(fn)
  uv.set_memory_limit(nil)
  if not ok then error(err, 0) end
end

test("Lua code past the limit gets 'not enough memory'; the limit can be lifted", function()
  collectgarbage()
  local base = in_use()
  assert(uv.set_memory_limit(base + 4 * 1024 * 1024) == nil, "a limit was set before")
  local t = {}
  local ok, err = pcall(function()
    for i = 1, 1e7 do t[i] = ("x"):rep(64) .. i end
  end)
  assert(not ok and tostring(err):match("not enough memory"), tostring(err))
  t = nil
  collectgarbage()
  -- Below the limit again: allocation works.
  local s = ("y"):rep(1024 * 1024)
  assert(#s == 1024 * 1024)
  assert(uv.set_memory_limit(nil) == base + 4 * 1024 * 1024, "previous limit")
  -- Without a limit the same allocation goes through.
  local big = {}
  for i = 1, 1e5 do big[i] = ("x"):rep(64) .. i end
  assert(#big == 1e5)
  -- The stock interpreter's allocator is wrapped the same way.
  local out, err = T.plain_lua([[
    local uv = require "loom"
    uv.set_memory_limit(math.floor(collectgarbage("count") * 1024) + 65536)
    local ok, e = pcall(function() local t = {} for i = 1, 1e6 do t[i] = {} end end)
    uv.set_memory_limit(nil)
    print(ok, e)
  ]])
  if out then assert(out == "false\tnot enough memory\n", out .. err) end
  T.raises("bad argument #1", uv.set_memory_limit, "lots")
  T.raises("bad argument #1", uv.set_memory_limit, 0)
  T.raises("bad argument #1", uv.set_memory_limit, -5)
end)

test("fs requests and work jobs in flight count against the limit, and give it back", function(expect)
  -- Both live in C memory while in flight, outside the Lua heap, but from
  -- the state's allocator: a script that issues them without end is
  -- stopped by its limit like any other growth.
  local done = 0
  local function on_stat(err) assert(err == nil, err); done = done + 1 end
  local work = uv.new_work(function(s) return #s end,
                           function(n) assert(n == 200); done = done + 1 end)
  local arg = ("w"):rep(200)
  local kinds = {
    stat = function() uv.fs_stat("/", on_stat) end,
    work = function() assert(uv.queue_work(work, arg)) end,
  }
  for name, issue in pairs(kinds) do
    local function fill()
      local issued = 0
      with_headroom(1024 * 1024, function()
        local ok, err = pcall(function()
          for _ = 1, 2e5 do issue(); issued = issued + 1 end
        end)
        assert(not ok and tostring(err):match("not enough memory"), name .. ": " .. tostring(err))
      end)
      return issued
    end
    done = 0
    local issued = fill()
    -- A few hundred bytes each: a megabyte holds thousands, not 200,000.
    assert(issued > 100 and issued < 20000, name .. ": " .. issued)
    uv.run()
    assert(done == issued, name .. ": " .. done .. " of " .. issued)
    -- Every one gave its bytes back: the same headroom holds as many.
    done = 0
    local again = fill()
    assert(again >= issued * 0.8, name .. ": " .. again .. " after " .. issued)
    uv.run()
    assert(done == again)
  end
end)

test("an async fs_read's buffer counts against the limit, and is given back", function(expect)
  -- The buffer the worker fills is memory the script asked for: a read of
  -- 64 MiB under a 4 MiB headroom is refused at the call, not allocated
  -- behind the limit's back.
  local fd = assert(uv.fs_open("/dev/zero", "r", 0))
  with_headroom(4 * 1024 * 1024, function()
    local ok, err = pcall(uv.fs_read, fd, 64 * 1024 * 1024, 0, function() end)
    assert(not ok and tostring(err):match("not enough memory"), tostring(err))
    -- Within the headroom it reads.
    assert(uv.fs_read(fd, 1024 * 1024, 0, expect(function(rerr, data)
      assert(rerr == nil and #data == 1024 * 1024, tostring(rerr))
    end)))
  end)
  uv.run()
  -- Given back: the same headroom takes the same read again, twice.
  with_headroom(2 * 1024 * 1024 + 65536, function()
    for _ = 1, 2 do
      assert(uv.fs_read(fd, 1024 * 1024, 0, expect(function(rerr, data)
        assert(rerr == nil and #data == 1024 * 1024, tostring(rerr))
      end)))
      uv.run()
      collectgarbage()
    end
  end)
  uv.fs_close(fd)
end)

test("LOOM_MEMORY_LIMIT sets the limit when loom is loaded", function()
  local code = [[
    local uv = require "loom"
    local t = {}
    local ok, err = pcall(function() for i = 1, 1e6 do t[i] = {} end end)
    local limit = uv.set_memory_limit(nil)
    print(ok, err, limit > 1024 * 1024 and limit < 2 * 1024 * 1024)
  ]]
  for _, value in ipairs({"1M", "1m", "1024K", "1048576"}) do
    local out, err, status = T.loom(code, nil, "LOOM_MEMORY_LIMIT=" .. value)
    assert(status == 0 and out == "false\tnot enough memory\ttrue\n", value .. ": " .. out .. err)
  end
  for _, value in ipairs({"abc", "-5", "0", "12Q", "99999999999999999999G"}) do
    local out, err, status = T.loom("require 'loom'", nil, "LOOM_MEMORY_LIMIT=" .. value)
    assert(status == 1 and err:match("LOOM_MEMORY_LIMIT=" .. value:gsub("%p", "%%%0") ..
           ": expected a positive size"), value .. ": " .. err)
  end
end)

test("a callback past the limit follows the error policy and the loop goes on", function(expect)
  local errors = {}
  local previous = uv.on_error(function(err, tb)
    errors[#errors + 1] = {err = err, tb = tb}
  end)
  local ran_after = false
  with_headroom(2 * 1024 * 1024, function()
    local hog = uv.new_timer()
    hog:start(1, 0, expect(function()
      hog:close()
      local t = {}
      for i = 1, 1e7 do t[i] = ("z"):rep(100) .. i end
    end))
    local later = uv.new_timer()
    later:start(5, 0, expect(function()
      later:close()
      ran_after = true
    end))
    uv.run()
  end)
  uv.on_error(previous)
  assert(ran_after, "the loop stopped after the memory error")
  assert(#errors == 1, "errors: " .. #errors)
  assert(tostring(errors[1].err):match("not enough memory"), tostring(errors[1].err))
  assert(errors[1].tb:match("out of memory"), errors[1].tb)
end)

test("a client streaming into a buffering handler: the handler fails and its connection is dropped", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  local conn
  local previous = uv.on_error(expect(function(err)
    assert(tostring(err):match("not enough memory"), tostring(err))
    -- The policy's handler drops the connection that overran.
    conn:close()
    server:close()
  end))
  assert(server:listen(16, function(err)
    assert(not err, err)
    conn = uv.new_tcp()
    server:accept(conn)
    local kept = {}
    conn:read_start(function(rerr, data)
      assert(not rerr, rerr)
      -- Keeps every byte, as a careless handler would, and copies it.
      if data then kept[#kept + 1] = data .. data end
    end)
  end))
  local client = uv.new_tcp()
  local sent, chunk = 0, ("c"):rep(64 * 1024)
  local client_done = expect(function(why)
    assert(why == "eof" or why == "ECONNRESET" or why == "EPIPE", why)
  end)
  local function pump()
    -- Bounded: at most 256 MiB, far beyond the limit.
    if sent >= 256 * 1024 * 1024 or client:is_closing() then return end
    sent = sent + #chunk
    client:write(chunk, function(err)
      if err then
        if not client:is_closing() then client:close() client_done(err) end
        return
      end
      pump()
    end)
  end
  client:connect("127.0.0.1", port, expect(function(err)
    assert(not err, err)
    client:read_start(function(rerr, data)
      if data then return end
      if not client:is_closing() then
        client:close()
        client_done(rerr or "eof")
      end
    end)
    for _ = 1, 4 do pump() end
  end))
  with_headroom(8 * 1024 * 1024, function() uv.run() end)
  uv.on_error(previous)
  assert(sent < 256 * 1024 * 1024, "the server never ran out of memory")
end)

test("functions whose results live in C memory: no leak under any limit", function()
  -- Each call runs under limits from 0 to 3 KiB of headroom in 16-byte
  -- steps, so some run fails at each allocation the binding makes; under
  -- LeakSanitizer (the ASan build of the suite) a result left in C memory
  -- by a memory error is reported at exit.
  local dir = T.tmpdir()
  local calls = {
    {"getaddrinfo", "localhost", nil, {family = "inet"}},
    {"getnameinfo", {ip = "127.0.0.1", port = 80}},
    {"interface_addresses"}, {"cpu_info"}, {"os_environ"}, {"os_get_passwd"},
    {"os_uname"}, {"getrusage"}, {"loadavg"}, {"os_homedir"}, {"os_tmpdir"},
    {"os_gethostname"}, {"exepath"}, {"cwd"}, {"random", 64},
    {"fs_realpath", "/proc/self/cwd"}, {"fs_readlink", "/proc/self/exe"},
    {"fs_scandir", "/"}, {"fs_statfs", "/"}, {"fs_stat", "/"},
    {"fs_mkdtemp", dir .. "/dXXXXXX"}, {"fs_mkstemp", dir .. "/fXXXXXX"},
    {"new_work", function(a) return a end, function() end},
    {"new_thread", function(a) return a end, "x", {1, 2, {3}}},
    {"thread_self"}, {"new_sem", 1}, {"new_resolver"}, {"new_buffer", 100},
    {"get_process_title"}, {"resident_set_memory"}, {"os_getenv", "HOME"},
    {"new_tcp"}, {"new_udp", {mmsgs = 8}}, {"new_pipe"}, {"new_timer"},
    {"new_fs_event"}, {"new_fs_poll"}, {"new_async", function() end},
    {"new_signal"}, {"new_idle"}, {"new_check"}, {"new_prepare"},
  }
  local total_failures = 0
  for _, c in ipairs(calls) do
    local name, fn = c[1], uv[c[1]]
    assert(fn, name .. " is missing")
    local failures = 0
    for k = 0, 3072, 16 do
      collectgarbage()
      collectgarbage("stop")
      uv.set_memory_limit(in_use() + k)
      local ok, r = pcall(fn, table.unpack(c, 2, 5))
      uv.set_memory_limit(nil)
      collectgarbage("restart")
      if not ok then
        assert(tostring(r):match("not enough memory"), name .. ": " .. tostring(r))
        failures = failures + 1
      elseif name == "new_thread" then
        r:join()
      elseif name == "fs_mkstemp" then
        uv.fs_close(r)
      elseif type(r) == "userdata" and r.close and r.is_closing then
        r:close()
      elseif name == "new_resolver" then
        r:close()
      end
    end
    total_failures = total_failures + failures
  end
  -- Pushing what the core allocated is exempt, so some calls never fail;
  -- the handle and request constructors do at small limits.
  assert(total_failures > 0, "no call ever failed")
  uv.run()
end)

-- Each child of the sweep runs the session of session_fixture.lua under
-- the limit given as its first argument. Whatever the limit, it must end
-- in one of two ways: "done" and status 0, or status 1 with "not enough
-- memory" reported (by the runner for the main chunk, or by the callback
-- policy). Never a signal, a hang or a sanitizer report.
local session = [==[
local uv = require "loom"
local headroom, tmp = tonumber(arg[1]), arg[2]
local run_session = dofile(arg[3])
collectgarbage()
uv.set_memory_limit(math.floor(collectgarbage("count") * 1024) + headroom)
local pending = run_session(uv, tmp)
assert(pending == 0, "pending " .. pending)
print("done")
]==]

test("a sweep of memory limits over a session: every outcome is clean", function()
  local path = T.script_file(session)
  -- Limits from nothing at all up to enough, in steps fine enough to make
  -- each kind of allocation the one that fails for some run (the loop's
  -- own work is exempt, so the session needs only a few KiB of headroom).
  local outcomes = {done = 0, oom = 0, policy = 0}
  local budgets = {}
  for b = 0, 16 * 1024, 96 do budgets[#budgets + 1] = b end
  budgets[#budgets + 1] = 64 * 1024 * 1024
  for _, budget in ipairs(budgets) do
    local out, err, code = T.sh("timeout 60 " .. T.q(T.runner) .. " " ..
      T.q(path) .. " " .. budget .. " " .. T.q(T.tmpdir()) .. " " ..
      T.q(T.dir .. "/session_fixture.lua"))
    local what = ("headroom %d: status %s, stderr %s"):format(budget, tostring(code), err)
    assert(not err:match("Sanitizer") and not err:match("runtime error"), what)
    if code == 0 then
      assert(out == "done\n", what)
      outcomes.done = outcomes.done + 1
    else
      assert(code == 1 and err:match("not enough memory"), what)
      outcomes.oom = outcomes.oom + 1
      if err:match("Lua ran out of memory") then
        outcomes.policy = outcomes.policy + 1
      end
    end
  end
  -- Every end was reached: small limits failed, some of them inside a
  -- callback, and the large one finished.
  assert(outcomes.oom > 0 and outcomes.policy > 0 and outcomes.done > 0,
         ("done %d, out of memory %d (in callbacks %d)"):format(
           outcomes.done, outcomes.oom, outcomes.policy))
end)

T.run()
