-- copy.lua: copies a file through one reused 64 KiB loom_buffer. Each
-- chunk is read into the buffer and written out of it with no Lua string
-- in between (no allocation and no copy per chunk); the short last chunk
-- is written through a slice, which shares the buffer's bytes.
--   loom examples/copy.lua SRC DST     copy SRC to DST, print the rate
--   loom examples/copy.lua --self-test copy a 3.3 MB file and compare
local uv = require "loom"

local function copy(src_path, dst_path, on_done)
  local src = assert(uv.fs_open(src_path, "r"))
  local dst = assert(uv.fs_open(dst_path, "w", 420))
  local buffer = uv.new_buffer(65536)
  local offset = 0
  local function finish(err)
    uv.fs_close(src)
    uv.fs_close(dst)
    on_done(err, offset)
  end
  local function step()
    uv.fs_read(src, buffer, offset, function(err, n)
      if err or n == 0 then return finish(err) end
      local chunk = n == #buffer and buffer or buffer:slice(1, n)
      uv.fs_write(dst, chunk, offset, function(werr)
        if werr then return finish(werr) end
        offset = offset + n
        step()
      end)
    end)
  end
  step()
end

if arg[1] == "--self-test" then
  local dir = assert(uv.fs_mkdtemp("/tmp/loom-copy-XXXXXX"))
  local lines = {}
  for i = 1, 100000 do lines[i] = ("line %09d: loom copies this\n"):format(i) end
  local data = table.concat(lines)
  local fd = assert(uv.fs_open(dir .. "/src", "w", 420))
  assert(uv.fs_write(fd, data) == #data)
  uv.fs_close(fd)
  copy(dir .. "/src", dir .. "/dst", function(err, bytes)
    assert(not err, err)
    local check = assert(uv.fs_open(dir .. "/dst", "r"))
    local copied = assert(uv.fs_read(check, #data + 1, 0))
    uv.fs_close(check)
    assert(bytes == #data and copied == data, "the copy differs")
    print(("copied %d bytes exactly"):format(bytes))
    os.execute("rm -rf '" .. dir .. "'")
  end)
else
  assert(arg[1] and arg[2], "usage: loom examples/copy.lua SRC DST")
  local t0 = uv.hrtime()
  copy(arg[1], arg[2], function(err, bytes)
    if err then
      io.stderr:write(err, "\n")
      os.exit(1)
    end
    local seconds = (uv.hrtime() - t0) / 1e9
    print(("%d bytes in %.3f s (%.0f MB/s)"):format(bytes, seconds,
      bytes / seconds / 1e6))
  end)
end
uv.run()
