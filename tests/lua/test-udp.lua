-- test-udp.lua: luv's udp section on 127.0.0.1 and ::1, with and
-- without recvmmsg.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function roundtrip(expect, host, family)
  local a, b = uv.new_udp(), uv.new_udp()
  assert(a:bind(host, 0) == 0 and b:bind(host, 0) == 0)
  local bport = b:getsockname().port
  b:recv_start(expect(function(err, data, addr, flags)
    assert(not err, err)
    assert(data == "ping", data)
    assert(addr.ip == host and addr.port == a:getsockname().port and addr.family == family)
    assert(type(flags) == "table" and flags.partial == nil and next(flags) == nil)
    -- answer with try_send
    assert(b:try_send({"po", "ng"}, addr.ip, addr.port) == 4)
    b:close()
  end))
  a:recv_start(expect(function(err, data, addr)
    assert(not err and data == "pong" and addr.port == bport)
    a:close()
  end))
  local req = a:send("ping", host, bport, expect(function(err) assert(err == nil, err) end))
  assert(tostring(req):match("^uv_udp_send_t: ") and req:get_type() == "udp_send")
end

test("send and receive over IPv4", function(expect)
  roundtrip(expect, "127.0.0.1", "inet")
end)

test("send and receive over IPv6", function(expect)
  roundtrip(expect, "::1", "inet6")
end)

