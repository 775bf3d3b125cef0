-- loom.http.client: HTTP/1.1 requests in Node's shapes, over the
-- binding's tcp handles and the C parser, with a keep-alive agent that
-- pools connections per host.
--
--   http.get("http://127.0.0.1:8080/x", function(res)
--     res:on("data", io.write)
--   end)
--
--   task.spawn(function()                          -- coroutine style
--     local res = assert(http.fetch("http://127.0.0.1:8080/x"))
--     print(res.statusCode, res:body())
--   end)
--
-- Redirects are the caller's business (res.headers.location), as in Node.
local uv = require "loom"
local Emitter = require "loom.emitter"
local stream = require "loom.stream"
local task = require "loom.task"
local timer = require "loom.timer"
local common = require "loom.http.common"

local M = {}
local concat = table.concat
local check_header = common.check_header
local errstr = task.message
local wake, park = task.wake, task.park

-- Agent -------------------------------------------------------------------------

--- Agent{keepAlive = true, maxSockets = 256, maxFreeSockets = 256,
--- keepAliveMsecs = 5000}: connections per "host:port"; an idle one is
--- reused by the next request to its host and closed after
--- keepAliveMsecs unused. requests waiting for a connection past
--- maxSockets queue in order.
local Agent = Emitter:extend("loom.http.Agent")
M.Agent = Agent

function Agent:initialize(opts)
  opts = opts or {}
  self.keepAlive = opts.keepAlive ~= false
  self.maxSockets = opts.maxSockets or 256
  self.maxFreeSockets = opts.maxFreeSockets or 256
  self.keepAliveMsecs = opts.keepAliveMsecs or 5000
  self.free = {}      -- key -> idle connections (a stack)
  self.busy = {}      -- key -> count of connections in use
  self.queue = {}     -- key -> requests waiting for a connection
  self.created = 0    -- connections made (for tests and statistics)
end

M.globalAgent = Agent:new()

local Conn = {}
Conn.__index = Conn

local start_on, on_conn_read -- forward
local IncomingMessage -- the response class, below

local function conn_close(conn)
  if conn.closed then return end
  conn.closed = true
  if conn.idleTimer then conn.idleTimer:close(); conn.idleTimer = nil end
  if not conn.h:is_closing() then conn.h:close() end
end

-- An idle connection's read callback: its end (or anything) closes it.
local function idle_read(conn)
  local agent, key = conn.agent, conn.key
  local list = agent.free[key]
  if list then
    for i = #list, 1, -1 do
      if list[i] == conn then table.remove(list, i) end
    end
  end
  conn_close(conn)
end

-- A connection is free: the next queued request takes it, or it waits.
local function release(conn, reusable)
  local agent, key = conn.agent, conn.key
  agent.busy[key] = (agent.busy[key] or 1) - 1
  conn.req = nil
  local q = agent.queue[key]
  if reusable and not conn.closed and agent.keepAlive then
    if q and #q > 0 then
      agent.busy[key] = agent.busy[key] + 1
      return start_on(table.remove(q, 1), conn)
    end
    local list = agent.free[key]
    if not list then list = {}; agent.free[key] = list end
    if #list < agent.maxFreeSockets then
      list[#list + 1] = conn
      conn.h:read_start(function() idle_read(conn) end)
      conn.idleTimer = conn.idleTimer or uv.new_timer()
      conn.idleTimer:start(agent.keepAliveMsecs, 0, function() idle_read(conn) end)
      conn.idleTimer:unref()
      conn.h:unref()
      return
    end
  end
  conn_close(conn)
  if q and #q > 0 then
    local req = table.remove(q, 1)
    agent:_acquire(req)
  end
end

local function connect(agent, req)
  local conn = setmetatable({agent = agent, key = req._key, h = uv.new_tcp(),
                             parser = common.new_parser("response", {metatable = IncomingMessage}),
                             pos = 1}, Conn)
  conn.onread = function(err, data) on_conn_read(conn, err, data) end
  agent.created = agent.created + 1
  agent.busy[req._key] = (agent.busy[req._key] or 0) + 1
  local function fail(err)
    release(conn, false)
    req:_fail(errstr(err))
  end
  local function go(ip)
    local ok, err = conn.h:connect(ip, req._port, function(cerr)
      if cerr then return fail(cerr) end
      conn.h:nodelay(true)
      start_on(req, conn)
    end)
    if not ok then fail(err) end
  end
  local host = req._host
  if host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true) then
    go(host)
  else
    uv.getaddrinfo(host, nil, {socktype = "stream"}, function(err, addrs)
      if err or not addrs or not addrs[1] then return fail(err or "ENOTFOUND") end
      go(addrs[1].addr)
    end)
  end
end

