-- utf16.lua: prints a UTF-16 text file (a Windows export, say) as UTF-8.
-- The byte-order mark says in which order the file keeps its 16-bit
-- units; they are put in this machine's order, then uv.utf16_to_wtf8
-- converts them. An unpaired surrogate, which UTF-8 cannot hold, comes
-- out in WTF-8's three bytes and is reported rather than lost.
--   loom examples/utf16.lua FILE         print FILE as UTF-8
--   loom examples/utf16.lua --self-test  convert files made here, compare
local uv = require "loom"

local NATIVE_LE = string.pack("=I2", 1) == "\1\0"
local BOM_LE, BOM_BE = "\255\254", "\254\255"

local function swap_bytes(s)
  return (s:gsub("(.)(.)", "%2%1"))
end

-- Calls on_done(err, text, clean): the file's text as WTF-8, and whether
-- it is plain UTF-8 (no unpaired surrogate).
local function read_utf16(path, on_done)
  uv.fs_open(path, "r", function(err, fd)
    if err then return on_done(err) end
    uv.fs_fstat(fd, function(serr, st)
      if serr then uv.fs_close(fd) return on_done(serr) end
      uv.fs_read(fd, st.size, 0, function(rerr, data)
        uv.fs_close(fd)
        if rerr then return on_done(rerr) end
        local mark = data:sub(1, 2)
        -- Without a mark, little-endian: what Windows writes.
        local little = mark ~= BOM_BE
        if mark == BOM_LE or mark == BOM_BE then data = data:sub(3) end
        if #data % 2 ~= 0 then
          return on_done(path .. ": an odd number of bytes is not UTF-16")
        end
        if little ~= NATIVE_LE then data = swap_bytes(data) end
        local text = uv.utf16_to_wtf8(data)
        on_done(nil, text, utf8.len(text) ~= nil)
      end)
    end)
  end)
end

local function self_test()
  local dir = assert(uv.fs_mkdtemp(uv.os_tmpdir() .. "/loom-utf16-XXXXXX"))
  local text = "héllo, 世界 \u{1F600}\r\nline two\r\n"
  local native = assert(uv.wtf8_to_utf16(text))
  local le = NATIVE_LE and native or swap_bytes(native)
  local be = NATIVE_LE and swap_bytes(native) or native
  local lone = string.pack("<I2I2", 0x41, 0xD800) -- "A" and a lone surrogate
  local files = {
    {"le.txt", BOM_LE .. le, text, true},
    {"be.txt", BOM_BE .. be, text, true},
    {"nobom.txt", le, text, true},
    {"lone.txt", lone, "A\xED\xA0\x80", false},
  }
  local pending = #files
  for _, f in ipairs(files) do
    local path = dir .. "/" .. f[1]
    local fd = assert(uv.fs_open(path, "w", 384))
    assert(uv.fs_write(fd, f[2]))
    uv.fs_close(fd)
    read_utf16(path, function(err, got, clean)
      assert(not err, err)
      assert(got == f[3] and clean == f[4], f[1])
      print(("%-10s %2d bytes of UTF-16 -> %2d bytes%s"):format(
        f[1], #f[2], #got, clean and "" or " (with an unpaired surrogate)"))
      assert(uv.fs_unlink(path))
      pending = pending - 1
      if pending == 0 then assert(uv.fs_rmdir(dir)) end
    end)
  end
  uv.run()
  assert(pending == 0)
  print("self-test passed")
end

if arg[1] == "--self-test" then
  self_test()
elseif arg[1] then
  read_utf16(arg[1], function(err, text, clean)
    if err then
      io.stderr:write(tostring(err), "\n")
      os.exit(1)
    end
    io.write(text)
    if not clean then
      io.stderr:write("note: unpaired surrogates, written as WTF-8\n")
    end
  end)
  uv.run()
else
  io.stderr:write("usage: loom utf16.lua FILE | --self-test\n")
  os.exit(2)
end
