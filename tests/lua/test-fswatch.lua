-- test-fswatch.lua: luv's fs_event and fs_poll sections. Real files in a
-- fresh temporary directory per test; every wait is bounded by a timer.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local function tmpdir()
  local dir = assert(uv.fs_mkdtemp("/tmp/loom-fsw-XXXXXX"))
  T.after(function()
    assert(dir:match("^/tmp/loom%-fsw%-"))
    os.execute("rm -rf " .. T.q(dir))
  end)
  return dir
end

local function write_file(path, data, flags)
  local fd = assert(uv.fs_open(path, flags or "w", 420))
  assert(uv.fs_write(fd, data) == #data)
  assert(uv.fs_close(fd))
end

-- A failsafe: fails the test and runs give_up() if the test is still
-- waiting after ms; returns a function that cancels it.
local function deadline(ms, what, give_up)
  local t = uv.new_timer()
  t:start(ms, 0, function()
    t:close()
    T.fail("timed out waiting for " .. what)
    give_up()
  end)
  return function() if not t:is_closing() then t:close() end end
end

-- Watches path with a new fs_event handle, runs act(), and collects
-- events until every wanted "kind:name" was seen (kind is rename or
-- change); then closes the handle and calls done(seen) with the set of
-- every "kind:name" seen.
local function watch_until(path, flags, want, act, done)
  local h = uv.new_fs_event()
  local seen, missing = {}, {}
  for _, w in ipairs(want) do missing[w] = true end
  local cancel
  local function finish()
    cancel()
    h:close()
    done(seen)
  end
  cancel = deadline(5000, table.concat(want, ", "), function()
    if not h:is_closing() then h:close() end
  end)
  assert(h:start(path, flags, function(err, name, events)
    assert(err == nil, err)
    assert(type(name) == "string")
    assert(events.rename or events.change, "an event with no kind")
    for kind in pairs(events) do
      local key = kind .. ":" .. name
      seen[key] = true
      missing[key] = nil
    end
    if next(missing) == nil and not h:is_closing() then finish() end
  end) == 0)
  act()
end

test("fs_event on a directory: create, modify, rename, delete", function(expect)
  local dir = tmpdir()
  write_file(dir .. "/old", "x")
  watch_until(dir, {}, {"rename:new", "change:new", "rename:old",
                        "rename:moved", "rename:old2"},
    function()
      write_file(dir .. "/new", "hello")
      assert(uv.fs_rename(dir .. "/old", dir .. "/moved"))
      write_file(dir .. "/old2", "y")
      assert(uv.fs_unlink(dir .. "/old2"))
    end,
    expect(function(seen)
      -- Nothing outside the directory's own entries is named.
      for key in pairs(seen) do
        assert(key:match(":(.*)$"):find("/") == nil, key)
      end
    end))
end)

test("fs_event on a file reports its own name", function(expect)
  local dir = tmpdir()
  local file = dir .. "/watched.txt"
  write_file(file, "a")
  watch_until(file, nil, {"change:watched.txt"}, function()
    write_file(file, "more", "a")
  end, expect())
end)

test("fs_event getpath, double start, missing path, stop", function()
  local dir = tmpdir()
  local h = uv.new_fs_event()
  local v, msg, code = h:getpath()
  assert(v == nil and code == "EINVAL", msg)
  assert(h:start(dir, {}, function() end) == 0)
  assert(h:getpath() == dir)
  assert(uv.fs_event_getpath(h) == dir)
  assert(h:is_active())
  v, msg, code = h:start(dir, {}, function() end)
  assert(v == nil and code == "EINVAL", msg)
  assert(h:stop() == 0)
  assert(not h:is_active())
  v, msg, code = h:getpath()
  assert(v == nil and code == "EINVAL")
  v, msg, code = h:start(dir .. "/missing", {}, function() end)
  assert(v == nil and code == "ENOENT", msg)
  assert(not h:is_active())
  -- Restartable after a failure and after a stop.
  assert(uv.fs_event_start(h, dir, {}, function() end) == 0)
  assert(uv.fs_event_stop(h) == 0)
  h:close()
end)

test("fs_event: handles sharing a watch, closed from inside a callback",
     function(expect)
  local dir = tmpdir()
  local handles = {}
  local calls = 0
  local cancel = deadline(5000, "the first event", function()
    for _, h in ipairs(handles) do
      if not h:is_closing() then h:close() end
    end
  end)
  for i = 1, 3 do
    local h = uv.new_fs_event()
    handles[i] = h
    assert(h:start(dir, {}, function()
      calls = calls + 1
      -- The first callback closes every handle on the watch, including
      -- the ones not yet called for this event: they must not be.
      for _, o in ipairs(handles) do
        if not o:is_closing() then o:close() end
      end
      cancel()
    end) == 0)
  end
  write_file(dir .. "/f", "x")
  T.after(function() assert(calls == 1, "callbacks: " .. calls) end)
  -- One independent handle on the same directory keeps hearing events.
  watch_until(dir, {}, {"rename:g"}, function()
    write_file(dir .. "/g", "y")
  end, expect())
end)

test("fs_event recursive: existing and new subdirectories", function()
  local dir = tmpdir()
  assert(uv.fs_mkdir(dir .. "/a", 493))
  assert(uv.fs_mkdir(dir .. "/a/b", 493))
  local h = uv.new_fs_event()
  local step = 0
  local cancel = deadline(5000, "recursive events", function() h:close() end)
  assert(h:start(dir, {recursive = true}, function(err, name, ev)
    assert(err == nil)
    if step == 0 and name == "a/b/deep.txt" then
      -- A file in a directory that existed before the start.
      step = 1
      assert(uv.fs_mkdir(dir .. "/a/new", 493))
    elseif step == 1 and name == "a/new" and ev.rename then
      -- The new directory is watched before this callback: a file made
      -- in it right now is seen.
      step = 2
      write_file(dir .. "/a/new/late.txt", "z")
    elseif step == 2 and name == "a/new/late.txt" then
      step = 3
      -- A directory moved out of the tree is forgotten.
      assert(uv.fs_rename(dir .. "/a/new", dir .. "/../" .. dir:match("[^/]+$") .. "-out"))
    elseif step == 3 and name == "a/new" then
      step = 4
      cancel()
      h:close()
    end
  end) == 0)
  T.after(function()
    os.execute("rm -rf " .. T.q(dir .. "-out"))
    assert(step == 4, "stopped at step " .. step)
  end)
  write_file(dir .. "/a/b/deep.txt", "d")
end)

-- Makes root/a/a/.../a, depth levels below root; returns the deepest.
local function chain(root, depth)
  local path = root
  for _ = 1, depth do
    path = path .. "/a"
    assert(uv.fs_mkdir(path, 493))
  end
  return path
end

test("fs_event recursive: trees a thousand levels deep", function()
  -- The walk once recursed with two PATH_MAX buffers per level: 1,500
  -- levels overflowed the stack. Both walks are checked: the one at
  -- start and the one that follows a deep tree moved into the watch.
  local dir = tmpdir()
  assert(uv.fs_mkdir(dir .. "/w", 493))
  assert(uv.fs_mkdir(dir .. "/x", 493))
  local deepest = chain(dir .. "/w", 1500)
  local moved_deepest = chain(dir .. "/x", 500)
  local h = uv.new_fs_event()
  local step = 0
  local cancel = deadline(10000, "events deep down", function() h:close() end)
  local first = ("a/"):rep(1500) .. "f.txt"
  local second = "m/" .. ("a/"):rep(499) .. "g.txt"
  assert(h:start(dir .. "/w", {recursive = true}, function(err, name, ev)
    assert(err == nil, err)
    if step == 0 and name == first then
      step = 1
      assert(uv.fs_rename(dir .. "/x/a", dir .. "/w/m"))
    elseif step == 1 and name == "m" and ev.rename then
      -- Moved in: its 500 levels are watched before this callback.
      step = 2
      write_file(dir .. "/w/m" .. moved_deepest:sub(#dir + 5) .. "/g.txt", "g")
    elseif step == 2 and name == second then
      step = 3
      cancel()
      h:close()
    end
  end) == 0)
  T.after(function() assert(step == 3, "stopped at step " .. step) end)
  write_file(deepest .. "/f.txt", "f")
end)

test("fs_event: an overflowing kernel queue is reported once to each handle", function(expect)
  local limit = 16384
  local f = io.open("/proc/sys/fs/inotify/max_queued_events")
  if f then limit = tonumber(f:read("l")) or limit; f:close() end
  assert(limit <= 200000, "max_queued_events is too high for this test: " .. limit)
  local dir = tmpdir()
  local a, b, stopped = uv.new_fs_event(), uv.new_fs_event(), uv.new_fs_event()
  local overflows = {a = 0, b = 0}
  local cancel
  local function check_done()
    if overflows.a >= 1 and overflows.b >= 1 then
      cancel()
      a:close(); b:close(); stopped:close()
    end
  end
  local function on(name)
    return function(err, filename)
      if err then
        assert(err == "EOVERFLOW", err)
        assert(filename == nil)
        overflows[name] = overflows[name] + 1
        assert(overflows[name] == 1, name .. " told twice")
        check_done()
      end
    end
  end
  assert(a:start(dir, {}, on("a")))
  assert(b:start(dir, {}, on("b")))
  assert(stopped:start(dir, {}, function(err) error("a stopped handle heard " .. tostring(err)) end))
  assert(stopped:stop())
  -- More events than the kernel queues, made before the loop reads any.
  for i = 1, limit + 500 do
    local file = assert(io.open(dir .. "/f" .. i, "w"))
    file:close()
  end
  -- Reading the ~16k queued events before the overflow marker took over
  -- 10 s under ASan on a machine busy with a second test run: the bound
  -- is generous, and the test ends as soon as both handles are told.
  cancel = deadline(30000, "the overflow", function()
    a:close(); b:close(); stopped:close()
  end)
  uv.run()
  assert(overflows.a == 1 and overflows.b == 1)
end)

test("fs_poll sees a change with prev and curr stats", function(expect)
  local dir = tmpdir()
  local file = dir .. "/polled"
  write_file(file, "1")
  local h = uv.new_fs_poll()
  local t = uv.new_timer()
  local cancel = deadline(5000, "fs_poll change", function() h:close() t:close() end)
  assert(h:start(file, 10, expect(function(err, prev, curr)
    assert(err == nil, err)
    assert(prev.size >= 1 and curr.size > prev.size, prev.size .. " " .. curr.size)
    assert(curr.type == "file" and math.type(curr.mtime.sec) == "integer", tostring(curr.type) .. " " .. tostring(curr.mtime.sec))
    assert(h:getpath() == file)
    cancel()
    h:close()
    t:close()
  end)) == 0)
  assert(uv.fs_poll_getpath(h) == file)
  -- The first stat is only remembered, and when it completes depends on
  -- the pool (slow under sanitizers): grow the file until a poll sees it.
  -- Appending, so no stat can see the file truncated between two sizes.
  t:start(50, 50, function()
    write_file(file, "x", "a")
  end)
end)

test("fs_poll: a missing file reports once, then its creation", function(expect)
  local dir = tmpdir()
  local file = dir .. "/later"
  local h = uv.new_fs_poll()
  local step = 0
  local cancel = deadline(5000, "fs_poll creation", function() h:close() end)
  assert(h:start(file, 5, expect(function(err, prev, curr)
    step = step + 1
    if step == 1 then
      assert(err == "ENOENT", tostring(err))
      assert(prev.size == 0 and prev.ino == 0 and curr.ino == 0)
      -- Several more polls fail the same way before the file exists;
      -- they are not reported again.
      local t = uv.new_timer()
      t:start(60, 0, function()
        t:close()
        -- Made whole under another name and renamed into place: a poll
        -- between the create and the write would see it empty.
        write_file(file .. ".tmp", "now")
        assert(uv.fs_rename(file .. ".tmp", file))
      end)
    else
      assert(err == nil, err)
      assert(prev.ino == 0 and curr.size == 3)
      cancel()
      h:close()
    end
  end, 2)) == 0)
end)

test("fs_poll stopped and closed with a stat in flight", function()
  local dir = tmpdir()
  for i = 1, 50 do
    local h = uv.new_fs_poll()
    assert(h:start(dir, 1, function() end) == 0)
    if i % 2 == 0 then
      assert(h:stop() == 0)
      assert(not h:is_active())
      -- Restart at once: a new poll, the old stat finishes on its own.
      assert(h:start(dir, 1, function() end) == 0)
    end
    h:close()
  end
  local h = uv.new_fs_poll()
  local v, msg, code = h:getpath()
  assert(v == nil and code == "EINVAL", msg)
  h:close()
end)

test("fs_event and fs_poll torn down with the state", function()
  local code = [[
    local uv = require "loom"
    local dir = assert(uv.fs_mkdtemp("/tmp/loom-fsw-XXXXXX"))
    local e = uv.new_fs_event()
    assert(e:start(dir, {recursive = true}, function() end) == 0)
    for i = 1, 20 do
      local p = uv.new_fs_poll()
      assert(p:start(dir, 1, function() end) == 0)
    end
    uv.run("nowait")
    os.execute("rm -rf " .. dir)
    print("done")
    io.stdout:flush()
    os.exit(0, true)
  ]]
  local out, err, status = T.loom(code)
  assert(status == 0 and out == "done\n", err)
  out, err, status = T.plain_lua(code)
  if out then assert(status == 0 and out == "done\n", err) end
end)

test("fs_event and fs_poll argument errors", function()
  local e, p = uv.new_fs_event(), uv.new_fs_poll()
  local raises = T.raises
  raises("bad argument #1", uv.fs_event_start, p, "/tmp", {}, print)
  raises("bad argument #2", e.start, e, 42 == 0, {}, print)
  raises("bad argument #3", e.start, e, "/tmp", "recursive", print)
  raises("bad argument #4", e.start, e, "/tmp", {}, 7)
  raises("zero byte", e.start, e, "/tmp\0x", {}, print)
  raises("bad argument #1", uv.fs_poll_start, e, "/tmp", 10, print)
  raises("bad argument #3", p.start, p, "/tmp", "fast", print)
  raises("bad argument #3", p.start, p, "/tmp", -1, print)
  raises("bad argument #4", p.start, p, "/tmp", 10)
  raises("bad argument #1", uv.fs_poll_getpath, "x")
  e:close()
  p:close()
  -- A closing handle refuses to start; a closed one is a Lua error.
  local v, _, code = e:start("/tmp", {}, print)
  assert(v == nil and code == "EINVAL")
  v, _, code = p:start("/tmp", 10, print)
  assert(v == nil and code == "EINVAL")
  uv.run()
  -- Closed: answers as luv's (an error, or no path), never a raise.
  v, _, code = e:start("/tmp", {}, print)
  assert(v == nil and code == "EINVAL")
  assert(not uv.loop_alive())
  local path = p:getpath()
  assert(path == nil or type(path) == "string")
end)

T.run()
