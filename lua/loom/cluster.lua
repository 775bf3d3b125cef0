-- loom.cluster: one process per core. A supervisor (the primary) starts
-- worker processes running the same script; the workers listen on the
-- same port through SO_REUSEPORT and the kernel spreads the connections
-- over them (nginx's model, not Node's hand-off through the primary).
--
--   local cluster = require "loom.cluster"
--   if cluster.isPrimary then
--     cluster.start{workers = 4}          -- forks, restarts, stops on SIGTERM
--     return
--   end
--   net.createServer(handler):listen{port = 8080, reusePort = true}
--
-- The primary restarts a worker that dies (after a back-off that grows
-- while it keeps crashing), relays JSON messages over a pipe on the
-- worker's fd 3, and on SIGTERM or SIGINT shuts down gracefully: each
-- worker closes its listening sockets, finishes the connections it has
-- accepted, and exits; a worker still busy when the grace period ends is
-- killed.
local uv = require "loom"
local Emitter = require "loom.emitter"
local timer = require "loom.timer"
local json = require "loom.json"
local net = require "loom.net"

local ENV_ID = "LOOM_CLUSTER_WORKER"
local IPC_FD = 3

local cluster = Emitter:new()
local worker_id = tonumber(os.getenv(ENV_ID) or "")
cluster.isPrimary = worker_id == nil
cluster.isMaster = cluster.isPrimary
cluster.isWorker = not cluster.isPrimary

-- Messages travel as JSON text, one per line (JSON text has no raw
-- newline). {"m": value} is the user's; {"c": name, ...} is ours.
local function encode_message(value)
  return json.encode({m = value}) .. "\n"
end

-- Calls fn(record) for each whole line that arrived on sock.
local function read_records(sock, fn)
  local pending = ""
  sock:on("data", function(data)
    pending = pending .. data
    local start = 1
    while true do
      local nl = pending:find("\n", start, true)
      if not nl then break end
      local record = json.decode(pending:sub(start, nl - 1))
      start = nl + 1
      if type(record) == "table" then fn(record) end
    end
    pending = pending:sub(start)
  end)
end

local function check_message(value, level)
  local ok, err = pcall(json.encode, value)
  if not ok then
    error("bad message (JSON cannot hold it: " .. tostring(err):gsub("^.-:%d+: ", "") .. ")",
          level + 1)
  end
end

