-- tap.lua: the Lua test harness. Each test file does
--   local T = dofile(<dir> .. "/tap.lua")
--   T.test("name", function(expect, uv) ... end)
--   T.run()
-- After each test body the loop runs to completion; then the harness
-- fails the test on any expect() call-count mismatch, any error raised in
-- a callback (caught through uv.on_error), and any handle left open
-- (found with uv.walk). Output is TAP; the exit status is 1 on failure.
local uv = require "loom"

local T = {}
local tests = {}
local current

T.uv = uv
T.runner = os.getenv("LOOM_RUNNER") or "loom"
T.lua = os.getenv("LOOM_LUA") or "lua5.4"
T.module_dir = os.getenv("LOOM_MODULE_DIR") or "."
T.dir = (arg and arg[0] and arg[0]:match("^(.*)/")) or "."

-- LOOM_TEST_ONLY=pattern runs only the tests whose name matches it.
local only = os.getenv("LOOM_TEST_ONLY")

function T.test(name, fn)
  if only == nil or name:find(only) then
    tests[#tests + 1] = {name = name, fn = fn}
  end
end

-- Returns a wrapper that counts its calls; the test fails unless it was
-- called exactly n times (default 1) by the end of the test.
local function expect(fn, n)
  local entry = {count = 0, want = n or 1, where = debug.traceback("", 2)}
  current.expects[#current.expects + 1] = entry
  return function(...)
    entry.count = entry.count + 1
    if fn then return fn(...) end
  end
end

local function fail(msg)
  current.failures[#current.failures + 1] = msg
end
T.fail = fail

-- Registers fn to run once the current test's loop has finished (removing
-- temporary files that asynchronous steps still use, for instance).
function T.after(fn)
  current.after[#current.after + 1] = fn
end

-- A test whose body runs in a loom.task (the coroutine style): it fails
-- if the task raised, if it had not ended when the loop ran out of
-- things to do, or if any task was left waiting.
function T.task_test(name, fn)
  T.test(name, function(expect, uv_)
    local task = require "loom.task"
    local before = task.count()
    local t = task.spawn(fn, expect, uv_)
    T.after(function()
      assert(t:status() == "done", "the test's task did not end (" .. t:status() .. ")")
      if t.failed then error(t.traceback, 0) end
      assert(task.count() == before, (task.count() - before) .. " task(s) left waiting")
    end)
  end)
end

-- Calls fn(...) and checks that it raises an error matching pattern.
function T.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "did not raise: " .. pattern)
  assert(tostring(err):match(pattern), tostring(err))
end

-- Shell-quotes a string for io.popen / os.execute.
function T.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its stdout, stderr and exit code.
function T.sh(cmd)
  local errfile = os.tmpname()
  local p = io.popen(cmd .. " 2>" .. errfile)
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile)
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return out, err, code
end

-- Runs Lua code in a fresh runner process (env: assignments before it).
function T.loom(code, extra, env)
  return T.sh((env and env .. " " or "") .. T.q(T.runner) .. " " ..
              (extra or "") .. " -e " .. T.q(code))
end

-- Runs Lua code that closes the state from inside a callback
-- (os.exit(code, true)). C frames below that callback never return, so
-- LeakSanitizer is told not to count what their locals point at as
-- reachable: a batch of completions held only in such a local is then
-- reported as the leak it is at teardown.
function T.loom_exiting(code)
  return T.sh("LSAN_OPTIONS=use_stacks=0 " .. T.q(T.runner) .. " -e " .. T.q(code))
end

-- Runs Lua code in the stock lua5.4 interpreter with loom.so on its
-- cpath. In a sanitizer build the interpreter needs the sanitizer
-- runtime preloaded to load an instrumented module.
-- Returns nil when LOOM_PLAIN_LUA=no: the ThreadSanitizer runtime cannot
-- be preloaded into the stock interpreter, so that run leaves it out.
function T.plain_lua(code)
  if os.getenv("LOOM_PLAIN_LUA") == "no" then return nil end
  local preload = os.getenv("LOOM_LUA_PRELOAD")
  local env = preload and ("LD_PRELOAD=" .. T.q(preload) .. " ") or ""
  local prefix = ("package.cpath = %q .. '/?.so;' .. package.cpath\n"):format(T.module_dir)
  return T.sh(env .. T.q(T.lua) .. " -e " .. T.q(prefix .. code))
end

-- Runs code that ends by printing "done" with work still in flight, in
-- the runner (closing the state with os.exit) and in stock lua5.4 (the
-- state closes at exit): both must exit 0 having printed only that.
function T.exits_cleanly(code)
  local out, err, status = T.loom(code .. "\nos.exit(0, true)")
  assert(status == 0 and out == "done\n", err)
  out, err, status = T.plain_lua(code)
  if out then assert(status == 0 and out == "done\n", err) end
end

-- A fresh directory for the current test, removed once its loop has
-- ended (asynchronous steps may still use it until then).
function T.tmpdir()
  local dir = assert(uv.fs_mkdtemp("/tmp/loom-fs-XXXXXX"))
  T.after(function() os.execute("rm -rf " .. T.q(dir)) end)
  return dir
end

-- A temporary file holding a script for a child process; removed when
-- the current test has ended.
function T.script_file(code)
  local path = os.tmpname()
  T.after(function() os.remove(path) end)
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  return path
end

function T.write_file(path, data)
  local fd = assert(uv.fs_open(path, "w", 420))
  assert(uv.fs_write(fd, data) == #data)
  assert(uv.fs_close(fd))
end

-- The first MiB of the file.
function T.read_file(path)
  local fd = assert(uv.fs_open(path, "r"))
  local data = assert(uv.fs_read(fd, 1 << 20, 0))
  assert(uv.fs_close(fd))
  return data
end

-- Occupies every pool thread with an fs_open of a fifo in dir, which
-- blocks until a writer appears. Returns release and the open requests;
-- release() opens the fifo for writing, which frees them all, and closes
-- every descriptor once they have come back.
function T.block_pool(expect, dir)
  local fifo = dir .. "/pool-blocker"
  assert(os.execute("mkfifo " .. T.q(fifo)))
  local threads = tonumber(os.getenv("LOOM_THREADPOOL_SIZE") or
                           os.getenv("UV_THREADPOOL_SIZE") or 4)
  local blockers, fds = {}, {}
  for i = 1, threads do
    blockers[i] = uv.fs_open(fifo, "r", 0, expect(function(err, fd)
      assert(not err, err)
      fds[#fds + 1] = fd
    end))
  end
  local function release()
    local w = assert(uv.fs_open(fifo, "r+"))
    local check = uv.new_timer()
    check:start(10, 10, function()
      if #fds == threads then
        check:close()
        for _, fd in ipairs(fds) do uv.fs_close(fd) end
        uv.fs_close(w)
      end
    end)
  end
  -- Whether every blocker has reached a pool thread. Under load a thread
  -- can take long to be scheduled, so tests that need the blockers to
  -- run (to see EBUSY) ask the kernel: a thread blocked in a fifo's open
  -- waits in wait_for_partner. Where /proc does not tell, a second has
  -- passed is taken as enough.
  local since = uv.hrtime()
  local function running()
    local task = "/proc/" .. uv.os_getpid() .. "/task"
    local waiting, told = 0, false
    local scan = uv.fs_scandir(task)
    for tid in function() return scan and uv.fs_scandir_next(scan) end do
      local f = io.open(task .. "/" .. tid .. "/wchan")
      local wchan = f and f:read("a")
      if f then f:close() end
      if wchan and wchan ~= "" and wchan ~= "0" then told = true end
      if wchan == "wait_for_partner" then waiting = waiting + 1 end
    end
    if not told then return uv.hrtime() - since > 1e9 end
    return waiting >= threads
  end
  return release, blockers, running
end

--- Closes every handle still open (a test's or a failed test's leftovers).
function T.close_all()
  uv.walk(function(h) if not h:is_closing() then h:close() end end)
end

uv.on_error(function(err, tb)
  fail("uncaught error in a callback: " .. tostring(err) .. "\n" .. tostring(tb))
  -- The test has failed: close its servers so that its loop ends instead
  -- of waiting for steps that will never come.
  T.close_all()
end)

function T.run()
  local failed = 0
  io.write("1..", #tests, "\n")
  for i, t in ipairs(tests) do
    current = {expects = {}, failures = {}, after = {}}
    local ok, err = xpcall(t.fn, debug.traceback, expect, uv)
    if not ok then
      fail(tostring(err))
      -- A test that died half way may leave servers listening: close
      -- everything so that the loop below ends.
      T.close_all()
    end
    local rok, rerr = pcall(uv.run)
    if not rok then fail("uv.run raised: " .. tostring(rerr)) end
    for _, fn in ipairs(current.after) do
      local aok, aerr = pcall(fn)
      if not aok then fail("cleanup failed: " .. tostring(aerr)) end
    end
    for _, e in ipairs(current.expects) do
      if e.count ~= e.want then
        fail(("expected %d call(s), got %d%s"):format(e.want, e.count, e.where))
      end
    end
    local leaked = {}
    uv.walk(function(h)
      if not h:is_closing() then
        leaked[#leaked + 1] = tostring(h)
        h:close()
      end
    end)
    if #leaked > 0 then
      fail("handles left open: " .. table.concat(leaked, ", "))
      uv.run()
    end
    collectgarbage()
    if #current.failures == 0 then
      io.write("ok ", i, " - ", t.name, "\n")
    else
      failed = failed + 1
      io.write("not ok ", i, " - ", t.name, "\n")
      for _, f in ipairs(current.failures) do
        io.write("# ", (tostring(f):gsub("\n", "\n# ")), "\n")
      end
    end
    io.stdout:flush()
  end
  os.exit(failed == 0 and 0 or 1)
end

return T
