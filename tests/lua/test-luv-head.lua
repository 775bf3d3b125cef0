-- test-luv-head.lua: behaviours of current luv (1.5x, docs/docs.md at HEAD)
-- that programs written for it rely on. Each test states luv's behaviour.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

test("udp_send / udp_try_send: exactly one of host and port nil raises", function(_, uv)
  local u = uv.new_udp()
  T.raises("Both host and port must be nil if one is nil", u.send, u, "x", nil, 1234)
  T.raises("Both host and port must be nil if one is nil", u.send, u, "x", "127.0.0.1", nil)
  T.raises("Both host and port must be nil if one is nil", u.try_send, u, "x", nil, 1234)
  -- Both nil: a send on the connected peer (none here: EDESTADDRREQ).
  local n, _, name = u:try_send("x", nil, nil)
  assert(n == nil and name == "EDESTADDRREQ")
  u:close()
end)

test("random: flags other than 0 are EINVAL, a negative length E2BIG, both forms", function(expect, uv)
  local r, msg, name = uv.random(4, 1)
  assert(r == nil and name == "EINVAL", msg)
  r, msg, name = uv.random(-1)
  assert(r == nil and name == "E2BIG", msg)
  uv.random(4, 7, expect(function(err, bytes) assert(err == "EINVAL" and bytes == nil) end))
  uv.random(-3, nil, expect(function(err, bytes) assert(err == "E2BIG" and bytes == nil) end))
  assert(#uv.random(4, 0) == 4)
end)

test("fs_statfs has frsize (libuv's f_frsize)", function(_, uv)
  local sf = assert(uv.fs_statfs("/tmp"))
  assert(math.type(sf.frsize) == "integer" and sf.frsize > 0)
  assert(sf.bsize and sf.blocks and sf.bfree and sf.bavail and sf.files and sf.ffree and sf.type)
end)

test("fs_utime / futime / lutime: a nil time leaves it unchanged (luv 1.51)", function(expect, uv)
  local dir = T.tmpdir()
  local f = dir .. "/f"
  T.write_file(f, "x")
  assert(uv.fs_utime(f, 1000, 2000))
  assert(uv.fs_utime(f, nil, 3000))
  local st = uv.fs_stat(f)
  assert(st.atime.sec == 1000 and st.mtime.sec == 3000)
  assert(uv.fs_utime(f, 4000))
  st = uv.fs_stat(f)
  assert(st.atime.sec == 4000 and st.mtime.sec == 3000)
  local fd = assert(uv.fs_open(f, "r", 0))
  assert(uv.fs_futime(fd, nil, 5000))
  st = uv.fs_fstat(fd)
  assert(st.atime.sec == 4000 and st.mtime.sec == 5000)
  uv.fs_close(fd)
  assert(uv.fs_symlink(f, dir .. "/l"))
  assert(uv.fs_lutime(dir .. "/l", 6000, 7000))
  assert(uv.fs_lutime(dir .. "/l", nil, nil))
  st = uv.fs_lstat(dir .. "/l")
  assert(st.atime.sec == 6000 and st.mtime.sec == 7000)
  uv.fs_utime(f, nil, 8000, expect(function(err)
    assert(err == nil)
    local s = uv.fs_stat(f)
    assert(s.atime.sec == 4000 and s.mtime.sec == 8000)
  end))
end)

test("thread_self: one thread prints the same each time, and as its thread object does", function(_, uv)
  assert(tostring(uv.thread_self()) == tostring(uv.thread_self()))
  assert(tostring(uv.thread_self()):match("^uv_thread_t: 0x%x+$"))
  local t = uv.new_thread(function()
    local luv = require "loom"
    return tostring(luv.thread_self())
  end)
  local ok, inside = t:join()
  assert(ok and inside == tostring(t), tostring(inside) .. " vs " .. tostring(t))
  assert(inside ~= tostring(uv.thread_self()))
end)

test("numbers where strings are expected are converted (lua_tostring), as luv", function(expect, uv)
  -- spawn's args and env.
  local out = uv.new_pipe(false)
  local got = {}
  local proc
  proc = uv.spawn("sh", {args = {"-c", "echo $0 $1 $X", 42, 3.5}, env = {"X=1", 7},
                         stdio = {nil, out, nil}}, expect(function(code)
    assert(code == 0)
    proc:close()
  end))
  out:read_start(function(_, d)
    if d then got[#got + 1] = d else
      out:close()
      assert(table.concat(got) == "42 3.5 1\n", table.concat(got))
    end
  end)
  -- write / try_write, fs_write, udp_send / try_send: a number or an array
  -- holding numbers; the caller's table is left as it was.
  local dir = T.tmpdir()
  local fd = assert(uv.fs_open(dir .. "/w", "w", 420))
  assert(uv.fs_write(fd, 123) == 3)
  local parts = {"a", 4, "b"}
  assert(uv.fs_write(fd, parts) == 3)
  assert(math.type(parts[2]) == "integer")
  uv.fs_close(fd)
  assert(T.read_file(dir .. "/w") == "123a4b")
  local r = uv.new_udp()
  assert(r:bind("127.0.0.1", 0))
  local port = r:getsockname().port
  local u = uv.new_udp()
  assert(u:try_send(5, "127.0.0.1", port) == 1)
  u:send({1, 2.5}, "127.0.0.1", port, expect(function(err) assert(err == nil) end))
  local datagrams = {}
  r:recv_start(function(_, d)
    if d then
      datagrams[#datagrams + 1] = d
      if #datagrams == 2 then
        assert(datagrams[1] == "5" and datagrams[2] == "12.5")
        r:close(); u:close()
      end
    end
  end)
  local a = uv.new_tcp()
  assert(a:bind("127.0.0.1", 0))
  local received = {}
  a:listen(1, function()
    local c = uv.new_tcp()
    a:accept(c)
    c:read_start(function(_, d)
      if d then received[#received + 1] = d else
        c:close(); a:close()
        assert(table.concat(received) == "n=12 f=1.599", table.concat(received))
      end
    end)
  end)
  local cl = uv.new_tcp()
  cl:connect("127.0.0.1", a:getsockname().port, function()
    collectgarbage()
    cl:write({"n=", 12, " f=", 1.5}, function()
      assert(cl:try_write(99) == 2)
      cl:shutdown(function() cl:close() end)
    end)
  end)
  T.raises("item 2 is not a string", uv.fs_write, 0, {"a", true})
end)

test("a closed handle answers every method with a value or an error; nothing starts it again", function(_, uv)
  local made = {
    timer = uv.new_timer(), idle = uv.new_idle(), prepare = uv.new_prepare(),
    check = uv.new_check(), async = uv.new_async(function() end), signal = uv.new_signal(),
    tcp = uv.new_tcp(), pipe = uv.new_pipe(false), udp = uv.new_udp(), poll = uv.new_poll(0),
    fs_event = uv.new_fs_event(), fs_poll = uv.new_fs_poll(),
  }
  local listening = uv.new_tcp()
  assert(listening:bind("127.0.0.1", 0))
  assert(listening:listen(1, function() end))
  made.listening = listening
  for _, h in pairs(made) do h:close() end
  uv.run()  -- fully closed now
  local args = {{}, {1}, {1, 0, print}, {print}, {"127.0.0.1", 1}, {"127.0.0.1", 1, print},
                {"x"}, {"x", print}, {"/tmp"}, {"/tmp", {}, print}, {1, print},
                {"sigint", print}, {"r", print}, {true}, {0}, {"x", "127.0.0.1", 9}}
  for kind, h in pairs(made) do
    for name, fn in pairs(getmetatable(h).__index) do
      if type(fn) == "function" and name ~= "close" then
        for _, a in ipairs(args) do
          -- Wrong argument types may raise; a closed handle itself never does.
          local ok, err = pcall(fn, h, table.unpack(a))
          assert(ok or not tostring(err):match("closed"), kind .. ":" .. name .. ": " .. tostring(err))
          assert(not uv.loop_alive(), kind .. ":" .. name .. " started a closed handle")
        end
      end
    end
  end
  -- luv's answers for the common cases.
  local t = made.tcp
  local r, msg, ename = t:shutdown()
  assert(r == nil and (ename == "ENOTCONN" or ename == "EBADF" or ename == "EINVAL"), msg)
  r, msg, ename = t:write("x")
  assert(r == nil and ename, msg)
  r, msg, ename = made.timer:start(1, 0, print)
  assert(r == nil and ename == "EINVAL", msg)
  r, msg, ename = made.timer:again()
  assert(r == nil and ename == "EINVAL", msg)
  T.raises("already closing", made.timer.close, made.timer)
end)

test("getnameinfo: ip and port may be left out; async answers as sync", function(expect, uv)
  -- Only a family: the unspecified address of that family.
  local host, service = uv.getnameinfo({family = "inet6"})
  assert(host and service == "0", tostring(host) .. " " .. tostring(service))
  host, service = uv.getnameinfo({port = 22})
  assert(host and service == "ssh", tostring(service))
  -- The asynchronous form gives what the synchronous one gives: the port
  -- number when no service is named for it, "::1" without a zero scope.
  uv.getnameinfo({ip = "127.0.0.1", port = 0}, expect(function(err, h, s)
    assert(err == nil and h == "localhost" and s == "0", tostring(s))
  end))
  uv.getnameinfo({ip = "::1", port = 80, family = "inet6"}, expect(function(err, h, s)
    assert(err == nil and not h:find("%", 1, true) and s == "http", tostring(h))
  end))
  uv.getnameinfo({family = "inet"}, expect(function(err, h, s)
    assert(err == nil and h and s == "0", tostring(err))
  end))
end)

test("a Unix-socket connection accepted into a tcp handle works (libuv does not compare types)", function(expect, uv)
  local dir = T.tmpdir()
  local server = uv.new_pipe(false)
  assert(server:bind(dir .. "/sock"))
  assert(server:listen(1, expect(function(err)
    assert(err == nil)
    local conn = uv.new_tcp()
    assert(server:accept(conn) == 0)
    conn:read_start(expect(function(rerr, data)
      assert(rerr == nil and data == "over unix")
      conn:write("back", function()
        conn:close()
        server:close()
      end)
      conn:read_stop()
    end))
  end)))
  local client = uv.new_pipe(false)
  client:connect(dir .. "/sock", expect(function(err)
    assert(err == nil)
    client:write("over unix")
    client:read_start(expect(function(_, data)
      assert(data == "back")
      client:close()
    end))
  end))
end)

test("new_tty: readable and writable follow the descriptor's open mode, not the argument", function(_, uv)
  local fds = assert(uv.pipe({nonblock = true}, {nonblock = true}))
  local r = assert(uv.new_tty(fds.read, false))
  assert(r:is_readable() == true and r:is_writable() == false)
  local w = assert(uv.new_tty(fds.write, true))
  assert(w:is_readable() == false and w:is_writable() == true)
  local n, _, name = r:write("x")
  assert(n == nil and (name == "EPIPE" or name == "EBADF"), tostring(name))
  r:close()
  w:close()
end)

test("a thread that raises says so on stderr at once, with a traceback; join returns", function()
  -- The main state waits for an async the thread never sends; the error
  -- must be seen without a join.
  local _, err, status = T.loom([[
    local uv = require "loom"
    local a = uv.new_async(function() end)
    local t = uv.new_thread(function(async)
      local function deep() error("thread failed here") end
      deep()
      async:send()
    end, a)
    local timer = uv.new_timer()
    timer:start(300, 0, function()
      local ok, msg = t:join()
      assert(ok == false and msg:match("thread failed here"))
      timer:close(); a:close()
    end)
  ]])
  assert(status == 0, err)
  assert(err:match("error in thread: .-thread failed here") and err:match("stack traceback"), err)
end)

test("a scandir request passed to a thread or a work item: the worker iterates a copy of what is left", function(expect, uv)
  local dir = T.tmpdir()
  for i = 1, 5 do T.write_file(dir .. "/f" .. i, "x") end
  assert(uv.fs_mkdir(dir .. "/sub", 493))
  local req = assert(uv.fs_scandir(dir))
  local first = uv.fs_scandir_next(req)
  assert(first)
  local function rest_of(r)
    local luv = require "loom"
    local out = {}
    while true do
      local name, kind = luv.fs_scandir_next(r)
      if not name then break end
      out[#out + 1] = name .. ":" .. kind
    end
    return table.concat(out, ",")
  end
  local t = uv.new_thread(rest_of, req)
  local ok, in_thread = t:join()
  assert(ok)
  -- The main state's own position did not move: it sees the same rest.
  assert(in_thread == rest_of(req), in_thread)
  assert(select(2, in_thread:gsub(",", "")) == 4 and in_thread:match("sub:directory"))
  -- queue_work, with a fresh request (this one is at its end now).
  local req2 = assert(uv.fs_scandir(dir))
  local w = uv.new_work(function(r)
    local luv = require "loom"
    local n = 0
    while luv.fs_scandir_next(r) do n = n + 1 end
    return n
  end, expect(function(n) assert(n == 6, n) end))
  assert(w:queue(req2))
end)

test("argument errors of methods called without the colon name the function", function(_, uv)
  local t = uv.new_timer()
  assert(t.start == uv.timer_start)  -- one closure for both
  local ok, err = pcall(t.start, t, "soon", 0, print)
  assert(not ok and err:match("bad argument #2 to 'loom.timer_start'"), err)
  ok, err = pcall(function() t:start("soon", 0, print) end)
  assert(not ok and err:match("bad argument #1 to 'start'"), err)
  t:close()
end)

T.run()
