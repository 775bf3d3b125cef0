-- test-lib-cluster.lua: loom.cluster with real processes (the primary and
-- workers of cluster_fixture.lua) and real TCP clients on 127.0.0.1.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local task_test = T.task_test
local cp = require "loom.child_process"
local net = require "loom.net"
local task = require "loom.task"
local uv = require "loom"
local cluster = require "loom.cluster"

local fixture = T.dir .. "/cluster_fixture.lua"

local function free_port()
  local s = net.createServer()
  assert(s:listen(0, "127.0.0.1"))
  local port = s:address().port
  s:close()
  return port
end

-- Starts the fixture's primary with env added; the result's expect(p)
-- reads the primary's lines until one matches the pattern p (at most
-- 10 s) and returns the captures.
local function start(env)
  local vars = uv.os_environ()
  for k, v in pairs(env) do vars[k] = tostring(v) end
  local child = cp.spawn(T.runner, {fixture}, {env = vars, stdio = {"ignore", "pipe", "inherit"}})
  assert(child.pid, "the primary did not start")
  local c = {child = child, lines = {}}
  function c:expect(pattern)
    local caps = table.pack(task.with_timeout(10000, function()
      while true do
        local line = child.stdout:readLine()
        if not line then return nil end
        self.lines[#self.lines + 1] = line
        local r = table.pack(line:match(pattern))
        if r[1] then return table.unpack(r, 1, r.n) end
      end
    end))
    assert(caps[1], "no line matching '" .. pattern .. "' in:\n" .. table.concat(self.lines, "\n"))
    return table.unpack(caps, 1, caps.n)
  end
  function c:count(pattern)
    local n = 0
    for _, l in ipairs(self.lines) do if l:match(pattern) then n = n + 1 end end
    return n
  end
  -- Both workers listening: {id = pid}.
  function c:ready(n)
    local pids = {}
    for _ = 1, n or 2 do
      local id, pid = self:expect("^listening\t(%d+)\t(%d+)")
      pids[tonumber(id)] = tonumber(pid)
    end
    return pids
  end
  -- SIGTERM to the primary; waits for "stopped" and a clean exit.
  function c:stop()
    assert(uv.kill(child.pid, "sigterm"))
    self:expect("^stopped$")
    local code, signal = child:wait(10000)
    assert(code == 0 and signal == nil, "primary exit " .. tostring(code) .. " " .. tostring(signal))
  end
  return c
end

local function gone(pid)
  local ok, _, name = uv.kill(pid, 0)
  return not ok and name == "ESRCH"
end

-- Waits (at most 5 s) until no process has the pid.
local function wait_gone(pid)
  for _ = 1, 500 do
    if gone(pid) then return true end
    task.sleep(10)
  end
  return false
end

local function ask(port, line)
  local s, cerr = net.connect(port, "127.0.0.1")
  if not s then return nil, cerr end
  s:write(line .. "\n")
  local reply, err = s:readLine()
  s:destroy()
  return reply, err
end

task_test("workers share one port; the load spreads; messages go both ways", function()
  local port = free_port()
  local c = start{PORT = port, WORKERS = 2}
  local pids = c:ready(2)
  assert(pids[1] and pids[2] and pids[1] ~= pids[2])
  assert(c:count("^message\t1\thello from 1$") == 1 and c:count("^message\t2\thello from 2$") == 1,
         table.concat(c.lines, "\n"))
  local served = {0, 0}
  for _ = 1, 100 do
    local reply = assert(ask(port, "hi"))
    local id, pid, welcome = reply:match("^(%d+) (%d+) (%S+)$")
    id = tonumber(id)
    assert(pids[id] == tonumber(pid), reply)
    -- The primary's answer to this worker's hello reached it.
    assert(welcome == "hi-" .. id, reply)
    served[id] = served[id] + 1
  end
  assert(served[1] > 0 and served[2] > 0, ("served %d / %d"):format(served[1], served[2]))
  c:stop()
  assert(wait_gone(pids[1]) and wait_gone(pids[2]))
end)

task_test("a killed worker is replaced under the same id, after a back-off", function()
  local port = free_port()
  local c = start{PORT = port, WORKERS = 2}
  local pids = c:ready(2)
  assert(uv.kill(pids[1], "sigkill"))
  local old = c:expect("^exit\t1\t(%d+)\tnil\tSIGKILL$")
  assert(tonumber(old) == pids[1])
  assert(c:expect("^restart\t1\t(%d+)$") == "100")
  local new = tonumber((c:expect("^listening\t1\t(%d+)")))
  assert(new ~= pids[1] and gone(pids[1]))
  -- The replacement serves: some connection reaches it.
  local reached = false
  for _ = 1, 200 do
    local reply = assert(ask(port, "hi"))
    if reply:match("^1 (%d+) ") == tostring(new) then reached = true; break end
  end
  assert(reached, "the new worker 1 never answered")
  c:stop()
  assert(wait_gone(new) and wait_gone(pids[2]))
end)

task_test("SIGTERM with requests in flight: every accepted request is answered", function()
  local port = free_port()
  local c = start{PORT = port, WORKERS = 2, DELAY = 400}
  local pids = c:ready(2)
  local clients = {}
  for i = 1, 20 do
    local s = net.connect(port, "127.0.0.1")
    s:write("slow\n")
    clients[i] = s
  end
  -- Every request has been accepted and started.
  for i = 1, 20 do assert(clients[i]:readLine() == "got") end
  assert(uv.kill(c.child.pid, "sigterm"))
  c:expect("^shutdown$")
  local by_worker = {}
  for i = 1, 20 do
    local line, err = clients[i]:readLine()
    assert(line, "request " .. i .. " lost: " .. tostring(err))
    local id, pid = line:match("^done (%d+) (%d+)$")
    assert(pids[tonumber(id)] == tonumber(pid), line)
    by_worker[id] = true
    assert(clients[i]:read() == nil)
    clients[i]:destroy()
  end
  c:expect("^stopped$")
  local code = c.child:wait(10000)
  if code ~= 0 then
    local ps = io.popen("ps -ef --forest | grep -v grep | grep -B2 -A3 cluster_fixture"):read("a")
    error("primary exit " .. tostring(code) .. " " .. tostring(select(2, c.child:wait(1))) ..
          " pid " .. c.child.pid .. " exited " .. tostring(c.child.exitCode) .. "\n" .. ps)
  end
  assert(wait_gone(pids[1]) and wait_gone(pids[2]))
  -- Nobody listens on the port any more.
  local reply, err = ask(port, "hi")
  assert(reply == nil and err:match("^ECONNREFUSED"), tostring(err))
end)

task_test("a worker still busy after the grace period is killed", function()
  local port = free_port()
  local c = start{PORT = port, WORKERS = 1, CLUSTER_MODE = "stuck", GRACE = 300}
  local pids = c:ready(1)
  local s = net.connect(port, "127.0.0.1")
  s:write("slow\n")
  assert(s:readLine() == "got")
  local t0 = uv.hrtime()
  assert(uv.kill(c.child.pid, "sigterm"))
  assert(tonumber(c:expect("^exit\t1\t(%d+)\tnil\tSIGKILL$")) == pids[1])
  assert((uv.hrtime() - t0) / 1e6 >= 290)
  c:expect("^stopped$")
  assert(c.child:wait(10000) == 0)
  -- The connection was cut, not answered.
  assert(s:readLine() == nil)
  s:destroy()
end)

task_test("a crash loop is slowed by a growing back-off", function()
  local c = start{PORT = free_port(), WORKERS = 1, CLUSTER_MODE = "crash"}
  c:expect("^primary\t")
  task.sleep(1200)
  c:stop()
  local delays = {}
  for _, l in ipairs(c.lines) do
    local d = l:match("^restart\t1\t(%d+)$")
    if d then delays[#delays + 1] = tonumber(d) end
  end
  -- 100, 200, 400 (the maximum), 400: about five crashes in 1.2 s, not
  -- hundreds.
  assert(#delays >= 2 and #delays <= 8, table.concat(c.lines, "\n"))
  assert(delays[1] == 100 and delays[2] == 200, table.concat(delays, " "))
  for i = 3, #delays do assert(delays[i] == 400) end
  -- Each crash but the last was followed by a restart (the last one may
  -- have come after the shutdown began).
  local exits = c:count("^exit\t1\t%d+\t3\tnil$")
  assert(exits == #delays or exits == #delays + 1, table.concat(c.lines, "\n"))
end)

task_test("loom.http workers: idle keep-alive connections do not hold the shutdown", function()
  local http = require "loom.http"
  local port = free_port()
  local c = start{PORT = port, WORKERS = 2, CLUSTER_MODE = "http", GRACE = 5000}
  local pids = c:ready(2)
  local agent = http.Agent:new({keepAlive = true})
  for i = 1, 10 do
    local res = assert(http.fetch("http://127.0.0.1:" .. port .. "/r" .. i, {agent = agent}))
    assert(res:body():match(" /r" .. i .. "$"))
  end
  -- The agent holds idle connections open; the drain closes them.
  local t0 = uv.hrtime()
  assert(uv.kill(c.child.pid, "sigterm"))
  c:expect("^stopped$")
  assert(c.child:wait(10000) == 0)
  local ms = (uv.hrtime() - t0) / 1e6
  assert(ms < 3000, ("the shutdown took %.0f ms"):format(ms))
  assert(c:count("SIGKILL") == 0, table.concat(c.lines, "\n"))
  assert(wait_gone(pids[1]) and wait_gone(pids[2]))
  agent:destroy()
end)

task_test("workers exit when their primary dies", function()
  local c = start{PORT = free_port(), WORKERS = 2}
  local pids = c:ready(2)
  assert(uv.kill(c.child.pid, "sigkill"))
  local _, signal = c.child:wait(10000)
  assert(signal == "SIGKILL")
  assert(wait_gone(pids[1]) and wait_gone(pids[2]), "a worker outlived its primary")
end)

T.test("bad arguments raise naming the argument", function()
  assert(cluster.isPrimary and not cluster.isWorker and cluster.worker == nil)
  T.raises("bad argument #1 %(options table expected, got string%)", cluster.setupPrimary, "x")
  T.raises("bad option workers", cluster.setupPrimary, {workers = 0})
  T.raises("bad option grace", cluster.setupPrimary, {grace = -1})
  T.raises("bad option exec", cluster.setupPrimary, {exec = 42})
  T.raises("bad argument #1 to 'fork' %(env table expected", cluster.fork, "env")
  T.raises("bad message %(JSON cannot hold it", cluster.broadcast, function() end)
  T.raises("bad argument #1 to 'shutdown'", cluster.shutdown, 42)
end)

T.run()
