-- examples/cluster.lua: one server process per CPU on one port.
--
--   loom examples/cluster.lua [PORT]      serve on PORT (default 7080)
--   loom examples/cluster.lua --self-test start two workers, send them
--                                         40 requests, stop
--
-- Each worker answers "hello from worker N". The primary starts the
-- workers, replaces one that crashes, and on Ctrl-C or SIGTERM lets
-- them finish what they accepted before it exits. A worker counts its
-- requests and reports the total to the primary when asked.
local cluster = require "loom.cluster"
local net = require "loom.net"

if cluster.isWorker then
  local served = 0
  local port = tonumber(os.getenv("PORT"))
  -- reusePort: every worker listens on the same port and the kernel
  -- spreads the connections. (Port 0 would give each its own port.)
  net.createServer({task = true}, function(sock)
    sock:readLine()
    served = served + 1
    sock:write("hello from worker " .. cluster.worker.id .. "\n")
    sock:finish()
  end):listen{port = port, host = "127.0.0.1", reusePort = true}
  cluster.worker:on("message", function(msg)
    if msg == "count" then cluster.worker:send({served = served}) end
  end)
  return
end

local self_test = arg[1] == "--self-test"
local port = tonumber(arg[1] or "7080")
if self_test then
  -- A free port, found by listening on port 0 once.
  local probe = net.createServer():listen(0, "127.0.0.1")
  port = probe:address().port
  probe:close()
end

cluster.start{workers = self_test and 2 or nil, env = {PORT = port}, grace = 5000}
cluster:on("exit", function(w, code, signal)
  print(("worker %d (pid %d) exited: %s"):format(w.id, w.pid, tostring(signal or code)))
end)
if not self_test then
  cluster:on("listening", function(w)
    print(("worker %d (pid %d) serves 127.0.0.1:%d"):format(w.id, w.pid, port))
  end)
  return
end

local task = require "loom.task"
local listening = 0
cluster:on("listening", function()
  listening = listening + 1
  if listening < 2 then return end
  task.spawn(function()
    for _ = 1, 40 do
      local s = assert(net.connect(port, "127.0.0.1"))
      s:write("hi\n")
      assert(s:readLine():match("^hello from worker %d$"))
      s:destroy()
    end
    -- Ask each worker for its count; the answers come as messages.
    local total, answers = 0, 0
    local done = task.event()
    cluster:on("message", function(w, msg)
      print(("worker %d served %d"):format(w.id, msg.served))
      total, answers = total + msg.served, answers + 1
      if answers == 2 then done:set() end
    end)
    cluster.broadcast("count")
    done:wait()
    assert(total == 40, "served " .. total)
    cluster.shutdown(function() print("self-test ok") end)
  end)
end)
