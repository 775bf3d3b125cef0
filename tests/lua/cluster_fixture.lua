-- A cluster for test-lib-cluster.lua. The primary prints one line per
-- event; each worker serves TCP on $PORT (SO_REUSEPORT):
--   "slow\n"  -> "got\n", then after $DELAY ms "done ID PID\n" and close
--   any line  -> "ID PID WELCOME\n" (WELCOME: the primary's reply to the
--                worker's hello message)
-- CLUSTER_MODE=crash makes every worker exit with code 3 at once;
-- CLUSTER_MODE=stuck makes "slow" never finish (the grace period ends it).
local cluster = require "loom.cluster"
local uv = require "loom"
io.stdout:setvbuf("line")
local env = os.getenv

if cluster.isPrimary then
  cluster:on("listening", function(w, a) print("listening", w.id, w.pid, a.port) end)
  cluster:on("exit", function(w, code, sig) print("exit", w.id, w.pid, code, sig) end)
  cluster:on("restart", function(id, delay) print("restart", id, delay) end)
  cluster:on("message", function(w, msg)
    print("message", w.id, msg.text)
    w:send({welcome = "hi-" .. w.id})
  end)
  cluster:on("shutdown", function() print("shutdown") end)
  cluster:on("stopped", function() print("stopped") end)
  cluster.start{workers = tonumber(env("WORKERS") or "2"),
                grace = tonumber(env("GRACE") or "5000"),
                backoff = 100, maxBackoff = 400}
  print("primary", uv.os_getpid())
  return
end

local net = require "loom.net"
local task = require "loom.task"
local mode = env("CLUSTER_MODE") or "serve"
if mode == "crash" then os.exit(3) end

if mode == "http" then
  -- loom.http in a worker: keep-alive connections that sit idle must not
  -- hold the drain until the grace period ends.
  local http = require "loom.http"
  local srv = http.createServer(function(req, res)
    res:finish(("%d %d %s"):format(cluster.worker.id, cluster.worker.pid, req.url))
  end)
  cluster.worker:once("message", function()
    assert(srv:listen{port = tonumber(env("PORT")), host = "127.0.0.1", reusePort = true})
  end)
  cluster.worker:send({text = "hello from " .. cluster.worker.id})
  return
end

local welcome = "-"
cluster.worker:on("message", function(msg) welcome = msg.welcome end)
cluster.worker:send({text = "hello from " .. cluster.worker.id})

local server = net.createServer({task = true}, function(sock)
  local line = sock:readLine()
  if line == "slow" then
    sock:write("got\n")
    if mode == "stuck" then task.sleep(1e9) end
    task.sleep(tonumber(env("DELAY") or "300"))
    sock:write(("done %d %d\n"):format(cluster.worker.id, cluster.worker.pid))
  elseif line then
    sock:write(("%d %d %s\n"):format(cluster.worker.id, cluster.worker.pid, welcome))
  end
  sock:finish()
end)
-- The first hello is answered before the server listens, so every
-- connection sees the welcome.
cluster.worker:once("message", function()
  assert(server:listen{port = tonumber(env("PORT")), host = "127.0.0.1", reusePort = true})
end)
