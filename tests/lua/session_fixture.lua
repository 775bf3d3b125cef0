-- session_fixture.lua: the session the failure sweeps run in child
-- processes (test-memory.lua under memory limits, test-failalloc.lua
-- under failing allocations): timers, TCP echo, UDP, unix sockets with a
-- write, shutdown and connect, fs requests of every shape (sync results
-- the core allocated, async strings, arrays and directories), work,
-- getaddrinfo and getnameinfo, an async handle, an idle handle and a
-- process. Every start is checked, so a refused one is an error, never a
-- silent loss; some operations end in a close callback, which must come.
--
-- A child loads it before its limit or failures begin and calls it with
-- the loop and a scratch directory; it runs the loop and returns how many
-- operations never finished.
return function(uv, tmp)
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
    assert(t:start(1, 0, function() t:close(finish) end))

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
        if got >= 10 * 100 then client:close(finish) end
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
    assert(uv.fs_scandir("/", function(err, req)
      assert(not err, err) finish()
    end))

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
          assert(not serr, serr) conn:close(finish)
        end))
      end))
    end))

    -- An async handle woken from the loop, a check and an idle.
    local async
    async = assert(uv.new_async(function() async:close(finish) end))
    start()
    assert(async:send())
    local idle = assert(uv.new_idle())
    assert(idle:start(function() idle:close() end))

    local out = assert(uv.new_pipe())
    start()
    assert(uv.spawn("true", {stdio = {nil, out, nil}}, function(code)
      assert(code == 0) finish()
    end))
    assert(out:read_start(function(err, data)
      if not data then out:close() end
    end))
  end))
  uv.run()
  return pending
end
