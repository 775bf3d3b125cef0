-- bench/pool.lua MODULE WORKLOAD [ARG]: the thread-pool workloads of
-- bench/pool.sh, for loom or luv (same API). Prints the seconds taken.
--   stat N       N async fs_stat calls in flight at once
--   work N       N queue_work round trips with trivial work
--   read PATH    the file read sequentially in 64 KiB async fs_read calls
--   readbuf PATH the same into one reused 64 KiB loom_buffer (loom only;
--                the twin of Node's fs.read into a Buffer)
local uv = require(arg[1])
local workload, param = arg[2], arg[3]
local t0 = uv.hrtime()

local function done()
  io.write(string.format("%.4f\n", (uv.hrtime() - t0) / 1e9))
end

if workload == "stat" then
  local n, count = tonumber(param), 0
  local function on_stat(err)
    assert(not err, err)
    count = count + 1
    if count == n then done() end
  end
  for _ = 1, n do uv.fs_stat("/tmp", on_stat) end
elseif workload == "work" then
  local n, count = tonumber(param), 0
  local work = uv.new_work(function(i) return i end, function()
    count = count + 1
    if count == n then done() end
  end)
  for i = 1, n do uv.queue_work(work, i) end
elseif workload == "read" then
  local fd = assert(uv.fs_open(param, "r", 0))
  local offset, chunk = 0, 65536
  local function on_read(err, data)
    assert(not err, err)
    if #data == 0 then
      uv.fs_close(fd)
      return done()
    end
    offset = offset + #data
    uv.fs_read(fd, chunk, offset, on_read)
  end
  uv.fs_read(fd, chunk, 0, on_read)
elseif workload == "readbuf" then
  local fd = assert(uv.fs_open(param, "r", 0))
  local offset, buffer = 0, uv.new_buffer(65536)
  local function on_read(err, n)
    assert(not err, err)
    if n == 0 then
      uv.fs_close(fd)
      return done()
    end
    offset = offset + n
    uv.fs_read(fd, buffer, offset, on_read)
  end
  uv.fs_read(fd, buffer, 0, on_read)
else
  error("unknown workload " .. tostring(workload))
end
uv.run()
