-- watch.lua: print what changes under a directory, as it happens.
-- fs_event watches the whole tree through inotify (new subdirectories
-- included); fs_poll watches one file by stat, which also works on file
-- systems that send no notifications (NFS, /proc).
--   loom examples/watch.lua DIR [FILE]   watch DIR (and poll FILE) until ^C
--   loom examples/watch.lua --self-test  make changes in a temporary tree
local uv = require "loom"

local function watch_tree(dir, on_event)
  local h = uv.new_fs_event()
  assert(h:start(dir, {recursive = true}, function(err, name, events)
    -- EOVERFLOW: the kernel dropped events; a real tool would rescan.
    if err then return io.stderr:write("watch: ", err, "\n") end
    on_event(events.rename and "rename" or "change", name)
  end))
  return h
end

local function poll_file(file, on_change)
  local h = uv.new_fs_poll()
  assert(h:start(file, 100, function(err, prev, curr)
    if err then return io.stderr:write("poll: ", err, "\n") end
    on_change(prev.size, curr.size)
  end))
  return h
end

if arg[1] ~= "--self-test" then
  local dir = assert(arg[1], "usage: loom watch.lua DIR [FILE]")
  watch_tree(dir, function(kind, name) print(kind, name) end)
  if arg[2] then
    poll_file(arg[2], function(a, b) print("size", a, "->", b) end)
  end
  local sigint = uv.new_signal()
  sigint:start("sigint", function() uv.walk(function(h) h:close() end) end)
  return
end

-- Self-test: a tree, a few changes in it, and every change heard.
local dir = assert(uv.fs_mkdtemp("/tmp/loom-watch-XXXXXX"))
local log = dir .. "/log.txt"
assert(uv.fs_mkdir(dir .. "/src", 493))
local heard, want = {}, {["rename:src/new"] = true, ["rename:src/new/a.lua"] = true}
local watcher, poller, stop_all

local function write(path, text)
  local fd = assert(uv.fs_open(path, "a", 420))
  assert(uv.fs_write(fd, text))
  assert(uv.fs_close(fd))
end

local function check_done()
  for key in pairs(want) do
    if not heard[key] then return end
  end
  if heard.size then stop_all("ok") end
end

watcher = watch_tree(dir, function(kind, name)
  print(kind, name)
  heard[kind .. ":" .. name] = true
  if name == "src/new" then write(dir .. "/src/new/a.lua", "return 1\n") end
  check_done()
end)
write(log, "start\n")
poller = poll_file(log, function(before, after)
  print("log.txt grew", before, "->", after)
  heard.size = true
  check_done()
end)

local guard = uv.new_timer()
function stop_all(result)
  watcher:close()
  poller:close()
  guard:close()
  os.execute("rm -rf '" .. dir .. "'")
  print("self-test", result)
  if result ~= "ok" then os.exit(1) end
end
guard:start(5000, 0, function() stop_all("timed out") end)

-- Give the poll its first look, then change things.
local later = uv.new_timer()
later:start(150, 0, function()
  later:close()
  assert(uv.fs_mkdir(dir .. "/src/new", 493))
  write(log, "more\n")
end)