if cluster.isWorker then
  -- The worker side ------------------------------------------------------------

  local process = require "loom.process"
  local dgram = require "loom.dgram"

  --- This process's worker: id (1..N; a replacement keeps the id of the
  --- worker it replaces), send(msg), events "message"(msg),
  --- "shutdown" (the drain began), "disconnect" (the primary is gone).
  --- exitOnDrain (default true): exit once the listening sockets are
  --- closed and their connections have ended.
  local Worker = Emitter:extend("loom.cluster.Worker")
  local me = Worker:new()
  me.id = worker_id
  me.pid = uv.os_getpid()
  me.exitOnDrain = true
  cluster.worker = me
  -- A grandchild must not take itself for a worker.
  uv.os_unsetenv(ENV_ID)

  local ipc
  do
    local p = uv.new_pipe(false)
    local ok = p:open(IPC_FD)
    if ok then
      ipc = net.Socket._wrap(p)
      ipc._co = true
      -- The channel does not keep the worker alive: its work does.
      ipc:unref()
    else
      p:close()
    end
  end

  -- As in Node, the channel keeps the worker alive only while someone
  -- listens for messages.
  local draining = false
  local function sync_ref()
    if not ipc or ipc.destroyed then return end
    if not draining and me:listenerCount("message") > 0 then ipc:ref() else ipc:unref() end
  end
  for _, method in ipairs{"on", "once", "off", "prependListener", "removeAllListeners"} do
    Worker[method] = function(self, name, ...)
      Emitter[method](self, name, ...)
      if name == "message" or name == nil then sync_ref() end
      return self
    end
  end
  Worker.addListener, Worker.removeListener = Worker.on, Worker.off

  local function send_record(record)
    if ipc and not ipc.destroyed then ipc:write(json.encode(record) .. "\n") end
  end

  --- Sends a JSON-encodable value to the primary ("message" there).
  --- Returns false when the primary is gone.
  function me:send(msg)
    check_message(msg, 2)
    if not ipc or ipc.destroyed then return false end
    ipc:write(encode_message(msg))
    return true
  end

  -- What the drain waits for: the servers and sockets listening here.
  local listening = setmetatable({}, {__mode = "k"})
  net._onListen = function(server)
    listening[server] = true
    local a = server:address()
    send_record({c = "listening", address = type(a) == "table" and a.address or a,
                 port = type(a) == "table" and a.port or nil})
  end
  dgram._onBind = function(sock)
    listening[sock] = true
  end

  local function drain()
    if draining then return end
    draining = true
    sync_ref()
    me.state = "stopping"
    me:emit("shutdown")
    local open = 0
    local function one_closed()
      open = open - 1
      if open == 0 and me.exitOnDrain then
        process.exit(process.exitCode or 0)
      end
    end
    local targets = {}
    for s in pairs(listening) do targets[#targets + 1] = s end
    for _, s in ipairs(targets) do
      if s.listening or (s._h and not s._closed and s.close) then
        open = open + 1
        -- A server's "close" comes once its connections have ended.
        s:close(one_closed)
      end
    end
    open = open + 1
    timer.setImmediate(one_closed)
  end
  me.drain = drain

  if ipc then
    read_records(ipc, function(record)
      if record.c == "shutdown" then
        drain()
      elseif record.c == nil then
        me:emit("message", record.m)
      end
    end)
    ipc:on("error", function() end)
    ipc:on("end", function()
      me:emit("disconnect")
      drain()
    end)
  end
  -- The terminal's Ctrl-C reaches every process of the group: the
  -- workers drain as the primary asks them to, instead of dying mid-way.
  process:on("SIGINT", drain)
  process:on("SIGTERM", drain)
  me.state = "online"
  send_record({c = "online"})
  return cluster
end

-- The primary side -------------------------------------------------------------

local cp = require "loom.child_process"
local path = require "loom.path"
local process = require "loom.process"

local function script_defaults()
  local a = rawget(_G, "arg") or {}
  local args = {}
  for i = 1, #a do args[i] = a[i] end
  return a[0] and path.resolve(a[0]) or nil, args
end

--- The settings of forks to come (setupPrimary changes them).
local settings = {workers = #(uv.cpu_info() or {1}), grace = 10000, restart = true,
                  backoff = 100, maxBackoff = 10000, stable = 5000}
settings.exec, settings.args = script_defaults()
cluster.settings = settings

--- The live workers by id.
cluster.workers = {}

local Worker = Emitter:extend("loom.cluster.Worker")
cluster.Worker = Worker

local stopping = false          -- cluster.shutdown was called
local failures = {}             -- id -> crashes in a row
local restart_timers = {}       -- id -> the timer of a restart to come
local grace_timer
local shutdown_waiters = {}

local function check_opts(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 (options table expected, got " .. type(opts) .. ")", 3)
  end
  local function int(name, min)
    local v = opts[name]
    if v ~= nil and (math.type(v) ~= "integer" or v < min) then
      error(("bad option %s (an integer >= %d expected, got %s)"):format(name, min, tostring(v)), 4)
    end
  end
  int("workers", 1); int("grace", 0); int("backoff", 0); int("maxBackoff", 0); int("stable", 0)
  if opts.exec ~= nil and type(opts.exec) ~= "string" then
    error("bad option exec (script path expected, got " .. type(opts.exec) .. ")", 3)
  end
  if opts.args ~= nil and type(opts.args) ~= "table" then
    error("bad option args (array of strings expected, got " .. type(opts.args) .. ")", 3)
  end
  if opts.env ~= nil and type(opts.env) ~= "table" then
    error("bad option env (table expected, got " .. type(opts.env) .. ")", 3)
  end
end

--- setupPrimary{exec, args, execArgv, workers, grace, restart, backoff,
--- maxBackoff, stable, env}: exec (default: this script) and args (default:
--- this script's) are what workers run; workers is how many start()
--- forks (default: one per CPU); grace is how long a worker may drain at
--- shutdown, in ms; restart = false leaves dead workers dead; a worker
--- that dies is replaced after backoff ms, doubled for each crash in a
--- row up to maxBackoff; a worker that lived stable ms resets the count.
function cluster.setupPrimary(opts)
  check_opts(opts)
  for k, v in pairs(opts) do settings[k] = v end
  if opts.exec then settings.exec = path.resolve(opts.exec) end
  return settings
end
cluster.setupMaster = cluster.setupPrimary

local function lowest_free_id()
  local id = 1
  while cluster.workers[id] or restart_timers[id] do id = id + 1 end
  return id
end

local finish_shutdown

local function worker_exited(w, code, signal)
  w.state = "dead"
  w.exitCode, w.signalCode = code, signal
  if cluster.workers[w.id] == w then cluster.workers[w.id] = nil end
  if w._ipc and not w._ipc.destroyed then w._ipc:destroy() end
  w:emit("exit", code, signal)
  cluster:emit("exit", w, code, signal)
  local crashed = code ~= 0 or signal ~= nil
  if not stopping and not w._stopping and w._managed and settings.restart and crashed then
    local id = w.id
    if uv.now() - w.startedAt >= settings.stable then failures[id] = 0 end
    failures[id] = (failures[id] or 0) + 1
    local delay = math.min(settings.maxBackoff,
                           settings.backoff * (1 << math.min(failures[id] - 1, 20)))
    restart_timers[id] = timer.setTimeout(delay, function()
      restart_timers[id] = nil
      if not stopping then cluster.fork(nil, id, true) end
    end)
    cluster:emit("restart", id, delay)
  end
  if stopping and next(cluster.workers) == nil then finish_shutdown() end
end

--- fork([env]): starts one worker running settings.exec with
--- settings.args; env adds variables to this process's environment for
--- it. Returns the Worker (id, pid, process, state, send, kill, stop;
--- events "online", "listening"(address), "message"(msg),
--- "exit"(code, signal)).
function cluster.fork(env, id, managed)
  if env ~= nil and type(env) ~= "table" then
    error("bad argument #1 to 'fork' (env table expected, got " .. type(env) .. ")", 2)
  end
  if not settings.exec then
    error("cluster.fork: no script to run (this process has none; set exec with setupPrimary)", 2)
  end
  if stopping then error("cluster.fork: the cluster is shutting down", 2) end
  id = id or lowest_free_id()
  local vars = uv.os_environ()
  for k, v in pairs(settings.env or {}) do vars[k] = tostring(v) end
  for k, v in pairs(env or {}) do vars[k] = tostring(v) end
  vars[ENV_ID] = tostring(id)
  local args = {}
  for _, a in ipairs(settings.execArgv or {}) do args[#args + 1] = a end
  args[#args + 1] = settings.exec
  for _, a in ipairs(settings.args or {}) do args[#args + 1] = a end
  local w = Worker:new()
  w.id = id
  w.state = "starting"
  w.startedAt = uv.now()
  w._managed = managed
  local child = cp.spawn(process.execPath, args,
                         {env = vars, stdio = {"ignore", "inherit", "inherit", "pipe"}})
  w.process = child
  w.pid = child.pid
  cluster.workers[id] = w
  if not child.pid then
    -- The runner could not be started: a crash like any other.
    child:once("error", function(err)
      w.spawnError = err
      worker_exited(w, 127, nil)
    end)
    return w
  end
  local ipc = child.stdio[IPC_FD + 1]
  w._ipc = ipc
  ipc:on("error", function() end)
  read_records(ipc, function(record)
    if record.c == nil then
      w:emit("message", record.m)
      cluster:emit("message", w, record.m)
    elseif record.c == "online" then
      w.state = "online"
      w:emit("online")
      cluster:emit("online", w)
    elseif record.c == "listening" then
      w.state = "listening"
      local address = {address = record.address, port = record.port}
      w:emit("listening", address)
      cluster:emit("listening", w, address)
    end
  end)
  child:once("exit", function(code, signal) worker_exited(w, code, signal) end)
  cluster:emit("fork", w)
  return w
end

--- Sends a JSON-encodable value to the worker ("message" there); false
--- when the worker is gone.
function Worker:send(msg)
  check_message(msg, 2)
  local ipc = self._ipc
  if not ipc or ipc.destroyed or self.state == "dead" then return false end
  ipc:write(encode_message(msg))
  return true
end

--- Sends a signal (default "sigterm": the worker drains, then exits).
function Worker:kill(sig)
  return self.process and self.process:kill(sig or "sigterm") or false
end

--- Asks this worker to drain and exit; it is not restarted. After ms
--- (default settings.grace) it is killed if it has not exited.
function Worker:stop(ms)
  if self.state == "dead" then return self end
  self._stopping = true
  self.state = "stopping"
  local ipc = self._ipc
  if ipc and not ipc.destroyed then ipc:write(json.encode({c = "shutdown"}) .. "\n") end
  local t = timer.setTimeout(ms or settings.grace, function() self:kill("sigkill") end)
  t:unref()
  self:once("exit", function() timer.clearTimeout(t) end)
  return self
end
Worker.disconnect = Worker.stop

--- Sends a message to every live worker.
function cluster.broadcast(msg)
  check_message(msg, 2)
  for _, w in pairs(cluster.workers) do w:send(msg) end
end

local function on_signal(name)
  if stopping then
    -- A second Ctrl-C does not wait for the grace period.
    if name == "SIGINT" then
      for _, w in pairs(cluster.workers) do w:kill("sigkill") end
    end
    return
  end
  cluster.shutdown()
end

local function stop_signals()
  process:off("SIGTERM", on_signal)
  process:off("SIGINT", on_signal)
end

finish_shutdown = function()
  if grace_timer then timer.clearTimeout(grace_timer); grace_timer = nil end
  stop_signals()
  local waiters = shutdown_waiters
  shutdown_waiters = {}
  cluster:emit("stopped")
  for _, fn in ipairs(waiters) do fn() end
end

--- Shuts every worker down gracefully: each closes its listening
--- sockets, finishes its accepted connections and exits; whoever is left
--- after settings.grace ms is killed. cb runs (and "stopped" is emitted)
--- once all have exited. Nothing is restarted after this.
function cluster.shutdown(cb)
  if cb ~= nil and type(cb) ~= "function" then
    error("bad argument #1 to 'shutdown' (function expected, got " .. type(cb) .. ")", 2)
  end
  if cb then shutdown_waiters[#shutdown_waiters + 1] = cb end
  if stopping then return end
  stopping = true
  cluster:emit("shutdown")
  for id, t in pairs(restart_timers) do
    timer.clearTimeout(t)
    restart_timers[id] = nil
  end
  if next(cluster.workers) == nil then
    timer.setImmediate(finish_shutdown)
    return
  end
  for _, w in pairs(cluster.workers) do
    w._stopping = true
    w.state = "stopping"
    local ipc = w._ipc
    if ipc and not ipc.destroyed then ipc:write(json.encode({c = "shutdown"}) .. "\n") end
  end
  grace_timer = timer.setTimeout(settings.grace, function()
    grace_timer = nil
    for _, w in pairs(cluster.workers) do w:kill("sigkill") end
  end)
end

--- start([options]): setupPrimary(options), forks settings.workers
--- workers, replaces those that crash, and shuts down gracefully on
--- SIGTERM and SIGINT (a second SIGINT kills at once). Returns cluster.
function cluster.start(opts)
  if opts ~= nil then cluster.setupPrimary(opts) end
  if not settings.exec then
    error("cluster.start: no script to run (this process has none; set exec)", 2)
  end
  process:on("SIGTERM", on_signal)
  process:on("SIGINT", on_signal)
  for _ = 1, settings.workers do cluster.fork(nil, nil, true) end
  return cluster
end

return cluster
