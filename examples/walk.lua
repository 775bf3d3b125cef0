-- walk.lua: a concurrent directory walk. Every directory is listed with
-- an asynchronous fs_scandir and every file measured with fs_lstat, all
-- on the thread pool at once; the loop only gathers the answers. Prints
-- the number of files and directories and the total size, like `du -sb`.
--   loom examples/walk.lua [DIR]         walk DIR (default: the current one)
--   loom examples/walk.lua --self-test   build a small tree, walk it, check
local uv = require "loom"

local function walk(root, on_done)
  local pending, files, dirs, bytes = 0, 0, 0, 0
  local function finish_one()
    pending = pending - 1
    if pending == 0 then on_done(files, dirs, bytes) end
  end
  local visit_dir
  local function visit_entry(path)
    pending = pending + 1
    uv.fs_lstat(path, function(err, st)
      if err then
        io.stderr:write(err, "\n")
      elseif st.type == "directory" then
        visit_dir(path)
      else
        files = files + 1
        bytes = bytes + st.size
      end
      finish_one()
    end)
  end
  function visit_dir(path)
    dirs = dirs + 1
    pending = pending + 1
    uv.fs_scandir(path, function(err, req)
      if err then
        io.stderr:write(err, "\n")
      else
        for name in uv.fs_scandir_next, req do
          visit_entry(path .. "/" .. name)
        end
      end
      finish_one()
    end)
  end
  visit_dir(root)
end

if arg[1] == "--self-test" then
  -- Three levels, 3 files per directory of 10 bytes each.
  local root = assert(uv.fs_mkdtemp("/tmp/loom-walk-XXXXXX"))
  local function build(dir, depth)
    for i = 1, 3 do
      local fd = assert(uv.fs_open(dir .. "/f" .. i, "w", 420))
      uv.fs_write(fd, "0123456789")
      uv.fs_close(fd)
    end
    if depth < 3 then
      for i = 1, 2 do
        assert(uv.fs_mkdir(dir .. "/d" .. i, 493))
        build(dir .. "/d" .. i, depth + 1)
      end
    end
  end
  build(root, 1)
  walk(root, function(files, dirs, bytes)
    print(("%d files, %d directories, %d bytes"):format(files, dirs, bytes))
    assert(dirs == 7 and files == 21 and bytes == 210)
    os.execute("rm -rf '" .. root .. "'")
  end)
else
  local root = arg[1] or "."
  local t0 = uv.hrtime()
  walk(root, function(files, dirs, bytes)
    print(("%d files, %d directories, %d bytes in %.3f s"):format(
      files, dirs, bytes, (uv.hrtime() - t0) / 1e9))
  end)
end
uv.run()
