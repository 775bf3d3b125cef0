-- test-errors.lua: the one policy for errors raised inside callbacks, and
-- exits and state shutdown with handles open. Each scenario runs in its
-- own runner process.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

-- Code that makes the named callback kind raise "boom-<kind>".
local raisers = {
  timer = [[local h = uv.new_timer(); h:start(1, 0, function() h:close(); error("boom-timer") end)]],
  idle = [[local h = uv.new_idle(); h:start(function() h:close(); error("boom-idle") end)]],
  prepare = [[local h = uv.new_prepare(); h:start(function() h:close(); error("boom-prepare") end)]],
  check = [[local h = uv.new_check(); h:start(function() h:close(); error("boom-check") end)
            local t = uv.new_timer(); t:start(1, 0, function() t:close() end)]],
  async = [[local h; h = uv.new_async(function() h:close(); error("boom-async") end); h:send()]],
  signal = [[local h = uv.new_signal(); h:start("sigusr1", function() h:close(); error("boom-signal") end)
             os.execute("kill -s USR1 " .. uv.os_getpid())]],
  close = [[local h = uv.new_timer(); h:close(function() error("boom-close") end)]],
  fs_event = [[local dir = uv.fs_mkdtemp("/tmp/loom-err-XXXXXX")
               local h = uv.new_fs_event()
               h:start(dir, {}, function() h:close(); os.execute("rm -rf " .. dir); error("boom-fs_event") end)
               uv.fs_close(uv.fs_open(dir .. "/f", "w", 420))]],
  fs_poll = [[local h = uv.new_fs_poll()
              h:start("/nonexistent/loom-poll", 10, function() h:close(); error("boom-fs_poll") end)]],
  getaddrinfo = [[uv.getaddrinfo("127.0.0.1", nil, nil, function() error("boom-getaddrinfo") end)]],
  getnameinfo = [[uv.getnameinfo({ip = "127.0.0.1", port = 80}, function() error("boom-getnameinfo") end)]],
  random = [[uv.random(8, nil, function() error("boom-random") end)]],
  fs_read_buffer = [[local b, fd = uv.new_buffer(4), uv.fs_open("/dev/zero", "r")
                     uv.fs_read(fd, b, 0, function(err, n)
                       uv.fs_close(fd)
                       b:set(1, "free") -- released before the callback
                       error("boom-fs_read_buffer")
                     end)]],
  resolver = [[uv.new_resolver({servers = {"127.0.0.1:1"}, tries = 1, timeout = 50})
               :query("x.test", "A", function() error("boom-resolver") end)]],
  work = [[local w = uv.new_work(function(n) return n + 1 end, function() error("boom-work") end)
           uv.queue_work(w, 1)]],
  sendfile = [[local fds = uv.socketpair()
               local a, b = uv.new_pipe(), uv.new_pipe()
               a:open(fds[1]); b:open(fds[2])
               local fd = uv.fs_open("/etc/passwd", "r", 0)
               a:sendfile(fd, 0, 1, function() a:close(); b:close(); uv.fs_close(fd); error("boom-sendfile") end)]],
  http_parser_read = [[local fds = uv.socketpair()
               local a, b = uv.new_pipe(), uv.new_pipe()
               a:open(fds[1]); b:open(fds[2])
               local p = uv.new_http_parser("request", {lean = true})
               p:arm()
               p:read_start(a, function(err, data, msg)
                 a:close(); b:close()
                 error(msg and "boom-http_parser_read" or "no head")
               end)
               b:write("GET / HTTP/1.1\r\nHost: h\r\n\r\n")]],
}

for kind, code in pairs(raisers) do
  test("uncaught error in a " .. kind .. " callback: traceback, exit 1", function()
    local out, err, status = T.loom("local uv = require 'loom'\n" .. code ..
      "\nlocal t = uv.new_timer(); t:start(200, 0, function() print('after') t:close() end)")
    assert(status == 1, "exit status " .. tostring(status))
    assert(err:match("boom%-" .. kind), err)
    assert(err:match("stack traceback:"), err)
    assert(not out:match("after"), "the loop went on")
  end)

  test("on_error handles a " .. kind .. " callback error and the loop goes on", function()
    local out, err, status = T.loom("local uv = require 'loom'\n" .. [[
      uv.on_error(function(e, tb)
        assert(type(tb) == "string" and tb:match("stack traceback"))
        print("handled " .. tostring(e):match("boom%-[%a_]+"))
      end)
    ]] .. code .. "\nlocal t = uv.new_timer(); t:start(100, 0, function() print('after') t:close() end)")
    assert(status == 0, "exit status " .. tostring(status) .. ": " .. err)
    assert(out:match("handled boom%-" .. kind), out)
    assert(out:match("after"), "the loop stopped")
  end)
