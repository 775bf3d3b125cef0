-- bench/echo_cluster.lua WORKERS PORT: the TCP echo server of
-- bench/echo_net.lua (callback style) run by loom.cluster on WORKERS
-- worker processes sharing PORT (SO_REUSEPORT). Prints "ready" and the
-- worker pids once every worker listens.
local cluster = require "loom.cluster"
local net = require "loom.net"
local workers, port = tonumber(arg[1]), tonumber(arg[2])

if cluster.isWorker then
  net.createServer(function(sock)
    sock:on("data", function(d) sock:write(d) end)
    sock:on("error", function() end)
  end):listen{port = port, host = "127.0.0.1", backlog = 4096, reusePort = true}
  return
end

cluster.start{workers = workers, grace = 1000}
local listening, pids = 0, {}
cluster:on("listening", function(w)
  listening = listening + 1
  pids[#pids + 1] = w.pid
  if listening == workers then
    print("ready " .. table.concat(pids, " "))
    io.stdout:flush()
  end
end)
