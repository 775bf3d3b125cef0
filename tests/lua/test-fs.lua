-- test-fs.lua: luv's fs section. Every function synchronously (no
-- callback) and asynchronously (with one), success and typical errors
-- with the path in the message; large offsets, big directories, many
-- requests in flight, cancellation, and exit with requests pending.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function pack(...) return {n = select("#", ...), ...} end

local function rmrf(path)
  assert(path:match("^/tmp/loom%-fs%-"), path)
  os.execute("rm -rf " .. T.q(path))
end

local tmpdir, write_file, read_file = T.tmpdir, T.write_file, T.read_file

-- Checks a fail triple: nil, "ENAME: message: <where>", "ENAME".
local function is_fail(name, where, ...)
  local v, msg, code = ...
  assert(v == nil, "expected a failure, got " .. tostring(v))
  assert(code == name, "expected " .. name .. ", got " .. tostring(msg))
  local want = "^" .. name .. ": .+: " .. where:gsub("%p", "%%%0") .. "$"
  assert(msg:match(want), "message " .. msg .. " does not end in " .. where)
end

-- Runs uv[name] once without and once with a callback. args(mode) gives
-- the arguments for each run; check(mode, ...) gets the values: the
-- returns of the sync call, the callback's values after err for async.
local function both(expect, name, args, check)
  check("sync", uv[name](table.unpack(args("sync"))))
  local a = args("async")
  local n = a.n or #a
  a[n + 1] = expect(function(err, ...)
    assert(err == nil, name .. ": " .. tostring(err))
    check("async", ...)
  end)
  local req = uv[name](table.unpack(a, 1, n + 1))
  assert(tostring(req):match("^uv_fs_t: "), name .. " returned " .. tostring(req))
  assert(req:get_type() == "fs")
end

-- As both(), for a call that fails with the error `ename`, whose message
-- ends in `where` (the path, or "path -> dest").
local function both_fail(expect, name, args, ename, where)
  is_fail(ename, where, uv[name](table.unpack(args)))
  local n = args.n or #args
  local a = {table.unpack(args, 1, n)}
  a[n + 1] = expect(function(err, value)
    assert(type(err) == "string", name .. " did not fail")
    is_fail(ename, where, nil, err, err:match("^(%u+):"))
    assert(value == nil)
  end)
  uv[name](table.unpack(a, 1, n + 1))
end

test("open, write, read, close: sync and async, positional and current offset",
     function(expect)
  local dir = tmpdir()
  local path = dir .. "/f"
  both(expect, "fs_open", function(mode)
    return {path .. mode, "w+", 384}
  end, function(mode, fd)
    assert(math.type(fd) == "integer" and fd >= 0)
    -- A string and an array of strings, at the current offset.
    assert(uv.fs_write(fd, "hello ") == 6)
    assert(uv.fs_write(fd, {"wide ", "world"}) == 10)
    assert(uv.fs_read(fd, 100, 0) == "hello wide world")
    assert(uv.fs_read(fd, 5, 6) == "wide ")
    assert(uv.fs_read(fd, 100, 1000) == "", "read past the end is empty")
    assert(uv.fs_close(fd) == true)
    assert(uv.fs_stat(path .. mode).mode & 511 == 384)
  end)
  write_file(path, "0123456789")
  local fd = assert(uv.fs_open(path, "r+"))
  both(expect, "fs_read", function() return {fd, 4, 2, n = 3} end,
       function(_, data) assert(data == "2345", data) end)
  both(expect, "fs_write", function(mode)
    return {fd, mode == "sync" and "ab" or {"c", "d"}, mode == "sync" and 0 or 8}
  end, function(_, n) assert(n == 2) end)
  -- The offset may be left out before the callback.
  uv.fs_read(fd, 3, expect(function(err, data)
    assert(not err and data == "ab2", data)
    uv.fs_read(fd, 20, -1, expect(function(err2, rest)
      assert(not err2 and rest == "34567cd", rest)
      both(expect, "fs_close", function(mode)
        return {mode == "sync" and fd or assert(uv.fs_open(path, "r"))}
      end, function(_, ok) assert(ok == true) end)
    end))
  end))
end)

