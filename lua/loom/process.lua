-- loom.process: a Node `process`-like object (an emitter).
--
--   local process = require "loom.process"
--   process.env.PORT, process.argv[3], process.pid, process.cwd()
--   process:on("SIGINT", function() server:close() end)
--   process.stdout:write("hello\n")          -- a loom.stream
--   task.spawn(function() print(process.stdin:readLine()) end)
--   process.exit(2)
local uv = require "loom"
local Emitter = require "loom.emitter"
local timer = require "loom.timer"

local process = Emitter:new()

-- Facts ------------------------------------------------------------------

local script_args = rawget(_G, "arg") or {}
process.execPath = uv.exepath()
process.argv0 = script_args[-1] or process.execPath
--- {interpreter, script, args...}: Node's shape (argv[1] is the runner).
process.argv = {process.execPath}
if script_args[0] then process.argv[2] = script_args[0] end
for i = 1, #script_args do process.argv[#process.argv + 1] = script_args[i] end

process.pid = uv.os_getpid()
process.ppid = uv.os_getppid()
process.platform = "linux"
process.arch = require("loom.os").arch()
process.version = "v" .. uv.loom_version
process.versions = {loom = uv.loom_version, lua = _VERSION:match("[%d.]+"),
                    uv = uv.version_string()}
process.exitCode = nil

function process.cwd()
  return assert(uv.cwd())
end

--- Changes the current directory; raises on failure, as Node does.
function process.chdir(dir)
  if type(dir) ~= "string" then
    error("bad argument #1 to 'chdir' (string expected, got " .. type(dir) .. ")", 2)
  end
  local ok, err = uv.chdir(dir)
  if not ok then error(err .. ": " .. dir, 2) end
end

