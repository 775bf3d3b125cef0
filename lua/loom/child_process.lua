-- loom.child_process: child processes in Node's shapes, and a coroutine
-- form that runs a command and hands back its output.
--
--   local cp = require "loom.child_process"
--   local child = cp.spawn("ls", {"-l"}, {cwd = "/tmp"})
--   child.stdout:on("data", io.write)
--   child:on("close", function(code, signal) ... end)
--
--   cp.execFile("git", {"status"}, {timeout = 5000}, function(err, stdout, stderr) end)
--
--   task.spawn(function()
--     local out, errout, code = cp.run{"git", "status", cwd = "/repo"}
--   end)
--
-- The child's stdio are loom.net Sockets over pipes (or inherited, or
-- /dev/null). Every child is reaped: its exit callback closes the
-- process handle, so none is left a zombie, also when a timeout kills it.
local uv = require "loom"
local Emitter = require "loom.emitter"
local task = require "loom.task"
local timer = require "loom.timer"

local M = {}
local fail, wake, park = task.fail, task.wake, task.park

local SIGNAMES = {}
for _, name in ipairs{"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
                      "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",
                      "SIGTERM"} do
  local n = uv.constants[name]
  if n then SIGNAMES[n] = name end
end

local ChildProcess = Emitter:extend("loom.child_process.ChildProcess")
M.ChildProcess = ChildProcess