end

test("on_error gets the error object itself", function(expect, uv)
  local obj = {code = 42}
  local t = uv.new_timer()
  local prev = uv.on_error(expect(function(e, tb)
    assert(e == obj)
  end))
  t:start(1, 0, function() t:close(); error(obj) end)
  uv.run()
  uv.on_error(prev)
end)

-- The loop keeps its message handler in a slot of the main thread's
-- stack; uv.run from a coroutine puts that slot under the frame of the
-- resume, and the traceback must still be the callback's.
test("callback errors while uv.run runs inside a coroutine", function()
  local out, err, status = T.loom([[
    local uv = require "loom"
    local seen = {}
    uv.on_error(function(e, tb)
      seen[#seen + 1] = tostring(e):match("boom%d") .. (tb:match("in upvalue 'raise'") and "+tb" or "")
    end)
    local function raise(n) error("boom" .. n) end
    local t = uv.new_timer()
    local co = coroutine.wrap(function()
      local left = 3
      t:start(1, 1, function()
        left = left - 1
        if left == 0 then t:close() end
        raise(left)
      end)
      uv.run()
      return "done"
    end)
    print(co(), table.concat(seen, " "))
    -- And again from the main thread, with a stack that moved meanwhile.
    local u = uv.new_timer()
    u:start(1, 0, function() u:close(); raise(9) end)
    uv.run()
    print(table.concat(seen, " "))
  ]])
  assert(status == 0, err)
  assert(out:match("done\tboom2%+tb boom1%+tb boom0%+tb\n"), out)
  assert(out:match("boom0%+tb boom9%+tb\n$"), out)
end)

test("an error object whose __tostring fails is still reported", function()
  local out, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer()
    t:start(1, 0, function()
      error(setmetatable({}, {__tostring = function() error("tostring broke") end}))
    end)
  ]])
  assert(status == 1, err)
  assert(err:match("__tostring failed") and err:match("tostring broke"), err)
end)

test("a non-string error object without __tostring is described", function()
  local _, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer(); t:start(1, 0, function() error({}) end)
  ]])
  assert(status == 1 and err:match("error object is a table value"), err)
end)

test("an error inside the on_error handler is fatal", function()
  local _, err, status = T.loom([[
    local uv = require "loom"
    uv.on_error(function() error("handler broke") end)
    local t = uv.new_timer(); t:start(1, 0, function() t:close(); error("first") end)
  ]])
  assert(status == 1, err)
  assert(err:match("on_error handler") and err:match("handler broke"), err)
end)

test("os.exit from a callback with handles open", function()
  for _, close in ipairs({"false", "true"}) do
    local out, err, status = T.loom(([[
      local uv = require "loom"
      local t = uv.new_timer(); t:start(10000, 0, function() end)
      local i = uv.new_idle(); i:start(function() end)
      local s = uv.new_signal(); s:start("sigusr2", function() end)
      local a = uv.new_async(function() end); a:send("pending")
      local x = uv.new_timer(); x:start(1, 0, function() os.exit(7, %s) end)
    ]]):format(close))
    assert(status == 7, ("close=%s: status %s: %s"):format(close, tostring(status), err))
    assert(err == "", err)
  end
end)

