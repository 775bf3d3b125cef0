-- loom.http.server: HTTP/1.1 servers in Node's shapes, over the binding's
-- tcp handles and the C parser (uv.new_http_parser).
--
--   http.createServer(function(req, res)
--     res:setHeader("Content-Type", "text/plain")
--     res:finish("hello\n")
--   end):listen(8080)
--
--   http.createServer({task = true}, function(req, res)   -- a task each
--     local body = req:body()
--     res:finish(body)
--   end):listen(8080)
--
-- One connection reads one request at a time: a pipelined request waits
-- in the input buffer until the response before it has been written,
-- and the connection stops reading while that buffer is full or the
-- client does not read its responses. So a client that sends without
-- reading holds a bounded amount of memory. Timeouts (headers, whole
-- request, keep-alive idle) are checked by one timer per server.
local uv = require "loom"
local net = require "loom.net"
local stream = require "loom.stream"
local task = require "loom.task"
local timer = require "loom.timer"
local common = require "loom.http.common"

local M = {}
local status_lines, check_header, http_date = common.status_lines, common.check_header, common.date
local date_line, length_line = common.date_line, common.length_line
local wake, park = task.wake, task.park
local prepark, PARK, co_yield = task.prepark, task.PARK, coroutine.yield
local concat = table.concat
local now = uv.now
local respond = uv.http_respond

-- IncomingMessage: a request, readable for its body -------------------------

local IncomingMessage = common.IncomingMessage:extend("loom.http.IncomingMessage")
M.IncomingMessage = IncomingMessage

local resume_body -- forward

