-- test-tcp.lua: luv's tcp and stream sections against real sockets on
-- 127.0.0.1 and ::1.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

-- An echo server on host; calls on_ready(server, port). Every accepted
-- connection is echoed and closed at EOF.
local function echo_server(host, on_ready)
  local server = uv.new_tcp()
  assert(server:bind(host, 0))
  assert(server:listen(1024, function(err)
    assert(not err, err)
    local client = uv.new_tcp()
    assert(server:accept(client) == 0)
    client:read_start(function(rerr, data)
      assert(not rerr, rerr)
      if data then client:write(data) else client:close() end
    end)
  end))
  on_ready(server, server:getsockname().port)
end

-- A server for one connection on 127.0.0.1: collects what it reads and
-- calls on_eof(s, got, server) at the end of the stream. before_accept,
-- if given, runs when the connection is waiting to be accepted.
local function collecting_server(expect, on_eof, before_accept)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  server:listen(1, expect(function()
    if before_accept then before_accept(server) end
    local s = uv.new_tcp()
    server:accept(s)
    local got = ""
    s:read_start(function(err, data)
      assert(not err, err)
      if data then got = got .. data return end
      on_eof(s, got, server)
    end)
  end))
  return server
end

local function echo_roundtrip(expect, host, family)
  echo_server(host, function(server, port)
    local c = uv.new_tcp()
    local got = {}
    local req = c:connect(host, port, expect(function(err)
      assert(not err, err)
      local peer, sock = c:getpeername(), c:getsockname()
      assert(peer.ip == host and peer.port == port and peer.family == family)
      assert(sock.ip == host and sock.port > 0 and sock.family == family)
      assert(c:is_readable() and c:is_writable())
      local w = c:write({"hello", ", ", "world"}, expect(function(werr)
        assert(werr == nil, werr)
      end))
      assert(tostring(w):match("^uv_write_t: "), tostring(w))
      assert(w:get_type() == "write")
      c:read_start(function(rerr, data)
        assert(not rerr, rerr)
        got[#got + 1] = data
        if table.concat(got) == "hello, world" then
          c:close()
          server:close()
        end
      end)
    end))
    assert(tostring(req):match("^uv_connect_t: "))
    assert(uv.req_get_type(req) == "connect")
  end)
end

test("a queued write of a table holds its own strings, whatever finalizers do to the caller's", function()
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  local filler, rounds, part, len_calls = 0, 50, 1000, 0
  assert(server:listen(1, function()
    local conn = uv.new_tcp()
    server:accept(conn)
    -- Fill the kernel's buffers so that the writes below queue.
    local big = ("q"):rep(1 << 20)
    while true do
      local n = conn:try_write(big)
      if not n then break end
      filler = filler + n
    end
    -- Every allocation steps the collector; the finalizers swap the
    -- caller's strings for new ones while write makes its request.
    collectgarbage("incremental", 0, 1000)
    for _ = 1, rounds do
      -- A __len that swaps the strings too: write takes the array's raw
      -- length and runs no Lua code while it makes its request.
      local parts = setmetatable({}, {__len = function(t)
        len_calls = len_calls + 1
        for i = 1, 4 do t[i] = ("B"):rep(part - 1) .. i end
        return 4
      end})
      for i = 1, 4 do parts[i] = ("A"):rep(part - 1) .. i end
      for _ = 1, 5 do
        setmetatable({}, {__gc = function()
          for i = 1, 4 do parts[i] = ("B"):rep(part - 1) .. i end
        end})
      end
      assert(conn:write(parts))
    end
    collectgarbage("generational")
    collectgarbage()
    collectgarbage()
    -- Memory a freed string left is reused by these.
    local junk = {}
    for i = 1, 4000 do junk[i] = ("J"):rep(part - 1) .. (i % 10) end
    conn:shutdown(function() conn:close() end)
  end))
  local client = uv.new_tcp()
  local got = {}
  client:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    local t = uv.new_timer()
    t:start(50, 0, function()
      t:close()
      client:read_start(function(rerr, data)
        assert(not rerr, rerr)
        if data then got[#got + 1] = data else client:close() server:close() end
      end)
    end)
  end)
  uv.run()
  local text = table.concat(got)
  assert(len_calls == 0, len_calls .. " calls of __len")
  assert(#text == filler + rounds * 4 * part, #text .. " bytes")
  local tail = text:sub(filler + 1)
  -- Each part is wholly the old string or wholly the new one.
  for k = 0, rounds * 4 - 1 do
    local piece = tail:sub(k * part + 1, (k + 1) * part)
    local i = tostring(k % 4 + 1)
    assert(piece == ("A"):rep(part - 1) .. i or piece == ("B"):rep(part - 1) .. i,
           "part " .. k .. ": " .. piece:sub(1, 20))
  end
end)

test("echo over IPv4", function(expect)
  echo_roundtrip(expect, "127.0.0.1", "inet")
end)

test("echo over IPv6", function(expect)
  echo_roundtrip(expect, "::1", "inet6")
end)

test("1,000 clients at once", function(expect)
  local clients, done = 1000, 0
  echo_server("127.0.0.1", function(server, port)
    for i = 1, clients do
      local c = uv.new_tcp()
      local msg = "client " .. i
      c:connect("127.0.0.1", port, function(err)
        assert(not err, err)
        c:write(msg)
        local buf = ""
        c:read_start(function(rerr, data)
          assert(not rerr, rerr)
          buf = buf .. (data or "")
          if buf == msg then
            c:close()
            done = done + 1
            if done == clients then server:close() end
          end
        end)
      end)
    end
  end)
  uv.run()
  assert(done == clients, done)
end)

-- Sixteen 4 MiB chunks with distinct contents, so any loss, duplication
-- or reordering shows up when the received bytes are compared.
local CHUNK, NCHUNKS = 4 * 1024 * 1024, 16
local chunks = {}
for i = 1, NCHUNKS do
  chunks[i] = string.rep(string.char(64 + i) .. "0123456", CHUNK // 8)
end
local TOTAL = CHUNK * NCHUNKS

test("64 MiB queued at once to a slow reader: intact, write_queue_size exact", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local received, filler
  local start_reading
  server:listen(1, expect(function()
    local s = uv.new_tcp()
    server:accept(s)
    local offset, skipped = 0, 0
    local function on_data(err, data)
      assert(not err, err)
      if not data then
        received = offset
        s:close()
        server:close()
        return
      end
      local pos = 1
      if skipped < filler then -- the bytes try_write put in first
        local n = math.min(#data, filler - skipped)
        assert(data:sub(1, n) == string.rep("f", n))
        skipped, pos = skipped + n, n + 1
      end
      while pos <= #data do
        local ci = offset // CHUNK + 1
        local within = offset % CHUNK
        local n = math.min(#data - pos + 1, CHUNK - within)
        assert(data:sub(pos, pos + n - 1) == chunks[ci]:sub(within + 1, within + n),
               "data corrupted at offset " .. offset)
        pos, offset = pos + n, offset + n
      end
      -- Be slow: every 8 MiB, stop reading for a few milliseconds.
      if offset % (8 * 1024 * 1024) < #data then
        s:read_stop()
        local t = uv.new_timer()
        t:start(5, 0, function() t:close(); s:read_start(on_data) end)
      end
    end
    start_reading = function() s:read_start(on_data) end
  end))
  local c = uv.new_tcp()
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    -- Fill the kernel's buffers while nobody reads, so that the queue
    -- size after the writes is known exactly.
    filler = 0
    local f = string.rep("f", 65536)
    while true do
      local n = c:try_write(f)
      if not n then break end
      filler = filler + n
      if n < #f then break end
    end
    local completed, last = 0, math.huge
    for i = 1, NCHUNKS do
      c:write(chunks[i], function(werr)
        assert(not werr, werr)
        completed = completed + 1
        local q = c:write_queue_size()
        assert(q <= (NCHUNKS - completed) * CHUNK and q <= last, q)
        last = q
        assert(q == c:get_write_queue_size() and q == uv.stream_get_write_queue_size(c))
        if completed == NCHUNKS then
          assert(q == 0, q)
          c:shutdown(function() c:close() end)
        end
      end)
      assert(c:write_queue_size() == i * CHUNK, c:write_queue_size())
    end
    local t = uv.new_timer()
    t:start(10, 0, function()
      t:close()
      assert(c:write_queue_size() == TOTAL) -- nobody read meanwhile
      start_reading()
    end)
  end))
  uv.run()
  assert(received == TOTAL, received)
end)

test("a writer that respects write_queue_size keeps memory bounded", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local got = 0
  server:listen(1, function()
    local s = uv.new_tcp()
    server:accept(s)
    s:read_start(function(err, data)
      assert(not err, err)
      if data then got = got + #data else s:close(); server:close() end
    end)
  end)
  local c = uv.new_tcp()
  collectgarbage()
  local heap0 = collectgarbage("count")
  local peak = 0
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    local sent, n = 0, 0
    local function pump()
      -- Keep at most 1 MiB queued; continue from the write callback.
      while sent < 256 * 1024 * 1024 and c:write_queue_size() < 1024 * 1024 do
        n = n + 1
        local piece = string.rep("x", 65528) .. string.format("%08d", n) -- a new string
        c:write(piece)
        sent = sent + #piece
        if n % 256 == 0 then
          -- What is still referenced: only the queued writes' strings.
          collectgarbage()
          peak = math.max(peak, collectgarbage("count") - heap0)
        end
      end
      if sent >= 256 * 1024 * 1024 then
        c:shutdown(function() c:close() end)
      else
        c:write("", pump)
      end
    end
    pump()
  end))
  uv.run()
  assert(got == 256 * 1024 * 1024, got)
  assert(peak > 0 and peak < 8 * 1024, ("live Lua heap grew by %.0f KiB"):format(peak))
end)

test("10,000 queued writes and a shutdown, then close: each callback once, in order", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local peer
  server:listen(1, function()
    peer = uv.new_tcp()
    server:accept(peer)
    peer:recv_buffer_size(4096) -- and never read
  end)
  local c = uv.new_tcp()
  local calls, ok_count, cancelled, seen_cancel = {}, 0, 0, false
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    c:send_buffer_size(4096)
    local kb = string.rep("k", 1024)
    for i = 1, 10000 do
      c:write(kb, function(werr)
        assert(not calls[i], "callback " .. i .. " called twice")
        calls[i] = true
        if werr == nil then
          assert(not seen_cancel, "a success after a cancellation")
          ok_count = ok_count + 1
        else
          assert(werr == "ECANCELED", werr)
          seen_cancel = true
          cancelled = cancelled + 1
        end
      end)
    end
    -- The shutdown waits behind the writes: it is cancelled last.
    c:shutdown(expect(function(serr)
      assert(serr == "ECANCELED", serr)
      assert(ok_count + cancelled == 10000, "the shutdown before a write")
    end))
    -- Let the kernel take what it will, then close with the rest queued.
    local t = uv.new_timer()
    t:start(20, 0, function()
      t:close()
      assert(c:write_queue_size() > 0)
      c:close(expect(function()
        assert(ok_count + cancelled == 10000, ok_count + cancelled)
        assert(cancelled > 0)
        peer:close()
        server:close()
      end))
    end)
  end))
