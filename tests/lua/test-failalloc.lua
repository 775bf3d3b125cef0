-- test-failalloc.lua: every allocation loom makes failing in turn
-- (reliability anchor 50; libuv's loop_init_oom, tcp_alloc_cb_fail).
-- A session that uses timers, TCP, UDP, unix sockets, fs requests of
-- every shape, work, DNS, a process and an async handle runs in
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
    uv.walk(function(h) if not h:is_closing() then h:close() end end)
    collectgarbage()
  end)
end
fa.arm(n, mode)

local pending = 0
local function start() pending = pending + 1 end
local function finish() pending = pending - 1 collectgarbage() end

-- The session starts from a callback, so that a failure can hit a
-- binding function called from one, as well as the main chunk.
local first = assert(uv.new_timer())
assert(first:start(0, 0, function()
first:close()
local t = assert(uv.new_timer())
start()
assert(t:start(1, 0, function() t:close() finish() end))

local server = assert(uv.new_tcp())
assert(server:bind("127.0.0.1", 0))
assert(server:listen(8, function()
  local c = assert(uv.new_tcp())
  assert(server:accept(c))
  assert(c:read_start(function(err, data)
    if data then assert(c:write(data)) else c:close() server:close() end
  end))
end))
local client = assert(uv.new_tcp())
start()
assert(client:connect("127.0.0.1", server:getsockname().port, function(err)
  assert(not err, err)
  local got = 0
  assert(client:read_start(function(rerr, data)
    assert(not rerr, rerr)
    got = got + #data
    if got >= 10 * 100 then client:close() finish() end
  end))
  for i = 1, 10 do assert(client:write(("m"):rep(100))) end
end))

local udp = assert(uv.new_udp())
assert(udp:bind("127.0.0.1", 0))
start()
assert(udp:recv_start(function(err, data, addr)
  assert(not err, err)
  if data then udp:close() finish() end
end))
local sender = assert(uv.new_udp())
assert(sender:send("ping", "127.0.0.1", udp:getsockname().port, function()
  sender:close()
end))

-- Synchronous fs calls whose results the core allocated (entries, link
-- targets, paths) before Lua receives them.
assert(uv.fs_scandir("/"))
assert(uv.fs_realpath("/proc/self"))
assert(uv.fs_readlink("/proc/self/exe"))
assert(uv.fs_stat("/"))
local dir = assert(uv.fs_opendir("/", nil, 4))
assert(uv.fs_readdir(dir))
assert(uv.fs_closedir(dir))
start()
assert(uv.fs_stat("/", function(err, st) assert(not err, err) finish() end))
start()
assert(uv.fs_scandir("/", function(err, req) assert(not err, err) finish() end))

local work = uv.new_work(function(a, b) return a .. b end, function(r)
  assert(r == "ab") finish()
end)
start()
assert(uv.queue_work(work, "a", "b"))

start()
assert(uv.getaddrinfo("localhost", nil, {family = "inet"}, function(err)
  assert(not err, err) finish()
end))

-- Requests that anchor strings, buffers and directories.
local path = tmp .. "/file"
local fd = assert(uv.fs_open(path, "w+", 384))
start()
assert(uv.fs_write(fd, {"ab", "cd"}, 0, function(err, n)
  assert(not err, err)
  assert(uv.fs_read(fd, 4, 0, function(rerr, data)
    assert(not rerr, rerr)
    assert(data == "abcd", data)
    uv.fs_close(fd)
    os.remove(path)
    finish()
  end))
end))
start()
assert(uv.fs_opendir("/", function(err, d)
  assert(not err, err)
  assert(uv.fs_readdir(d, function(rerr, entries)
    assert(not rerr, rerr)
    assert(uv.fs_closedir(d, function(cerr)
      assert(not cerr, cerr) finish()
    end))
  end))
end, 4))
start()
assert(uv.getnameinfo({ip = "127.0.0.1", port = 80}, function(err)
  assert(not err, err) finish()
end))

-- A unix socket pair: connect, a write with a callback, shutdown.
local sock = tmp .. "/sock"
local listener = assert(uv.new_pipe())
assert(listener:bind(sock))
assert(listener:listen(4, function()
  local peer = assert(uv.new_pipe())
  assert(listener:accept(peer))
  assert(peer:read_start(function(err, data)
    assert(not err, err)
    if not data then peer:close() listener:close() os.remove(sock) end
  end))
end))
local conn = assert(uv.new_pipe())
start()
assert(conn:connect(sock, function(err)
  assert(not err, err)
  assert(conn:write({"x", "y"}, function(werr)
    assert(not werr, werr)
    assert(conn:shutdown(function(serr)
      assert(not serr, serr) conn:close() finish()
    end))
  end))
end))

-- An async handle woken from the loop, a check and an idle.
local async
async = assert(uv.new_async(function() async:close() finish() end))
start()
assert(async:send())
local idle = assert(uv.new_idle())
assert(idle:start(function() idle:close() end))

local out = assert(uv.new_pipe())
start()
local child = assert(uv.spawn("true", {stdio = {nil, out, nil}}, function(code)
  assert(code == 0) finish()
end))
assert(out:read_start(function(err, data) if not data then out:close() end end))
end))

uv.run()
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
              n .. " " .. mode .. " " .. policy .. " " .. T.q(dir))
end

local function memory_error(err)
  return err:match("ENOMEM") or err:match("EAI_MEMORY") or
         err:match("ENOBUFS") or err:match("not enough memory")
end

-- Sweeps n over every allocation the script makes, plus two.
local function sweep(policy, script)
  local path = os.tmpname()
  T.after(function() os.remove(path) end)
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
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
  local path = os.tmpname()
  T.after(function() os.remove(path) end)
  local f = assert(io.open(path, "w"))
  f:write(read_buffer)
  f:close()
  local out, err, code = T.sh("timeout 120 " .. T.q(runner) .. " " .. T.q(path))
  assert(code == 0 and out == "done\n", ("status %s: %s%s"):format(
    tostring(code), out, err))
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
