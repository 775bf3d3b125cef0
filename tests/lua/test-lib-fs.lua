-- test-lib-fs.lua: loom.fs in its three forms (callback, coroutine,
-- sync), streams with ranges and backpressure, watch.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local fs = require "loom.fs"
local task = require "loom.task"

test("sync form (outside a task): whole files, directories, errors", function()
  local dir = T.tmpdir()
  assert(fs.writeFile(dir .. "/a", "hello") == true)
  assert(fs.appendFile(dir .. "/a", {" ", "world"}) == true)
  assert(fs.readFile(dir .. "/a") == "hello world")
  local none, err, name = fs.readFile(dir .. "/missing")
  assert(none == nil and name == "ENOENT" and err:match("^ENOENT: .*missing$"), err)
  assert(fs.exists(dir .. "/a") == true and fs.exists(dir .. "/missing") == false)
  assert(fs.mkdir(dir .. "/x/y/z", {recursive = true}) == true)
  assert(fs.mkdir(dir .. "/x/y/z", {recursive = true}) == true) -- exists: fine
  assert(select(3, fs.mkdir(dir .. "/x")) == "EEXIST")
  assert(select(3, fs.mkdir(dir .. "/p/q")) == "ENOENT")
  local names = fs.readdir(dir)
  table.sort(names)
  assert(table.concat(names, ",") == "a,x")
  local typed = fs.readdir(dir, {withFileTypes = true})
  table.sort(typed, function(p, q) return p.name < q.name end)
  assert(typed[1].type == "file" and typed[2].type == "directory")
  assert(fs.stat(dir .. "/a").size == 11 and fs.lstat(dir .. "/a").type == "file")
  assert(fs.rename(dir .. "/a", dir .. "/b") == true and fs.copyFile(dir .. "/b", dir .. "/c") == true)
  assert(fs.symlink(dir .. "/c", dir .. "/l") == true)
  assert(fs.readlink(dir .. "/l") == dir .. "/c" and fs.realpath(dir .. "/l") == fs.realpath(dir .. "/c"))
  assert(fs.chmod(dir .. "/c", 384) == true and fs.stat(dir .. "/c").mode & 511 == 384)
  local tmp = assert(fs.mkdtemp(dir .. "/t-"))
  assert(tmp:match("/t%-......$") and fs.stat(tmp).type == "directory")
  -- rm: a link, not its target; a tree with recursive; force for missing.
  assert(fs.rm(dir .. "/l") == true and fs.exists(dir .. "/c"))
  assert(select(3, fs.rm(dir .. "/x")) == "EISDIR" or select(3, fs.rm(dir .. "/x")) == "ENOTEMPTY")
  assert(fs.rm(dir .. "/x", {recursive = true}) == true and not fs.exists(dir .. "/x"))
  assert(fs.rm(dir .. "/missing", {force = true}) == true)
  assert(select(3, fs.rm(dir .. "/missing")) == "ENOENT")
  T.raises("path string expected", fs.readFile, 42)
  T.raises("string or array of strings expected", fs.writeFile, dir .. "/q", 42)
end)