end)

test("write to a reset peer: an error, never SIGPIPE", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  server:listen(1, function()
    local s = uv.new_tcp()
    server:accept(s)
    local t = uv.new_timer()
    t:start(20, 0, function() t:close(); s:close_reset(); server:close() end)
  end)
  local c = uv.new_tcp()
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    local failed = false
    local function again()
      if failed then return end
      c:write(string.rep("z", 65536), function(werr)
        if werr then
          assert(werr == "EPIPE" or werr == "ECONNRESET", werr)
          if not failed then failed = true; c:close() end
        else
          local t = uv.new_timer()
          t:start(1, 0, function() t:close(); again() end)
        end
      end)
    end
    again()
  end))
end)

test("connect to a closed port: ECONNREFUSED", function(expect)
  local probe = uv.new_tcp()
  assert(probe:bind("127.0.0.1", 0))
  local port = probe:getsockname().port
  probe:close()
  uv.run()
  local c = uv.new_tcp()
  c:connect("127.0.0.1", port, expect(function(err)
    assert(err == "ECONNREFUSED", err)
    c:close()
  end))
end)

test("close while connecting: the callback gets ECANCELED once", function(expect)
  echo_server("127.0.0.1", function(server, port)
    local c = uv.new_tcp()
    c:connect("127.0.0.1", port, expect(function(err)
      assert(err == "ECANCELED", err)
    end))
    c:close(expect(function() server:close() end))
  end)
end)

