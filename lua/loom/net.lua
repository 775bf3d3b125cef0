-- loom.net: TCP and Unix-socket servers and clients (Node's net module),
-- in the event style and the coroutine style.
--
--   local net = require "loom.net"
--   net.createServer(function(sock)                  -- events
--     sock:on("data", function(d) sock:write(d) end)
--   end):listen(7000, "127.0.0.1")
--
--   local server = net.createServer():listen(7001, "127.0.0.1")
--   task.spawn(function()                            -- coroutines
--     while true do
--       local sock = server:accept()
--       task.spawn(function()
--         for line in sock:lines() do sock:write(line .. "\n") end
--         sock:close()
--       end)
--     end
--   end)
--
-- A Socket is a loom.stream Duplex over a uv tcp or pipe handle. Reading
-- follows backpressure: the handle stops reading while the socket's
-- buffer is at its high-water mark (a paused socket, a slow read() loop).
-- Writes go straight to the handle; the bytes the kernel has not taken
-- yet count against the write high-water mark.
local uv = require "loom"
local Emitter = require "loom.emitter"
local stream = require "loom.stream"
local task = require "loom.task"
local timer = require "loom.timer"

local M = {}
local fail, wake, park = task.fail, task.wake, task.park
local err_name = stream.err_name

local errstr = task.message

local FAMILY = {inet = "IPv4", inet6 = "IPv6"}

local function is_ip(host)
  return host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil
end
M.isIP = function(s)
  if type(s) ~= "string" then return 0 end
  if s:match("^%d+%.%d+%.%d+%.%d+$") then
    for part in s:gmatch("%d+") do if tonumber(part) > 255 then return 0 end end
    return 4
  end
  if s:find(":", 1, true) and s:match("^[%x:%.]+$") then return 6 end
  return 0
end

-- Socket -------------------------------------------------------------------

local Socket = stream.Duplex:extend("loom.net.Socket")
M.Socket = Socket

-- Defaults live in the class, so an idle socket holds only what differs.
Socket.bytesRead = 0
Socket.bytesWritten = 0
Socket._noHalfOpen = true

local on_read, on_flush -- forward

local function new_socket(handle, opts, class)
  opts = opts or {}
  local s = setmetatable({_h = handle}, class or Socket)
  if next(opts) then
    stream.init_readable(s, opts)
    stream.init_writable(s, opts)
    if opts.allowHalfOpen then s._noHalfOpen = false end
  end
  return s
end

local function set_peer(s)
  local h = s._h
  local peer = h and h.getpeername and h:getpeername()
  if type(peer) == "table" then
    s.remoteAddress, s.remotePort = peer.ip, peer.port
    local family = FAMILY[peer.family]
    -- A server's sockets share their family through their class.
    if s.remoteFamily ~= family then s.remoteFamily = family end
  end
end

local function bind_reader(s)
  s._onread = function(err, data) on_read(s, err, data) end
end

-- The handle is open and connected: reads and writes can go to it.
local function attach(s, handle)
  s._h = handle
  bind_reader(s)
  set_peer(s)
end

-- For a socket, _rreading (loom.stream's "the source was asked for
-- data") is true exactly while the handle reads; push() leaves it alone
-- for sockets (_rcontinuous), and it is cleared where reading stops.
function on_read(s, err, data)
  if data then
    s.bytesRead = s.bytesRead + #data
    if s._idleMs then s._active = uv.now() end
    -- The common case of a flowing socket with nothing buffered goes
    -- straight to the "data" listeners (what push would do, minus its
    -- checks).
    if s._rflow and not s._rinflow and s._rtail < s._rhead and not s.destroyed then
      s._rinflow = true
      s:emit("data", data)
      s._rinflow = false
      if s._rflow or s.destroyed then return end
    elseif s:push(data) then
      return
    end
    if not s.destroyed and s._rreading then
      s._rreading = false
      s._h:read_stop() -- the buffer is full or the reader paused
    end
  elseif err then
    s:destroy(errstr(err))
  else
    s._rreading = false
    s._h:read_stop()
    s:push(nil)
  end
end

-- Sockets keep reading after a push (no need to ask again per chunk).
Socket._rcontinuous = true

function Socket:_read()
  if self._onread and not self.destroyed and not self._h:is_closing() then
    local ok, err = self._h:read_start(self._onread)
    if not ok then
      self._rreading = false
      self:destroy(err)
    end
  else
    -- Not connected yet: reading starts when it is.
    self._rreading = false
  end
end

local function start_reading(s)
  if s._rreading ~= true then
    s._rreading = true
    s:_read()
  end
end

--- Stops "data" events and reading from the kernel.
function Socket:pause()
  stream.Readable.pause(self)
  if self._rreading then
    self._rreading = false
    if self._onread and not self.destroyed then self._h:read_stop() end
  end
  return self
end

local sock_maybe_shutdown -- forward

function on_flush(s, err)
  s._wprobe = false
  if err then
    if not s.destroyed then s:destroy(errstr(err)) end
    return
  end
  if s.destroyed then return end
  local q = s._h:get_write_queue_size()
  if q > 0 then
    -- More was written after the probe: probe again behind it.
    s._wprobe = true
    s._h:write("", s._onflush)
    return
  end
  s._wlen = 0
  if s._wneedDrain then
    s._wneedDrain = false
    s:emit("drain")
    stream.wake_writers(s, true)
  end
  if s._wending then sock_maybe_shutdown(s) end
end

-- Queues data on the handle; never suspends. Returns whether the bytes
-- the kernel has not taken yet are below the high-water mark.
local function sock_write_now(s, data, cb)
  if s.destroyed then return stream.write_error(s, cb, "EBADF") end
  if s._wending then return stream.write_error(s, cb, "EPIPE") end
  local size
  if type(data) == "string" then
    size = #data
  elseif type(data) == "table" then
    size = 0
    for i = 1, #data do
      local v = data[i]
      if type(v) ~= "string" then
        error("bad argument #1 to 'write' (item " .. i .. " is not a string)", 3)
      end
      size = size + #v
    end
  else
    error("bad argument #1 to 'write' (string or array of strings expected, got " ..
          type(data) .. ")", 3)
  end
  if s._connecting then
    -- Not connected yet: kept until the connection is made.
    local pre = s._pre
    if not pre then pre = {}; s._pre = pre end
    pre[#pre + 1] = {data, cb}
    s._wlen = s._wlen + size
    if s._wlen >= s._whwm then s._wneedDrain = true; return false end
    return true
  end
  local h = s._h
  local ok, err
  if cb then
    ok, err = h:write(data, function(e) cb(e and errstr(e) or nil) end)
  else
    -- Usually the kernel takes it all at once: one call, nothing queued.
    -- try_write refuses (EAGAIN) while earlier writes wait, so the order
    -- holds.
    local n = h:try_write(data)
    if n == size then
      s.bytesWritten = s.bytesWritten + size
      if s._idleMs then s._active = uv.now() end
      return true
    end
    if n and n > 0 then
      -- Part went out; queue the rest.
      s.bytesWritten = s.bytesWritten + n
      size = size - n
      if type(data) == "table" then data = table.concat(data) end
      data = data:sub(n + 1)
    end
    ok, err = h:write(data)
  end
  if not ok then
    local name = err_name(err)
    s:destroy(err)
    if cb then timer.setImmediate(cb, err) end
    return false, err, name
  end
  s.bytesWritten = s.bytesWritten + size
  if s._idleMs then s._active = uv.now() end
  local q = h:get_write_queue_size()
  if q > 0 then
    s._wlen = q
    if not s._wprobe then
      -- A write with a callback behind the queued bytes tells when they
      -- have all gone (writes complete in order).
      s._wprobe = true
      if not s._onflush then s._onflush = function(e) on_flush(s, e) end end
      h:write("", s._onflush)
    end
    if q >= s._whwm then
      s._wneedDrain = true
      return false
    end
  end
  return true
end

Socket._writeNow = sock_write_now

local function after_shutdown(s, err)
  if s.destroyed then return end
  if err then return s:destroy(errstr(err)) end
  s._wfinished = true
  s.writable = false
  s:emit("finish")
  stream.wake_writers(s, true)
  if s._rendEmitted then s:destroy() end
end

function sock_maybe_shutdown(s)
  if s._connecting or s._wprobe or s._wfinal or s.destroyed then return end
  s._wfinal = true
  local ok, err = s._h:shutdown(function(e) after_shutdown(s, e) end)
  if not ok then s:destroy(err) end
end

-- finish() (loom.stream's, also `sock["end"](sock)`) ends with a
-- shutdown: the peer reads the end of the stream, and "finish" follows
-- once the kernel has everything.
Socket._maybeFinish = sock_maybe_shutdown

function Socket:_onReadEnd()
  if self._wfinished then
    self:destroy()
  elseif self._noHalfOpen and not self._wending then
    if self._co == "pull" and not self._eofRead then
      -- A task reads this socket and may still be answering what it
      -- read (a client that sent its request and shut its side): the
      -- write side ends when the task reads the end, or closes it.
      self._finishOnEof = true
    else
      self:finish()
    end
  end
end

function Socket:_destroy(err, cb)
  local w = self._cwait
  if w then self._cwait = nil; wake(w, true) end
  if self._idleTimer then
    self._idleTimer:close()
    self._idleTimer = nil
  end
  local pre = self._pre
  if pre then
    self._pre = nil
    local e = err or errstr("ECANCELED")
    for i = 1, #pre do
      if pre[i][2] then timer.setImmediate(pre[i][2], e) end
    end
  end
  local h = self._h
  if h and not h:is_closing() then
    self._rreading = false
    h:close(function() cb() end)
  else
    timer.setImmediate(cb)
  end
  local server = self._server
  if server and not self._uncounted then
    self._uncounted = true
    server._conns = server._conns - 1
    if server._closing and server._conns == 0 then
      timer.setImmediate(function() server:_closed() end)
    end
  end
end

--- Timeouts for the coroutine methods of this socket (read, readLine,
--- write, finish, connect): a wait longer than ms returns nil,
--- "ETIMEDOUT: ...". nil or 0 turns them off. OpenResty's shape.
function Socket:settimeout(ms)
  if ms == 0 then ms = nil end
  self._timeout = task.check_ms(ms, "timeout", 2)
  return self
end

--- Node's idle timeout: emits "timeout" after ms without reads or
--- writes (the socket stays open; close it in the listener). 0 turns it
--- off. cb, if given, is added as a "timeout" listener.
function Socket:setTimeout(ms, cb)
  ms = task.check_ms(ms, "timeout", 2)
  if cb then self:once("timeout", cb) end
  if self._idleTimer then
    self._idleTimer:close()
    self._idleTimer = nil
  end
  if ms and ms > 0 and not self.destroyed then
    self._idleMs = ms
    self._active = uv.now()
    local t = uv.new_timer()
    self._idleTimer = t
    local function check()
      local idle = uv.now() - self._active
      if idle >= ms then
        self._active = uv.now()
        t:start(ms, 0, check)
        self:emit("timeout")
      else
        t:start(ms - idle, 0, check)
      end
    end
    t:start(ms, 0, check)
    t:unref()
  else
    self._idleMs = nil
  end
  return self
end

function Socket:setNoDelay(noDelay)
  if self._h and self._h.nodelay and not self.destroyed then
    self._h:nodelay(noDelay ~= false)
  end
  return self
end

--- TCP keep-alive probes after initialDelay ms idle (default 1000).
function Socket:setKeepAlive(enable, initialDelay)
  if self._h and self._h.keepalive and not self.destroyed then
    local secs = math.max(1, math.ceil((initialDelay or 1000) / 1000))
    if enable then self._h:keepalive(true, secs) else self._h:keepalive(false) end
  end
  return self
end

--- The local address: {address, port, family} (a Unix socket: its path).
function Socket:address()
  local h = self._h
  if not h or self.destroyed then return nil end
  if h.getsockname then
    local a = h:getsockname()
    if type(a) ~= "table" then return a end
    return {address = a.ip, port = a.port, family = FAMILY[a.family]}
  end
  return h:getsockname()
end

function Socket:ref()
  if self._h and not self.destroyed then self._h:ref() end
  return self
end

function Socket:unref()
  if self._h and not self.destroyed then self._h:unref() end
  return self
end

function Socket:__tostring()
  return ("loom.net.Socket: %s:%s"):format(tostring(self.remoteAddress or "-"),
                                          tostring(self.remotePort or "-"))
end

-- Connecting ---------------------------------------------------------------

-- A Socket over a stream handle that is already open (a tty, a pipe or
-- a tcp handle over an inherited descriptor: loom.process's stdio).
-- Reading starts when someone reads.
function Socket._wrap(handle, opts)
  local s = new_socket(handle, opts)
  attach(s, handle)
  return s
end

-- A port argument: an integer from min (1 to connect, 0 to listen: any
-- free port) to 65535.
local function check_port(port, min, level)
  local n = tonumber(port)
  if not n or n < min or n > 65535 or n % 1 ~= 0 then
    error(("bad port (an integer %d-65535 expected, got %s)"):format(min, tostring(port)),
          level + 1)
  end
  return math.tointeger(n)
end

local function connect_args(...)
  local a, b, c = ...
  local opts, cb
  if type(a) == "table" then
    opts, cb = a, b
  elseif type(a) == "string" and not tonumber(a) then
    opts, cb = {path = a}, b
  else
    opts = {port = a}
    if type(b) == "function" then cb = b else opts.host, cb = b, c end
  end
  if opts.path == nil then
    opts.port = check_port(opts.port, 1, 3)
    if opts.host ~= nil and type(opts.host) ~= "string" then
      error("bad host (string expected, got " .. type(opts.host) .. ")", 3)
    end
  elseif type(opts.path) ~= "string" then
    error("bad path (string expected, got " .. type(opts.path) .. ")", 3)
  end
  if cb ~= nil and type(cb) ~= "function" then
    error("bad callback (function expected, got " .. type(cb) .. ")", 3)
  end
  return opts, cb
end

local function connected(s)
  s._connecting = false
  s:emit("connect")
  s:emit("ready")
  local pre = s._pre
  if pre then
    s._pre = nil
    s._wlen = 0
    for i = 1, #pre do
      if s.destroyed then break end
      sock_write_now(s, pre[i][1], pre[i][2])
    end
  end
  if s._wending and not s.destroyed then sock_maybe_shutdown(s) end
  -- Read from the start, as Node does, up to the high-water mark: the
  -- end of the stream and errors are seen even if nobody reads yet.
  if not s.destroyed then start_reading(s) end
  local w = s._cwait
  if w then s._cwait = nil; wake(w, true) end
end

local function connect_failed(s, err)
  local w = s._cwait
  s._cwait = nil
  s:destroy(err)
  if w then wake(w, true) end
end

-- Tries the addresses in order until one accepts the connection.
local function try_addresses(s, addrs, i, port)
  local a = addrs[i]
  local h = uv.new_tcp(a.family == "inet6" and "inet6" or "inet")
  s._h = h
  local ok, err = h:connect(a.addr, port, function(e)
    if s.destroyed then return end
    if e then
      if i < #addrs then
        h:close()
        return try_addresses(s, addrs, i + 1, port)
      end
      return connect_failed(s, errstr(e))
    end
    attach(s, h)
    connected(s)
  end)
  if not ok then
    if i < #addrs then
      h:close()
      return try_addresses(s, addrs, i + 1, port)
    end
    connect_failed(s, err)
  end
end

local function start_connect(s, opts)
  s._connecting = true
  if opts.path then
    local h = uv.new_pipe(false)
    s._h = h
    h:connect(opts.path, function(e)
      if s.destroyed then return end
      if e then return connect_failed(s, errstr(e)) end
      attach(s, h)
      connected(s)
    end)
    return
  end
  local host = opts.host or "localhost"
  if is_ip(host) then
    return try_addresses(s, {{addr = host, family = host:find(":", 1, true) and "inet6" or "inet"}},
                         1, opts.port)
  end
  local family = opts.family == 4 and "inet" or opts.family == 6 and "inet6" or nil
  uv.getaddrinfo(host, nil, {socktype = "stream", family = family}, function(err, res)
    if s.destroyed then return end
    if err or not res or #res == 0 then
      return connect_failed(s, errstr(err or "ENOTFOUND"))
    end
    try_addresses(s, res, 1, opts.port)
  end)
end

--- connect(port, [host], [cb]), connect(path, [cb]), connect(options, [cb])
--- with options port, host (default "localhost"), path, family (4, 6),
--- timeout (ms, the coroutine form), allowHalfOpen, highWaterMark.
--- Event style: returns the Socket at once; cb is a "connect" listener
--- and failures are "error" events. In a task without cb: waits for the
--- connection and returns the Socket, or nil and an error.
function M.connect(...)
  local opts, cb = connect_args(...)
  local s = new_socket(nil, opts)
  if cb then s:once("connect", cb) end
  local me = cb == nil and task.current() or nil
  if me then
    s._co = true
    if opts.timeout then s:settimeout(opts.timeout) end
  end
  start_connect(s, opts)
  if not me then return s end
  if s._connecting and not s.destroyed then
    s._cwait = me
    local ok, err, name = park(me, function()
      s._cwait = nil
      s:destroy()
    end, s._timeout)
    if not ok then return nil, err, name end
  end
  if s.destroyed then
    return nil, s.errored or errstr("ECANCELED"), err_name(s.errored) or "ECANCELED"
  end
  return s
end
M.createConnection = M.connect

-- Server -------------------------------------------------------------------

local Server = Emitter:extend("loom.net.Server")
M.Server = Server

function Server:initialize(opts)
  self._opts = opts or {}
  self._conns = 0
  self.maxConnections = self._opts.maxConnections
  self.listening = false
end

--- createServer([options], [onConnection]): options allowHalfOpen,
--- highWaterMark, maxConnections, and (beyond Node) task = true, which
--- runs onConnection(sock) in a task of its own per connection and
--- closes the socket when it returns or raises.
function M.createServer(opts, onconn)
  if type(opts) == "function" then opts, onconn = nil, opts end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'createServer' (options table expected, got " .. type(opts) .. ")", 2)
  end
  if onconn ~= nil and type(onconn) ~= "function" then
    error("bad argument #2 to 'createServer' (function expected, got " .. type(onconn) .. ")", 2)
  end
  local srv = Server:new(opts)
  if onconn then
    if srv._opts.task then
      srv._handler = onconn
    else
      srv:on("connection", onconn)
    end
  end
  return srv
end

-- Accepts the connection the handle holds into a new Socket.
local function accept_one(self)
  self._pending = false
  local h = self._pipe and uv.new_pipe(false) or uv.new_tcp()
  local ok, err = self._h:accept(h)
  if not ok then
    h:close()
    return nil, err
  end
  local s = new_socket(h, self._opts, self._sockclass)
  attach(s, h)
  self._conns = self._conns + 1
  start_reading(s)
  return s
end

local function run_handler(self, s)
  s._co = true
  local t = task.spawn(self._handler, s)
  if t:status() == "done" then
    s:destroy()
  else
    -- Closed however the handler ends (a function and its argument: no
    -- closure per connection).
    t.ondone = s
  end
end

local function dispatch(self)
  while self._pending and self._h do
    local max = self.maxConnections
    local waiters = self._acceptq
    if max and self._conns >= max then
      local s = accept_one(self)
      if s then s:destroy() end
    elseif waiters and #waiters > 0 then
      local w = table.remove(waiters, 1)
      local s, err = accept_one(self)
      if s then s._co = true end
      wake(w, s, err, err and err_name(err))
    elseif self._acceptRaw then
      -- A protocol module (loom.http) takes the bare handle; it calls
      -- _release when the connection has closed.
      self._pending = false
      local h = self._pipe and uv.new_pipe(false) or uv.new_tcp()
      if self._h:accept(h) then
        self._conns = self._conns + 1
        self:_acceptRaw(h)
      else
        h:close()
      end
    elseif self._handler then
      local s = accept_one(self)
      if s then run_handler(self, s) end
    elseif self:listenerCount("connection") > 0 then
      local s = accept_one(self)
      if s then self:emit("connection", s) end
    else
      -- Nobody to take it: it stays in the kernel's queue (the handle
      -- stops accepting) until accept() is called.
      return
    end
  end
end

local function listen_args(...)
  local a, b, c, d = ...
  local opts, cb
  if type(a) == "table" then
    opts, cb = a, b
  elseif type(a) == "string" and not tonumber(a) then
    opts = {path = a}
    if type(b) == "number" then opts.backlog, cb = b, c else cb = b end
  else
    opts = {port = a}
    local rest = {b, c, d}
    local i = 1
    if type(rest[i]) == "string" or (rest[i] == nil and rest[i + 1] ~= nil) then
      opts.host = rest[i]; i = i + 1
    end
    if type(rest[i]) == "number" then opts.backlog = rest[i]; i = i + 1 end
    cb = rest[i]
  end
  if opts.path == nil then
    opts.port = check_port(opts.port == nil and 0 or opts.port, 0, 3)
  end
  if cb ~= nil and type(cb) ~= "function" then
    error("bad callback (function expected, got " .. type(cb) .. ")", 3)
  end
  return opts, cb
end

local function listen_error(self, err)
  if self:listenerCount("error") > 0 then
    timer.setImmediate(function() self:emit("error", err) end)
  end
  return nil, err, err_name(err)
end

--- listen(port, [host], [backlog], [cb]), listen(path, [backlog], [cb]),
--- listen({port, host, path, backlog, ipv6Only, reusePort}, [cb]).
--- reusePort: SO_REUSEPORT, so that several processes (one per core)
--- can listen on the same port, the kernel spreading connections over
--- them. Port 0 picks a
--- free port (see address()). Host defaults to "::" (IPv6 and IPv4),
--- or "0.0.0.0" where IPv6 is missing. Returns the server, or nil and an
--- error (also an "error" event when the server has listeners for it).
function Server:listen(...)
  local opts, cb = listen_args(...)
  if self._h then error("the server is already listening", 2) end
  local h, ok, err
  if opts.path then
    h = uv.new_pipe(false)
    ok, err = h:bind(opts.path)
    self._pipe = true
  else
    local host = opts.host
    h = uv.new_tcp()
    local flags = (opts.ipv6Only or opts.reusePort) and
                  {ipv6only = opts.ipv6Only or nil, reuseport = opts.reusePort or nil} or nil
    ok, err = h:bind(host or "::", opts.port, flags)
    if not ok and host == nil and err_name(err) == "EAFNOSUPPORT" then
      h:close()
      h = uv.new_tcp()
      ok, err = h:bind("0.0.0.0", opts.port, opts.reusePort and {reuseport = true} or nil)
    end
    self._pipe = false
  end
  if ok then
    ok, err = h:listen(opts.backlog or 511, function(e)
      if e then
        local msg = errstr(e)
        if self:listenerCount("error") > 0 then self:emit("error", msg) end
        return
      end
      self._pending = true
      dispatch(self)
    end)
  end
  if not ok then
    h:close()
    return listen_error(self, err)
  end
  self._h = h
  self.listening = true
  -- The sockets this server accepts share a class that knows the server
  -- (to count them) and their family: two fields fewer per connection.
  local class = Socket:extend("loom.net.Socket")
  class._server = self
  local name = h.getsockname and h:getsockname()
  class.remoteFamily = type(name) == "table" and FAMILY[name.family] or nil
  self._sockclass = class
  if cb then self:once("listening", cb) end
  timer.setImmediate(function() if self._h then self:emit("listening") end end)
  -- loom.cluster's worker side keeps its listening servers to close them
  -- at shutdown.
  if M._onListen then M._onListen(self) end
  return self
end

--- In a task: the next connection as a Socket (read and written with the
--- coroutine methods), or nil once the server is closed, or nil and an
--- error (ECANCELED, ETIMEDOUT after ms).
function Server:accept(ms)
  ms = task.check_ms(ms, "timeout", 2)
  local me = task.need("server:accept")
  if not self._h then return nil end
  if self._pending then
    local s, err = accept_one(self)
    if s then s._co = true; return s end
    return nil, err, err_name(err)
  end
  local q = self._acceptq
  if not q then q = {}; self._acceptq = q end
  q[#q + 1] = me
  return park(me, task.unlist, ms, q)
end

-- A connection taken by _acceptRaw has closed.
function Server:_release()
  self._conns = self._conns - 1
  if self._closing and self._conns == 0 then
    timer.setImmediate(function() self:_closed() end)
  end
end

function Server:_closed()
  if self._closeEmitted then return end
  self._closeEmitted = true
  self:emit("close")
end

--- Stops accepting connections; "close" follows once every connection
--- the server accepted has closed. cb is a "close" listener.
function Server:close(cb)
  if cb then self:once("close", cb) end
  local h = self._h
  if not h then
    if cb then timer.setImmediate(cb, errstr("ENOTCONN")) end
    return self
  end
  self._h = nil
  self.listening = false
  self._closing = true
  local q = self._acceptq
  self._acceptq = nil
  if q then for i = 1, #q do wake(q[i], nil) end end
  h:close(function()
    if self._conns == 0 then self:_closed() end
  end)
  return self
end

--- {address, port, family} of a TCP server, the path of a Unix one.
function Server:address()
  local h = self._h
  if not h then return nil end
  local a = h:getsockname()
  if type(a) ~= "table" then return a end
  return {address = a.ip, port = a.port, family = FAMILY[a.family]}
end

--- The number of open connections (also passed to cb(nil, n)).
function Server:getConnections(cb)
  if cb then timer.setImmediate(cb, nil, self._conns) end
  return self._conns
end

function Server:ref()
  if self._h then self._h:ref() end
  return self
end

function Server:unref()
  if self._h then self._h:unref() end
  return self
end

return M