test("callback form: cb(err, result) on a later turn", function(expect, uv)
  local dir = T.tmpdir()
  local order = {}
  fs.writeFile(dir .. "/f", "data", expect(function(err, ok)
    order[#order + 1] = "written"
    assert(err == nil and ok == true)
    fs.readFile(dir .. "/f", expect(function(rerr, data)
      assert(rerr == nil and data == "data")
      fs.readFile(dir .. "/none", expect(function(e, d)
        assert(d == nil and e:match("^ENOENT"))
      end))
      fs.readdir(dir, expect(function(e, list) assert(e == nil and list[1] == "f") end))
      fs.stat(dir .. "/f", expect(function(e, st) assert(e == nil and st.size == 4) end))
      fs.exists(dir .. "/f", expect(function(e, yes) assert(e == nil and yes == true) end))
    end))
  end))
  order[#order + 1] = "called"
  uv.run()
  assert(order[1] == "called")
end)

task_test("coroutine form: the task waits, the loop goes on", function(expect, uv)
  local dir = T.tmpdir()
  local ticks = 0
  local idle = uv.new_idle()
  idle:start(function() ticks = ticks + 1 end)
  local big = ("0123456789abcdef"):rep(1 << 16) -- 1 MiB
  assert(fs.writeFile(dir .. "/big", big) == true)
  assert(fs.readFile(dir .. "/big") == big)
  assert(fs.mkdir(dir .. "/deep/er/est", {recursive = true}))
  assert(fs.writeFile(dir .. "/deep/er/file", "x"))
  assert(fs.rm(dir .. "/deep", {recursive = true}) == true)
  assert(not fs.exists(dir .. "/deep"))
  local none, err, name = fs.stat(dir .. "/nope")
  assert(none == nil and name == "ENOENT", err)
  idle:close()
  assert(ticks > 0, "the loop did not run while the task waited")
end)

task_test("reading /proc files (size 0) and files that grow", function()
  local status = assert(fs.readFile("/proc/self/status"))
  assert(status:match("^Name:"))
  local b = assert(fs.readFile("/proc/self/status", {buffer = true}))
  assert(b:sub(1, 5) == "Name:")
end)

test("readFile{buffer = true} gives a loom_buffer, in all three forms", function(expect, uv)
  local dir = T.tmpdir()
  local data = ("0123456789"):rep(100000) -- 1 MB
  assert(fs.writeFile(dir .. "/f", data))
  local b = assert(fs.readFile(dir .. "/f", {buffer = true}))
  assert(#b == #data and b:sub() == data)
  fs.readFile(dir .. "/f", {buffer = true}, expect(function(err, cb_buf)
    assert(err == nil and #cb_buf == #data and cb_buf:sub(999991, 1000000) == "0123456789")
  end))
  task.spawn(expect(function()
    local tb = assert(fs.readFile(dir .. "/f", {buffer = true}))
    assert(#tb == #data)
    local none, e, name = fs.readFile(dir .. "/none", {buffer = true})
    assert(none == nil and name == "ENOENT", e)
  end))
  assert(#assert(fs.readFile(dir .. "/f", {buffer = true}):sub(1, 0)) == 0)
end)

task_test("streams: ranges, and a slow reader holds memory bounded", function(expect, uv)
  local dir = T.tmpdir()
  local w = fs.createWriteStream(dir .. "/n", {highWaterMark = 4096})
  for i = 1, 20000 do assert(w:write(("%06d\n"):format(i))) end
  assert(w:finish() == true)
  assert(fs.stat(dir .. "/n").size == 140000)
  local r = fs.createReadStream(dir .. "/n", {start = 7, ["end"] = 20})
  assert(r:readAll() == "000002\n000003\n")
  -- A reader that takes its time: the stream never holds more than its
  -- high-water mark plus one read.
  local slow = fs.createReadStream(dir .. "/n", {highWaterMark = 8192})
  local total, most = 0, 0
  while true do
    local chunk = slow:read()
    if not chunk then break end
    total = total + #chunk
    if slow._rlen > most then most = slow._rlen end
    task.yield()
  end
  assert(total == 140000 and most <= 2 * 8192, most)
  -- pipe between a read and a write stream.
  assert(require("loom.stream").pipeline(fs.createReadStream(dir .. "/n"),
                                         fs.createWriteStream(dir .. "/copy")) == true)
  assert(fs.readFile(dir .. "/copy") == fs.readFile(dir .. "/n"))
  -- Errors come through the stream.
  local bad = fs.createReadStream(dir .. "/absent")
  local d, e, name = bad:read()
  assert(d == nil and name == "ENOENT", e)
end)

test("watch: change events, close", function(expect, uv)
  local dir = T.tmpdir()
  local events = {}
  local w = assert(fs.watch(dir, function(event, filename)
    assert(event == "rename" or event == "change")
    events[#events + 1] = event .. ":" .. filename
  end))
  w:on("close", expect())
  local t = uv.new_timer()
  t:start(20, 0, function()
    fs.writeFile(dir .. "/new", "x", function()
      t:start(50, 0, function() t:close(); w:close() end)
    end)
  end)
  uv.run()
  -- Creating the file is a "rename"; writing it may add "change"s.
  assert(events[1] == "rename:new", table.concat(events, " "))
  for _, e in ipairs(events) do assert(e:match(":new$"), e) end
  local none, err, name = fs.watch(dir .. "/missing")
  assert(none == nil and name == "ENOENT", err)
end)

test("an error raised in an fs callback follows the loop's error policy", function(expect, uv)
  local got
  local old = uv.on_error(expect(function(err) got = err end))
  fs.readFile(T.dir .. "/tap.lua", function(err, data)
    assert(err == nil and #data > 0)
    error("raised in the readFile callback")
  end)
  uv.run()
  uv.on_error(old)
  assert(got:match("raised in the readFile callback"), got)
end)

T.run()