test("half-close: shutdown, then the peer answers and closes", function(expect)
  local server = collecting_server(expect, function(s, got, srv)
    assert(got == "abc", got)
    assert(not s:is_readable())
    s:write("xyz", function() s:close(); srv:close() end)
  end)
  local c = uv.new_tcp()
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    c:write("abc")
    local sreq = c:shutdown(expect(function(serr)
      assert(serr == nil, serr)
      assert(not c:is_writable())
      local ok, msg, name = c:write("more")
      assert(ok == nil and name == "EPIPE", msg)
    end))
    assert(uv.req_get_type(sreq) == "shutdown")
    local answer = ""
    c:read_start(function(rerr, data)
      assert(not rerr, rerr)
      if data then answer = answer .. data return end
      assert(answer == "xyz", answer)
      c:close()
    end)
  end))
end)

test("accept under EMFILE: the listener neither spins nor dies", function()
  -- A child with 40 descriptors: its own clients exhaust them, the server
  -- reports EMFILE, drops what it cannot take, and accepts again once
  -- descriptors are free.
  local script = [[
    local uv = require "loom"
    local server = uv.new_tcp()
    assert(server:bind("127.0.0.1", 0))
    local port = server:getsockname().port
    local emfile, accepted = 0, 0
    local phase = 1
    server:listen(128, function(err)
      if err then assert(err == "EMFILE", err); emfile = emfile + 1 return end
      local s = uv.new_tcp()
      assert(server:accept(s) == 0)
      accepted = accepted + 1
      if phase == 2 then print("accepted after EMFILE"); s:close(); server:close() end
    end)
    local clients = {}
    for i = 1, 60 do
      local c = uv.new_tcp()
      clients[#clients + 1] = c
      c:connect("127.0.0.1", port, function() end)
    end
    local t = uv.new_timer()
    local loops0
    t:start(200, 0, function()
      loops0 = uv.metrics_info().loop_count
      t:start(200, 0, function()
        local spins = uv.metrics_info().loop_count - loops0
        print("emfile", emfile > 0, "spins", spins)
        for _, c in ipairs(clients) do c:close() end
        uv.walk(function(h) if h:get_type() == "tcp" and h ~= server and not h:is_closing() then h:close() end end)
        phase = 2
        t:start(50, 0, function()
          t:close()
          local c = uv.new_tcp()
          c:connect("127.0.0.1", port, function(err) assert(not err, err); c:close() end)
        end)
      end)
    end)
  ]]
  local out = T.sh("ulimit -n 40; " .. T.q(T.runner) .. " -e " .. T.q(script) .. " 2>&1")
  local spins = tonumber(out:match("spins%s+(%d+)"))
  assert(out:match("emfile%s+true"), out)
  assert(spins and spins < 50, out)
  assert(out:match("accepted after EMFILE"), out)
end)

test("try_write writes at once or says EAGAIN", function(expect)
  echo_server("127.0.0.1", function(server, port)
    local c = uv.new_tcp()
    c:connect("127.0.0.1", port, expect(function(err)
      assert(not err, err)
      assert(c:try_write("ab") == 2)
      assert(uv.try_write(c, {"c", "d"}) == 2)
      c:write(string.rep("q", 32 * 1024 * 1024))
      local n, msg, name = c:try_write("late")
      assert(n == nil and name == "EAGAIN", msg)
      c:close(function() server:close() end)
    end))
  end)
end)

test("close_reset: the peer sees ECONNRESET", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  server:listen(1, function()
    local s = uv.new_tcp()
    server:accept(s)
    s:read_start(expect(function(err, data)
      assert(err == "ECONNRESET" and data == nil, tostring(err))
      s:close()
      server:close()
    end))
  end)
  local c = uv.new_tcp()
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    local t = uv.new_timer()
    t:start(10, 0, function() t:close(); assert(c:close_reset(expect(function() end)) == nil) end)
  end))