--- In a task: the whole body as a string ("" for none), or nil and an
--- error (EMSGSIZE past max bytes, default the server's maxBodySize).
function IncomingMessage:body(max)
  local c = self._conn
  return self:readAll(max or (c and c.server.maxBodySize or nil))
end

-- Connection ------------------------------------------------------------------

local Conn = {}
Conn.__index = Conn

-- req.socket: one per connection. remoteAddress, remotePort and
-- remoteFamily are read from the kernel when first asked; destroy()
-- closes the connection.
local Peer = {}
function Peer:__index(k)
  if k == "remoteAddress" or k == "remotePort" or k == "remoteFamily" then
    local peer = self._c.h:getpeername()
    if type(peer) == "table" then
      rawset(self, "remoteAddress", peer.ip)
      rawset(self, "remotePort", peer.port)
      rawset(self, "remoteFamily", peer.family == "inet6" and "IPv6" or "IPv4")
    end
    return rawget(self, k)
  end
  return Peer[k]
end
function Peer:destroy() self._c:destroy() end

-- common.IncomingMessage's _read: the request's reader wants more.
function Conn:_resumeFor(req)
  if self.req == req and self.paused then resume_body(self) end
end

local process, queue_write, fail_request -- forward

local function release(c)
  local srv = c.server
  srv._live[c] = nil
  srv:_release()
  if srv._stopping and srv._sweep and next(srv._live) == nil then
    srv._sweep:close()
    srv._sweep = nil
  end
end

--- Closes the connection at once (a request in progress is aborted).
function Conn:destroy()
  if self.closed then return end
  self.closed = true
  local req = self.req
  if req and not req.complete and not req.destroyed then
    req.aborted = true
    req:emit("aborted")
    req:destroy(task.message("ECONNRESET"))
  end
  local res = self.active
  if res and not res.finished then
    res:_abort()
  end
  if not self.h:is_closing() then self.h:close() end
  release(self)
  local w = self.waiter
  if w then
    self.waiter = false
    wake(w, nil)
  end
end

-- The connection's task has ended (t.ondone): the connection ends too,
-- after what it has queued. A task that failed (its handler raised) has
-- its error reported by the task scheduler after this.
function Conn:close()
  local t = self.task
  self.task = nil
  -- A handler raised with its response unfinished: a 500 if the head
  -- has not gone, else the connection is cut (fail_request does both).
  if t and t.failed and not self.closed and self.active and not self.active.finished then
    fail_request(self, 500, "Internal Server Error")
  end
  if not self.closed and self.state ~= "dead" then
    self.h:read_stop()
    self.state = "dead"
    if not self.h:shutdown(function() self:destroy() end) then self:destroy() end
  end
end

-- Queues data the kernel did not take at once; false when the queue is
-- past the high-water mark.
function queue_write(c, data)
  local h = c.h
  if not h:write(data) then
    c:destroy()
    return false
  end
  if not c.probing then
    -- A write with a callback behind the queued bytes tells when they
    -- have all gone (writes complete in order).
    c.probing = true
    h:write("", c.onflush)
  end
  return h:get_write_queue_size() < c.server.highWaterMark
end

-- Writes data (a string or an array of strings); returns false when the
-- kernel left more than the high-water mark queued.
local function conn_write(c, data)
  if c.closed then return false end
  local h = c.h
  local size
  if type(data) == "string" then
    size = #data
  else
    size = 0
    for i = 1, #data do size = size + #data[i] end
  end
  -- Usually the kernel takes it all at once: one call, nothing queued.
  -- try_write refuses (EAGAIN) while earlier writes wait, so the order
  -- holds.
  local n = h:try_write(data)
  if n == size then return true end
  if type(data) == "table" then data = concat(data) end
  if n and n > 0 then data = data:sub(n + 1) end
  return queue_write(c, data)
end

-- Bytes a closing connection reads and drops before it gives up.
local LINGER_BYTES = 1 << 20
local LINGER_MS = 2000

local function linger_read(c, err, data)
  if data and c.lingerBytes < LINGER_BYTES then
    c.lingerBytes = c.lingerBytes + #data
    return
  end
  c:destroy()
end

-- Ends the connection once what is queued has been written: a shutdown
-- sends our end, then the connection reads and drops whatever the
-- client still sends until it closes too (at most LINGER_MS). Closing at
-- once with unread input would make the kernel reset the connection, and
-- a reset can destroy the answer before the client has read it (the
-- "lingering close" of Apache and nginx).
local function close_after_writes(c)
  if c.state == "dead" then return end
  c.state = "dead"
  c.h:read_stop()
  local ok = c.h:shutdown(function(err)
    if err or c.closed then return c:destroy() end
    c.deadline, c.dkind = now() + LINGER_MS, "linger"
    c.lingerBytes = 0
    c.h:read_start(function(e, data) linger_read(c, e, data) end)
  end)
  if not ok then c:destroy() end
end

-- Sends the answer to a request that cannot be read, then closes.
function fail_request(c, status, why)
  if c.closed or c.state == "dead" then return end
  local res = c.active
  if res then
    -- The handler has the request: its response is replaced by this
    -- answer if it has not begun, else the connection is cut.
    if res.headersSent then return c:destroy() end
    res.finished, res.headersSent = true, true
    c.active = false
    local req = c.req
    if req and not req.complete and not req.destroyed then
      req:destroy(task.message(status == 413 and "EMSGSIZE" or "EPROTO"))
    end
  end
  local body = (why or common.STATUS_CODES[status] or "error") .. "\n"
  c.closing = true
  conn_write(c, {status_lines[status], "Content-Type: text/plain\r\nContent-Length: ",
                 tostring(#body), "\r\nConnection: close\r\nDate: ", http_date(),
                 "\r\n\r\n", body})
  -- Close once the answer has gone (shutdown flushes the queue first).
  close_after_writes(c)
end

-- ServerResponse --------------------------------------------------------------

local ServerResponse = stream.Writable:extend("loom.http.ServerResponse")
M.ServerResponse = ServerResponse
ServerResponse.statusCode = 200
ServerResponse.headersSent = false
ServerResponse.finished = false
ServerResponse.sendDate = true
ServerResponse.chunkedEncoding = false

-- The headers to send are one flat list, {lower, name, value, ...}: a
-- response has a few, and one table is cheaper than a table per view.

-- Fields that change how the head is written.
local FRAMING = {["content-length"] = true, ["transfer-encoding"] = true, date = true,
                 connection = true}

-- Header names already checked, with their lower-case forms, and values
-- already checked (a small cache, emptied when it fills: values repeat,
-- "text/plain", but some are unique).
local checked_names = {}
local checked_values, checked_count = {}, 0

local function find_header(list, lower)
  for i = 1, #list, 3 do
    if list[i] == lower then return i end
  end
  return nil
end

--- Sets a header to send (a string, a number, or an array of values for
--- a repeated field). Names are case-insensitive.
function ServerResponse:setHeader(name, value)
  local lower = checked_names[name]
  if not (lower and checked_values[value]) then
    check_header(name, value, 2)
    if not lower then
      lower = name:lower()
      checked_names[name] = lower
    end
    if type(value) == "string" and #value < 256 then
      if checked_count >= 1024 then checked_values, checked_count = {}, 0 end
      checked_values[value] = true
      checked_count = checked_count + 1
    end
  end
  if self.headersSent then error("cannot set headers after they are sent", 2) end
  local list = self._h
  if not list then
    self._h = {lower, name, value}
  else
    local i = find_header(list, lower)
    if i then
      list[i + 1], list[i + 2] = name, value
    else
      local n = #list
      list[n + 1], list[n + 2], list[n + 3] = lower, name, value
    end
  end
  if FRAMING[lower] then self._special = true end
  return self
end

function ServerResponse:getHeader(name)
  local list = self._h
  local i = list and find_header(list, name:lower())
  return i and list[i + 2] or nil
end

function ServerResponse:hasHeader(name)
  return self:getHeader(name) ~= nil
end

function ServerResponse:removeHeader(name)
  if self.headersSent then error("cannot remove headers after they are sent", 2) end
  local list = self._h
  local i = list and find_header(list, name:lower())
  if i then
    for _ = 1, 3 do table.remove(list, i) end
  end
end

--- A copy of the headers to send, by lower-case name.
function ServerResponse:getHeaders()
  local out = {}
  local list = self._h or {}
  for i = 1, #list, 3 do out[list[i]] = list[i + 2] end
  return out
end

--- writeHead(status, [statusMessage], [headers]): the status and more
--- headers (a table of name = value); they are sent with the first body
--- bytes (or finish()).
function ServerResponse:writeHead(status, msg, headers)
  if type(msg) == "table" then msg, headers = nil, msg end
  if math.type(status) ~= "integer" or status < 100 or status > 999 then
    error("bad argument #1 to 'writeHead' (status code 100-999 expected, got " ..
          tostring(status) .. ")", 2)
  end
  if self.headersSent then error("writeHead: headers already sent", 2) end
  self.statusCode = status
  if msg ~= nil then
    if type(msg) ~= "string" or msg:find("[\r\n%z]") then
      error("bad argument #2 to 'writeHead' (status message without CR or LF expected)", 2)
    end
    self.statusMessage = msg
  end
  if headers then
    for k, v in pairs(headers) do self:setHeader(k, v) end
  end
  return self
end

-- The Connection line a response's head needs (has_conn: the handler set
-- one itself); marks the connection closing when it ends after this
-- response.
local function connection_line(res, c, has_conn)
  if not c.keepAlive or c.closing or c.server._stopping then
    c.closing = true
    return has_conn and "" or "Connection: close\r\n"
  elseif res._req.httpVersion == "1.0" and not has_conn then
    return "Connection: keep-alive\r\n"
  end
  return ""
end

-- The head to send: status line, fields, framing, Date, Connection,
-- then body (if given) in the same string.
-- body_len: the whole body's length (finish), or nil: chunked if the
-- caller did not give a length.
local function head_text(res, body_len, body)
  local c, req = res._conn, res._req
  local code = res.statusCode
  local msg = res.statusMessage
  local status = msg and ("HTTP/1.1 %d %s\r\n"):format(code, msg) or status_lines[code]
  local list = res._h
  local fields = ""
  local has_length, has_te, has_date, has_conn
  if list then
    local n = #list
    if n == 3 and type(list[3]) ~= "table" then
      fields = list[2] .. ": " .. list[3] .. "\r\n"
    else
      local parts, k = {}, 0
      for i = 1, n, 3 do
        local name, v = list[i + 1], list[i + 2]
        if type(v) == "table" then
          for m = 1, #v do
            parts[k + 1], parts[k + 2], parts[k + 3], parts[k + 4] = name, ": ", v[m], "\r\n"
            k = k + 4
          end
        else
          parts[k + 1], parts[k + 2], parts[k + 3], parts[k + 4] = name, ": ", v, "\r\n"
          k = k + 4
        end
      end
      fields = concat(parts)
    end
    if res._special then
      has_length = find_header(list, "content-length") ~= nil
      local ti = find_header(list, "transfer-encoding")
      has_te = ti ~= nil
      if ti then
        -- The caller's own "Transfer-Encoding: chunked": the body is
        -- framed in chunks as if we had chosen it.
        local v = list[ti + 2]
        if type(v) == "string" and v:lower():match("chunked%s*$") and req.httpVersion == "1.1" then
          res.chunkedEncoding = true
        end
      end
      has_date = find_header(list, "date") ~= nil
      local ci = find_header(list, "connection")
      has_conn = ci ~= nil
      if ci then
        local v = list[ci + 2]
        if type(v) == "string" and v:lower():find("close", 1, true) then c.closing = true end
      end
    end
  end
  local framing = ""
  if not has_length and not has_te and code >= 200 and code ~= 204 and code ~= 304 then
    if body_len then
      framing = length_line(body_len)
    elseif req.httpVersion == "1.1" then
      framing = "Transfer-Encoding: chunked\r\n"
      res.chunkedEncoding = true
    else
      -- HTTP/1.0 has no chunks: the end of the body is the close.
      c.closing = true
    end
  end
  local date = (not has_date and res.sendDate) and date_line() or ""
  local connection = connection_line(res, c, has_conn)
  res.headersSent = true
  -- One concatenation: one string, no table of parts.
  return status .. fields .. framing .. date .. connection .. "\r\n" .. (body or "")
end

local response_done -- forward

-- Bodies up to this size go out in one string with the head (one small
-- copy, one write); larger ones beside it, uncopied.
local SMALL_BODY = 16384

-- loom.stream's write path: frames a chunk (chunked coding when the
-- length is not known) and writes it with the head if that is unsent.
function ServerResponse:_writeNow(chunk, cb)
  if self.finished or self._wending then
    return stream.write_error(self, cb, "EPIPE")
  end
  if type(chunk) ~= "string" then
    error("bad argument #1 to 'write' (string expected, got " .. type(chunk) .. ")", 3)
  end
  local c = self._conn
  local out
  if not self.headersSent then out = {head_text(self, nil)} else out = {} end
  if #chunk > 0 and not self._noBody then
    if self.chunkedEncoding then
      out[#out + 1] = ("%x\r\n"):format(#chunk)
      out[#out + 1] = chunk
      out[#out + 1] = "\r\n"
    else
      out[#out + 1] = chunk
    end
  end
  local ok = #out == 0 or conn_write(c, out)
  if cb then timer.setImmediate(cb, c.closed and task.message("EPIPE") or nil) end
  if not ok then self._wneedDrain = true end
  return ok
end

-- loom.stream's end of writing: the last chunk, then the response is done.
function ServerResponse:_maybeFinish()
  if self.finished then return end
  local c = self._conn
  if not self.headersSent then
    conn_write(c, head_text(self, 0))
  elseif self.chunkedEncoding and not self._noBody then
    conn_write(c, "0\r\n\r\n")
  end
  response_done(c, self)
end

--- finish([data], [cb]) (also res["end"]): sends what is left and ends
--- the response. With nothing written before, head and body go out in
--- one write with a Content-Length.
function ServerResponse:finish(data, cb)
  local kind = data ~= nil and type(data)
  if kind == "function" then data, cb, kind = nil, data, false end
  if self.finished then
    -- Finished already (or answered by the server for a request that
    -- failed): nothing to wait for.
    if cb then timer.setImmediate(cb) end
    if cb == nil and task.current() then return true end
    return self
  end
  -- Fields the class holds by default are read once each (a field not
  -- in the response table is a second lookup, in the class).
  local special = self._special
  if not self.headersSent and not self._wending and (not kind or kind == "string") and
     not (special and find_header(self._h, "transfer-encoding")) then
    local c = self._conn
    local len = data and #data or 0
    if not special and not self.statusMessage and len <= SMALL_BODY then
      -- The common answer: the binding makes the text and writes it in
      -- one call (no Lua string of it unless the kernel leaves a rest).
      -- headersSent, set before the write, keeps a re-entered finish or
      -- write (from a listener of an error the write raised) off this
      -- path, and _wending is left unset: a ninth field would grow the
      -- response table.
      local connection = connection_line(self, c, false)
      self.headersSent = true
      if not c.closed then
        local code = self.statusCode
        local _, rest = respond(c.h, status_lines[code], self._h, code, len,
                                not self._noBody and data or nil,
                                self.sendDate and true, connection)
        if rest then queue_write(c, rest) end
      end
    elseif len > SMALL_BODY and not self._noBody then
      -- A large body is not copied behind the head: one writev of both.
      self._wending = true
      conn_write(c, {head_text(self, len, nil), data})
    else
      self._wending = true
      local text = head_text(self, len, not self._noBody and data or nil)
      -- conn_write's common case, inline: the kernel takes it all.
      if not c.closed then
        local n = c.h:try_write(text)
        if n ~= #text then
          queue_write(c, (n and n > 0) and text:sub(n + 1) or text)
        end
      end
    end
    if cb then self:once("finish", function() cb() end) end
    response_done(c, self)
    -- The coroutine style gets true, the callback style the response.
    if cb == nil and c.server._task then return true end
    return self
  end
  return stream.Writable.finish(self, data, cb)
end
ServerResponse["end"] = ServerResponse.finish

--- sendFile(fd, offset, length, [cb]): ends the response with length
--- bytes of the open file fd from offset, sent by the kernel from the
--- page cache (sendfile(2): the bytes never pass through Lua). Sets
--- Content-Length when the head has not gone and has none. The file
--- must stay open until the bytes have gone: cb(err) says when; in a
--- task without cb, sendFile waits for that and returns true, or nil and
--- an error. A slow client holds the connection's queue, not memory.
function ServerResponse:sendFile(fd, offset, length, cb)
  if math.type(fd) ~= "integer" or fd < 0 then
    error("bad argument #1 to 'sendFile' (file descriptor expected, got " .. tostring(fd) .. ")", 2)
  end
  if math.type(offset) ~= "integer" or offset < 0 then
    error("bad argument #2 to 'sendFile' (non-negative integer expected, got " .. tostring(offset) .. ")", 2)
  end
  if math.type(length) ~= "integer" or length < 0 then
    error("bad argument #3 to 'sendFile' (non-negative integer expected, got " .. tostring(length) .. ")", 2)
  end
  if cb ~= nil and type(cb) ~= "function" then
    error("bad argument #4 to 'sendFile' (function expected, got " .. type(cb) .. ")", 2)
  end
  if self.finished or self._wending then
    local _, err, name = stream.write_error(self, cb, "EPIPE")
    return nil, err, name
  end
  local c = self._conn
  self._wending = true
  local out = {}
  if not self.headersSent then
    if not self._special or not find_header(self._h, "content-length") then
      out[1] = head_text(self, length, nil)
    else
      out[1] = head_text(self, nil, nil)
    end
  end
  local send = length > 0 and not self._noBody
  if send and self.chunkedEncoding then out[#out + 1] = ("%x\r\n"):format(length) end
  local me = cb == nil and task.current() or nil
  local done = false
  local function sent(err)
    if done then return end
    done = true
    if err then c:destroy() end
    local e = err and task.message(err) or nil
    if cb then cb(e) elseif me then wake(me, not err or nil, e, err) end
  end
  if #out > 0 and not conn_write(c, out) and c.closed then
    sent("EPIPE")
  elseif send and not c.closed then
    local ok, err, name = c.h:sendfile(fd, offset, length, sent)
    if not ok then
      sent(name or err)
    else
      if self.chunkedEncoding then c.h:write("\r\n") end
      if not c.probing then
        c.probing = true
        c.h:write("", c.onflush)
      end
    end
  else
    timer.setImmediate(sent, c.closed and "EPIPE" or nil)
  end
  if self.chunkedEncoding and not self._noBody then conn_write(c, "0\r\n\r\n") end
  response_done(c, self)
  -- A cancelled wait leaves the connection to finish on its own.
  if me then return park(me, function() done = true end) end
  return self
end

--- Sends "100 Continue" (for a request with Expect: 100-continue that a
--- "checkContinue" listener accepts).
function ServerResponse:writeContinue()
  conn_write(self._conn, "HTTP/1.1 100 Continue\r\n\r\n")
end

-- The connection went away under the response.
function ServerResponse:_abort()
  self.finished = true
  if not self.destroyed then self:destroy(task.message("EPIPE")) end
  self:emit("close")
end

-- Lookups of methods and of unset fields stop at the class: it holds
-- every inherited method and a default for each field the hot path
-- reads (a miss would walk the whole class chain).
local function flatten(class)
  local super = rawget(class, "super")
  while super do
    for k, v in pairs(super) do
      if rawget(class, k) == nil then class[k] = v end
    end
    super = rawget(super, "super")
  end
end
ServerResponse._wending = false
ServerResponse.statusMessage = false
ServerResponse._ev = false
ServerResponse._wwait = false
ServerResponse._noBody = false
ServerResponse._h = false
ServerResponse._special = false
-- A client that goes away must not take the server with it: errors of
-- responses (EPIPE), as of requests (common.IncomingMessage), reach only
-- their "error" listeners.
ServerResponse._co = true
-- A server's request has no body unless its head says so: the common
-- request is complete from the start, and its stream has ended.
IncomingMessage.complete = true
IncomingMessage._rended = true
IncomingMessage.upgrade = false
IncomingMessage._connect = false
IncomingMessage._expectContinue = false
flatten(ServerResponse)
flatten(IncomingMessage)

-- The request's life on its connection --------------------------------------

-- Deadlines use the server's clock, which the timeout sweep advances
-- (no clock read per request); one sweep interval is added so that a
-- deadline is never early.
local function next_deadline(c, kind, ms)
  if ms and ms > 0 then
    local srv = c.server
    c.deadline, c.dkind = srv._clock + ms + srv.connectionsCheckingInterval, kind
  else
    c.deadline, c.dkind = false, false
  end
end

function response_done(c, res)
  res.finished = true
  res.writableEnded = true
  if c.active ~= res then return end
  c.active = false
  res._wfinished = true
  res.writable = false
  -- Both are in every response table (false until used).
  if res._ev then res:emit("finish") end
  if res._wwait then stream.wake_writers(res, true) end
  if c.closed then return end
  if c.closing or c.peerEnded then return close_after_writes(c) end
  -- A body the handler left unread is read and dropped, so that the
  -- next request can be found; a large one is not worth it.
  if c.state == "body" then
    if c.bodyKind == "length" and c.left > c.server.maxDiscard then
      -- Not worth reading: the connection ends, after the answer has
      -- gone (closing at once would cut the answer and reset the client).
      return close_after_writes(c)
    end
    c.discard = true
  end
  local srv = c.server
  local idle = srv.keepAliveTimeout
  if idle > 0 then
    c.deadline, c.dkind = srv._clock + idle + srv.connectionsCheckingInterval, "idle"
  else
    c.deadline, c.dkind = false, false
  end
  if c.probing and c.h:get_write_queue_size() >= c.server.highWaterMark then
    -- The client is not reading its responses: read no more requests
    -- until it has.
    c.waitDrain = true
    return
  end
  if c.paused then resume_body(c) end
  if not c.processing then process(c) end
end

-- The coroutine style: one task per connection runs the handler for each
-- of its requests in turn (a keep-alive connection reuses its task: no
-- coroutine per request). A handler that raises gets its request a 500
-- (or its connection cut if the head went out) and the error goes to
-- the loop's error policy; the connection closes.
local function clear_waiter(c)
  c.waiter = false
end

local function conn_loop(c, req, res)
  local handler = c.server._handler
  local me = task.current()
  while req do
    -- Not protected: a handler's error ends the task, and Conn:close
    -- (the task's ondone) answers for it.
    handler(req, res)
    if not res.finished and not res._wending then res:finish() end
    req, res = c.nextReq, c.nextRes
    if req then
      c.nextReq, c.nextRes = false, false
    elseif not c.closed and c.state ~= "dead" then
      c.waiter = me
      -- park, in two halves (one call frame less per request).
      if prepark(me, clear_waiter, nil, c) then
        req, res = co_yield(PARK)
      else
        req = nil
      end
    end
  end
end

local function dispatch(c, req, res)
  local w = c.waiter
  if w then
    c.waiter = false
    wake(w, req, res)
  elseif c.task then
    -- The task is still in the handler of the request before (which
    -- finished its response early): it takes this one next.
    c.nextReq, c.nextRes = req, res
  else
    -- The task runs at once, and may finish this response and meet the
    -- next pipelined request before spawn returns: c.task says it is
    -- there already.
    c.task = true
    local t = task.spawn(conn_loop, c, req, res)
    c.task = t
    if t:status() ~= "done" then
      t.ondone = c
    else
      c:close()
    end
  end
end

-- Hands the socket to an "upgrade" or "connect" listener: the rest of
-- the input is its first bytes.
local function hand_over(c, req, event)
  local rest = c.buf and c.buf:sub(c.pos) or ""
  c.buf, c.closed = false, true
  c.h:read_stop()
  release(c)
  local sock = net.Socket._wrap(c.h)
  sock._co = true
  c.server:emit(event, req, sock, rest)
end

local function start_request(c, req, unusual, kind, length)
  local srv = c.server
  req._conn = c
  req.socket = c.peer
  -- The fields every response writes are in the constructor, eight: a
  -- table of up to eight fields is half the size of one of nine to
  -- sixteen, and costs a third less to make. Those a plain exchange only
  -- reads (_special, chunkedEncoding, _ev, _wwait, _noBody,
  -- _wending) are the class's defaults.
  local res = setmetatable({_conn = c, _req = req, headersSent = false, finished = false,
                            writableEnded = false, _h = false, _wfinished = false,
                            writable = true}, ServerResponse)
  if req.method == "HEAD" then res._noBody = true end
  c.req, c.active = req, res
  if kind == "none" then
    -- Whole already: complete and _rended are true by the class's
    -- defaults (two insertions less for the common request).
    c.state = "head"
    c.deadline, c.dkind = false, false
  else
    if kind == "length" then
      local max = srv.maxBodySize
      if max and length > max then
        c.active = false
        return fail_request(c, 413)
      end
      c.left = length
    else
      c.got = 0
    end
    req._rended, req.complete = false, false
    c.state = "body"
    c.discard = false
    next_deadline(c, "request", srv.requestTimeout)
  end
  if unusual then
    if (req.upgrade and srv:listenerCount("upgrade") > 0) then
      c.active = false
      return hand_over(c, req, "upgrade")
    end
    if req._connect then
      c.active = false
      if srv:listenerCount("connect") > 0 then return hand_over(c, req, "connect") end
      return fail_request(c, 400, "CONNECT is not served here")
    end
    if req._expectContinue then
      if srv:listenerCount("checkContinue") > 0 then
        return srv:emit("checkContinue", req, res)
      end
      res:writeContinue()
    end
  end
  if srv._task then
    dispatch(c, req, res)
  elseif srv._handler then
    srv._handler(req, res)
  else
    srv:emit("request", req, res)
  end
end

-- Feeds body bytes from the buffer to the request. Returns true when the
-- body is complete.
local function feed_body(c)
  local req, buf, pos = c.req, c.buf, c.pos
  local avail = #buf - pos + 1
  if c.bodyKind == "length" then
    local take = avail < c.left and avail or c.left
    if take == 0 then return false end
    local chunk = (pos == 1 and take == #buf) and buf or buf:sub(pos, pos + take - 1)
    c.pos = pos + take
    c.left = c.left - take
    if not c.discard and not req.destroyed and not req:push(chunk) then
      c.paused = true
    end
    if c.left > 0 then return false end
  else
    local data, npos, done, trailers = c.parser:chunked(buf, pos)
    if data == nil then
      -- nil, "EPROTO: why", "EPROTO", status
      fail_request(c, trailers, (npos:gsub("^EPROTO: ", "")))
      return nil
    end
    c.pos = npos
    if #data > 0 then
      c.got = c.got + #data
      local max = c.server.maxBodySize
      if max and c.got > max and not c.discard then
        fail_request(c, 413)
        return nil
      end
      if not c.discard and not req.destroyed and not req:push(data) then
        c.paused = true
      end
    end
    if not done then return false end
    req.trailers = trailers
  end
  req.complete = true
  c.state = "head"
  if c.active then next_deadline(c, nil) end
  -- Last: a handler woken by the end may answer (and the connection go
  -- on to the next request) before push returns.
  if not c.discard and not req.destroyed then req:push(nil) end
  return true
end

function process(c)
  c.processing = true
  while not c.closed do
    local buf = c.buf
    if c.state == "head" then
      if c.active or c.waitDrain then break end
      if not buf or c.pos > #buf then
        c.buf, c.pos = false, 1
        -- Idle with nothing buffered: the parser may take the next head
        -- straight from the socket.
        c.parser:arm()
        break
      end
      local n, req, unusual, kind, length, keep_alive = c.head(c.parser, buf, c.pos)
      if not n then
        if n == nil then
          -- nil, "EPROTO: why", "EPROTO", status
          fail_request(c, kind, (req:gsub("^EPROTO: ", "")))
        elseif c.dkind ~= "head" then
          -- The head has begun and is not all here: from now on it has
          -- headersTimeout to arrive (a whole head needs no deadline).
          next_deadline(c, "head", c.server.headersTimeout)
        end
        break
      end
      c.pos = c.pos + n
      c.bodyKind, c.keepAlive = kind, keep_alive
      start_request(c, req, unusual, kind, length)
    elseif c.state == "body" then
      if not buf or c.pos > #buf then
        c.buf, c.pos = false, 1
        break
      end
      local done = feed_body(c)
      if done == nil then break end
      if not done then
        if c.pos > #buf then c.buf, c.pos = false, 1 end
        if c.paused then c.h:read_stop() end
        break
      end
    else
      break
    end
  end
  c.processing = false
  -- While a response is in progress, the connection buffers at most
  -- maxPipelineBuffer bytes of the requests behind it.
  local buf = c.buf
  if buf and not c.closed and (c.active or c.waitDrain) and
     #buf - c.pos + 1 > c.server.maxPipelineBuffer and not c.paused then
    c.paused = true
    c.h:read_stop()
  end
end

function resume_body(c)
  if c.closed then return end
  c.paused = false
  if c.buf and not c.processing then process(c) end
  if not c.paused and not c.closed and c.state ~= "dead" then c.parser:read_start(c.h, c.onread) end
end

-- The end of the input, or an error.
local function on_end(c, err)
  c.peerEnded = true
  c.h:read_stop()
  if err or not c.active then
    if c.req and not c.req.complete and not c.req.destroyed then
      c.req.aborted = true
      c.req:destroy(task.message("ECONNRESET"))
    end
    c:destroy()
  end
  -- Otherwise the response in progress is still written, then the
  -- connection closes (response_done sees peerEnded).
end

local function on_flush(c, err)
  c.probing = false
  if err then return c:destroy() end
  local res = c.active
  if res and res._wneedDrain and c.h:get_write_queue_size() < c.server.highWaterMark then
    res._wneedDrain = false
    res:emit("drain")
    stream.wake_writers(res, true)
  end
  if c.waitDrain then
    c.waitDrain = false
    if c.paused then resume_body(c) end
    if not c.processing then process(c) end
  end
end

-- Server ------------------------------------------------------------------------

local Server = net.Server:extend("loom.http.Server")
M.Server = Server

local defaults = {
  headersTimeout = 60000,       -- ms to receive a request's head (slowloris)
  requestTimeout = 300000,      -- ms to receive a whole request
  keepAliveTimeout = 5000,      -- ms an idle keep-alive connection is kept
  connectionsCheckingInterval = 1000,
  maxBodySize = false,          -- bytes; a larger body gets 413 (false: no limit)
  maxHeaderSize = 16384,        -- bytes of a request's head; more gets 431
  maxHeadersCount = 100,        -- header fields; more gets 431
  maxUrlLength = 8192,          -- bytes; longer gets 414
  highWaterMark = 65536,        -- bytes queued for the kernel before backpressure
  maxPipelineBuffer = 65536,    -- bytes of pipelined requests read ahead
  maxDiscard = 65536,           -- unread body bytes dropped to keep a connection
}

local function check_timeouts(srv)
  local t = now()
  srv._clock = t
  for c in pairs(srv._live) do
    local d = c.deadline
    if d and t >= d and not c.closed then
      if c.dkind == "idle" or c.dkind == "linger" then
        c:destroy()
      else
        if c.active and c.active.headersSent then
          c:destroy()
        else
          c.active = false
          fail_request(c, 408)
        end
      end
    end
  end
end

function Server:_acceptRaw(h)
  if not self._sweep then self._clock = now() end
  -- Every field the connection will have, false until used: a missing
  -- field would cost a look into Conn on each read of it, and the
  -- table is made at its final size.
  local parser = common.new_parser("request", self._limits)
  local c = setmetatable({h = h, server = self, parser = parser, head = parser.head, pos = 1,
                          state = "head", buf = false, active = false,
                          req = false, closed = false, closing = false, processing = false,
                          paused = false, probing = false, waitDrain = false, peerEnded = false,
                          discard = false, deadline = false, dkind = false, waiter = false,
                          task = false, left = 0, got = 0, peer = false, onread = false,
                          onflush = false, nextReq = false, nextRes = false,
                          bodyKind = false, keepAlive = false}, Conn)
  c.peer = setmetatable({_c = c}, Peer)
  -- The read callback does the common work itself (one call less per
  -- read). Either the parser has read a whole head (data false, req
  -- set: the answer says whether it may do so again), or data is input
  -- to keep and parse here.
  c.onread = function(err, data, req, unusual, kind, length, keep_alive)
    if req then
      c.processing = true
      c.bodyKind, c.keepAlive = kind, keep_alive
      start_request(c, req, unusual, kind, length)
      c.processing = false
      if c.buf then
        -- Only a handler that pushed input back could leave some.
        process(c)
        return false
      end
      return c.state == "head" and not c.active and not c.waitDrain and not c.closed
    end
    if not data then return on_end(c, err) end
    local buf = c.buf
    if buf then
      c.buf = (c.pos > 1 and buf:sub(c.pos) or buf) .. data
      c.pos = 1
    else
      c.buf, c.pos = data, 1
    end
    if not c.processing then process(c) end
  end
  c.onflush = function(err) on_flush(c, err) end
  self._live[c] = true
  next_deadline(c, "head", self.headersTimeout)
  if not self._sweep then
    self._sweep = uv.new_timer()
    self._sweep:start(self.connectionsCheckingInterval, self.connectionsCheckingInterval,
                      function() check_timeouts(self) end)
    self._sweep:unref()
  end
  -- The parser reads the socket: while the connection has nothing
  -- buffered, a read that is one whole head is parsed in C and arrives
  -- as a request (no Lua string of it, no pass through process()).
  parser:read_start(h, c.onread)
  parser:arm()
end

--- createServer([options], [handler]): options as `defaults` above, plus
--- task = true (the handler runs in a task of its own per connection)
--- and rawHeaders = true (req.rawHeaders: the fields as received, names
--- in their own case, {name, value, name, value, ...}; a table more per
--- request, so off by default).
function M.createServer(opts, handler)
  if type(opts) == "function" then opts, handler = nil, opts end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'createServer' (options table expected, got " .. type(opts) .. ")", 2)
  end
  if handler ~= nil and type(handler) ~= "function" then
    error("bad argument #2 to 'createServer' (function expected, got " .. type(handler) .. ")", 2)
  end
  opts = opts or {}
  local srv = Server:new({maxConnections = opts.maxConnections})
  for k, v in pairs(defaults) do
    local given = opts[k]
    if given ~= nil and not (k == "maxBodySize" and given == false) then
      if math.type(given) ~= "integer" or given < 0 then
        error(("bad option %s (a non-negative integer expected, got %s)"):format(k, tostring(given)), 2)
      end
      srv[k] = given
    else
      srv[k] = v
    end
  end
  -- The parser makes the request tables with IncomingMessage as their
  -- metatable (one Lua call less per request).
  srv._limits = {max_head = srv.maxHeaderSize, max_fields = srv.maxHeadersCount,
                 max_target = srv.maxUrlLength, metatable = IncomingMessage, lean = true,
                 raw_headers = opts.rawHeaders and true or false}
  srv._live = {}
  srv._stopping = false
  srv._task = opts.task and true or false
  srv._handler = handler
  return srv
end

--- Stops accepting; idle keep-alive connections close now, busy ones
--- after their response. "close" follows when all have closed.
function Server:close(cb)
  self._stopping = true
  net.Server.close(self, cb)
  -- The sweep goes on while connections live (their timeouts still
  -- count); the last one to go closes it.
  local idle = {}
  for c in pairs(self._live) do
    if not c.active and not c.buf and c.state ~= "dead" then
      idle[#idle + 1] = c
    else
      c.closing = true
    end
  end
  for _, c in ipairs(idle) do c:destroy() end
  if self._sweep and next(self._live) == nil then
    self._sweep:close()
    self._sweep = nil
  end
  return self
end

--- Closes every connection now.
function Server:closeAllConnections()
  local all = {}
  for c in pairs(self._live) do all[#all + 1] = c end
  for _, c in ipairs(all) do c:destroy() end
end

--- Closes the connections that wait for a request.
function Server:closeIdleConnections()
  local idle = {}
  for c in pairs(self._live) do
    if not c.active and not c.buf and c.state ~= "dead" then idle[#idle + 1] = c end
  end
  for _, c in ipairs(idle) do c:destroy() end
end

return M
