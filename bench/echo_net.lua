-- bench/echo_net.lua STYLE PORT: the TCP echo server of the library
-- benchmarks, written with loom.net.
--   STYLE  "cb"   callback style: sock:on("data", ...) and sock:write
--          "co"   coroutine style: a task per connection, read() and write()
--          "idle" coroutine style that only reads (for the memory row)
local net = require "loom.net"
local uv = require "loom"
local style, port = arg[1], tonumber(arg[2])

local server
if style == "cb" then
  server = net.createServer(function(sock)
    sock:on("data", function(d) sock:write(d) end)
    sock:on("error", function() end)
  end)
elseif style == "co" or style == "idle" then
  server = net.createServer({task = true}, function(sock)
    while true do
      local d = sock:read()
      if not d then return end
      sock:write(d)
    end
  end)
else
  error("usage: echo_net.lua cb|co|idle PORT")
end
assert(server:listen(port, "127.0.0.1", 4096))
print("ready")
io.stdout:flush()
uv.run()