--- Node's legacy hrtime: {seconds, nanoseconds}, or the difference from
--- an earlier such pair.
function process.hrtime(prev)
  local ns = uv.hrtime()
  if prev then
    ns = ns - (prev[1] * 1000000000 + prev[2])
  end
  return {ns // 1000000000, ns % 1000000000}
end

--- The monotonic clock in nanoseconds, as one integer (Node's
--- hrtime.bigint; Lua integers hold 292 years of nanoseconds).
function process.hrtimeNs()
  return uv.hrtime()
end

--- {rss, heapUsed, heapTotal} in bytes; the heap is the Lua state's.
function process.memoryUsage()
  local heap = math.floor(collectgarbage("count") * 1024)
  return {rss = uv.resident_set_memory(), heapUsed = heap, heapTotal = heap,
          external = 0}
end

--- Seconds since this process started (from /proc: the kernel's start
--- time in clock ticks, USER_HZ = 100 on Linux).
local started_at
function process.uptime()
  if not started_at then
    local f = io.open("/proc/self/stat")
    local stat = f and f:read("a")
    if f then f:close() end
    -- Field 22, counted after the parenthesised command name.
    local after = stat and stat:match("%) (.*)$")
    local fields = {}
    if after then for v in after:gmatch("%S+") do fields[#fields + 1] = v end end
    local ticks = tonumber(fields[20])
    started_at = ticks and ticks / 100 or uv.uptime()
  end
  return math.max(0, uv.uptime() - started_at)
end

--- Runs fn(...) soon: after the current callback, before the loop waits
--- for I/O again (on loom's check phase; Node runs it a little earlier,
--- before other callbacks of the same phase).
function process.nextTick(fn, ...)
  return timer.setImmediate(fn, ...)
end

--- Emits "exit" with the code, then ends the process (closing the Lua
--- state). code defaults to process.exitCode, then 0.
function process.exit(code)
  code = code or process.exitCode or 0
  if math.type(code) ~= "integer" then
    error("bad argument #1 to 'exit' (integer expected, got " .. tostring(code) .. ")", 2)
  end
  process.exitCode = code
  if not process._exiting then
    process._exiting = true
    process:emit("exit", code)
  end
  io.stdout:flush()
  os.exit(code, true)
end

--- Sends a signal (default "sigterm") to a process id.
function process.kill(pid, sig)
  local ok, err = uv.kill(pid, sig or "sigterm")
  if not ok then error(err, 2) end
  return true
end

-- process.env: reads and writes go to the real environment ----------------

process.env = setmetatable({}, {
  __index = function(_, k)
    if type(k) ~= "string" then return nil end
    return uv.os_getenv(k)
  end,
  __newindex = function(_, k, v)
    if type(k) ~= "string" then error("environment names are strings", 2) end
    if v == nil then
      uv.os_unsetenv(k)
    else
      local ok, err = uv.os_setenv(k, tostring(v))
      if not ok then error(err, 2) end
    end
  end,
  __pairs = function()
    return next, uv.os_environ(), nil
  end,
})

-- Signal events --------------------------------------------------------------

-- process:on("SIGINT", fn): a signal handle per signal with listeners,
-- unreferenced (a listener does not keep the process alive, as in Node)
-- and closed when the last listener goes.
local signal_handles = {}

local function is_signal(name)
  return type(name) == "string" and name:match("^SIG%u+%d*$") ~= nil
end

local function watch(name)
  if signal_handles[name] then return end
  local h = uv.new_signal()
  local ok, err = pcall(h.start, h, name:lower(), function()
    process:emit(name, name)
  end)
  if not ok then
    h:close()
    error(err, 3)
  end
  h:unref()
  signal_handles[name] = h
end

local function unwatch(name)
  local h = signal_handles[name]
  if h and process:listenerCount(name) == 0 then
    signal_handles[name] = nil
    if not h:is_closing() then h:close() end
  end
end

function process:on(name, fn)
  Emitter.on(self, name, fn)
  if is_signal(name) then watch(name) end
  return self
end
process.addListener = process.on

function process:once(name, fn)
  Emitter.once(self, name, fn)
  if is_signal(name) then watch(name) end
  return self
end

function process:off(name, fn)
  Emitter.off(self, name, fn)
  if is_signal(name) then unwatch(name) end
  return self
end
process.removeListener = process.off

function process:removeAllListeners(name)
  Emitter.removeAllListeners(self, name)
  for sig in pairs(signal_handles) do unwatch(sig) end
  return self
end

-- stdin, stdout, stderr -------------------------------------------------------

local stream = require "loom.stream"

-- A file descriptor that is a regular file (a redirect): fs reads and
-- writes, one at a time, at the current position.
local function file_stream(fd, readable)
  if readable then
    return stream.Readable:new{
      read = function(self)
        uv.fs_read(fd, 65536, -1, function(err, data)
          if err then return self:destroy(err) end
          self:push(data ~= "" and data or nil)
        end)
      end,
      destroy = function(_, err, cb) cb(err) end, -- the descriptor stays open
    }
  end
  return stream.Writable:new{
    -- Synchronous, as Node writes files: output keeps its order with
    -- print's, and nothing is lost when the process exits.
    write = function(_, chunk, cb)
      local n, err = uv.fs_write(fd, chunk, -1)
      cb(n == nil and err or nil)
    end,
    destroy = function(_, err, cb) cb(err) end,
  }
end

local function std_stream(fd)
  local kind = uv.guess_handle(fd)
  local s
  if kind == "tty" or kind == "pipe" or kind == "tcp" then
    local net = require "loom.net"
    local h
    if kind == "tty" then
      h = uv.new_tty(fd, fd == 0)
    elseif kind == "pipe" then
      h = uv.new_pipe(false)
      h:open(fd)
    else
      h = uv.new_tcp()
      h:open(fd)
    end
    -- Not reading or writing, the handle is inactive and does not keep
    -- the loop alive; while it reads stdin or writes, it does (as Node).
    s = net.Socket._wrap(h)
    -- One direction each: the end of stdin does not end stdout's side.
    s._noHalfOpen = false
  elseif kind == "file" or kind == "unknown" then
    s = file_stream(fd, fd == 0)
  else
    return nil
  end
  s.fd = fd
  s.isTTY = kind == "tty"
  if fd ~= 0 then
    -- Lua's own print and io.write go through C's buffer: flush it first
    -- so that the two kinds of output keep their order.
    local write = s.write
    s.write = function(self, ...)
      io.stdout:flush()
      return write(self, ...)
    end
  end
  return s
end

local std_names = {stdin = 0, stdout = 1, stderr = 2}
setmetatable(process, {
  __index = function(t, k)
    local fd = std_names[k]
    if fd then
      local s = std_stream(fd)
      rawset(t, k, s)
      return s
    end
    return Emitter[k] -- the emitter's methods
  end,
})

return process