local function env_list(env)
  local list = {}
  for k, v in pairs(env) do
    if type(k) ~= "string" then error("bad env (names must be strings)", 4) end
    list[#list + 1] = k .. "=" .. tostring(v)
  end
  table.sort(list)
  return list
end

-- What one stdio slot becomes: "pipe" (a new pipe and a Socket over it),
-- "inherit" (the parent's descriptor), "ignore" (nothing: /dev/null), an
-- integer descriptor, or a loom.net Socket / uv stream to share.
local function stdio_slot(spec, fd)
  if spec == nil or spec == "pipe" then
    local p = uv.new_pipe(false)
    return p, p
  elseif spec == "inherit" then
    return fd
  elseif spec == "ignore" then
    -- /dev/null, not nil: a nil inside the stdio array would end it
    -- there for the binding (its length stops at the hole).
    return assert(uv.fs_open("/dev/null", fd == 0 and "r" or "w", 0)), nil, true
  elseif math.type(spec) == "integer" then
    return spec
  elseif type(spec) == "table" and spec._h then
    return spec._h
  elseif type(spec) == "userdata" then
    return spec
  end
  error("bad stdio[" .. (fd + 1) .. "] (\"pipe\", \"inherit\", \"ignore\", a descriptor or a stream expected)", 4)
end

--- spawn(command, [args], [options]): options cwd, env (a table; default
--- the parent's), stdio ("pipe" | "inherit" | "ignore" or an array of
--- three or more of those, descriptors or streams: slots past the third
--- become the child's fd 3, 4, ...), detached, uid, gid.
--- Returns a ChildProcess: pid, stdin, stdout, stderr, stdio (every
--- slot's Socket by fd + 1; a "pipe" slot past the third is a two-way
--- Unix socket), exitCode,
--- signalCode, kill(), wait(); events "spawn", "exit"(code, signal),
--- "close"(code, signal) once the stdio pipes have closed too, "error"
--- (the command could not be started: an "error" event on a later turn,
--- as Node, and pid is nil).
function M.spawn(command, args, options)
  if type(command) ~= "string" then
    error("bad argument #1 to 'spawn' (command string expected, got " .. type(command) .. ")", 2)
  end
  if type(args) == "table" and options == nil and args[1] == nil and next(args) ~= nil then
    args, options = nil, args
  end
  args = args or {}
  options = options or {}
  local stdio = options.stdio
  if type(stdio) ~= "table" or stdio._h then stdio = {stdio, stdio, stdio} end
  local child = ChildProcess:new()
  local handles, pipes, opened = {}, {}, {}
  -- Slots past stdin/stdout/stderr (fd 3 and up) exist only when given.
  local last_fd = math.max(2, type(options.stdio) == "table" and not options.stdio._h
                              and #options.stdio - 1 or 2)
  for fd = 0, last_fd do
    local h, pipe, ours = stdio_slot(stdio[fd + 1], fd)
    handles[fd + 1] = h
    pipes[fd + 1] = pipe
    if ours then opened[#opened + 1] = h end
  end
  local net = require "loom.net"
  local open_streams = 0
  local exited = false
  local function maybe_close()
    if exited and open_streams == 0 and not child._closeEmitted then
      child._closeEmitted = true
      child:emit("close", child.exitCode, child.signalCode)
      local w = child._waiters
      child._waiters = nil
      if w then for i = 1, #w do wake(w[i], true) end end
    end
  end
  local process_handle, pid
  local opts = {args = args, stdio = handles, cwd = options.cwd,
                env = options.env and env_list(options.env) or nil,
                detached = options.detached or nil, uid = options.uid, gid = options.gid}
  process_handle, pid = uv.spawn(command, opts, function(code, signal)
    exited = true
    child.exitCode = signal == 0 and code or nil
    child.signalCode = signal ~= 0 and (SIGNAMES[signal] or signal) or nil
    if process_handle and not process_handle:is_closing() then process_handle:close() end
    -- Nothing will read what is still unwritten for the child.
    if child.stdin and not child.stdin._wending then child.stdin:destroy() end
    child:emit("exit", child.exitCode, child.signalCode)
    maybe_close()
  end)
  -- The child has its own copies of the /dev/null descriptors now.
  for _, fd in ipairs(opened) do uv.fs_close(fd) end
  if not process_handle then
    local err = pid
    for i = 1, last_fd + 1 do
      if pipes[i] then pipes[i]:close() end
    end
    child.spawnError = err
    timer.setImmediate(function()
      child:emit("error", err)
      exited = true
      maybe_close()
    end)
    return child
  end
  child.pid = pid
  child._handle = process_handle
  local names = {"stdin", "stdout", "stderr"}
  child.stdio = {}
  for i = 1, last_fd + 1 do
    if pipes[i] then
      local s = net.Socket._wrap(pipes[i])
      s._noHalfOpen = false
      -- A child's pipes report failures through the child; nobody has to
      -- listen for "error" on each of them.
      s._co = true
      open_streams = open_streams + 1
      s:once("close", function()
        open_streams = open_streams - 1
        maybe_close()
      end)
      -- One direction each: an output pipe is done at its end, stdin
      -- once it is finished. The extra slots go both ways (a Unix
      -- socket pair); their owner ends them.
      if i <= 3 then
        s:once(i == 1 and "finish" or "end", function() s:destroy() end)
        child[names[i]] = s
      end
      child.stdio[i] = s
    end
  end
  -- The pipes the child writes to read from the start (up to the
  -- high-water mark: a child whose output nobody reads blocks, as under
  -- Node) so that their end is seen.
  for i = 2, last_fd + 1 do
    local s = child.stdio[i]
    if s then s._rreading = true; s:_read() end
  end
  timer.setImmediate(function() child:emit("spawn") end)
  return child
end

--- Sends a signal (default "sigterm"); true, or false if the child has
--- exited (or could not be signalled).
function ChildProcess:kill(sig)
  local h = self._handle
  if not h or h:is_closing() then return false end
  local ok = h:kill(sig or "sigterm")
  return ok == 0 or ok == true
end

--- In a task: waits until the child has exited and its pipes closed;
--- returns exitCode, signalCode (or nil, err if it never started).
function ChildProcess:wait(ms)
  local me = task.need("child:wait")
  if self.spawnError then return nil, self.spawnError, self.spawnError:match("^(E%u+)") end
  if not self._closeEmitted then
    local w = self._waiters
    if not w then w = {}; self._waiters = w end
    w[#w + 1] = me
    local ok, err, name = park(me, task.unlist, task.check_ms(ms, "timeout", 2), w)
    if not ok then return nil, err, name end
  end
  return self.exitCode, self.signalCode
end

-- Running a command to completion -------------------------------------------------

-- Starts file with args, collects its output up to maxBuffer bytes per
-- stream, kills it after timeout ms; done(err, stdout, stderr, code,
-- signal) once it has exited (err: a spawn error, ETIMEDOUT, ENOBUFS).
local function collect(file, args, opts, done)
  local max = opts.maxBuffer or 1048576
  local child = M.spawn(file, args, {cwd = opts.cwd, env = opts.env,
                                     stdio = {opts.input and "pipe" or "ignore", "pipe", "pipe"}})
  local out, errout = {}, {}
  local sizes = {0, 0}
  local failure
  local killer
  local function kill_for(name)
    if failure then return end
    failure = name
    child:kill(opts.killSignal or "sigterm")
  end
  if child.spawnError then
    child:on("error", function() end)
    child:on("close", function() done(child.spawnError) end)
    return child
  end
  local function gather(s, parts, i)
    s:on("data", function(d)
      sizes[i] = sizes[i] + #d
      if sizes[i] > max then return kill_for("ENOBUFS") end
      parts[#parts + 1] = d
    end)
  end
  gather(child.stdout, out, 1)
  gather(child.stderr, errout, 2)
  if child.stdin then child.stdin:finish(opts.input) end
  if opts.timeout and opts.timeout > 0 then
    killer = uv.new_timer()
    killer:start(opts.timeout, 0, function() kill_for("ETIMEDOUT") end)
  end
  child:on("close", function(code, signal)
    if killer then killer:close() end
    if failure then
      local _, msg = fail(failure)
      return done(msg, table.concat(out), table.concat(errout), code, signal)
    end
    done(nil, table.concat(out), table.concat(errout), code, signal)
  end)
  return child
end

local function exec_args(args, opts, cb)
  if type(args) == "function" then return nil, nil, args end
  if type(opts) == "function" then return args, nil, opts end
  return args, opts, cb
end

--- execFile(file, [args], [options], cb): runs file without a shell;
--- cb(err, stdout, stderr, code, signal) once it has exited. err is nil
--- for exit code 0; "exited with code N" / "killed by SIGNAME" otherwise,
--- or "ETIMEDOUT: ..." (options.timeout, then options.killSignal is sent),
--- "ENOBUFS: ..." (more than options.maxBuffer bytes, default 1 MiB, on
--- stdout or stderr), or the spawn error. options: cwd, env, input (a
--- string for stdin), timeout, killSignal, maxBuffer. Returns the child.
function M.execFile(file, args, opts, cb)
  if type(file) ~= "string" then
    error("bad argument #1 to 'execFile' (string expected, got " .. type(file) .. ")", 2)
  end
  args, opts, cb = exec_args(args, opts, cb)
  if type(cb) ~= "function" then error("execFile needs a callback (in a task, use run)", 2) end
  return collect(file, args or {}, opts or {}, function(err, stdout, stderr, code, signal)
    if not err and code ~= 0 then
      err = signal and ("killed by " .. tostring(signal)) or ("exited with code " .. tostring(code))
    end
    cb(err, stdout, stderr, code, signal)
  end)
end

--- exec(command, [options], cb): execFile("/bin/sh", {"-c", command}).
function M.exec(command, opts, cb)
  if type(command) ~= "string" then
    error("bad argument #1 to 'exec' (string expected, got " .. type(command) .. ")", 2)
  end
  if type(opts) == "function" then opts, cb = nil, opts end
  return M.execFile("/bin/sh", {"-c", command}, opts, cb)
end

--- In a task: run{file, args..., cwd, env, input, timeout, killSignal,
--- maxBuffer} (or run(file, args, options)) waits for the command and
--- returns stdout, stderr, exit code, signal name — whatever the code.
--- nil, err, name if it could not run, timed out (ETIMEDOUT, the child
--- killed and reaped) or wrote past maxBuffer (ENOBUFS).
function M.run(spec, args, opts)
  local me = task.need("child_process.run")
  local file
  if type(spec) == "table" then
    file = spec[1]
    args = {table.unpack(spec, 2)}
    opts = spec
  else
    file = spec
  end
  if type(file) ~= "string" then
    error("bad argument #1 to 'run' (a command expected)", 2)
  end
  local result
  local waiting = true
  local child = collect(file, args or {}, opts or {}, function(err, stdout, stderr, code, signal)
    result = table.pack(err, stdout, stderr, code, signal)
    if waiting then waiting = false; wake(me, true) end
  end)
  local ok, err, name = park(me, function()
    -- Cancelled: stop the child; its exit still closes everything.
    waiting = false
    child:kill("sigkill")
  end)
  if not ok then return nil, err, name end
  if result[1] then return nil, result[1], result[1]:match("^(E%u+)") end
  return result[2], result[3], result[4], result[5]
end

return M