-- os.exit(0, true) closes the state inside a callback whose C caller
-- never returns. What that caller still held (the rest of a batch, the
-- record being delivered) must be freed by teardown, which the sanitizer
-- build's leak check proves (T.loom_exiting). Each script ends by
-- printing "first" and exiting from its first callback.
test("os.exit inside close, walk, fs_event and DNS callbacks leaks nothing", function()
  local uv = T.uv
  local dir = assert(uv.fs_mkdtemp("/tmp/loom-exit-XXXXXX"))
  local scripts = {
    -- Two handles closing in one pass; b's copied datagrams wait for its
    -- turn when a's close callback exits.
    close = [[
      local a, b = uv.new_udp(), uv.new_udp()
      assert(a:bind("127.0.0.1", 0) == 0 and b:bind("127.0.0.1", 0) == 0)
      b:recv_start(function(err, data, addr)
        for i = 1, 20 do b:send(data .. i, addr.ip, addr.port) end
        a:close(exit)
        b:close()
      end)
      a:send("x", "127.0.0.1", b:getsockname().port)
    ]],
    -- A walk that has not yet reached b, which holds copied datagrams.
    walk = [[
      local a, b = uv.new_udp(), uv.new_udp()
      assert(a:bind("127.0.0.1", 0) == 0 and b:bind("127.0.0.1", 0) == 0)
      b:recv_start(function(err, data, addr)
        for i = 1, 20 do b:send(data .. i, addr.ip, addr.port) end
        uv.walk(exit)
      end)
      a:send("x", "127.0.0.1", b:getsockname().port)
    ]],
    -- Four handles share one inotify watch, which is being dispatched.
    fs_event = [[
      for i = 1, 4 do
        assert(uv.new_fs_event():start(DIR, {}, exit) == 0)
      end
      local f = io.open(DIR .. "/a", "w"); f:write("x"); f:close()
    ]],
    -- The lookup record being delivered.
    dns = [[
      for i = 1, 10 do uv.getaddrinfo("localhost", "80", nil, exit) end
    ]],
  }
  for name, body in pairs(scripts) do
    local out, err, status = T.loom_exiting(([[
      local uv = require "loom"
      local DIR = %q
      local function exit() print("first") os.exit(0, true) end
    ]]):format(dir) .. body .. "\nuv.run()")
    assert(status == 0 and out == "first\n",
           ("%s: status %s: %s"):format(name, tostring(status), err))
  end
  os.remove(dir .. "/a")
  uv.fs_rmdir(dir)
end)

test("the script ends with handles open but unreferenced", function()
  local _, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer(); t:start(10000, 0, function() end); t:unref()
    local a = uv.new_async(function() end); a:unref(); a:send({1, 2})
    local closing = uv.new_timer(); closing:close(function() error("must not run") end)
  ]])
  -- the loop ran the close callback before exiting: it raised
  assert(status == 1 and err:match("must not run"), err)
  _, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer(); t:start(10000, 0, function() end); t:unref()
    local a = uv.new_async(function() end); a:unref(); a:send({1, 2})
  ]])
  assert(status == 0, err)
end)

test("calls after loop_close raise instead of crashing", function()
  local out, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer()
    local ok, _, name = uv.loop_close()
    assert(ok == nil and name == "EBUSY")
    t:close(); uv.run()
    assert(uv.loop_close() == 0)
    local ok2, e = pcall(uv.new_timer)
    assert(not ok2 and e:match("loop is closed"), e)
    assert(not pcall(uv.run))
    assert(not pcall(t.start, t, 1, 0, print))
    print("fine")
  ]])
  assert(status == 0 and out:match("fine"), err)
end)

test("collectgarbage with active handles keeps them working", function(expect, uv)
  local n = 0
  for i = 1, 100 do
    local t = uv.new_timer()
    t:start(i % 7, 0, function() n = n + 1; t:close() end)
  end
  collectgarbage(); collectgarbage()
  uv.run()
  assert(n == 100)
end)

test("the main thread's stack is balanced after callbacks", function(expect, uv)
  -- Thousands of callbacks, some raising into on_error: a leak of one
  -- stack slot each would overflow the C stack limit of the main thread.
  local prev = uv.on_error(function() end)
  local t = uv.new_timer()
  local n = 0
  t:start(0, 0, function() end)
  local idle = uv.new_idle()
  idle:start(function()
    n = n + 1
    if n == 50000 then idle:close(); t:close() end
    if n % 2 == 0 then error("x") end
  end)
  uv.run()
  uv.on_error(prev)
  assert(n == 50000)
end)

test("integers that decide privileges are range-checked, never cut to 32 bits", function(expect, uv)
  local dir = T.tmpdir()
  local f = dir .. "/f"
  T.write_file(f, "x")
  local big = 1 << 32
  -- uid/gid: 2^32 would be root once cut; -1 ("leave it") is allowed.
  T.raises("id must be between", uv.fs_chown, f, big, big)
  T.raises("id must be between", uv.fs_lchown, f, 0, big)
  T.raises("id must be between", uv.fs_chown, f, -2, 0)
  local fd = assert(uv.fs_open(f, "r", 0))
  T.raises("id must be between", uv.fs_fchown, fd, big, -1)
  -- Modes: -1 would be every bit (setuid included), 2^32 + 0600 is 0600.
  T.raises("mode must be between 0 and 07777", uv.fs_open, dir .. "/g", "w", -1)
  T.raises("mode must be between 0 and 07777", uv.fs_open, dir .. "/g", "w", big + 384)
  T.raises("mode must be between 0 and 07777", uv.fs_mkdir, dir .. "/d", big + 448)
  T.raises("mode must be between 0 and 07777", uv.fs_chmod, f, -1)
  T.raises("mode must be between 0 and 07777", uv.fs_fchmod, fd, 1 << 63)
  assert(uv.fs_close(fd))
  assert(not uv.fs_stat(dir .. "/g") and not uv.fs_stat(dir .. "/d"))
  -- Signals: 2^32 + 9 would be SIGKILL, 2^32 + 10 SIGUSR1.
  T.raises("signal number out of range", uv.kill, uv.os_getpid(), big + 15)
  T.raises("signal number out of range", uv.kill, uv.os_getpid(), -1)
  local sig = uv.new_signal()
  T.raises("signal number out of range", sig.start, sig, big + 10, function() end)
  T.raises("unknown signal 'sigint'", sig.start, sig, "sigint\0junk", function() end)
  sig:close()
  assert(uv.kill(uv.os_getpid(), 0) == 0) -- 0 still asks "is it there"
end)