end)

test("the strings of a pending write survive a full GC", function(expect)
  echo_server("127.0.0.1", function(server, port)
    local c = uv.new_tcp()
    c:connect("127.0.0.1", port, expect(function(err)
      assert(not err, err)
      local parts = {}
      for i = 1, 64 do parts[i] = string.rep(string.char(64 + i % 26), 100000) .. i end
      local expected = table.concat(parts)
      c:send_buffer_size(4096)
      c:write(parts)
      for i = 1, #parts do parts[i] = nil end -- the caller lets go
      collectgarbage(); collectgarbage()
      local got = {}
      c:read_start(function(rerr, data)
        assert(not rerr, rerr)
        got[#got + 1] = data
        collectgarbage("step")
        if #table.concat(got) == #expected then
          assert(table.concat(got) == expected)
          c:close(); server:close()
        end
      end)
    end))
  end)
end)

-- Callback-less writes go straight to the kernel when nothing is queued;
-- what it does not take at once is queued with the strings anchored. The
-- order must hold across both paths, through a full GC.
test("callback-less writes: partly at once, partly queued, in order", function(expect)
  echo_server("127.0.0.1", function(server, port)
    local c = uv.new_tcp()
    c:connect("127.0.0.1", port, expect(function(err)
      assert(not err, err)
      c:send_buffer_size(4096)
      local sent = {}
      for i = 1, 6 do
        local piece = {string.rep(string.char(96 + i), 300000), tostring(i)}
        sent[#sent + 1] = table.concat(piece)
        local req = c:write(piece)
        assert(req and req:get_type() == "write")
        if i == 1 then assert(c:get_write_queue_size() > 0, "expected a partial write") end
      end
      local expected = table.concat(sent)
      sent = nil
      collectgarbage(); collectgarbage()
      local got = {}
      c:read_start(function(rerr, data)
        assert(not rerr, rerr)
        got[#got + 1] = data
        collectgarbage("step")
        local all = table.concat(got)
        if #all == #expected then
          assert(all == expected)
          c:close(); server:close()
        end
      end)
    end))
  end)
end)

test("shutdown is the last write: after the writes before it, in order", function(expect)
  local server = collecting_server(expect, function(s, got, srv)
    assert(got == "ab", got)
    s:close(); srv:close()
  end, function(srv)
    -- A connection not accepted yet waits in the listener's slot: the
    -- listener still has no write queue.
    assert(srv:write_queue_size() == 0)
  end)
  local c = uv.new_tcp()
  local order = {}
  -- All queued while connecting: they go, in order, once connected.
  c:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    order[#order + 1] = "connect"
  end))
  c:write("a", function(err) assert(not err, err); order[#order + 1] = "a" end)
  c:write("", function(err) assert(not err, err); order[#order + 1] = "empty" end)
  c:write("b", function(err) assert(not err, err); order[#order + 1] = "b" end)
  c:shutdown(expect(function(err)
    assert(not err, err)
    order[#order + 1] = "shutdown"
    assert(table.concat(order, " ") == "connect a empty b shutdown",
           table.concat(order, " "))
    c:close()
  end))
  local ok, msg, name = c:write("late")
  assert(ok == nil and name == "EPIPE", msg)
  local okl, msgl, namel = c:listen(1, function() end)
  assert(okl == nil and namel == "EINVAL", msgl) -- a connecting stream
end)

test("writes finished at once, then close in the same pass: each callback once", function(expect)
  -- Each client's write completes inside write() and waits for the
  -- pending phase; the close that follows must take it off that list
  -- before the handle's memory can be reused (a full GC runs between).
  echo_server("127.0.0.1", function(server, port)
    local n, closed = 200, 0
    for _ = 1, n do
      local c = uv.new_tcp()
      c:connect("127.0.0.1", port, function(err)
        assert(not err, err)
        local wrote = 0
        c:write("ping", function(werr)
          assert(werr == nil, werr)
          wrote = wrote + 1
        end)
        c:shutdown(function(serr) assert(serr == "ECANCELED", serr) end)
        c:close(function()
          assert(wrote == 1, wrote)
          closed = closed + 1
          collectgarbage()
          if closed == n then server:close() end
        end)
      end)
    end
    collectgarbage()
  end)
  uv.run()
end)

test("bind's EADDRINUSE: listen says so, connect reports it once", function(expect)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(1, function() end))
  local port = server:getsockname().port
  local busy = uv.new_tcp()
  assert(busy:bind("127.0.0.1", port) == 0)
  local n, msg, name = busy:getsockname()
  assert(n == nil and name == "EADDRINUSE", msg)
  busy:connect("127.0.0.1", port, expect(function(err)
    assert(err == "EADDRINUSE", err)
    busy:close(); server:close()
  end))
  n, msg, name = busy:getpeername()
  assert(n == nil and name == "EADDRINUSE", msg)
  assert(server:write_queue_size() == 0)
end)

test("options, names and errors", function(expect)
  local t = uv.new_tcp()
  assert(t:nodelay(true) == nil or true) -- no socket yet: an error or 0
  local v6 = uv.new_tcp("inet6")
  assert(v6:bind("::1", 0, {ipv6only = true}) == 0)
  assert(v6:nodelay(true) == 0 and v6:keepalive(true, 10) == 0 and v6:keepalive(false) == 0)
  assert(v6:simultaneous_accepts(true) == 0)
  assert(v6:send_buffer_size() > 0 and v6:recv_buffer_size() > 0)
  assert(v6:send_buffer_size(65536) == 0)
  assert(type(v6:fileno()) == "number")
  assert(v6:listen(1, function() end) == 0)
  local busy = uv.new_tcp()
  assert(busy:bind("::1", v6:getsockname().port) == 0) -- reported by listen
  local ok, msg, name = busy:listen(1, function() end)
  assert(ok == nil and name == "EADDRINUSE", msg)
  ok, msg = pcall(t.bind, t, "not an address", 1)
  assert(not ok and msg:match("invalid IP address"), msg)
  ok, msg = pcall(t.bind, t, "127.0.0.1", 70000)
  assert(not ok and msg:match("port out of range"), msg)
  ok, msg = pcall(uv.tcp_connect, t, "127.0.0.1", 1)
  assert(not ok and msg:match("callable expected"), msg)
  ok, msg = pcall(uv.new_tcp, "martian")
  assert(not ok and msg:match("invalid option"), msg)
  ok, msg = pcall(uv.write, t, true)
  assert(not ok and msg:match("string or table of strings expected"), msg)
  ok, msg = pcall(uv.write, t, {"a", false})
  assert(not ok and msg:match("item 2 is not a string"), msg)
  ok, msg = pcall(uv.tcp_bind, uv.new_udp(), "127.0.0.1", 0)
  assert(not ok and msg:match("uv_tcp expected"), msg)
  ok, msg = pcall(uv.read_start, uv.new_timer(), print)
  assert(not ok and msg:match("uv_stream expected"), msg)
  local n, err, ename = t:read_start(print)
  assert(n == nil and ename == "ENOTCONN", err)
  n, err, ename = t:getpeername()
  assert(n == nil and ename, err)
  local pair = uv.socketpair()
  assert(type(pair[1]) == "number" and type(pair[2]) == "number")
  local a, b = uv.new_pipe(), uv.new_pipe()
  assert(a:open(pair[1]) == 0 and b:open(pair[2]) == 0)
  a:write("over the pair")
  b:read_start(expect(function(rerr, data)
    assert(not rerr and data == "over the pair")
    a:close(); b:close()
  end))
  t:close(); v6:close(); busy:close()
  uv.walk(function(h)
    if h:get_type() == "udp" or h:get_type() == "timer" then h:close() end
  end)
  collectgarbage()
end)

test("tcp_bind reuseport: two processes listen on one port and share its connections", function(expect, uv)
  assert(uv.constants.TCP_REUSEPORT == 2)
  local a = uv.new_tcp()
  assert(a:bind("127.0.0.1", 0, {reuseport = true}))
  assert(a:listen(64, function() end))
  local port = a:getsockname().port
  -- Without the flag, the port is taken.
  local c = uv.new_tcp()
  c:bind("127.0.0.1", port)
  local ok, err, name = c:listen(64, function() end)
  assert(ok == nil and name == "EADDRINUSE", err)
  c:close()
  a:close()
  uv.run()
  -- Two child processes bind it with the flag and each accepts some of
  -- the connections the kernel spreads over them.
  local code = ([[
    local uv = require "loom"
    local s = uv.new_tcp()
    assert(s:bind("127.0.0.1", %d, {reuseport = true}))
    local n = 0
    assert(s:listen(128, function()
      local c = uv.new_tcp(); s:accept(c); n = n + 1; c:close()
    end))
    io.stdout:write("ready\n"); io.stdout:flush()
    local t = uv.new_timer()
    t:start(1500, 0, function() print(n); s:close(); t:close() end)
  ]]):format(port)
  local script = T.script_file(code)
  local outs = {}
  local procs = {}
  local ready = 0
  local connected = false
  local function connect_all()
    if connected then return end
    connected = true
    for _ = 1, 64 do
      local cl = uv.new_tcp()
      cl:connect("127.0.0.1", port, function() cl:close() end)
    end
  end
  for i = 1, 2 do
    local out = uv.new_pipe(false)
    outs[i] = {}
    procs[i] = uv.spawn(T.runner, {args = {script}, stdio = {nil, out, 2}}, function(status)
      assert(status == 0)
      procs[i]:close()
    end)
    out:read_start(function(_, d)
      if not d then out:close(); return end
      outs[i][#outs[i] + 1] = d
      if d:find("ready") then
        ready = ready + 1
        if ready == 2 then connect_all() end
      end
    end)
  end
  uv.run()
  local total, both = 0, true
  for i = 1, 2 do
    local n = tonumber(table.concat(outs[i]):match("(%d+)%s*$"))
    total = total + n
    if n == 0 then both = false end
  end
  assert(total == 64, "accepted " .. total)
  assert(both, "one process got every connection")
end)

T.run()
