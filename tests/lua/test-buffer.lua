-- test-buffer.lua: loom_buffer (beyond luv): its methods against
-- string.sub and string.byte, fs_read into and fs_write from a buffer in
-- both forms, the rules that keep Lua code from racing a worker, the
-- request's anchor on the buffer, cancellation, and wrong arguments.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function pack(...) return {n = select("#", ...), ...} end

local tmpdir, write_file, read_file = T.tmpdir, T.write_file, T.read_file

test("new_buffer: zeroed bytes, length and tostring", function()
  local b = uv.new_buffer(8)
  assert(#b == 8)
  assert(b:sub() == string.rep("\0", 8))
  assert(tostring(b):match("^loom_buffer: 0x%x+ %(8 bytes%)$"), tostring(b))
  local empty = uv.new_buffer(0)
  assert(#empty == 0 and empty:sub() == "" and empty:byte() == nil)
  local big = uv.new_buffer(1 << 20)
  assert(#big == 1 << 20 and big:byte(-1) == 0)
end)

test("sub and byte index as string.sub and string.byte", function()
  local s = "abcdefghij"
  local b = uv.new_buffer(#s)
  assert(b:set(1, s) == #s + 1)
  for i = -13, 13 do
    assert(b:sub(i) == s:sub(i), "sub " .. i)
    assert(b:byte(i) == s:byte(i), "byte " .. i)
    for j = -13, 13 do
      assert(b:sub(i, j) == s:sub(i, j), ("sub %d %d"):format(i, j))
      local got, want = pack(b:byte(i, j)), pack(s:byte(i, j))
      assert(got.n == want.n, ("byte %d %d: %d values"):format(i, j, got.n))
      for k = 1, want.n do assert(got[k] == want[k]) end
    end
  end
  assert(b:byte() == s:byte())
  assert(b:sub(math.mininteger, math.maxinteger) == s)
end)

test("set and fill change bytes in place", function()
  local b = uv.new_buffer(10)
  assert(b:set(3, "xyz") == 6)
  assert(b:set(-2, "\255\0") == 11, "negative positions count from the end")
  assert(b:set(11, "") == 11, "an empty string fits after the end")
  assert(b:sub() == "\0\0xyz\0\0\0\255\0")
  assert(b:fill(65, 2, 4) == b, "fill returns the buffer")
  assert(b:sub() == "\0AAAz\0\0\0\255\0")
  b:fill(0)
  assert(b:sub() == string.rep("\0", 10))
  b:fill(66, -3)
  assert(b:sub(8) == "BBB" and b:byte(7) == 0)
  b:fill(67, 5, 4)
  assert(not b:sub():find("C"), "an empty range changes nothing")
end)

test("slice shares bytes with its buffer, indices as string.sub", function()
  local b = uv.new_buffer(10)
  b:set(1, "0123456789")
  local s = b:slice(3, 6)
  assert(#s == 4 and s:sub() == "2345")
  assert(s:set(1, "ab") == 3)
  assert(b:sub() == "01ab456789", "a write through the slice shows in b")
  b:set(6, "X")
  assert(s:sub() == "ab4X")
  assert(b:slice(-3):sub() == "789" and #b:slice() == 10)
  assert(#b:slice(8, 3) == 0 and b:slice(8, 3):sub() == "")
  assert(#b:slice(20) == 0 and b:slice(-20, 2):sub() == "01")
  local ss = s:slice(2)
  assert(ss:sub() == "b4X")
  T.raises("does not fit", ss.set, ss, 1, "1234")
  ss:fill(46)
  assert(b:sub() == "01a...6789")
  -- A slice keeps the bytes alive after the buffer and the slice it was
  -- cut from are gone.
  local weak = setmetatable({b, s}, {__mode = "v"})
  b, s = nil, nil
  collectgarbage()
  collectgarbage()
  assert(weak[2] == nil, "the intermediate slice is not kept")
  assert(weak[1] ~= nil, "the owner is")
  assert(ss:sub() == "...")
end)

test("wrong arguments raise, naming the argument", function()
  local b = uv.new_buffer(4)
  T.raises("bad argument #1 to '[%w.]*new_buffer' %(number expected, got string%)", uv.new_buffer, "x")
  T.raises("bad argument #1 to '[%w.]*new_buffer' %(size out of range%)", uv.new_buffer, -1)
  T.raises("number has no integer representation", uv.new_buffer, 1.5)
  T.raises("position out of range", b.set, b, 0, "x")
  T.raises("position out of range", b.set, b, 6, "")
  T.raises("position out of range", b.set, b, -6, "")
  T.raises("does not fit in the buffer", b.set, b, 4, "xy")
  T.raises("string expected, got table", b.set, b, 1, {})
  T.raises("byte out of range", b.fill, b, 256)
  T.raises("byte out of range", b.fill, b, -1)
  T.raises("number expected, got string", b.sub, b, "x")
  T.raises("loom_buffer expected, got table", b.sub, {})
  T.raises("loom_buffer expected, got FILE%*", b.byte, io.stdout)
  local dir = tmpdir()
  write_file(dir .. "/f", "data")
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  T.raises("bad argument #2 to '[%w.]*fs_read' %(integer or loom_buffer expected, got table%)",
           uv.fs_read, fd, {})
  T.raises("bad argument #2 to '[%w.]*fs_read' %(integer or loom_buffer expected, got no value%)",
           uv.fs_read, fd)
  T.raises("bad argument #3 to '[%w.]*fs_read'", uv.fs_read, fd, b, "x")
  T.raises("bad argument #2 to '[%w.]*fs_write'", uv.fs_write, fd, io.stdout)
  assert(uv.fs_close(fd))
end)

test("fs_read into a buffer: sync and async, positional and current offset", function(expect)
  local dir = tmpdir()
  local data = ("0123456789"):rep(5) -- 50 bytes
  write_file(dir .. "/f", data)
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  local b = uv.new_buffer(16)
  assert(uv.fs_read(fd, b, 0) == 16 and b:sub() == data:sub(1, 16))
  assert(uv.fs_read(fd, b) == 16, "the current position") -- from 0
  assert(b:sub() == data:sub(1, 16))
  assert(uv.fs_read(fd, b) == 16 and b:sub() == data:sub(17, 32))
  -- A short read at the end leaves the rest of the buffer as it was.
  b:fill(42)
  assert(uv.fs_read(fd, b, 45) == 5)
  assert(b:sub(1, 5) == data:sub(46) and b:sub(6) == ("*"):rep(11))
  assert(uv.fs_read(fd, b, 50) == 0)
  local req = uv.fs_read(fd, b, 20, expect(function(err, n)
    assert(err == nil and n == 16, tostring(err))
    assert(b:sub() == data:sub(21, 36))
    uv.fs_read(fd, b, 48, expect(function(err2, n2)
      assert(err2 == nil and n2 == 2 and b:sub(1, 2) == "89")
      uv.fs_read(fd, b, expect(function(err3, n3)
        -- The current position: after the sync reads above, 32.
        assert(err3 == nil and n3 == 16 and b:sub() == data:sub(33, 48), err3)
        uv.fs_close(fd)
      end))
    end))
  end))
  assert(tostring(req):match("^uv_fs_t: "))
  -- Errors come as for strings.
  local other = uv.new_buffer(4)
  local nope, msg, code = uv.fs_read(987654, other, 0)
  assert(nope == nil and code == "EBADF" and msg:match("^EBADF: "), msg)
  uv.fs_read(987654, other, 0, expect(function(err, n)
    assert(err:match("^EBADF: ") and n == nil, err)
  end))
end)

test("fs_write from a buffer: every byte, sync and async", function(expect)
  local dir = tmpdir()
  local path = dir .. "/out"
  local fd = assert(uv.fs_open(path, "w+", 420))
  local b = uv.new_buffer(6)
  b:set(1, "abcdef")
  assert(uv.fs_write(fd, b) == 6, "the current position")
  assert(uv.fs_write(fd, b, 6) == 6)
  uv.fs_write(fd, b, 12, expect(function(err, n)
    assert(err == nil and n == 6, err)
    assert(read_file(path) == ("abcdef"):rep(3))
    assert(uv.fs_write(fd, uv.new_buffer(0), 0) == 0)
    uv.fs_close(fd)
  end))
end)

test("a buffer being filled or sent refuses what would race the worker", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", ("x"):rep(64))
  local fd = assert(uv.fs_open(dir .. "/f", "r+"))
  local b = uv.new_buffer(8)
  uv.fs_read(fd, b, 0, expect(function(err, n)
    assert(err == nil and n == 8)
    assert(b:sub() == ("x"):rep(8), "usable again in the callback")
    -- Sending: reads and more sends are fine; changing it is not.
    b:set(1, "abcdefgh")
    local sends = 2
    local sent = expect(function(werr)
      assert(werr == nil)
      sends = sends - 1
      if sends == 0 then
        b:set(1, "z")
        uv.fs_close(fd)
      else
        T.raises("being sent", b.set, b, 1, "z")
      end
    end, 2)
    uv.fs_write(fd, b, 0, sent)
    assert(b:sub() == "abcdefgh" and b:byte(1) == 97)
    uv.fs_write(fd, b, 8, sent)
    assert(uv.fs_write(fd, b, 16) == 8, "a sync write from it too")
    T.raises("being sent by a pending fs_write", b.set, b, 1, "x")
    T.raises("being sent by a pending fs_write", b.fill, b, 0)
    T.raises("bad argument #2 to '[%w.]*fs_read' %(buffer is being sent", uv.fs_read, fd, b, 0)
    T.raises("being sent", uv.fs_read, fd, b, 0, function() end)
  end))
  -- Filling: nothing may touch it until the callback, not even a sync
  -- call, whether the read went to the pool or was done at once.
  assert(#b == 8, "its length is always known")
  T.raises("buffer is being filled by a pending fs_read", b.sub, b)
  T.raises("being filled", b.byte, b, 1)
  T.raises("being filled", b.set, b, 1, "x")
  T.raises("being filled", b.fill, b, 0)
  T.raises("bad argument #2 to '[%w.]*fs_read' %(buffer is being filled", uv.fs_read, fd, b, 0)
  T.raises("being filled", uv.fs_read, fd, b, 0, function() end)
  T.raises("bad argument #2 to '[%w.]*fs_write' %(buffer is being filled", uv.fs_write, fd, b, 0)
  T.raises("being filled", uv.fs_write, fd, b, 0, function() end)
  -- Slices share the counts of the buffer they were cut from.
  local s = b:slice(5)
  T.raises("being filled", s.sub, s)
  T.raises("being filled", uv.fs_write, fd, s, 0)
end)

test("a failed or cancelled request releases the buffer", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", ("y"):rep(32))
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  local b = uv.new_buffer(8)
  -- A read that fails at once (a directory cannot be read) counts too.
  local dfd = assert(uv.fs_open(dir, "r"))
  uv.fs_read(dfd, b, 0, expect(function(err)
    assert(err:match("^EISDIR"), err)
    b:set(1, "ok")
    uv.fs_close(dfd)
  end))
  local release = T.block_pool(expect, dir)
  local b2 = uv.new_buffer(8)
  -- The current-position form always goes to the pool, where it waits.
  local req = uv.fs_read(fd, b2, expect(function(err, n)
    assert(err == "ECANCELED: operation canceled" and n == nil, err)
    b2:set(1, "released")
    assert(b2:sub() == "released")
    uv.fs_close(fd)
    release()
  end))
  assert(uv.cancel(req) == 0)
end)

test("the request keeps its buffer alive until the callback", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", ("z"):rep(4096))
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  local weak = setmetatable({}, {__mode = "v"})
  do
    local b = uv.new_buffer(4096)
    weak[1] = b
    uv.fs_read(fd, b, expect(function(err, n)
      assert(err == nil and n == 4096)
      assert(weak[1] ~= nil)
      assert(weak[1]:sub() == ("z"):rep(4096))
      uv.fs_close(fd)
      local t = uv.new_timer()
      t:start(0, 0, expect(function()
        t:close()
        collectgarbage()
        collectgarbage()
        assert(weak[1] == nil, "collected once the request is done")
      end))
    end))
  end
  collectgarbage()
  collectgarbage()
  assert(weak[1] ~= nil, "anchored by the request")
end)

test("a 1 MiB file copied through one 64 KiB buffer", function(expect)
  local dir = tmpdir()
  local parts = {}
  for i = 1, 16384 do parts[i] = string.format("%063d\n", i) end
  local data = table.concat(parts) -- 1 MiB
  write_file(dir .. "/src", data)
  local src = assert(uv.fs_open(dir .. "/src", "r"))
  local dst = assert(uv.fs_open(dir .. "/dst", "w", 420))
  local b = uv.new_buffer(65536 - 100) -- chunks that do not divide the file
  local offset = 0
  local function step()
    uv.fs_read(src, b, offset, function(err, n)
      assert(err == nil, err)
      if n == 0 then
        uv.fs_close(src)
        uv.fs_close(dst)
        assert(read_file(dir .. "/dst") == data)
        return
      end
      -- The last chunk is short: send only what was read.
      local chunk = n == #b and b or b:slice(1, n)
      uv.fs_write(dst, chunk, offset, expect(function(werr, wn)
        assert(werr == nil and wn == n, werr)
        offset = offset + n
        step()
      end, 1))
    end)
  end
  step()
  local t = uv.new_timer()
  t:start(0, 0, function() t:close() end)
  T.after(function() assert(offset == #data, offset) end)
end)

T.run()