test("strings with a zero byte that would reach C raise instead of being cut", function(expect, uv)
  local cwd = uv.cwd()
  T.raises("contains a zero byte", uv.chdir, "/\0tmp")
  assert(uv.cwd() == cwd)
  T.raises("contains a zero byte", uv.os_setenv, "LOOM_NUL_TEST\0PATH", "v")
  T.raises("contains a zero byte", uv.os_setenv, "LOOM_NUL_TEST", "v\0w")
  T.raises("contains a zero byte", uv.os_unsetenv, "HOME\0zzz")
  T.raises("contains a zero byte", uv.os_getenv, "HOME\0zzz")
  assert(uv.os_getenv("LOOM_NUL_TEST") == nil and uv.os_getenv("HOME") ~= nil)
  T.raises("contains a zero byte", uv.set_process_title, "ab\0cd")
  T.raises("contains a zero byte", uv.getaddrinfo, "localhost", "80\0x")
  local tcp = uv.new_tcp()
  T.raises("contains a zero byte", tcp.bind, tcp, "127.0.0.1\0junk", 0)
  tcp:close()
  local udp = uv.new_udp()
  T.raises("contains a zero byte", udp.send, udp, "x", "127.0.0.1\0junk", 9, function() end)
  T.raises("contains a zero byte", udp.set_membership, udp, "239.1.1.1\0x", nil, "join")
  udp:close()
  local dir = T.tmpdir()
  T.raises("contains a zero byte", uv.fs_open, dir .. "/f", "w\0", 420)
end)

test("tcp_open, udp_open, pipe_open: a descriptor of the wrong kind, or one a handle holds, is refused", function(_, uv)
  local a = uv.new_tcp()
  assert(a:bind("127.0.0.1", 0))
  local fd = a:fileno()
  local function refused(h, want)
    local r, msg, name = h:open(fd)
    assert(r == nil and name == want, tostring(msg))
    h:close()
  end
  -- Wrapped twice, the descriptor would be closed twice.
  refused(uv.new_tcp(), "EEXIST")
  refused(uv.new_pipe(false), "EEXIST")
  refused(uv.new_udp(), "EINVAL")           -- a stream socket is not UDP
  local file = assert(uv.fs_open("/etc/hostname", "r", 0))
  local t = uv.new_tcp()
  local r, _, name = t:open(file)
  assert(r == nil and name == "ENOTSOCK")
  t:close()
  uv.fs_close(file)
  a:close()
  -- Once its handle has closed, the descriptor number may be wrapped again.
  uv.run()
end)

test("fs_close refuses the loop's own descriptors (the loop would hang)", function(expect, uv)
  local r, msg, name = uv.fs_close(uv.backend_fd())
  assert(r == nil and name == "EBADF", msg)
  assert(uv.fs_fstat(uv.backend_fd()))
  -- A watcher's inotify descriptor is the loop's too.
  local e = uv.new_fs_event()
  assert(e:start(T.tmpdir(), {}, function() end))
  -- The eventfd and the inotify descriptor, found through /proc (only
  -- those are tried: closing anything else here would be the test's bug).
  local refused = 0
  for fd = 3, 256 do
    local target = uv.fs_readlink("/proc/self/fd/" .. fd)
    if target == "anon_inode:[eventfd]" or target == "anon_inode:inotify" then
      local ok, _, n = uv.fs_close(fd)
      assert(not ok and n == "EBADF", target)
      refused = refused + 1
    end
  end
  assert(refused >= 2, refused)
  -- The loop still works.
  local t = uv.new_timer()
  t:start(5, 0, expect(function() t:close(); e:close() end))
end)

T.run()