-- An async write points into its own copy of the strings: the caller's
-- table may change (and its strings go) right after the call.
test("async fs_write of a table, a string and nothing: the caller's table may change at once", function(expect)
  local path = tmpdir() .. "/copy"
  local fd = assert(uv.fs_open(path, "w+", 420))
  local parts = {("x"):rep(3000), ("y"):rep(3000), 42}
  uv.fs_write(fd, parts, 0, expect(function(err, n)
    assert(not err and n == 6002, err)
    uv.fs_write(fd, "tail", 6002, expect(function(e2, n2)
      assert(not e2 and n2 == 4, e2)
      uv.fs_write(fd, {}, 6006, expect(function(e3, n3)
        assert(not e3 and n3 == 0, e3)
        local data = uv.fs_read(fd, 10000, 0)
        assert(data == ("x"):rep(3000) .. ("y"):rep(3000) .. "42tail", #data)
        assert(uv.fs_close(fd))
      end))
    end))
  end))
  for i = 1, 3 do parts[i] = nil end
  parts[1] = "changed"
  collectgarbage()
  collectgarbage()
  local junk = {}
  for i = 1, 1000 do junk[i] = ("j"):rep(3000) .. i end
end)

-- Reads of cached data are done on the loop thread (RWF_NOWAIT), partial
-- ones by the pool: either way the bytes are exact and the callback comes
-- later.
test("cached positional reads: reported later, exact at EOF", function(expect)
  local dir = tmpdir()
  local path = dir .. "/cached"
  local data = {}
  for i = 1, 4096 do data[i] = string.format("%07d\n", i) end
  data = table.concat(data) -- 32 KiB, in the page cache once written
  write_file(path, data)
  local fd = assert(uv.fs_open(path, "r", 0))
  local called = false
  local reads = {
    {0, 100}, {1000, 5000}, {#data - 10, 100}, {#data, 10}, {#data + 50, 10}, {0, #data},
  }
  local left = #reads
  for _, r in ipairs(reads) do
    local off, size = r[1], r[2]
    uv.fs_read(fd, size, off, expect(function(err, chunk)
      called = true
      assert(err == nil, err)
      assert(chunk == data:sub(off + 1, off + size), ("read %d at %d: %d bytes"):format(size, off, #chunk))
      left = left - 1
      if left == 0 then
        uv.fs_close(fd)
        rmrf(dir)
      end
    end))
  end
  assert(not called, "a callback ran inside fs_read")
  -- The current-offset form goes to the pool as before.
  local fd2 = assert(uv.fs_open(path, "r", 0))
  uv.fs_read(fd2, 8, expect(function(err, chunk)
    assert(err == nil and chunk == "0000001\n", err)
    uv.fs_read(fd2, 8, expect(function(err2, chunk2)
      assert(err2 == nil and chunk2 == "0000002\n", err2)
      uv.fs_close(fd2)
    end))
  end))
end)

-- The loop thread reads cached data itself (RWF_NOWAIT) up to 2 MiB per
-- pass of the loop and up to 256 KiB per request; the rest goes to the
-- pool. With every pool thread blocked, what completes is exactly what
-- was read on the loop thread: 8 of a burst of 256 KiB reads issued in
-- one pass, none over 256 KiB, and every read of a chain that issues
-- each read from the previous one's callback (one per pass), however
-- long.
test("cached reads on the loop thread: 2 MiB per pass, a chain never stops", function(expect)
  local dir = tmpdir()
  local chunk = 256 * 1024
  local parts = {}
  for i = 1, 12 do parts[i] = string.rep(string.char(64 + i), chunk) end
  local data = table.concat(parts) -- 3 MiB, in the page cache once written
  write_file(dir .. "/f", data)
  local fd = assert(uv.fs_open(dir .. "/f", "r", 0))
  local release = T.block_pool(expect, dir)
  local burst_done, big_done, pending = 0, false, 13
  local function finished()
    pending = pending - 1
    if pending == 0 then uv.fs_close(fd) end
  end
  local start = uv.new_timer()
  start:start(0, 0, function()
    start:close()
    for i = 1, 12 do
      uv.fs_read(fd, chunk, (i - 1) * chunk, expect(function(err, got)
        assert(err == nil and got == parts[i], err)
        burst_done = burst_done + 1
        finished()
      end))
    end
    uv.fs_read(fd, chunk + 1, 0, expect(function(err, got)
      assert(err == nil and got == data:sub(1, chunk + 1), err)
      big_done = true
      finished()
    end))
  end)
  local check = uv.new_timer()
  check:start(100, 0, function()
    check:close()
    if burst_done == 0 then
      -- This file system cannot read without waiting: all went to the pool.
      io.write("# skip: no RWF_NOWAIT reads on ", dir, "\n")
      return release()
    end
    assert(burst_done == 8, "inline reads in one pass: " .. burst_done)
    assert(not big_done, "a read over 256 KiB stays on the pool")
    local left, offset = 40, 0 -- 10 MiB, one read per pass
    local function step()
      uv.fs_read(fd, chunk, offset, expect(function(err, got)
        assert(err == nil and got == parts[offset // chunk + 1], err)
        assert(burst_done == 8, "the pool is still blocked")
        left = left - 1
        offset = (offset + chunk) % #data
        if left > 0 then return step() end
        release()
      end))
    end
    step()
  end)
end)

test("open errors: ENOENT, EEXIST, ENOTDIR, EISDIR; bad descriptors", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/file", "x")
  both_fail(expect, "fs_open", {dir .. "/missing", "r"}, "ENOENT", dir .. "/missing")
  both_fail(expect, "fs_open", {dir .. "/file", "wx", 420}, "EEXIST", dir .. "/file")
  both_fail(expect, "fs_open", {dir .. "/file/x", "r"}, "ENOTDIR", dir .. "/file/x")
  both_fail(expect, "fs_open", {dir, "w"}, "EISDIR", dir)
  local _, msg, code = uv.fs_close(987654)
  assert(code == "EBADF" and msg == "EBADF: bad file descriptor", msg)
  assert(select(3, uv.fs_read(987654, 10)) == "EBADF")
  assert(select(3, uv.fs_write(987654, "x")) == "EBADF")
  assert(select(3, uv.fs_fstat(987654)) == "EBADF")
  assert(select(3, uv.fs_fsync(987654)) == "EBADF")
  assert(select(3, uv.fs_ftruncate(987654, 0)) == "EBADF")
  uv.fs_fstat(987654, expect(function(err)
    assert(err == "EBADF: bad file descriptor", err)
  end))
  local ok, err = pcall(uv.fs_open, dir .. "/f", "rw")
  assert(not ok and err:match("unknown file open flag 'rw'"), err)
  -- Integer flags beyond an int would open with other flags than asked.
  for _, bad in ipairs({2^40, -1}) do
    T.raises("bad argument #2 .*open flags out of range", uv.fs_open,
             dir .. "/file", bad)
  end
  ok, err = pcall(uv.fs_open, "a\0b", "r")
  assert(not ok and err:match("zero byte"), err)
end)

test("unlink, mkdir, rmdir, rename: sync, async and their errors", function(expect)
  local dir = tmpdir()
  both(expect, "fs_mkdir", function(mode) return {dir .. "/d" .. mode, 448} end,
       function(mode, ok)
    assert(ok == true)
    local st = uv.fs_stat(dir .. "/d" .. mode)
    assert(st.type == "directory" and st.mode & 511 == 448)
  end)
  assert(uv.fs_mkdir(dir .. "/full"))
  write_file(dir .. "/full/inner", "x")
  both_fail(expect, "fs_mkdir", {dir .. "/full", 448}, "EEXIST", dir .. "/full")
  both_fail(expect, "fs_rmdir", {dir .. "/full"}, "ENOTEMPTY", dir .. "/full")
  both_fail(expect, "fs_mkdir", {dir .. "/full/inner/x"}, "ENOTDIR", dir .. "/full/inner/x")
  both(expect, "fs_rename", function(mode)
    write_file(dir .. "/r" .. mode, mode)
    return {dir .. "/r" .. mode, dir .. "/s" .. mode}
  end, function(mode, ok)
    assert(ok == true and read_file(dir .. "/s" .. mode) == mode)
  end)
  both_fail(expect, "fs_rename", {dir .. "/nope", dir .. "/other"}, "ENOENT",
            dir .. "/nope -> " .. dir .. "/other")
  both(expect, "fs_unlink", function(mode)
    write_file(dir .. "/u" .. mode, "")
    return {dir .. "/u" .. mode}
  end, function(mode, ok)
    assert(ok == true and select(3, uv.fs_stat(dir .. "/u" .. mode)) == "ENOENT")
  end)
  both_fail(expect, "fs_unlink", {dir .. "/nope"}, "ENOENT", dir .. "/nope")
  both(expect, "fs_rmdir", function(mode)
    assert(uv.fs_mkdir(dir .. "/e" .. mode))
    return {dir .. "/e" .. mode}
  end, function(mode, ok)
    assert(ok == true and select(3, uv.fs_stat(dir .. "/e" .. mode)) == "ENOENT")
  end)
end)

test("mkdtemp and mkstemp", function(expect)
  local dir = tmpdir()
  both(expect, "fs_mkdtemp", function() return {dir .. "/tXXXXXX"} end,
       function(_, path)
    assert(path:match("^" .. dir:gsub("%p", "%%%0") .. "/t......$"), path)
    assert(uv.fs_stat(path).type == "directory")
  end)
  both(expect, "fs_mkstemp", function() return {dir .. "/sXXXXXX"} end,
       function(_, fd, path)
    assert(math.type(fd) == "integer" and uv.fs_fstat(fd).type == "file")
    assert(uv.fs_stat(path).ino == uv.fs_fstat(fd).ino)
    uv.fs_close(fd)
  end)
  assert(select(3, uv.fs_mkdtemp(dir .. "/no-template")) == "EINVAL")
  both_fail(expect, "fs_mkdtemp", {dir .. "/missing/tXXXXXX"}, "ENOENT",
            dir .. "/missing/tXXXXXX")
end)

test("stat, lstat, fstat: luv's table shape; statfs", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", "12345")
  assert(uv.fs_symlink("f", dir .. "/l"))
  local keys = {"dev", "mode", "nlink", "uid", "gid", "rdev", "ino", "size",
                "blksize", "blocks", "flags", "gen"}
  local function check_stat(st, kind, size)
    for _, k in ipairs(keys) do
      assert(math.type(st[k]) == "integer", k)
    end
    for _, k in ipairs {"atime", "mtime", "ctime", "birthtime"} do
      assert(math.type(st[k].sec) == "integer" and math.type(st[k].nsec) == "integer", k)
    end
    assert(st.type == kind, st.type)
    if size then assert(st.size == size) end
  end
  both(expect, "fs_stat", function() return {dir .. "/l"} end,
       function(_, st) check_stat(st, "file", 5) end)
  both(expect, "fs_lstat", function() return {dir .. "/l"} end,
       function(_, st) check_stat(st, "link", 1) end)
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  both(expect, "fs_fstat", function() return {fd} end, function(mode, st)
    check_stat(st, "file", 5)
    assert(st.ino == uv.fs_stat(dir .. "/f").ino)
    if mode == "async" then uv.fs_close(fd) end
  end)
  both_fail(expect, "fs_stat", {dir .. "/none"}, "ENOENT", dir .. "/none")
  both_fail(expect, "fs_lstat", {dir .. "/f/x"}, "ENOTDIR", dir .. "/f/x")
  both(expect, "fs_statfs", function() return {dir} end, function(_, sf)
    for _, k in ipairs {"type", "bsize", "blocks", "bfree", "bavail", "files", "ffree"} do
      assert(math.type(sf[k]) == "integer", k)
    end
    assert(sf.bsize > 0)
  end)
  both_fail(expect, "fs_statfs", {dir .. "/none"}, "ENOENT", dir .. "/none")
end)

test("fsync, fdatasync, ftruncate, sendfile", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/src", "abcdefghij")
  local fd = assert(uv.fs_open(dir .. "/dst", "w+"))
  both(expect, "fs_fsync", function() return {fd} end, function(_, ok) assert(ok) end)
  both(expect, "fs_fdatasync", function() return {fd} end, function(_, ok) assert(ok) end)
  local src = assert(uv.fs_open(dir .. "/src", "r"))
  both(expect, "fs_sendfile", function(mode)
    return {fd, src, mode == "sync" and 0 or 5, 5}
  end, function(mode, n)
    assert(n == 5)
    if mode == "async" then
      assert(uv.fs_read(fd, 20, 0) == "abcdefghij")
      both(expect, "fs_ftruncate", function(m) return {fd, m == "sync" and 3 or 2} end,
           function(m)
        assert(uv.fs_fstat(fd).size == (m == "sync" and 3 or 2))
        if m == "async" then
          uv.fs_close(fd)
          uv.fs_close(src)
        end
      end)
    end
  end)
end)

test("access, chmod, fchmod, chown, fchown, lchown", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", "x")
  both(expect, "fs_access", function() return {dir .. "/f", "rw"} end,
       function(_, ok) assert(ok == true) end)
  assert(uv.fs_access(dir .. "/f", uv.constants.F_OK) == true)
  T.raises("bad argument #2 .*R_OK, W_OK, X_OK", uv.fs_access, dir .. "/f", 2^40)
  both_fail(expect, "fs_access", {dir .. "/none", "r"}, "ENOENT", dir .. "/none")
  both(expect, "fs_chmod", function(mode)
    write_file(dir .. "/c" .. mode, "")
    return {dir .. "/c" .. mode, mode == "sync" and 256 or "640"}
  end, function(mode)
    assert(uv.fs_stat(dir .. "/c" .. mode).mode & 511 == (mode == "sync" and 256 or 416))
  end)
  both_fail(expect, "fs_chmod", {dir .. "/none", 420}, "ENOENT", dir .. "/none")
  local fds = {}
  both(expect, "fs_fchmod", function(mode)
    write_file(dir .. "/m" .. mode, "")
    fds[mode] = assert(uv.fs_open(dir .. "/m" .. mode, "r"))
    return {fds[mode], mode == "sync" and 448 or 384}
  end, function(mode)
    assert(uv.fs_fstat(fds[mode]).mode & 511 == (mode == "sync" and 448 or 384))
    uv.fs_close(fds[mode])
  end)
  local st = uv.fs_stat(dir .. "/f")
  assert(uv.fs_symlink("f", dir .. "/l"))
  local fd = assert(uv.fs_open(dir .. "/f", "r"))
  both(expect, "fs_chown", function() return {dir .. "/f", st.uid, st.gid} end,
       function(_, ok) assert(ok) end)
  both(expect, "fs_fchown", function() return {fd, st.uid, st.gid} end,
       function(mode, ok) assert(ok); if mode == "async" then uv.fs_close(fd) end end)
  both(expect, "fs_lchown", function() return {dir .. "/l", st.uid, st.gid} end,
       function(_, ok) assert(ok) end)
  both_fail(expect, "fs_chown", {dir .. "/none", st.uid, st.gid}, "ENOENT", dir .. "/none")
end)

test("EACCES for a user without permission (a child running as nobody)", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/secret", "x")
  assert(uv.fs_chmod(dir .. "/secret", 384))
  assert(uv.fs_chmod(dir, 493))
  local code = "local path = " .. string.format("%q", dir .. "/secret") .. [[

    local uv = require "loom"
    local _, msg, name = uv.fs_open(path, "r")
    assert(name == "EACCES" and msg:sub(-#path) == path, msg)
    uv.fs_open(path, "r", 0, function(err)
      assert(err == msg, err)
      os.exit(7)
    end)
    uv.run()
  ]]
  local opts = {args = {"-e", code}, stdio = {nil, nil, 2}}
  if uv.getuid() == 0 then
    opts.uid, opts.gid = 65534, 65534
  end
  local child
  child = uv.spawn(T.runner, opts, expect(function(status)
    assert(status == 7, "child exit status " .. status)
    child:close()
  end))
end)

test("utime, futime, lutime: seconds with fractions, now and omit", function(expect)
  local dir = tmpdir()
  both(expect, "fs_utime", function(mode)
    write_file(dir .. "/u" .. mode, "")
    if mode == "async" then assert(uv.fs_utime(dir .. "/uasync", 1, 2000.25)) end
    return {dir .. "/u" .. mode, 1000.5, mode == "sync" and 2000.25 or "omit"}
  end, function(mode)
    local st = uv.fs_stat(dir .. "/u" .. mode)
    assert(st.atime.sec == 1000 and st.atime.nsec == 500000000)
    assert(st.mtime.sec == 2000 and st.mtime.nsec == 250000000)
  end)
  local fds = {}
  both(expect, "fs_futime", function(mode)
    write_file(dir .. "/f" .. mode, "")
    fds[mode] = assert(uv.fs_open(dir .. "/f" .. mode, "r"))
    return {fds[mode], 3000, 4000}
  end, function(mode)
    local st = uv.fs_fstat(fds[mode])
    assert(st.atime.sec == 3000 and st.mtime.sec == 4000)
    uv.fs_close(fds[mode])
  end)
  both(expect, "fs_lutime", function(mode)
    write_file(dir .. "/t" .. mode, "")
    assert(uv.fs_utime(dir .. "/t" .. mode, 10, 10))
    assert(uv.fs_symlink("t" .. mode, dir .. "/l" .. mode))
    return {dir .. "/l" .. mode, 5000, 6000}
  end, function(mode)
    assert(uv.fs_lstat(dir .. "/l" .. mode).mtime.sec == 6000)
    assert(uv.fs_stat(dir .. "/t" .. mode).mtime.sec == 10, "the target is untouched")
  end)
  write_file(dir .. "/now", "")
  local before = os.time()
  assert(uv.fs_utime(dir .. "/now", "now", uv.constants.FS_UTIME_NOW))
  assert(uv.fs_stat(dir .. "/now").mtime.sec >= before)
  both_fail(expect, "fs_utime", {dir .. "/none", 1, 1}, "ENOENT", dir .. "/none")
  -- Seconds beyond a 64-bit time_t raise; infinity and NaN are NOW and
  -- OMIT (the constants are those values).
  for _, bad in ipairs({1e300, -1e300, 2^63}) do
    T.raises("bad argument #2 .*time out of range", uv.fs_utime,
             dir .. "/now", bad, 0)
    T.raises("bad argument #3 .*time out of range", uv.fs_futime, 0, 0, bad)
  end
  assert(uv.fs_utime(dir .. "/now", 0/0, math.huge))
end)

test("link, symlink, readlink, realpath", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", "x")
  both(expect, "fs_link", function(mode) return {dir .. "/f", dir .. "/h" .. mode} end,
       function(mode)
    assert(uv.fs_stat(dir .. "/h" .. mode).ino == uv.fs_stat(dir .. "/f").ino)
  end)
  write_file(dir .. "/g", "x")
  both_fail(expect, "fs_link", {dir .. "/f", dir .. "/g"}, "EEXIST",
            dir .. "/f -> " .. dir .. "/g")
  both(expect, "fs_symlink", function(mode)
    return {"f", dir .. "/s" .. mode, mode == "sync" and {dir = false} or nil, n = 3}
  end, function(mode, ok)
    assert(ok == true and uv.fs_readlink(dir .. "/s" .. mode) == "f")
  end)
  both_fail(expect, "fs_symlink", {"f", dir .. "/g"}, "EEXIST", "f -> " .. dir .. "/g")
  assert(uv.fs_symlink("f", dir .. "/sl"))
  both(expect, "fs_readlink", function() return {dir .. "/sl"} end,
       function(_, target) assert(target == "f") end)
  both_fail(expect, "fs_readlink", {dir .. "/f"}, "EINVAL", dir .. "/f")
  local real = uv.fs_realpath(dir)
  both(expect, "fs_realpath", function() return {dir .. "/./sl"} end,
       function(_, p) assert(p == real .. "/f", p) end)
  both_fail(expect, "fs_realpath", {dir .. "/none"}, "ENOENT", dir .. "/none")
  -- A target near PATH_MAX (the kernel's limit for one) reads back whole.
  local long = string.rep("d/", 2000) .. "end"
  assert(uv.fs_symlink(long, dir .. "/long"))
  assert(uv.fs_readlink(dir .. "/long") == long)
end)

test("copyfile: contents and mode, excl, ficlone with fallback, ficlone_force", function(expect)
  local dir = tmpdir()
  local data = string.rep("copy me ", 20000)
  write_file(dir .. "/src", data)
  assert(uv.fs_chmod(dir .. "/src", 416))
  both(expect, "fs_copyfile", function(mode)
    return {dir .. "/src", dir .. "/dst" .. mode, mode == "sync" and {ficlone = true} or nil, n = 3}
  end, function(mode, ok)
    assert(ok == true)
    assert(read_file(dir .. "/dst" .. mode) == data)
    assert(uv.fs_stat(dir .. "/dst" .. mode).mode & 511 == 416)
  end)
  both_fail(expect, "fs_copyfile", {dir .. "/src", dir .. "/dstsync", {excl = true}},
            "EEXIST", dir .. "/src -> " .. dir .. "/dstsync")
  both_fail(expect, "fs_copyfile", {dir .. "/none", dir .. "/x"}, "ENOENT",
            dir .. "/none -> " .. dir .. "/x")
  -- Forcing a reflink works only where the file system has them.
  local ok, _, code = uv.fs_copyfile(dir .. "/src", dir .. "/forced", {ficlone_force = true})
  assert(ok == true or code == "EOPNOTSUPP" or code == "ENOTSUP" or
         code == "EXDEV" or code == "EINVAL" or code == "ENOTTY", code)
  assert(uv.fs_copyfile(dir .. "/src", dir .. "/src") == true, "onto itself")
  assert(read_file(dir .. "/src") == data)
end)

test("scandir: sorted entries with types, the request in both forms", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/b", "")
  assert(uv.fs_mkdir(dir .. "/a"))
  assert(uv.fs_symlink("b", dir .. "/c"))
  local function entries(req)
    local out = {}
    for name, kind in uv.fs_scandir_next, req do out[#out + 1] = name .. "=" .. kind end
    return table.concat(out, " ")
  end
  local req = assert(uv.fs_scandir(dir))
  assert(tostring(req):match("^uv_fs_t"))
  assert(entries(req) == "a=directory b=file c=link", entries(req))
  assert(uv.fs_scandir_next(req) == nil, "stays at the end")
  local areq = uv.fs_scandir(dir, expect(function(err, r)
    assert(not err)
    assert(entries(r) == "a=directory b=file c=link")
  end))
  assert(areq:get_type() == "fs")
  both_fail(expect, "fs_scandir", {dir .. "/none"}, "ENOENT", dir .. "/none")
  both_fail(expect, "fs_scandir", {dir .. "/b"}, "ENOTDIR", dir .. "/b")
  local empty = assert(uv.fs_scandir(dir .. "/a"))
  assert(uv.fs_scandir_next(empty) == nil)
end)

test("opendir, readdir, closedir: sync and async", function(expect)
  local dir = tmpdir()
  for i = 1, 5 do write_file(dir .. "/f" .. i, "") end
  local d = assert(uv.fs_opendir(dir, nil, 2))
  assert(tostring(d):match("^uv_dir_t"))
  local seen = {}
  while true do
    local ents = uv.fs_readdir(d)
    if not ents then break end
    assert(#ents <= 2)
    for _, e in ipairs(ents) do
      assert(e.type == "file")
      seen[#seen + 1] = e.name
    end
  end
  table.sort(seen)
  assert(table.concat(seen, ",") == "f1,f2,f3,f4,f5")
  assert(d:closedir() == true)
  assert(select(3, d:closedir()) == "EBADF", "closed twice")
  assert(select(3, uv.fs_readdir(d)) == "EBADF")
  uv.fs_opendir(dir, expect(function(err, ad)
    assert(not err and tostring(ad):match("^uv_dir_t"))
    local names = {}
    local function step()
      ad:readdir(expect(function(rerr, ents)
        assert(not rerr)
        if ents then
          for _, e in ipairs(ents) do names[#names + 1] = e.name end
          return step()
        end
        assert(#names == 5)
        ad:closedir(expect(function(cerr, ok)
          assert(not cerr and ok == true)
        end))
      end), #names // 10 + 2)
    end
    step()
    assert(select(3, ad:readdir()) == "EBUSY", "a readdir is in flight")
  end), 10)
  both_fail(expect, "fs_opendir", {dir .. "/none"}, "ENOENT", dir .. "/none")
end)

test("a sparse file with offsets beyond 4 GiB", function()
  local dir = tmpdir()
  local fd = assert(uv.fs_open(dir .. "/sparse", "w+"))
  local far = 5 * (1 << 30) + 123
  assert(uv.fs_write(fd, "far", far) == 3)
  local st = uv.fs_fstat(fd)
  assert(st.size == far + 3, st.size)
  assert(uv.fs_read(fd, 3, far) == "far")
  assert(uv.fs_read(fd, 4, 4 * (1 << 30)) == "\0\0\0\0")
  assert(uv.fs_ftruncate(fd, 4 * (1 << 30) + 1))
  assert(uv.fs_fstat(fd).size == 4 * (1 << 30) + 1)
  assert(uv.fs_close(fd))
end)

test("a directory of 10,000 entries through scandir and opendir/readdir", function(expect)
  local dir = tmpdir()
  for i = 1, 10000 do
    assert(uv.fs_close(assert(uv.fs_open(string.format("%s/e%05d", dir, i), "w"))))
  end
  local req = assert(uv.fs_scandir(dir))
  local n, last = 0, ""
  for name, kind in uv.fs_scandir_next, req do
    n = n + 1
    assert(kind == "file" and name > last, "sorted")
    last = name
  end
  assert(n == 10000, n)
  local d = assert(uv.fs_opendir(dir, nil, 1000))
  local count = 0
  local on_entries
  on_entries = expect(function(err, ents)
    assert(not err)
    if not ents then
      assert(count == 10000, count)
      return d:closedir()
    end
    count = count + #ents
    d:readdir(on_entries)
  end, 11)
  d:readdir(on_entries)
end)

test("100,000 async stats in flight at once", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/f", "abc")
  local n, done = 100000, 0
  local cb = expect(function(err, st)
    assert(not err and st.size == 3)
    done = done + 1
    
  end, n)
  for _ = 1, n do uv.fs_stat(dir .. "/f", cb) end
end)

test("cancel: queued requests get ECANCELED, running ones refuse (EBUSY)", function(expect)
  local dir = tmpdir()
  local release, blockers, running = T.block_pool(expect, dir)
  local cancelled = expect(function(err, st)
    assert(err == "ECANCELED: operation canceled: " .. dir, tostring(err))
    assert(st == nil)
  end, 10)
  for _ = 1, 10 do
    local req = uv.fs_stat(dir, cancelled)
    assert(uv.cancel(req) == 0)
    local again = pack(req:cancel())
    assert(again[1] == nil and again[3] == "EBUSY", "cancelled twice")
  end
  local t = uv.new_timer()
  t:start(10, 10, function()
    if not running() then return end
    -- The blockers run: too late to cancel them.
    assert(select(3, uv.cancel(blockers[1])) == "EBUSY")
    release()
    t:close()
  end)
end)

test("exit and state close with fs requests pending", function()
  local dir = tmpdir()
  write_file(dir .. "/f", string.rep("x", 100000))
  -- os.exit(0, true) closes the state from inside a callback while
  -- thousands of requests are queued or running.
  local out, err, code = T.loom_exiting([[
    local uv = require "loom"
    local path = ]] .. string.format("%q", dir .. "/f") .. [[
    local fd = assert(uv.fs_open(path, "r"))
    local null = assert(uv.fs_open("/dev/null", "w"))
    local sent = uv.new_buffer(4096)
    for i = 1, 2000 do
      uv.fs_stat(path, function() end)
      uv.fs_read(fd, 65536, 0, function() end)
      uv.fs_read(fd, uv.new_buffer(65536), i, function() end)
      uv.fs_write(null, sent, function() end)
    end
    uv.fs_stat(path, function() print("first") os.exit(0, true) end)
    uv.run()
  ]])
  assert(code == 0, "exit status " .. tostring(code) .. ": " .. err)
  assert(out == "first\n", out)
  -- A plain Lua script that never runs the loop: the state closes with
  -- the requests still queued or finished, and no callback may run.
  out, err, code = T.plain_lua([[
    local uv = require "loom"
    for i = 1, 1000 do uv.fs_stat("/", function() error("never") end) end
  ]])
  assert(os.getenv("LOOM_PLAIN_LUA") == "no" or (code == 0 and err == ""), err)
end)

test("requests live while in flight and are garbage after their callback", function(expect)
  -- Rounds of requests of three kinds: later rounds reuse the anchor
  -- slots the earlier ones gave back. An fs call's request lives in C
  -- memory while in flight whether or not its handle is kept; what Lua
  -- holds for it (the callback) must be collectable once it ran.
  local work = uv.new_work(function(i) return i end, function() end)
  local old_handle
  for round = 1, 3 do
    local weak = setmetatable({}, {__mode = "v"})
    local stats, works, randoms = 0, 0, 0
    for i = 1, 200 do
      local cb = function(err, st)
        assert(err == nil and st.type == "directory", err)
        stats = stats + 1
      end
      weak[i] = cb
      local req = uv.fs_stat("/", cb)
      if i == 1 and round == 1 then old_handle = req end
    end
    for i = 1, 50 do
      assert(uv.queue_work(work, i))
      assert(uv.random(8, nil, function(err, bytes)
        assert(err == nil and #bytes == 8, err)
        randoms = randoms + 1
      end) == 0)
      works = works + 1
    end
    collectgarbage(); collectgarbage()
    for i = 1, 200 do
      assert(weak[i] ~= nil, "round " .. round .. ": a callback in flight was collected")
    end
    if round > 1 then
      -- A handle from round 1 names a slot this round reuses: it must not
      -- reach (and cancel) the request now in that slot.
      local ok, _, code = old_handle:cancel()
      assert(ok == nil and code == "EBUSY", "an old handle reached a new request")
    end
    uv.run()
    assert(stats == 200 and randoms == 50 and works == 50)
    collectgarbage(); collectgarbage()
    assert(next(weak) == nil, "round " .. round .. ": a finished request's callback is still held")
  end
end)

test("an fs handle: type, name and cancel before and after its callback", function(expect)
  local dir = tmpdir()
  local release = T.block_pool(expect, dir)
  local req = uv.fs_stat(dir, expect(function(err)
    assert(err == "ECANCELED: operation canceled: " .. dir, tostring(err))
  end))
  assert(uv.req_get_type(req) == "fs" and math.type(select(2, req:get_type())) == "integer")
  assert(tostring(req):match("^uv_fs_t: "))
  assert(req:cancel() == 0)
  local ok, _, code = uv.cancel(req)
  assert(ok == nil and code == "EBUSY")
  -- A dropped handle does not cancel or lose its request.
  uv.fs_stat(dir, expect(function(err, st)
    assert(err == nil and st.type == "directory", err)
  end))
  collectgarbage(); collectgarbage()
  release()
  local bad = {pcall(uv.cancel, {})}
  assert(not bad[1] and bad[2]:match("uv_req expected"), bad[2])
  bad = {pcall(uv.fs_scandir_next, req)}
  assert(not bad[1] and bad[2]:match("bad argument #1 .*not a scandir request"), bad[2])
end)

test("an old fs handle does not reach the request that reuses its slot", function(expect)
  local dir = tmpdir()
  local release = T.block_pool(expect, dir)
  local first = uv.fs_stat(dir, expect(function(err)
    assert(err == "ECANCELED: operation canceled: " .. dir, tostring(err))
  end))
  assert(first:cancel() == 0)
  uv.run("once") -- the cancellation's callback: its slot is free again
  local second = uv.fs_stat(dir, expect(function(err, st)
    assert(err == nil and st.type == "directory", err)
  end))
  local ok, _, code = first:cancel()
  assert(ok == nil and code == "EBUSY", "an old handle reached a new request")
  assert(second ~= first)
  release()
end)

test("wrong argument types raise errors naming the argument", function()
  local cases = {
    {"fs_open", {}, "#1"}, {"fs_open", {"/x", {}}, "#2"},
    {"fs_read", {1, "x"}, "#2"}, {"fs_read", {1, -1}, "#2"},
    {"fs_write", {1, true}, "#2"}, {"fs_write", {1, {true, 2}}, "#2"},
    {"fs_stat", {"/", 5}, "#2"}, {"fs_mkdir", {"/x", "zz"}, "#2"},
    {"fs_access", {"/", "q"}, "#2"}, {"fs_utime", {"/", {}, 1}, "#2"},
    {"fs_copyfile", {"/a", "/b", "x"}, "#3"}, {"fs_chown", {"/", "u", 0}, "#2"},
    {"fs_scandir_next", {{}}, "#1"}, {"fs_readdir", {{}}, "#1"},
    {"fs_opendir", {"/", nil, 0}, "#3"}, {"fs_sendfile", {1, 2, 0, -1}, "#4"},
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(uv[c[1]], table.unpack(c[2], 1, 4))
    assert(not ok and err:match("bad argument " .. c[3]), c[1] .. ": " .. tostring(err))
  end
end)

test("fs_readfile (beyond luv): whole files in one request, sync and async", function(expect, uv)
  local dir = T.tmpdir()
  local path = dir .. "/f"
  local data = ("0123456789abcdef"):rep(40000) .. "tail"
  T.write_file(path, data)
  T.write_file(dir .. "/empty", "")
  assert(uv.fs_readfile(path) == data)
  assert(uv.fs_readfile(dir .. "/empty") == "")
  -- The kernel reports size 0 for /proc files: read to the end anyway.
  local status = assert(uv.fs_readfile("/proc/self/status"))
  assert(status:match("^Name:") and status:match("VmRSS"), status)
  local r, err, name = uv.fs_readfile(dir .. "/missing")
  assert(r == nil and name == "ENOENT" and err:match("^ENOENT: .*missing$"), err)
  r, err, name = uv.fs_readfile(dir)
  assert(r == nil and name == "EISDIR", err)
  -- max: a bigger file, or a device without an end, gives EFBIG.
  assert(uv.fs_readfile(path, #data) == data)
  r, err, name = uv.fs_readfile(path, #data - 1)
  assert(r == nil and name == "EFBIG", err)
  r, err, name = uv.fs_readfile("/dev/zero", 100000)
  assert(r == nil and name == "EFBIG", err)
  uv.fs_readfile(path, expect(function(e, d) assert(e == nil and d == data) end))
  uv.fs_readfile(dir .. "/missing", 0, expect(function(e, d)
    assert(e:match("^ENOENT") and d == nil, tostring(e))
  end))
  T.raises("bad argument #1 to 'loom.fs_readfile'", uv.fs_readfile, {})
  T.raises("bad argument #2 to 'loom.fs_readfile' %(max must be", uv.fs_readfile, path, -1)
  T.raises("zero byte", uv.fs_readfile, path .. "\0x")
end)

T.run()