-- Three senders, 300 datagrams each; the receiver must see each sender's
-- datagrams complete and in order.
local function receive_all(expect, flags)
  local r = uv.new_udp(flags)
  assert(r:bind("127.0.0.1", 0) == 0)
  r:recv_buffer_size(4 * 1024 * 1024)
  local port = r:getsockname().port
  local next_seq, total = {}, 0
  local senders = {}
  r:recv_start(function(err, data, addr)
    assert(not err, err)
    local id, seq = data:match("^(%d+):(%d+):")
    id, seq = tonumber(id), tonumber(seq)
    assert(seq == (next_seq[id] or 0) + 1, ("sender %d: %d after %s"):format(id, seq, next_seq[id]))
    assert(#data == 100 + id)
    next_seq[id] = seq
    total = total + 1
    if total == 900 then
      r:close()
      for _, s in ipairs(senders) do s:close() end
    end
  end)
  for id = 1, 3 do
    local s = uv.new_udp()
    senders[id] = s
    for seq = 1, 300 do
      local msg = id .. ":" .. seq .. ":"
      msg = msg .. string.rep("x", 100 + id - #msg)
      s:send(msg, "127.0.0.1", port)
    end
  end
  uv.run()
  assert(total == 900, total)
end

test("900 datagrams from three senders, in order per sender (recvmsg)", function(expect)
  receive_all(expect, nil)
end)

test("the same with recvmmsg (mmsgs = 32)", function(expect)
  receive_all(expect, {mmsgs = 32})
end)

test("try_send2 sends a batch with one call", function(expect)
  local r = uv.new_udp({family = "inet", mmsgs = 16})
  assert(r:bind("127.0.0.1", 0) == 0)
  local port = r:getsockname().port
  local got = {}
  r:recv_start(function(err, data)
    assert(not err, err)
    got[#got + 1] = data
    if #got == 51 then
      for i = 1, 50 do assert(got[i] == "m" .. i, got[i]) end
      assert(got[51] == "ab", got[51])
      r:close()
    end
  end)
  local s = uv.new_udp()
  local msgs = {}
  for i = 1, 50 do msgs[i] = {data = "m" .. i, addr = {ip = "127.0.0.1", port = port}} end
  assert(s:try_send2(msgs) == 50)
  local c = uv.new_udp()
  assert(c:connect("127.0.0.1", port) == 0)
  assert(uv.udp_try_send2(c, {{data = {"a", "b"}}}) == 1)
  s:close(); c:close()
end)

test("connected UDP: EISCONN, ENOTCONN, EDESTADDRREQ", function(expect)
  local r = uv.new_udp()
  assert(r:bind("127.0.0.1", 0) == 0)
  local port = r:getsockname().port
  local c = uv.new_udp()
  local n, msg, name = c:send("x", nil, nil)
  assert(n == nil and name == "EDESTADDRREQ", msg)
  n, msg, name = c:try_send("x")
  assert(n == nil and name == "EDESTADDRREQ", msg)
  n, msg, name = c:getpeername()
  assert(n == nil and name == "ENOTCONN", msg)
  n, msg, name = c:connect(nil)
  assert(n == nil and name == "ENOTCONN", msg)
  assert(c:connect("127.0.0.1", port) == 0)
  n, msg, name = c:connect("127.0.0.1", port)
  assert(n == nil and name == "EISCONN", msg)
  n, msg, name = c:send("x", "127.0.0.1", port)
  assert(n == nil and name == "EISCONN", msg)
  assert(c:getpeername().port == port)
  r:recv_start(expect(function(err, data)
    assert(not err and data == "connected")
    r:close()
    assert(c:connect(nil) == 0)
    n, msg, name = c:getpeername()
    assert(n == nil and name == "ENOTCONN", msg)
    c:close()
  end))
  c:send("connected", nil, nil, expect(function(err) assert(not err) end))
end)

test("a datagram longer than recv_size arrives truncated with partial", function(expect)
  for _, mm in ipairs({1, 8}) do
    local r = uv.new_udp({mmsgs = mm, recv_size = 16})
    assert(r:bind("127.0.0.1", 0) == 0)
    r:recv_start(expect(function(err, data, addr, flags)
      assert(not err, err)
      assert(data == "0123456789abcdef", data)
      assert(flags.partial == true)
      r:close()
    end))
    local s = uv.new_udp()
    s:send("0123456789abcdefTRUNCATED", "127.0.0.1", r:getsockname().port, function() s:close() end)
    uv.run()
  end
end)

test("send queue and close with sends pending", function(expect)
  local s = uv.new_udp()
  assert(s:bind("127.0.0.1", 0) == 0)
  local calls = 0
  for i = 1, 10 do
    s:send("x", "127.0.0.1", s:getsockname().port, function(err)
      calls = calls + 1
      assert(err == nil or err == "ECANCELED", err)
    end)
  end
  assert(s:get_send_queue_size() >= 0 and s:get_send_queue_count() >= 0)
  s:close(expect(function() assert(calls == 10, calls) end))
  uv.run()
  assert(s:is_closing())
end)

-- An echo server answers from its receive callback: those replies leave
-- together (sendmmsg) after the batch, in order, each callback once; a
-- reply sent just before the server closes itself still goes out.
local function echo_batch(expect, mmsgs)
  local server = uv.new_udp({family = "inet", mmsgs = mmsgs})
  local client = uv.new_udp()
  assert(server:bind("127.0.0.1", 0) == 0 and client:bind("127.0.0.1", 0) == 0)
  client:recv_buffer_size(1024 * 1024)
  local port = server:getsockname().port
  local N = 200
  local served, acked, got = 0, 0, 0
  server:recv_start(function(err, data, addr)
    assert(not err, err)
    served = served + 1
    if served % 2 == 0 then
      -- without a callback: a shared, finished request comes back
      local req = server:send(data, addr.ip, addr.port)
      assert(req:get_type() == "udp_send")
    else
      server:send({data:sub(1, 3), data:sub(4)}, addr.ip, addr.port, function(e)
        assert(e == nil, e)
        acked = acked + 1
      end)
    end
    if served == N then server:close() end
  end)
  client:recv_start(function(err, data)
    assert(not err, err)
    got = got + 1
    assert(data == "msg" .. got, data)
    if got == N then client:close() end
  end)
  for i = 1, N do assert(client:send("msg" .. i, "127.0.0.1", port)) end
  local guard = uv.new_timer()
  guard:start(5000, 0, function() client:close() server:close() end)
  guard:unref()
  uv.run()
  guard:close()
  assert(got == N, got)
  assert(acked == N / 2, acked)
end

test("replies sent from the receive callback: batched, ordered, each callback once (recvmsg)", function(expect)
  echo_batch(expect, 1)
end)

test("the same with recvmmsg", function(expect)
  echo_batch(expect, 16)
end)

-- os.exit(0, true) from a send callback closes the state while the rest
-- of that batch of completions waits to be called back; the datagrams
-- the core copied (sends without a callback) must still be freed, which
-- the sanitizer build's leak check proves.
test("exit and state close from a send callback with copied sends behind it", function()
  local out, err, code = T.loom_exiting([[
    local uv = require "loom"
    local server, client = uv.new_udp(), uv.new_udp()
    assert(server:bind("127.0.0.1", 0) == 0 and client:bind("127.0.0.1", 0) == 0)
    server:recv_start(function(err, data, addr)
      server:send(data, addr.ip, addr.port, function()
        print("first")
        os.exit(0, true)
      end)
      for i = 1, 20 do server:send(data .. i, addr.ip, addr.port) end
    end)
    client:send("x", "127.0.0.1", server:getsockname().port)
    uv.run()
  ]])
  assert(code == 0, "exit status " .. tostring(code) .. ": " .. err)
  assert(out == "first\n", out)
end)

test("options and errors", function(expect)
  local u = uv.new_udp("inet")
  assert(u:bind("127.0.0.1", 0, {reuseaddr = true}) == 0)
  assert(u:set_broadcast(true) == 0)
  assert(u:set_ttl(10) == 0)
  assert(u:set_multicast_ttl(2) == 0)
  assert(u:set_multicast_loop(true) == 0)
  assert(u:set_multicast_interface("127.0.0.1") == 0)
  local n, msg, name = u:set_multicast_interface("::1")
  assert(n == nil and name == "EINVAL", msg)
  n, msg, name = u:set_ttl(0)
  assert(n == nil and name == "EINVAL", msg)
  n, msg, name = u:set_membership("not an address", nil, "join")
  assert(n == nil and name == "EINVAL", msg)
  local ok, err = pcall(u.set_membership, u, "239.1.1.1", nil, "dance")
  assert(not ok and err:match("invalid option"), err)
  ok, err = pcall(uv.new_udp, {mmsgs = 0})
  assert(not ok and err:match("mmsgs"), err)
  ok, err = pcall(uv.new_udp, {recv_size = 1e6})
  assert(not ok and err:match("recv_size"), err)
  ok, err = pcall(u.send, u, true, "127.0.0.1", 1)
  assert(not ok and err:match("string or table"), err)
  ok, err = pcall(u.recv_start, u, 42)
  assert(not ok and err:match("callable expected"), err)
  ok, err = pcall(uv.udp_bind, uv.new_timer(), "127.0.0.1", 0)
  assert(not ok and err:match("uv_udp expected"), err)
  local v6 = uv.new_udp({family = "inet6"})
  assert(v6:bind("::1", 0, {ipv6only = true, reuseport = true}) == 0)
  assert(v6:getsockname().family == "inet6")
  assert(u:fileno() >= 0 and u:recv_buffer_size() > 0)
  u:close(); v6:close()
  uv.walk(function(h) if h:get_type() == "timer" then h:close() end end)
end)

test("recv_stop inside the callback loses nothing of a recvmmsg batch: the rest comes at the next recv_start", function(expect, uv)
  local r = uv.new_udp({family = "inet", mmsgs = 32})
  assert(r:bind("127.0.0.1", 0))
  local port = r:getsockname().port
  local s = uv.new_udp()
  for i = 1, 32 do assert(s:try_send("d" .. i, "127.0.0.1", port)) end
  local got = {}
  local done = expect(function()
    for i = 1, 32 do assert(got[i] == "d" .. i, tostring(got[i])) end
  end)
  local function on(err, data)
    assert(not err, err)
    if not data then return end
    got[#got + 1] = data
    if #got == 32 then
      r:close(); s:close()
      done()
    elseif #got % 5 == 0 then
      -- Stop in the middle of the batch, start again a little later.
      r:recv_stop()
      local t = uv.new_timer()
      t:start(5, 0, function() t:close(); r:recv_start(on) end)
    end
  end
  r:recv_start(on)
end)

test("a handle closed with held datagrams frees them", function(_, uv)
  local r = uv.new_udp({family = "inet", mmsgs = 8})
  assert(r:bind("127.0.0.1", 0))
  local s = uv.new_udp()
  for i = 1, 8 do assert(s:try_send("x" .. i, "127.0.0.1", r:getsockname().port)) end
  r:recv_start(function(_, data)
    if data then r:recv_stop() end
  end)
  local t = uv.new_timer()
  t:start(20, 0, function() t:close(); r:close(); s:close() end)
end)

T.run()
