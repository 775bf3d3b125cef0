-- loom.dgram: UDP sockets (Node's dgram module), event and coroutine style.
--
--   local dgram = require "loom.dgram"
--   local s = dgram.createSocket("udp4", function(msg, rinfo)
--     print(msg, rinfo.address, rinfo.port)
--   end)
--   s:bind(41234, "127.0.0.1")
--
--   task.spawn(function()                     -- coroutine style
--     local s = dgram.createSocket("udp4"):bind(0, "127.0.0.1")
--     local msg, rinfo = s:recv()
--   end)
--
-- Datagrams are received in batches with recvmmsg when the socket is
-- made with {mmsgs = N} (the binding's batched path; N datagrams per
-- system call). A socket read by recv() that nobody reads holds at most
-- `queueLimit` datagrams (default 1024; one batch more with mmsgs); past
-- that it stops receiving and the kernel drops what comes, which is what
-- UDP does under load anyway. A batch already read is never dropped.
local uv = require "loom"
local Emitter = require "loom.emitter"
local task = require "loom.task"
local timer = require "loom.timer"
local stream = require "loom.stream"

local M = {}
local fail, wake, park = task.fail, task.wake, task.park
local err_name = stream.err_name

local errstr = task.message

local FAMILY = {inet = "IPv4", inet6 = "IPv6"}

local Socket = Emitter:extend("loom.dgram.Socket")
M.Socket = Socket

local function check_port(port, what, level)
  local p = tonumber(port)
  if not p or p < 0 or p > 65535 or p % 1 ~= 0 then
    error("bad " .. what .. " (an integer 0-65535 expected, got " .. tostring(port) .. ")",
          level + 1)
  end
  return math.tointeger(p)
end

--- createSocket("udp4" | "udp6" | options, [onMessage]): options type,
--- reuseAddr, reusePort (SO_REUSEPORT: one port bound by several
--- processes, the kernel spreading datagrams), ipv6Only, recvBufferSize, sendBufferSize, mmsgs (datagrams
--- per recvmmsg call), queueLimit (datagrams kept for recv()).
function M.createSocket(opts, onmessage)
  if type(opts) == "string" then opts = {type = opts} end
  if type(opts) ~= "table" then
    error("bad argument #1 to 'createSocket' (\"udp4\", \"udp6\" or options expected, got " ..
          type(opts) .. ")", 2)
  end
  if opts.type ~= "udp4" and opts.type ~= "udp6" then
    error("bad socket type (\"udp4\" or \"udp6\" expected, got " .. tostring(opts.type) .. ")", 2)
  end
  if onmessage ~= nil and type(onmessage) ~= "function" then
    error("bad argument #2 to 'createSocket' (function expected, got " .. type(onmessage) .. ")", 2)
  end
  local family = opts.type == "udp6" and "inet6" or "inet"
  local h = uv.new_udp(opts.mmsgs and opts.mmsgs > 1 and {family = family, mmsgs = opts.mmsgs}
                       or family)
  local s = Socket:new()
  s._h = h
  s._opts = opts
  s.type = opts.type
  s._q = {}
  s._qhead, s._qtail = 1, 0
  s._qlimit = opts.queueLimit or 1024
  s._onrecv = function(err, data, addr) s:_onRecv(err, data, addr) end
  if onmessage then s:on("message", onmessage) end
  return s
end

function Socket:_onRecv(err, data, addr)
  if err then
    local msg = errstr(err)
    if self:listenerCount("error") > 0 or not self._co then self:emit("error", msg) end
    return
  end
  if data == nil or addr == nil then return end
  local rinfo = {address = addr.ip, port = addr.port, family = FAMILY[addr.family], size = #data}
  local w = self._rwait
  if w then
    self._rwait = nil
    wake(w, data, rinfo)
    return
  end
  if self:listenerCount("message") > 0 then
    self:emit("message", data, rinfo)
    return
  end
  -- Kept for recv(); stop receiving past the limit, on the next turn:
  -- with mmsgs the binding is delivering a batch (a stop inside this
  -- callback would only make it hold the rest until receiving starts
  -- again). The queue may pass the limit by at most one batch.
  local t = self._qtail + 1
  self._q[t] = {data, rinfo}
  self._qtail = t
  if t - self._qhead + 1 >= self._qlimit and self._recving and not self._stopping then
    self._stopping = true
    timer.setImmediate(function()
      self._stopping = false
      if self._qtail - self._qhead + 1 >= self._qlimit then self:_stopRecv() end
    end)
  end
end

function Socket:_startRecv()
  if not self._recving and self._bound and not self._closed then
    self._recving = true
    local ok, err = self._h:recv_start(self._onrecv)
    if not ok then
      self._recving = false
      return nil, err
    end
  end
  return true
end

function Socket:_stopRecv()
  if self._recving then
    self._recving = false
    self._h:recv_stop()
  end
end

function Socket:on(name, fn)
  Emitter.on(self, name, fn)
  if name == "message" then self:_startRecv() end
  return self
end

function Socket:once(name, fn)
  Emitter.once(self, name, fn)
  if name == "message" then self:_startRecv() end
  return self
end

local function bound(self)
  self._bound = true
  if self._opts.recvBufferSize then uv.recv_buffer_size(self._h, self._opts.recvBufferSize) end
  if self._opts.sendBufferSize then uv.send_buffer_size(self._h, self._opts.sendBufferSize) end
  if self:listenerCount("message") > 0 or self._rwait then self:_startRecv() end
  timer.setImmediate(function() if not self._closed then self:emit("listening") end end)
end

--- bind([port], [address], [cb]) or bind({port, address, exclusive}, [cb]):
--- port 0 (default) picks one; address defaults to "0.0.0.0" / "::".
--- Returns the socket, or nil and an error (also an "error" event when
--- the socket has listeners for it).
function Socket:bind(port, address, cb)
  if type(port) == "table" then
    local o = port
    port, address, cb = o.port, o.address, address
  elseif type(port) == "function" then
    port, address, cb = nil, nil, port
  elseif type(address) == "function" then
    address, cb = nil, address
  end
  port = check_port(port or 0, "port", 2)
  if address ~= nil and type(address) ~= "string" then
    error("bad address (string expected, got " .. type(address) .. ")", 2)
  end
  if self._closed then return fail("EBADF") end
  address = address or (self.type == "udp6" and "::" or "0.0.0.0")
  local flags = {reuseaddr = self._opts.reuseAddr or nil, ipv6only = self._opts.ipv6Only or nil,
                 reuseport = self._opts.reusePort or nil}
  local ok, err = self._h:bind(address, port, flags)
  if not ok then
    if self:listenerCount("error") > 0 then
      timer.setImmediate(function() self:emit("error", err) end)
    end
    return nil, err, err_name(err)
  end
  if cb then self:once("listening", cb) end
  bound(self)
  if M._onBind then M._onBind(self) end
  return self
end

--- send(msg, [port, address], [cb]): msg is a string or an array of
--- strings (sent as one datagram). Without port/address the socket must
--- be connected. address defaults to localhost of the socket's family.
--- cb(err) follows once it was sent. In a task without cb: waits until
--- it was sent and returns true, or nil and an error.
function Socket:send(msg, port, address, cb)
  if type(port) == "function" then port, address, cb = nil, nil, port end
  if type(address) == "function" then address, cb = nil, address end
  if type(msg) ~= "string" and type(msg) ~= "table" then
    error("bad argument #1 to 'send' (string or array of strings expected, got " ..
          type(msg) .. ")", 2)
  end
  if port ~= nil then
    port = check_port(port, "port", 2)
    address = address or (self.type == "udp6" and "::1" or "127.0.0.1")
    if type(address) ~= "string" then
      error("bad address (string expected, got " .. type(address) .. ")", 2)
    end
  end
  if self._closed then
    if cb then timer.setImmediate(cb, errstr("EBADF")) return false end
    return fail("EBADF")
  end
  local me = cb == nil and task.current() or nil
  local done, waiting
  if cb then
    done = function(e) cb(e and errstr(e) or nil) end
  elseif me then
    self._co = true
    waiting = true
    done = function(e)
      if not waiting then return end -- the task stopped waiting (cancelled)
      waiting = false
      if e then wake(me, fail(e)) else wake(me, true) end
    end
  end
  local req, err
  if not self._bound and port ~= nil then
    -- The kernel binds an unbound socket on its first send; receiving
    -- can start then.
    self._bound = true
    if self:listenerCount("message") > 0 or self._rwait then
      timer.setImmediate(function() self:_startRecv() end)
    end
  end
  req, err = self._h:send(msg, address, port, done)
  if not req then
    if cb then timer.setImmediate(cb, err); return false end
    return nil, err, err_name(err)
  end
  if me then
    return park(me, function() waiting = false end, self._timeout)
  end
  return true
end

--- In a task: the next datagram and its sender {address, port, family,
--- size}, or nil and an error (ECANCELED, ETIMEDOUT after ms). nil
--- alone once the socket is closed.
function Socket:recv(ms)
  ms = task.check_ms(ms, "timeout", 2)
  local me = task.need("dgram socket:recv")
  if self:listenerCount("message") > 0 then
    error("this socket is read by 'message' events; recv() would take datagrams from them", 2)
  end
  self._co = true
  local h = self._qhead
  if h <= self._qtail then
    local item = self._q[h]
    self._q[h] = nil
    self._qhead = h + 1
    if self._qhead > self._qtail then self._qhead, self._qtail = 1, 0 end
    self:_startRecv()
    return item[1], item[2]
  end
  if self._closed then return nil end
  if not self._bound then
    error("recv on a socket that is not bound (call bind first, or send)", 2)
  end
  local ok, err = self:_startRecv()
  if not ok then return nil, err, err_name(err) end
  if self._rwait then error("another task is already waiting in recv on this socket", 2) end
  self._rwait = me
  return park(me, stream.clear_rwait, ms, self)
end

--- Sends to (port, address) by default; also filters what is received.
function Socket:connect(port, address, cb)
  if type(address) == "function" then address, cb = nil, address end
  port = check_port(port, "port", 2)
  address = address or (self.type == "udp6" and "::1" or "127.0.0.1")
  local ok, err = self._h:connect(address, port)
  if not ok then
    if cb then timer.setImmediate(cb, err) end
    return nil, err, err_name(err)
  end
  self._bound = true
  if self:listenerCount("message") > 0 or self._rwait then self:_startRecv() end
  if cb then timer.setImmediate(cb) end
  timer.setImmediate(function() if not self._closed then self:emit("connect") end end)
  return self
end

function Socket:disconnect()
  local ok, err = self._h:connect(nil, nil)
  if not ok then return nil, err, err_name(err) end
  return self
end

--- Closes the socket; a task waiting in recv() gets nil. cb is a
--- "close" listener.
function Socket:close(cb)
  if self._closed then
    if cb then timer.setImmediate(cb) end
    return self
  end
  self._closed = true
  self._recving = false
  if cb then self:once("close", cb) end
  local w = self._rwait
  if w then self._rwait = nil; wake(w, nil) end
  self._h:close(function() self:emit("close") end)
  return self
end

local function addr_of(a)
  if type(a) ~= "table" then return a end
  return {address = a.ip, port = a.port, family = FAMILY[a.family]}
end

function Socket:address()
  if self._closed then return nil end
  return addr_of(self._h:getsockname())
end

function Socket:remoteAddress()
  if self._closed then return nil end
  return addr_of(self._h:getpeername())
end

local function result(self, ok, err)
  if not ok then return nil, err, err_name(err) end
  return self
end

function Socket:setBroadcast(flag) return result(self, self._h:set_broadcast(flag and true or false)) end
function Socket:setTTL(ttl) return result(self, self._h:set_ttl(ttl)) end
function Socket:setMulticastTTL(ttl) return result(self, self._h:set_multicast_ttl(ttl)) end
function Socket:setMulticastLoopback(flag)
  return result(self, self._h:set_multicast_loop(flag and true or false))
end
function Socket:setMulticastInterface(iface)
  return result(self, self._h:set_multicast_interface(iface))
end
function Socket:addMembership(group, iface)
  return result(self, self._h:set_membership(group, iface, "join"))
end
function Socket:dropMembership(group, iface)
  return result(self, self._h:set_membership(group, iface, "leave"))
end

local function buffer_size(self, which, size)
  local fn = which == "recv" and uv.recv_buffer_size or uv.send_buffer_size
  local r, err = fn(self._h, size)
  if r == nil then return nil, err, err_name(err) end
  return r
end
function Socket:setRecvBufferSize(n) return buffer_size(self, "recv", n) end
function Socket:setSendBufferSize(n) return buffer_size(self, "send", n) end
function Socket:getRecvBufferSize() return buffer_size(self, "recv") end
function Socket:getSendBufferSize() return buffer_size(self, "send") end

--- Bytes and datagrams queued for sending.
function Socket:getSendQueueSize() return self._h:get_send_queue_size() end
function Socket:getSendQueueCount() return self._h:get_send_queue_count() end

function Socket:ref() if not self._closed then self._h:ref() end return self end
function Socket:unref() if not self._closed then self._h:unref() end return self end

return M
