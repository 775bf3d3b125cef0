-- test-lib-dgram.lua: loom.dgram over real UDP sockets on loopback, in
-- the event and the coroutine style.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local dgram = require "loom.dgram"
local task = require "loom.task"

test("event style: bind, message with rinfo, send with a callback, close", function(expect, uv)
  local server = dgram.createSocket("udp4")
  server:on("listening", expect())
  server:on("message", expect(function(msg, rinfo)
    assert(msg == "ping" and rinfo.address == "127.0.0.1" and rinfo.family == "IPv4")
    assert(rinfo.size == 4 and rinfo.port > 0)
    server:send("pong", rinfo.port, rinfo.address)
  end))
  assert(server:bind(0, "127.0.0.1") == server)
  local port = server:address().port
  local client
  client = dgram.createSocket("udp4", expect(function(msg, rinfo)
    assert(msg == "pong" and rinfo.port == port)
    client:close(expect())
    server:close()
  end))
  client:bind(0, "127.0.0.1")
  client:send("ping", port, "127.0.0.1", expect(function(err) assert(err == nil) end))
end)

test("IPv6, connect, an array of strings as one datagram", function(expect, uv)
  local server = dgram.createSocket{type = "udp6"}
  server:bind(0, "::1")
  server:on("message", expect(function(msg, rinfo)
    assert(msg == "a-b-c" and rinfo.family == "IPv6")
    server:close()
  end))
  local client = dgram.createSocket("udp6")
  client:bind(0, "::1")
  assert(client:connect(server:address().port, "::1") == client)
  assert(client:remoteAddress().port == server:address().port)
  client:send({"a-", "b-", "c"}, expect(function(err)
    assert(err == nil)
    client:close()
  end))
end)

task_test("coroutine style: recv and send", function()
  local a = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  local b = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  assert(b:send("one", a:address().port, "127.0.0.1") == true)
  assert(b:send("two", a:address().port, "127.0.0.1") == true)
  local m1, r1 = a:recv()
  local m2 = a:recv()
  assert(m1 == "one" and m2 == "two" and r1.port == b:address().port)
  -- A timeout, and the socket goes on.
  local d, err, name = a:recv(5)
  assert(d == nil and name == "ETIMEDOUT", err)
  b:send("three", a:address().port, "127.0.0.1")
  assert(a:recv() == "three")
  a:close(); b:close()
end)

task_test("closing wakes a task in recv with nil; cancelling it gives ECANCELED", function()
  local s = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  local r = task.spawn(function() return s:recv() end)
  task.yield()
  r:cancel()
  assert(select(3, r:join()) == "ECANCELED")
  local r2 = task.spawn(function() return table.pack(s:recv()) end)
  task.yield()
  s:close()
  local res = r2:join()
  assert(res.n == 1 and res[1] == nil)
end)

task_test("a socket read by recv() queues a bounded number of datagrams", function()
  local s = assert(dgram.createSocket{type = "udp4", queueLimit = 8}:bind(0, "127.0.0.1"))
  local sender = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  -- Start receiving, then stop reading: the queue fills to its limit and
  -- the socket stops taking datagrams from the kernel.
  sender:send("first", s:address().port, "127.0.0.1")
  assert(s:recv() == "first")
  for i = 1, 50 do sender:send("d" .. i, s:address().port, "127.0.0.1") end
  task.sleep(20)
  assert(s._qtail - s._qhead + 1 <= 8, "queued " .. (s._qtail - s._qhead + 1))
  assert(not s._recving)
  -- Reading resumes it: the queued ones come first, in order.
  assert(s:recv() == "d1")
  s:close(); sender:close()
end)

task_test("the recv queue limit never drops part of a recvmmsg batch", function()
  local s = assert(dgram.createSocket{type = "udp4", mmsgs = 32, queueLimit = 4}:bind(0, "127.0.0.1"))
  local sender = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  sender:send("start", s:address().port, "127.0.0.1")
  assert(s:recv() == "start")
  -- 20 datagrams sent without waiting (a callback each): in the kernel
  -- before the receiver looks, so they come as one batch, well past the
  -- limit of 4.
  for i = 1, 20 do sender:send(tostring(i), s:address().port, "127.0.0.1", function() end) end
  task.sleep(20)
  local got = {}
  for _ = 1, 20 do
    local d = s:recv(200)
    if not d then break end
    got[#got + 1] = tonumber(d)
  end
  -- Whatever the kernel kept arrives, in order, with no gap.
  assert(#got == 20, "got " .. #got .. " of 20")
  for i = 1, #got do assert(got[i] == i) end
  s:close(); sender:close()
end)

task_test("batched receive with mmsgs still delivers every datagram", function()
  local s = assert(dgram.createSocket{type = "udp4", mmsgs = 16}:bind(0, "127.0.0.1"))
  local sender = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  for i = 1, 40 do sender:send(tostring(i), s:address().port, "127.0.0.1") end
  local sum = 0
  for _ = 1, 40 do sum = sum + tonumber((s:recv())) end
  assert(sum == 40 * 41 // 2)
  s:close(); sender:close()
end)

test("options and setters", function(expect, uv)
  local s = dgram.createSocket{type = "udp4", reuseAddr = true, recvBufferSize = 65536,
                               sendBufferSize = 65536}
  assert(s:bind(0, "127.0.0.1"))
  assert(s:getRecvBufferSize() >= 65536 and s:getSendBufferSize() >= 65536)
  assert(s:setBroadcast(true) == s and s:setTTL(32) == s and s:setMulticastTTL(2) == s)
  assert(s:setMulticastLoopback(true) == s)
  assert(s:addMembership("239.255.0.1", "127.0.0.1") == s)
  assert(s:dropMembership("239.255.0.1", "127.0.0.1") == s)
  local ok, err, name = s:setTTL(0)
  assert(ok == nil and name == "EINVAL", err)
  assert(s:getSendQueueSize() == 0 and s:getSendQueueCount() == 0)
  s:unref(); s:ref()
  s:close(expect())
end)

test("errors: bind in use, bad arguments, recv outside a task", function(expect, uv)
  local a = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  local b = dgram.createSocket("udp4")
  local ok, err, name = b:bind(a:address().port, "127.0.0.1")
  assert(ok == nil and name == "EADDRINUSE", err)
  T.raises("bad socket type", dgram.createSocket, "udp5")
  T.raises("bad port", b.send, b, "x", 70000, "127.0.0.1")
  T.raises("string or array of strings expected", b.send, b, 42, 1, "127.0.0.1")
  T.raises("must be called inside a task", a.recv, a)
  a:close(); b:close()
end)

test("reusePort: two sockets bound to one port; without it EADDRINUSE", function()
  local a = assert(dgram.createSocket{type = "udp4", reusePort = true}:bind(0, "127.0.0.1"))
  local port = a:address().port
  local b = assert(dgram.createSocket{type = "udp4", reusePort = true}:bind(port, "127.0.0.1"))
  assert(b:address().port == port)
  local c = dgram.createSocket("udp4")
  local ok, _, name = c:bind(port, "127.0.0.1")
  assert(ok == nil and name == "EADDRINUSE", tostring(name))
  a:close(); b:close(); c:close()
end)

T.run()
