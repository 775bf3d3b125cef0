-- test-sendfile.lua: stream:sendfile(fd, offset, length, [cb]) (beyond
-- luv): file bytes sent after a stream's queued writes with sendfile(2),
-- in order with writes, over TCP and Unix sockets.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

-- A file of n numbered lines (8 bytes each), its path and its contents.
local function make_file(n)
  local lines = {}
  for i = 1, n do lines[i] = ("%07d\n"):format(i) end
  local data = table.concat(lines)
  local path = T.tmpdir() .. "/data"
  T.write_file(path, data)
  return path, data
end

-- A TCP connection to 127.0.0.1: serve(conn) gets the server's side of
-- it; the client's side reads everything into got, which done(got_text)
-- gets once the server closes. read = false: a client that only
-- connects (and closes at once).
local function tcp_pair(expect, serve, done, read)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(4, expect(function()
    local conn = uv.new_tcp()
    assert(server:accept(conn))
    server:close()
    serve(conn)
  end)))
  local client = uv.new_tcp()
  local got = {}
  client:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    if read == false then return client:close() end
    client:read_start(function(_, chunk)
      if chunk then got[#got + 1] = chunk return end
      client:close()
      if done then done(table.concat(got)) end
    end)
  end))
end

test("a file range goes out between the writes around it, in order", function(expect)
  local path, data = make_file(200000) -- 1.6 MB: several sendfile calls
  local fd = assert(uv.fs_open(path, "r", 0))
  local queued, all
  tcp_pair(expect, function(conn)
    assert(conn:write("<head>"))
    local req = assert(conn:sendfile(fd, 8, #data - 16, expect(function(err)
      assert(err == nil, err)
      assert(conn:get_write_queue_size() == #"<tail>" or conn:get_write_queue_size() == 0)
    end)))
    assert(uv.req_get_type(req) == "write")
    assert(conn:write("<tail>"))
    queued = conn:get_write_queue_size()
    conn:shutdown(expect(function() conn:close() end))
  end, function(text) all = text end)
  uv.run()
  uv.fs_close(fd)
  -- The socket buffer cannot hold 1.6 MB: most of it waited in the queue.
  assert(queued > 100000, queued)
  assert(all == "<head>" .. data:sub(9, #data - 8) .. "<tail>", #all)
end)

test("a file shorter than the length ends the write with EOF after what it had", function(expect)
  local path, data = make_file(100)
  local fd = assert(uv.fs_open(path, "r", 0))
  local got
  tcp_pair(expect, function(conn)
    assert(conn:sendfile(fd, 0, #data + 50, expect(function(err)
      assert(err == "EOF", tostring(err))
      assert(conn:get_write_queue_size() == 0)
      conn:close()
    end)))
  end, function(text) got = text end)
  uv.run()
  uv.fs_close(fd)
  assert(got == data)
end)

test("zero bytes, over a Unix socket; closing the stream cancels a queued file", function(expect)
  local path, data = make_file(400000) -- 3.2 MB: more than the socket takes
  local fd = assert(uv.fs_open(path, "r", 0))
  local sock = T.tmpdir() .. "/s"
  local server = uv.new_pipe()
  assert(server:bind(sock))
  assert(server:listen(4, expect(function()
    local conn = uv.new_pipe()
    assert(server:accept(conn))
    server:close()
    assert(conn:sendfile(fd, 0, 0, expect(function(err) assert(err == nil, err) end)))
    assert(conn:sendfile(fd, 0, #data, expect(function(err)
      assert(err == "ECANCELED", tostring(err))
    end)))
    -- The client reads nothing: the file waits in the queue, then the
    -- close cancels it.
    local t = uv.new_timer()
    t:start(50, 0, expect(function()
      t:close()
      assert(conn:get_write_queue_size() > 0)
      conn:close()
    end))
  end)))
  local client = uv.new_pipe()
  client:connect(sock, expect(function(err)
    assert(not err, err)
    local t = uv.new_timer()
    t:start(100, 0, expect(function()
      t:close()
      client:close()
    end))
  end))
  uv.run()
  uv.fs_close(fd)
end)

test("what cannot be sent is refused at once; bad arguments raise", function(expect)
  local path = make_file(10)
  local fd = assert(uv.fs_open(path, "r", 0))
  local tcp = uv.new_tcp()
  -- Not connected yet.
  local r, err, name = tcp:sendfile(fd, 0, 10)
  assert(r == nil and name and err:match("^" .. name .. ": "), tostring(err))
  tcp_pair(expect, function(conn)
    -- A pipe is no file for sendfile(2).
    local fds = assert(uv.pipe())
    local r2, err2, name2 = conn:sendfile(fds.read, 0, 10)
    assert(r2 == nil and name2 == "EINVAL", tostring(err2))
    -- A closed descriptor.
    local r3, _, name3 = conn:sendfile(fds.read + 1000, 0, 10)
    assert(r3 == nil and name3 == "EBADF", tostring(name3))
    uv.fs_close(fds.read)
    uv.fs_close(fds.write)
    T.raises("bad argument #3 to '.-' %(offset must not be negative", conn.sendfile, conn, fd, -1, 10)
    T.raises("bad argument #4 to '.-' %(length must not be negative", conn.sendfile, conn, fd, 0, -1)
    T.raises("bad argument #2 to '.-' %(file descriptor out of range", conn.sendfile, conn, -3, 0, 1)
    T.raises("bad argument #2 to '.-' %(number expected", conn.sendfile, conn, "x", 0, 1)
    T.raises("bad argument #1 to '.-' %(uv_handle expected", uv.stream_sendfile, {}, fd, 0, 1)
    conn:close()
  end, nil, false)
  uv.run()
  tcp:close()
  uv.fs_close(fd)
end)

T.run()