-- Gives req a connection now (idle or new) or queues it.
function Agent:_acquire(req)
  local key = req._key
  local list = self.free[key]
  while list and #list > 0 do
    local conn = table.remove(list)
    if not conn.closed then
      conn.idleTimer:stop()
      conn.h:read_stop()
      conn.h:ref()
      self.busy[key] = (self.busy[key] or 0) + 1
      req.reusedSocket = true
      return start_on(req, conn)
    end
  end
  if (self.busy[key] or 0) >= self.maxSockets then
    local q = self.queue[key]
    if not q then q = {}; self.queue[key] = q end
    q[#q + 1] = req
    return
  end
  connect(self, req)
end

--- Closes every idle connection.
function Agent:destroy()
  for _, list in pairs(self.free) do
    for _, conn in ipairs(list) do conn_close(conn) end
  end
  self.free = {}
end

-- The response: readable for its body ------------------------------------------

IncomingMessage = common.IncomingMessage:extend("loom.http.ClientResponse")
M.IncomingMessage = IncomingMessage

local resume -- forward

-- common.IncomingMessage's _read: the response's reader wants more.
function Conn:_resumeFor(res)
  if self.res == res and self.paused then resume(self) end
end

-- ClientRequest -------------------------------------------------------------------

local ClientRequest = stream.Writable:extend("loom.http.ClientRequest")
M.ClientRequest = ClientRequest
ClientRequest._co = true
ClientRequest.headersSent = false
ClientRequest.reusedSocket = false

function ClientRequest:setHeader(name, value)
  check_header(name, value, 2)
  if self.headersSent then error("cannot set headers after they are sent", 2) end
  self._hv[name:lower()] = value
  self._hn[name:lower()] = name
end

function ClientRequest:getHeader(name)
  return self._hv[name:lower()]
end

function ClientRequest:removeHeader(name)
  self._hv[name:lower()], self._hn[name:lower()] = nil, nil
end

local function head_text(req, body_len)
  local parts = {req.method, " ", req.path, " HTTP/1.1\r\n"}
  local hv, hn = req._hv, req._hn
  for lower, v in pairs(hv) do
    if type(v) == "table" then
      for i = 1, #v do parts[#parts + 1] = hn[lower] .. ": " .. v[i] .. "\r\n" end
    else
      parts[#parts + 1] = hn[lower] .. ": " .. v .. "\r\n"
    end
  end
  if not hv["content-length"] and not hv["transfer-encoding"] then
    if body_len then
      if body_len > 0 or (req.method ~= "GET" and req.method ~= "HEAD") then
        parts[#parts + 1] = "Content-Length: " .. body_len .. "\r\n"
      end
    else
      parts[#parts + 1] = "Transfer-Encoding: chunked\r\n"
      req._chunked = true
    end
  end
  if not hv["connection"] and not req.agent.keepAlive then
    parts[#parts + 1] = "Connection: close\r\n"
  end
  parts[#parts + 1] = "\r\n"
  req.headersSent = true
  return concat(parts)
end

-- Sends data (a string or an array of strings: one writev, no copy)
-- through the connection, or keeps it until there is one.
local function send(req, data)
  local conn = req._conn
  if conn then
    if not conn.closed then conn.h:write(data) end
  else
    local p = req._pending
    if not p then p = {}; req._pending = p end
    if type(data) == "table" then
      for i = 1, #data do p[#p + 1] = data[i] end
    else
      p[#p + 1] = data
    end
  end
end

function ClientRequest:_writeNow(chunk, cb)
  if self._wending then return stream.write_error(self, cb, "EPIPE") end
  if type(chunk) ~= "string" then
    error("bad argument #1 to 'write' (string expected, got " .. type(chunk) .. ")", 3)
  end
  if not self.headersSent then send(self, head_text(self, nil)) end
  -- The chunk goes out as it is, between its framing (no copy of it).
  if #chunk > 0 then send(self, {("%x\r\n"):format(#chunk), chunk, "\r\n"}) end
  if cb then timer.setImmediate(cb) end
  return true
end

function ClientRequest:_maybeFinish()
  if self._sentAll then return end
  self._sentAll = true
  if not self.headersSent then
    send(self, head_text(self, 0))
  elseif self._chunked then
    send(self, "0\r\n\r\n")
  end
  self._wfinished = true
  self.writable = false
  if rawget(self, "_ev") then self:emit("finish") end
  if rawget(self, "_wwait") then stream.wake_writers(self, true) end
end

--- finish([data], [cb]): sends the request (with data as its body: a
--- Content-Length when nothing was written before). In a task without
--- cb: waits for the response and returns it (or nil and an error).
-- Sends the rest of the request (data, then the end of the body).
function ClientRequest:_end(data)
  if self._wending then return end
  self._wending = true
  if not self.headersSent and (data == nil or type(data) == "string") then
    local body = data or ""
    local text = head_text(self, #body)
    send(self, #body > 0 and {text, body} or text)
    self._sentAll = true
    self._simple = #body == 0
    self._wfinished = true
    self.writable = false
    if rawget(self, "_ev") then timer.setImmediate(function() self:emit("finish") end) end
  else
    if data ~= nil then self:_writeNow(data) end
    self:_maybeFinish()
  end
end

function ClientRequest:finish(data, cb)
  if type(data) == "function" then data, cb = nil, data end
  if cb then self:once("finish", function() cb() end) end
  self:_end(data)
  if cb == nil and task.current() then return self:response() end
  return self
end
ClientRequest["end"] = ClientRequest.finish

--- In a task: waits for the response; returns it, or nil and an error.
function ClientRequest:response(ms)
  if self.res then return self.res end
  if self._error then return nil, self._error, stream.err_name(self._error) end
  local me = task.need("request:response")
  local w = self._waiters
  if not w then w = {}; self._waiters = w end
  w[#w + 1] = me
  return park(me, task.unlist, ms, w)
end

function ClientRequest:_fail(err)
  if self._error or self.res and self.res.complete then return end
  self._error = err
  local w = self._waiters
  self._waiters = nil
  if w then for i = 1, #w do wake(w[i], nil, err, stream.err_name(err)) end end
  local res = self.res
  if res and not res.destroyed then res:destroy(err) end
  if self:listenerCount("error") > 0 then self:emit("error", err) end
  self:emit("close")
end

--- Ends the request now (its connection is closed, not reused).
function ClientRequest:destroy(err)
  local conn = self._conn
  if conn and not conn.closed then
    conn_close(conn)
    release(conn, false)
  end
  self:_fail(err or errstr("ECONNRESET"))
end
ClientRequest.abort = ClientRequest.destroy

--- Calls fn (and emits "timeout") if no byte of the response came
--- within ms; the request is then destroyed with ETIMEDOUT.
function ClientRequest:setTimeout(ms, fn)
  if fn then self:once("timeout", fn) end
  self._timeoutMs = ms
  return self
end

-- The connection's part -----------------------------------------------------------

local function done_response(conn, req, res)
  res.complete = true
  if req._timer then req._timer:close(); req._timer = nil end
  -- The connection goes back to the agent before the end is pushed: a
  -- reader woken by it may send the next request at once, and must find
  -- the connection free.
  local reusable = res._keepAlive and conn.buf == nil and not req._closeAfter
  release(conn, reusable)
  res:push(nil)
end

local function feed(conn)
  local req, res = conn.req, conn.res
  while req and not conn.closed do
    local buf = conn.buf
    if not buf then return end
    if not res then
      local n, r, _, status = conn.parser:head(buf, conn.pos, nil, req.method)
      if not n then
        if n == nil then
          conn_close(conn)
          release(conn, false)
          req:_fail(r .. " (status " .. tostring(status) .. ")")
        end
        return
      end
      conn.pos = conn.pos + n
      res = r
      if res.statusCode >= 100 and res.statusCode < 200 and res.statusCode ~= 101 then
        -- An interim response (100 Continue): the real one follows.
        res = nil
        if req:listenerCount("continue") > 0 then req:emit("continue") end
      else
        res._conn = conn
        conn.res = res
        req.res = res
        local w = req._waiters
        req._waiters = nil
        if w then for i = 1, #w do wake(w[i], res) end end
        req:emit("response", res)
        if res._body == "none" then
          conn.res = nil
          if conn.pos > #buf then conn.buf, conn.pos = nil, 1 end
          return done_response(conn, req, res)
        elseif res._body == "length" then
          conn.left = res._length
        end
      end
    end
    if res then
      if conn.pos > #buf then conn.buf, conn.pos = nil, 1; return end
      local kind = res._body
      if kind == "length" then
        local avail = #buf - conn.pos + 1
        local take = avail < conn.left and avail or conn.left
        local chunk = buf:sub(conn.pos, conn.pos + take - 1)
        conn.pos = conn.pos + take
        conn.left = conn.left - take
        if not res:push(chunk) then conn.paused = true; conn.h:read_stop() end
        if conn.pos > #buf then conn.buf, conn.pos = nil, 1 end
        if conn.left == 0 then
          conn.res = nil
          return done_response(conn, req, res)
        end
        return
      elseif kind == "chunked" then
        local data, npos, fin, trailers = conn.parser:chunked(buf, conn.pos)
        if data == nil then
          conn_close(conn)
          release(conn, false)
          return req:_fail(npos)
        end
        conn.pos = npos
        if #data > 0 and not res:push(data) then conn.paused = true; conn.h:read_stop() end
        if conn.pos > #buf then conn.buf, conn.pos = nil, 1 end
        if fin then
          res.trailers = trailers
          conn.res = nil
          return done_response(conn, req, res)
        end
        return
      else
        -- Until the connection closes.
        local chunk = conn.pos == 1 and buf or buf:sub(conn.pos)
        conn.buf, conn.pos = nil, 1
        if not res:push(chunk) then conn.paused = true; conn.h:read_stop() end
        return
      end
    end
  end
end

function resume(conn)
  conn.paused = false
  feed(conn)
  if not conn.paused and not conn.closed then conn.h:read_start(conn.onread) end
end

function on_conn_read(conn, err, data)
  if data then
    if conn.buf then
      conn.buf = conn.buf:sub(conn.pos) .. data
    else
      conn.buf = data
    end
    conn.pos = 1
    return feed(conn)
  end
  -- The end, or an error.
  local req, res = conn.req, conn.res
  conn_close(conn)
  if req then
    release(conn, false)
    if res and res._body == "eof" and not err then
      conn.res = nil
      res.complete = true
      res:push(nil)
      if req._timer then req._timer:close(); req._timer = nil end
      return
    end
    if not res and req.reusedSocket and not req._retried and req._simple and
       (req.method == "GET" or req.method == "HEAD") then
      -- A kept-alive connection the server had closed meanwhile: the
      -- request goes again on another one, once.
      req._retried = true
      req._conn = nil
      req.reusedSocket = false
      req.headersSent = false
      req._pending = {head_text(req, 0)}
      return req.agent:_acquire(req)
    end
    req:_fail(errstr(err or "ECONNRESET"))
  end
end

function start_on(req, conn)
  req._conn = conn
  conn.req = req
  conn.res = nil
  conn.buf, conn.pos = nil, 1
  conn.paused = false
  local p = req._pending
  req._pending = nil
  if p then conn.h:write(#p == 1 and p[1] or p) end
  if req._timeoutMs then
    req._timer = uv.new_timer()
    req._timer:start(req._timeoutMs, 0, function()
      req._timer:close()
      req._timer = nil
      if req.res and req.res.complete then return end
      req:emit("timeout")
      req:destroy(errstr("ETIMEDOUT"))
    end)
  end
  conn.h:read_start(conn.onread)
  req:emit("socket", conn)
end

-- request ------------------------------------------------------------------------

local function parse_url(u)
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then error("bad URL (absolute http:// URL expected, got " .. u .. ")", 3) end
  if scheme:lower() ~= "http" then error("unsupported protocol '" .. scheme .. ":' (http only)", 3) end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  local host, port = authority:match("^%[(.-)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]*):?(%d*)$") end
  return {hostname = host, port = tonumber(port) or 80, path = path}
end

--- request(url | options, [options], [cb]): options method (GET), host /
--- hostname, port (80), path ("/"), headers, agent (an Agent, or false
--- for a connection of its own), timeout (ms without a response byte).
--- cb(res) is a "response" listener. Returns a ClientRequest: write
--- the body, then finish().
function M.request(url, opts, cb)
  if type(opts) == "function" then opts, cb = nil, opts end
  local o = {}
  if type(url) == "string" then
    for k, v in pairs(parse_url(url)) do o[k] = v end
  elseif type(url) == "table" then
    opts, cb = url, opts
  else
    error("bad argument #1 to 'request' (URL or options expected, got " .. type(url) .. ")", 2)
  end
  for k, v in pairs(opts or {}) do o[k] = v end
  local req = ClientRequest:new()
  req.method = (o.method or "GET"):upper()
  req.path = o.path or "/"
  if req.path:find("[%s%z]") then error("bad path (no spaces or control bytes)", 2) end
  req._host = o.hostname or o.host or "127.0.0.1"
  req._port = o.port or 80
  req._key = req._host .. ":" .. req._port
  req._hv, req._hn = {}, {}
  if o.agent == false then
    req.agent = Agent:new({keepAlive = false, maxSockets = 1})
  else
    req.agent = o.agent or M.globalAgent
  end
  if o.timeout then req:setTimeout(o.timeout) end
  local host_value = req._port == 80 and req._host or (req._host:find(":", 1, true) and
                     "[" .. req._host .. "]" or req._host) .. ":" .. req._port
  if o.setHost ~= false then req:setHeader("Host", host_value) end
  for k, v in pairs(o.headers or {}) do req:setHeader(k, v) end
  if cb then req:on("response", cb) end
  req.agent:_acquire(req)
  return req
end

--- get(url | options, [cb]): request with method GET, finished at once.
function M.get(url, opts, cb)
  local req = M.request(url, opts, cb)
  req:_end()
  return req
end

--- In a task: fetch(url | options, [options]) sends the request (options
--- body: a string) and returns the response (read its body with
--- res:body() or res:read()), or nil and an error.
function M.fetch(url, opts)
  task.need("http.fetch")
  local o = opts or (type(url) == "table" and url) or {}
  local req = M.request(url, opts)
  return req:finish(o.body)
end

return M
