-- test-lib-net.lua: loom.net over real sockets on loopback (IPv4, IPv6,
-- Unix), in the event and the coroutine style.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local net = require "loom.net"
local task = require "loom.task"
local timer = require "loom.timer"

local function is_name(name, ...)
  local ok, err, n = ...
  return ok == nil and n == name and type(err) == "string" and err:match("^" .. name .. ": ") ~= nil
end

-- An event-style echo server; returns it and its port.
local function echo_server(host)
  local srv = net.createServer(function(sock)
    sock:on("data", function(d) sock:write(d) end)
  end)
  assert(srv:listen(0, host or "127.0.0.1"))
  return srv, srv:address().port
end

test("event style: echo, events in order, counters and addresses", function(expect, uv)
  local log = {}
  local srv = net.createServer(expect(function(sock)
    assert(sock.remoteAddress == "127.0.0.1" and sock.remotePort > 0)
    sock:on("data", function(d) sock:write(d:upper()) end)
    sock:on("end", expect(function() log[#log + 1] = "server end" end))
    sock:on("close", expect(function()
      log[#log + 1] = "server close"
      assert(sock.bytesRead == 5 and sock.bytesWritten == 5)
    end))
  end))
  srv:on("listening", expect())
  assert(srv:listen(0, "127.0.0.1") == srv)
  local addr = srv:address()
  assert(addr.address == "127.0.0.1" and addr.family == "IPv4" and addr.port > 0)
  local c = net.connect(addr.port, "127.0.0.1", expect(function() log[#log + 1] = "connect" end))
  c:write("hello") -- before the connection exists: kept until it does
  c:on("data", expect(function(d)
    assert(d == "HELLO")
    log[#log + 1] = "data"
    c:finish()
  end))
  c:on("finish", expect(function() log[#log + 1] = "client finish" end))
  c:on("end", expect(function() log[#log + 1] = "client end" end))
  c:on("close", expect(function(had_error)
    assert(had_error == false)
    log[#log + 1] = "client close"
    assert(c.remotePort == addr.port and c.bytesWritten == 5)
    srv:close(expect())
  end))
  uv.run()
  local s = table.concat(log, ",")
  assert(s:match("^connect,data,client finish,"), s)
  assert(s:match("server end") and s:match("client end") and s:match("client close"), s)
end)

test("IPv6 and Unix sockets", function(expect, uv)
  local srv6, port6 = echo_server("::1")
  assert(srv6:address().family == "IPv6")
  local path = os.tmpname()
  os.remove(path)
  local srvu = net.createServer(function(sock)
    sock:on("data", function(d) sock:write(d) end)
  end)
  assert(srvu:listen(path) == srvu)
  assert(srvu:address() == path)
  local left = 2
  local function done() left = left - 1; if left == 0 then srv6:close(); srvu:close() end end
  local c6 = net.connect(port6, "::1")
  c6:on("data", expect(function(d) assert(d == "six"); c6:destroy(); done() end))
  c6:write("six")
  local cu = net.connect(path)
  cu:on("data", expect(function(d) assert(d == "unix"); cu:destroy(); done() end))
  cu:write("unix")
  uv.run()
  os.remove(path)
end)

test("connect to a name resolves it and tries each address", function(expect, uv)
  local srv, port = echo_server("127.0.0.1") -- IPv4 only: "localhost" may give ::1 first
  local c = net.connect{port = port, host = "localhost"}
  c:on("connect", expect())
  c:on("data", expect(function() c:destroy(); srv:close() end))
  c:write("x")
end)

test("a refused connection is an 'error' event, then 'close'", function(expect, uv)
  local srv, port = echo_server()
  srv:close()
  uv.run()
  local c = net.connect(port, "127.0.0.1")
  c:on("error", expect(function(err) assert(err:match("^ECONNREFUSED: "), err) end))
  c:on("close", expect(function(had) assert(had == true) end))
end)

task_test("coroutine style: accept, connect, read, readLine, read(n), write, finish", function()
  local srv = net.createServer()
  assert(srv:listen(0, "127.0.0.1"))
  local port = srv:address().port
  local server_task = task.spawn(function()
    local sock = assert(srv:accept())
    assert(sock:readLine() == "HELLO")
    local n = tonumber(sock:readLine())
    local body = sock:read(n)
    assert(#body == n)
    assert(sock:write("got " .. n .. "\n"))
    assert(sock:read() == nil) -- the client finished
    sock:close()
    return true
  end)
  local c = assert(net.connect(port, "127.0.0.1"))
  assert(c:write("HELLO\r\n"))
  local blob = ("b"):rep(300000)
  assert(c:write({"300000\n", blob}))
  assert(c:readLine() == "got 300000")
  assert(c:finish() == true)
  assert(c:read() == nil)
  c:close()
  assert(server_task:join() == true)
  srv:close()
end)

task_test("a coroutine connect that is refused returns the error", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local port = srv:address().port
  srv:close()
  task.sleep(1)
  assert(is_name("ECONNREFUSED", net.connect(port, "127.0.0.1")))
end)

test("createServer{task = true}: a task per connection; the socket closes when it returns", function(expect, uv)
  local srv = net.createServer({task = true}, function(sock)
    for line in sock:lines() do
      if line == "quit" then return end -- returning closes the socket
      sock:write(line:reverse() .. "\n")
    end
  end)
  srv:listen(0, "127.0.0.1")
  task.spawn(expect(function()
    local c = assert(net.connect(srv:address().port, "127.0.0.1"))
    c:write("abc\nquit\nnot read\n")
    assert(c:readLine() == "cba")
    assert(c:read() == nil) -- closed by the server
    c:close()
    srv:close()
  end))
end)

test("a handler task that raises closes its socket and reports the error", function(expect, uv)
  local old = uv.on_error(expect(function(err) assert(err:match("handler broke"), err) end))
  local srv = net.createServer({task = true}, function(sock)
    sock:readLine()
    error("handler broke")
  end)
  srv:listen(0, "127.0.0.1")
  task.spawn(expect(function()
    local c = assert(net.connect(srv:address().port, "127.0.0.1"))
    c:write("x\n")
    local d, err = c:read()
    assert(d == nil) -- EOF or reset: the server closed it
    c:close()
    srv:close()
  end))
  uv.run()
  uv.on_error(old)
end)

task_test("settimeout: a read times out with ETIMEDOUT and the socket still works", function()
  local srv = net.createServer({task = true}, function(sock)
    task.sleep(40)
    sock:write("late\n")
    sock:read()
  end)
  srv:listen(0, "127.0.0.1")
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  c:settimeout(5)
  assert(is_name("ETIMEDOUT", c:readLine()))
  c:settimeout(0)
  assert(c:readLine() == "late")
  c:close()
  srv:close()
end)

test("setTimeout emits 'timeout' after idle time", function(expect, uv)
  local srv, port = echo_server()
  local c = net.connect(port, "127.0.0.1")
  c:setTimeout(10, expect(function()
    c:destroy()
    srv:close()
  end))
end)

task_test("cancelling a task in read, accept or connect leaves the socket usable", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local port = srv:address().port
  -- accept
  local acceptor = task.spawn(function() return srv:accept() end)
  task.yield()
  acceptor:cancel()
  assert(is_name("ECANCELED", acceptor:join()))
  -- read
  local c = assert(net.connect(port, "127.0.0.1"))
  local s = assert(srv:accept())
  local reader = task.spawn(function() return s:read() end)
  task.yield()
  reader:cancel()
  assert(is_name("ECANCELED", reader:join()))
  c:write("after cancel")
  assert(s:read() == "after cancel") -- nothing lost
  -- connect: the half-made socket is closed (the loop would not end otherwise)
  local connector = task.spawn(function() return net.connect(port, "127.0.0.1") end)
  connector:cancel()
  local r = table.pack(connector:join())
  assert(r[1] == nil and (r[3] == "ECANCELED"), tostring(r[2]))
  c:close(); s:close()
  srv:close()
end)

task_test("cancelling a writer blocked on a full queue", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  local s = assert(srv:accept()) -- never reads
  local chunk = ("w"):rep(65536)
  local writer = task.spawn(function()
    while true do
      local ok, err, name = c:write(chunk)
      if not ok then return nil, err, name end
    end
  end)
  task.sleep(20)
  assert(writer:status() == "parked")
  writer:cancel()
  assert(is_name("ECANCELED", writer:join()))
  c:destroy(); s:destroy()
  srv:close()
end)

task_test("backpressure: a peer that does not read makes write() wait, memory bounded", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  local s = assert(srv:accept())
  local chunk = ("p"):rep(16384)
  local written, most_queued = 0, 0
  local writer = task.spawn(function()
    for _ = 1, 2000 do -- 32 MiB if nothing held it back
      assert(c:write(chunk))
      written = written + #chunk
      local q = c._h:get_write_queue_size()
      if q > most_queued then most_queued = q end
    end
    assert(c:finish())
  end)
  task.sleep(30)
  -- The kernel's buffers filled and the writer is waiting.
  assert(writer:status() == "parked", writer:status())
  assert(written < 32 * 1048576)
  -- Read it all slowly: the writer goes on as room appears.
  local got = 0
  while true do
    local d = s:read()
    if not d then break end
    got = got + #d
    -- The reading side never holds more than its high-water mark.
    assert(s._rlen <= 16384 + 65536)
  end
  assert(got == 2000 * 16384)
  writer:join()
  assert(most_queued <= 16384 + 65536, most_queued)
  s:close(); c:close()
  srv:close()
end)

test("event style backpressure: write returns false, 'drain' follows", function(expect, uv)
  local srv = net.createServer(function(sock)
    sock:pause() -- does not read for a while
    timer.setTimeout(30, function() sock:resume() end)
    sock:on("data", function() end)
    sock:on("end", function() sock:destroy() end)
  end)
  srv:listen(0, "127.0.0.1")
  local c = net.connect(srv:address().port, "127.0.0.1")
  local chunk = ("d"):rep(65536)
  local function pump()
    for _ = 1, 200 do
      if not c:write(chunk) then return false end
    end
    return true
  end
  c:on("connect", expect(function()
    assert(pump() == false, "the kernel took 12 MiB without the peer reading")
    c:once("drain", expect(function()
      c:finish()
      c:on("close", function() srv:close() end)
    end))
  end))
end)

task_test("readLine against a peer that never sends a newline", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  local s = assert(srv:accept())
  local flood = task.spawn(function()
    local chunk = ("n"):rep(8192)
    for _ = 1, 100 do
      if not c:write(chunk) then return end
    end
  end)
  local line, err, name = s:readLine(10000)
  assert(line == nil and name == "EMSGSIZE", err)
  assert(s._rlen < 10000 + 65536)
  s:destroy()
  c:destroy()
  flood:join()
  srv:close()
end)

task_test("read() and 'data' events do not mix", function()
  local srv = net.createServer()
  srv:listen(0, "127.0.0.1")
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  local s = assert(srv:accept())
  s:on("data", function() end)
  T.raises("read by 'data' events", s.read, s)
  assert(c:read(0) == "")
  T.raises("a 'data' listener would take its data", c.on, c, "data", print)
  s:destroy(); c:destroy()
  srv:close()
end)

test("maxConnections closes the ones past the limit; getConnections; close waits", function(expect, uv)
  local srv = net.createServer({maxConnections = 1}, function(sock)
    sock:on("data", function() end)
  end)
  srv:listen(0, "127.0.0.1")
  local port = srv:address().port
  local first = net.connect(port, "127.0.0.1")
  first:on("connect", expect(function()
    local second = net.connect(port, "127.0.0.1")
    second:on("data", function() end)
    second:on("close", expect(function()
      assert(srv:getConnections() == 1)
      srv:close(expect(function()
        assert(srv:getConnections() == 0)
      end))
      -- The server waits for the open connection.
      timer.setTimeout(5, function()
        assert(srv:getConnections() == 1)
        first:destroy()
      end)
    end))
  end))
end)

test("a listen error is returned (and an event for listeners)", function(expect, uv)
  local a = net.createServer()
  assert(a:listen(0, "127.0.0.1"))
  local b = net.createServer()
  b:on("error", expect(function(err) assert(err:match("^EADDRINUSE")) end))
  assert(is_name("EADDRINUSE", b:listen(a:address().port, "127.0.0.1")))
  a:close()
end)

test("bad arguments raise", function()
  T.raises("bad port", net.connect, 70000, "127.0.0.1")
  T.raises("bad host", net.connect, 80, 42)
  T.raises("bad port", function() net.createServer():listen(-1) end)
  T.raises("options table expected", net.createServer, 42)
  T.raises("server:accept must be called inside a task", function() net.createServer():accept() end)
  local s = net.connect(1, "127.0.0.1")
  s:on("error", function() end)
  T.raises("string or array of strings expected", s.write, s, 42)
  T.raises("item 2 is not a string", s.write, s, {"a", true})
  s:destroy()
end)

test("10,000 tasks each doing a TCP round trip", function()
  -- In a child process: 20,000 descriptors, and a clean exit proves
  -- that nothing was left open.
  local out, err, code = T.loom([[
    local net, task = require "loom.net", require "loom.task"
    local srv = net.createServer({task = true}, function(sock)
      local d = sock:read()
      if d then sock:write(d) end
    end)
    srv:listen(0, "127.0.0.1", 4096)
    local port = srv:address().port
    local ok = 0
    task.spawn(function()
      task.group(function(g)
        for i = 1, 10000 do
          g:spawn(function()
            local c = assert(net.connect(port, "127.0.0.1"))
            assert(c:write("ping" .. i))
            assert(c:read() == "ping" .. i)
            c:close()
            ok = ok + 1
          end)
        end
      end)
      srv:close()
    end)
    require("loom").run()
    print(ok, task.count())
  ]])
  assert(code == 0, err)
  assert(out == "10000\t0\n", out .. err)
end)

test("listen{reusePort = true}: two servers on one port", function(expect, uv)
  local a = net.createServer(function(s) s:destroy() end)
  assert(a:listen{port = 0, host = "127.0.0.1", reusePort = true})
  local b = net.createServer(function(s) s:destroy() end)
  assert(b:listen{port = a:address().port, host = "127.0.0.1", reusePort = true})
  local c = net.createServer()
  local ok, _, name = c:listen(a:address().port, "127.0.0.1")
  assert(ok == nil and name == "EADDRINUSE")
  a:close(); b:close()
end)

task_test("a task-style server answers a client that half-closed after its request", function()
  local srv = net.createServer({task = true}, function(sock)
    local line = sock:readLine()
    task.sleep(30)  -- the answer comes after the client's end has arrived
    assert(sock:write("answer to " .. tostring(line) .. "\n"))
    -- Reading the end now ends our side too (allowHalfOpen false).
    assert(sock:read() == nil)
  end)
  assert(srv:listen(0, "127.0.0.1"))
  local c = assert(net.connect(srv:address().port, "127.0.0.1"))
  c:write("question\n")
  assert(c:finish())
  assert(c:readLine() == "answer to question")
  assert(c:read() == nil)
  c:destroy()
  srv:close()
end)

T.run()
