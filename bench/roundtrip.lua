-- bench/roundtrip.lua [N]: N tasks, each connecting to an echo server
-- (in the same process), sending 64 bytes, reading them back and
-- closing; all N at once. Prints the wall time and the peak RSS.
-- bench/roundtrip.js is the same with Node's net and async functions.
local net = require "loom.net"
local task = require "loom.task"
local uv = require "loom"
local N = tonumber(arg[1] or "10000")
local msg = ("m"):rep(64)

local server = net.createServer({task = true}, function(sock)
  local d = sock:read()
  if d then sock:write(d) end
end)
assert(server:listen(0, "127.0.0.1", 8192))
local port = server:address().port

local function peak_rss_kib()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return tonumber(kb) end
  end
end

task.spawn(function()
  local t0 = uv.hrtime()
  task.group(function(g)
    for _ = 1, N do
      g:spawn(function()
        local c = assert(net.connect(port, "127.0.0.1"))
        assert(c:write(msg))
        assert(c:read(64) == msg)
        c:close()
      end)
    end
  end)
  local ms = (uv.hrtime() - t0) / 1e6
  server:close()
  print(("loom %d round trips: %.0f ms, peak RSS %d KiB"):format(N, ms, peak_rss_kib()))
end)
