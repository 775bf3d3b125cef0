-- loom.stream: Node's stream classes (Readable, Writable, Duplex,
-- Transform, PassThrough, pipeline) with coroutine methods on top.
--
--   local stream = require "loom.stream"
--   local r = stream.Readable:new{read = function(self) self:push("x"); self:push(nil) end}
--   r:on("data", print)                          -- event style
--   task.spawn(function() print(r:read()) end)   -- coroutine style
--
-- Backpressure: a Readable asks its source for more (`_read`) only while
-- its buffer is below the high-water mark; push() returns false from
-- there on. A Writable's write() returns false once its queue reaches
-- the mark and emits "drain" when the queue has emptied; inside a task,
-- write() without a callback waits for that instead.
--
-- A stream is read either by "data" events (flowing) or by the
-- coroutine methods read / readLine / readUntil / lines (pulling), not
-- both: the second way raises, so no chunk is lost to the other.
--
-- Errors: destroy(err) (and a failed write or source) emits "error",
-- then "close". A stream read or written by the coroutine methods keeps
-- the error for them instead (the next call returns nil, err) unless it
-- has "error" listeners; a stream with neither raises, as in Node.
local Emitter = require "loom.emitter"
local task = require "loom.task"
local timer = require "loom.timer"

local M = {}
local fail = task.fail
local wake, park, need_task = task.wake, task.park, task.need
local concat = table.concat

local DEFAULT_HWM = 16384
local DEFAULT_OBJECT_HWM = 16
local DEFAULT_LINE_MAX = 65536

-- The error name of an error string ("ECONNRESET: ..." -> "ECONNRESET").
local function err_name(err)
  return type(err) == "string" and err:match("^(E%u[%u%d_]*)") or nil
end
M.err_name = err_name

-- Emits "error" by the policy above.
local function report_error(self, err)
  if self:listenerCount("error") > 0 or not self._co then
    self:emit("error", err)
  end
end

-- Read side -----------------------------------------------------------------

local Readable = Emitter:extend("loom.stream.Readable")
M.Readable = Readable

-- Defaults live in the class; an instance holds only what differs, and
-- its buffer table is made when the first chunk has to wait in it.
Readable._rhwm = DEFAULT_HWM
Readable._rhead, Readable._rtail = 1, 0
Readable._roff = 1        -- where the first buffered chunk starts
Readable._rlen = 0        -- bytes (objects) buffered
Readable.readable = true

local function init_readable(self, opts)
  local obj = opts.objectMode or opts.readableObjectMode
  if obj then self._robj = true end
  local hwm = opts.readableHighWaterMark or opts.highWaterMark or
              (obj and DEFAULT_OBJECT_HWM)
  if hwm then self._rhwm = hwm end
  if opts.read then self._read = opts.read end
  if opts.destroy then self._destroy = opts.destroy end
  if opts.autoDestroy == false then self._noAutoDestroy = true end
end
M.init_readable = init_readable

function Readable:initialize(opts)
  init_readable(self, opts or {})
end

local function buffered(self)
  return self._rtail >= self._rhead
end

local emit_end

local function take_chunk(self)
  local h = self._rhead
  if h > self._rtail then return nil end
  local chunk = self._rbuf[h]
  self._rbuf[h] = nil
  self._rhead = h + 1
  local off = self._roff
  if off > 1 then
    chunk = chunk:sub(off)
    self._roff = 1
  end
  self._rlen = self._rlen - (self._robj and 1 or #chunk)
  if self._rhead > self._rtail then
    self._rhead, self._rtail = 1, 0
    -- The last data of an ended stream was taken: "end" follows on a
    -- later turn, whoever took it (a reader in read() or readLine() too:
    -- otherwise "end", and the close that waits for it, would wait for
    -- one more read).
    if self._rended and not self._rendSched then
      self._rendSched = true
      timer.setImmediate(emit_end, self)
    end
  end
  return chunk
end

-- Merges the buffered chunks into one string; returns it.
local function joined(self)
  local h, t = self._rhead, self._rtail
  if h > t then return "" end
  if h == t then
    local s = self._rbuf[h]
    if self._roff > 1 then
      s = s:sub(self._roff)
      self._rbuf[h], self._roff = s, 1
    end
    return s
  end
  local buf = self._rbuf
  if self._roff > 1 then buf[h] = buf[h]:sub(self._roff) end
  local s = concat(buf, "", h, t)
  for i = h, t do buf[i] = nil end
  buf[1] = s
  self._rhead, self._rtail, self._roff = 1, 1, 1
  return s
end

-- Takes n bytes (n <= buffered bytes) from the front of the buffer.
local function take_bytes(self, n)
  local first = self._rbuf[self._rhead]
  local off = self._roff
  local avail = #first - off + 1
  if avail >= n then
    local out = first:sub(off, off + n - 1)
    if avail == n then
      take_chunk(self)
    else
      self._roff = off + n
      self._rlen = self._rlen - n
    end
    return out
  end
  local s = joined(self)
  if n == #s then
    take_chunk(self)
    return s
  end
  self._roff = n + 1
  self._rlen = self._rlen - n
  return s:sub(1, n)
end

function emit_end(self)
  if self._rendEmitted then return end
  self._rendEmitted = true
  self.readable = false
  self:emit("end")
  if self._onReadEnd then self:_onReadEnd() end
  if not self._noAutoDestroy and (not self._isWritable or self._wfinished) then
    self:destroy()
  end
end

-- Hands buffered chunks to "data" listeners while flowing, and asks the
-- source for more. Pushes made meanwhile are buffered, not emitted from
-- inside push, so a source that pushes synchronously does not recurse.
local function flow(self)
  if self._rinflow then return end
  self._rinflow = true
  while self._rflow and not self.destroyed do
    local chunk = take_chunk(self)
    if chunk then
      self:emit("data", chunk)
    elseif self._rended then
      -- Like Node, "end" comes on a later turn: a listener added right
      -- after the last push still hears it.
      if not self._rendSched then
        self._rendSched = true
        timer.setImmediate(emit_end, self)
      end
      break
    elseif self._rreading then
      break -- the source will push later
    else
      self._rreading = true
      self:_read(self._rhwm)
      -- Nothing came at once: the source pushes later (or cannot yet).
      if not buffered(self) and not self._rended then break end
    end
  end
  self._rinflow = false
end
M.flow = flow

local function schedule_flow(self)
  if self._rsched then return end
  self._rsched = true
  timer.setImmediate(function()
    self._rsched = false
    flow(self)
  end)
end

--- The source side: adds a chunk (a string; any value but nil in object
--- mode) to the stream; push(nil) marks its end. Returns false once the
--- buffer is at the high-water mark (stop producing until _read).
function Readable:push(chunk)
  if self.destroyed then return false end
  if not self._rcontinuous then self._rreading = false end
  if chunk == nil then
    if self._rended then return false end
    self._rended = true
    local w = self._rwait
    if w then self._rwait = nil; wake(w, true) end
    if self._rflow then
      if buffered(self) then schedule_flow(self) else flow(self) end
    elseif not buffered(self) and not self._rendSched then
      -- Nothing left to read: "end" comes whether or not anyone reads
      -- (Node does the same), so a socket nobody reads still closes.
      self._rendSched = true
      timer.setImmediate(emit_end, self)
    end
    return false
  end
  if self._rended then
    error("push after the end of the stream (push(nil) was called)", 2)
  end
  if not self._robj then
    if type(chunk) ~= "string" then
      error("bad argument #1 to 'push' (string expected, got " .. type(chunk) .. ")", 2)
    end
    if #chunk == 0 then return self._rlen < self._rhwm end
  end
  if self._rflow and not self._rinflow and not buffered(self) then
    -- The common case of a flowing stream: straight to the listeners.
    self._rinflow = true
    self:emit("data", chunk)
    self._rinflow = false
    if self._rflow and not self.destroyed then
      -- Ask the source for more, unless it goes on by itself (a socket).
      if not self._rcontinuous then flow(self) end
      return true
    end
    return false
  end
  local w = self._rwait
  if w and self._rneed == 0 and not buffered(self) then
    -- A task waits in read() for any chunk: hand this one over as it is.
    self._rwait, self._rneed = nil, nil
    wake(w, chunk)
    return true
  end
  local buf = self._rbuf
  if not buf then buf = {}; self._rbuf = buf end
  local t = self._rtail + 1
  buf[t] = chunk
  self._rtail = t
  self._rlen = self._rlen + (self._robj and 1 or #chunk)
  if w then
    self._rwait = nil
    wake(w, true)
  elseif self._rflow and not self._rinflow then
    flow(self)
  end
  local need = self._rneed
  return self._rlen < (need and need > self._rhwm and need or self._rhwm)
end

-- The source side of a stream made without a read function: nothing to
-- ask for; data comes when the owner pushes it.
function Readable:_read()
end

--- Starts (or restarts) "data" events.
function Readable:resume()
  if self._co == "pull" then
    error("this stream is read with read()/readLine(); 'data' events would take its data", 2)
  end
  self._rflow = true
  schedule_flow(self)
  return self
end

--- Stops "data" events; data is buffered (up to the high-water mark).
function Readable:pause()
  if self._rflow ~= false then self._rflow = false end
  return self
end

function Readable:isPaused()
  return self._rflow == false
end

function Readable:on(name, fn)
  if name == "data" then
    if self._co == "pull" then
      error("this stream is read with read()/readLine(); a 'data' listener would take its data", 2)
    end
    Emitter.on(self, name, fn)
    if self._rflow ~= false then self:resume() end
    return self
  end
  return Emitter.on(self, name, fn)
end
Readable.addListener = Readable.on

function Readable:once(name, fn)
  if name == "data" and self._co == "pull" then
    error("this stream is read with read()/readLine(); a 'data' listener would take its data", 2)
  end
  Emitter.once(self, name, fn)
  if name == "data" and self._rflow ~= false then self:resume() end
  return self
end

-- Coroutine reads --------------------------------------------------------------

local function start_pull(self, what)
  local me = need_task(what, 3)
  if self._rflow then
    error("this stream is read by 'data' events; " .. what .. " would take data from them", 3)
  end
  if self._co ~= "pull" then self._co = "pull" end
  return me
end

local function clear_rwait(self)
  self._rwait = nil
end
M.clear_rwait = clear_rwait

-- Waits for more data to be pushed (or the end, or an error). Returns
-- true, or nil and an error.
local function wait_data(self, me, need)
  if self._rreading ~= true then
    self._rreading = true
    self._rneed = need
    self:_read(self._rhwm)
    if buffered(self) or self._rended or self.destroyed then
      self._rneed = nil
      return true
    end
  end
  self._rneed = need
  self._rwait = me
  local ok, err, name = park(me, clear_rwait, self._timeout, self)
  self._rneed = nil
  if not ok then return nil, err, name end
  return ok -- true, or the chunk push handed over
end

local function end_of_data(self)
  if self.errored then return nil, self.errored, err_name(self.errored) end
  if self._rended then
    emit_end(self)
    -- The reader has seen the end: what an owner put off until then
    -- (a socket's half-close) happens now.
    if not self._eofRead then
      self._eofRead = true
      if self._finishOnEof then
        self._finishOnEof = nil
        self:_onReadEnd()
      end
    end
    return nil
  end
  return fail("EBADF") -- destroyed without an error
end

local prepark, PARK, co_yield = task.prepark, task.PARK, coroutine.yield

-- read()'s loop. The wait is written out here (not wait_data, not park)
-- so that a task idle in read() holds the fewest call frames.
local function read_loop(self, me, n)
  while true do
    if n == nil then
      local chunk = take_chunk(self)
      if chunk ~= nil then return chunk end
    elseif self._rlen >= n then
      return take_bytes(self, n)
    end
    if self._rended or self.destroyed or self.errored then
      if n and self._rlen > 0 then return take_bytes(self, self._rlen) end
      return end_of_data(self)
    end
    local need = n or 0 -- 0: any chunk (push may hand it over directly)
    local asked = false
    if self._rreading ~= true then
      self._rreading = true
      self._rneed = need
      self:_read(self._rhwm)
      asked = buffered(self) or self._rended or self.destroyed
    end
    if not asked then
      self._rneed = need
      self._rwait = me
      local ok, err, name = prepark(me, clear_rwait, self._timeout, self)
      if ok then ok, err, name = co_yield(PARK) end
      self._rneed = nil
      if not ok then return nil, err, name end
      if ok ~= true then return ok end -- a chunk push handed over
    end
    self._rneed = nil
  end
end

--- In a task: the next chunk (n nil), or exactly n bytes (fewer only at
--- the end of the stream). Returns nil at the end of the stream, or nil
--- and an error ("ECONNRESET: ...", or ETIMEDOUT after settimeout's
--- time, ECANCELED when the task is cancelled; no data is lost then).
function Readable:read(n)
  local me = start_pull(self, "read")
  if n ~= nil and (math.type(n) ~= "integer" or n < 0) then
    error("bad argument #1 to 'read' (a non-negative integer expected)", 2)
  end
  if n ~= nil and self._robj then
    error("read(n) counts bytes; this stream is in object mode", 2)
  end
  if n == 0 then return "" end
  return read_loop(self, me, n) -- a tail call: read's frame is gone
end

--- In a task: the data up to `delimiter` (a plain string, not a pattern),
--- without it. At the end of the stream, what is left (then nil). A line
--- longer than max bytes (default 64 KiB) returns nil, "EMSGSIZE: ..."
--- and leaves the data buffered: a peer that never sends the delimiter
--- cannot make the buffer grow past max.
function Readable:readUntil(delimiter, max)
  local me = start_pull(self, "readUntil")
  if type(delimiter) ~= "string" or #delimiter == 0 then
    error("bad argument #1 to 'readUntil' (a non-empty string expected)", 2)
  end
  if self._robj then error("readUntil reads bytes; this stream is in object mode", 2) end
  max = max or DEFAULT_LINE_MAX
  if math.type(max) ~= "integer" or max < 1 then
    error("bad argument #2 (max) (a positive integer expected)", 2)
  end
  local from = 1
  while true do
    if buffered(self) then
      local s = joined(self)
      local i = s:find(delimiter, from, true)
      if i then
        if i - 1 > max then return fail("EMSGSIZE") end
        local out = s:sub(1, i - 1)
        local used = i + #delimiter - 1
        if used == #s then take_chunk(self) else
          self._roff = used + 1
          self._rlen = self._rlen - used
        end
        return out
      end
      if #s > max then return fail("EMSGSIZE") end
      from = math.max(1, #s - #delimiter + 2)
    end
    if self._rended or self.destroyed or self.errored then
      if self._rlen > 0 then return take_bytes(self, self._rlen) end
      return end_of_data(self)
    end
    local ok, err, name = wait_data(self, me, max + #delimiter + 1)
    if not ok then return nil, err, name end
  end
end

--- In a task: the next line without its "\n" (and a "\r" before it).
--- max as for readUntil.
function Readable:readLine(max)
  local line, err, name = self:readUntil("\n", max)
  if line and line:byte(-1) == 13 then line = line:sub(1, -2) end
  return line, err, name
end

--- In a task: for line in s:lines([max]) do ... end. The loop ends at the
--- end of the stream or at an error, which is then in s.lastError.
function Readable:lines(max)
  return function()
    local line, err = self:readLine(max)
    if err then self.lastError = err end
    return line
  end
end

--- In a task: the whole remaining stream as one string (max bytes at
--- most, default unlimited: nil, "EMSGSIZE..." past it).
function Readable:readAll(max)
  local parts, size = {}, 0
  while true do
    local chunk, err, name = self:read()
    if chunk == nil then
      if err then return nil, err, name end
      return concat(parts)
    end
    size = size + #chunk
    if max and size > max then return fail("EMSGSIZE") end
    parts[#parts + 1] = chunk
  end
end

-- Write side ----------------------------------------------------------------

local Writable = Emitter:extend("loom.stream.Writable")
M.Writable = Writable

Writable._whwm = DEFAULT_HWM
Writable._wlen = 0
Writable._isWritable = true
Writable.writable = true

local function init_writable(self, opts)
  local obj = opts.objectMode or opts.writableObjectMode
  if obj then self._wobj = true end
  local hwm = opts.writableHighWaterMark or opts.highWaterMark or
              (obj and DEFAULT_OBJECT_HWM)
  if hwm then self._whwm = hwm end
  if opts.write then self._write = opts.write end
  if opts.final then self._final = opts.final end
  if opts.destroy then self._destroy = opts.destroy end
  if opts.autoDestroy == false then self._noAutoDestroy = true end
end
M.init_writable = init_writable

function Writable:initialize(opts)
  init_writable(self, opts or {})
end

local function wake_writers(self, ...)
  local ws = self._wwait
  if ws then
    self._wwait = nil
    for i = 1, #ws do wake(ws[i], ...) end
  end
end
M.wake_writers = wake_writers

local maybe_finish -- forward

local function write_done(self, n, cb, err)
  self._wlen = self._wlen - n
  if err then
    self._wbusy = false
    if cb then cb(err) end
    if not self.destroyed then self:destroy(err) end
    return
  end
  if cb then cb(nil) end
  local q = self._wq
  local nxt = q and table.remove(q, 1)
  if nxt then
    self:_write(nxt[1], function(e) write_done(self, nxt[3], nxt[2], e) end)
    return
  end
  self._wbusy = false
  if self._wneedDrain and self._wlen == 0 then
    self._wneedDrain = false
    self:emit("drain")
    wake_writers(self, true)
  end
  if self._wending then maybe_finish(self) end
end

-- Fails a write: the callback (or a waiting task) gets the error.
local function write_error(self, cb, name, quiet)
  local _, err = fail(name)
  if cb then
    timer.setImmediate(cb, err)
  elseif not task.current() and not quiet then
    report_error(self, err)
  end
  return false, err, name
end
M.write_error = write_error

-- Queues a chunk; never suspends. Returns whether the queue is below the
-- high-water mark (false: wait for "drain").
local function write_now(self, chunk, cb)
  if self._wending then return write_error(self, cb, "EPIPE") end
  if self.destroyed then return write_error(self, cb, "EBADF", true) end
  if chunk == nil then error("bad argument #1 to 'write' (nil)", 3) end
  local n = 1
  if not self._wobj then
    if type(chunk) ~= "string" then
      error("bad argument #1 to 'write' (string expected, got " .. type(chunk) .. ")", 3)
    end
    n = #chunk
  end
  self._wlen = self._wlen + n
  if self._wbusy or self._wcorked then
    local q = self._wq
    if not q then q = {}; self._wq = q end
    q[#q + 1] = {chunk, cb, n}
  else
    self._wbusy = true
    self:_write(chunk, function(e) write_done(self, n, cb, e) end)
  end
  local ok = self._wlen < self._whwm
  if not ok then self._wneedDrain = true end
  return ok
end
M.write_now = write_now

-- Parks the running task until the write queue has drained.
local function wait_drain(self, me)
  local ws = self._wwait
  if not ws then ws = {}; self._wwait = ws end
  ws[#ws + 1] = me
  return park(me, task.unlist, self._timeout, ws)
end
M.wait_drain = wait_drain

--- Writes a chunk. With a callback, cb(err) follows once it is written.
--- Outside a task, returns false when the caller should wait for
--- "drain". Inside a task and without a callback, waits while the queue
--- is at its high-water mark and returns true, or nil and an error.
function Writable:write(chunk, cb)
  if cb == nil then
    local me = task.current()
    if me then
      if not self._co then self._co = true end
      if self.errored then return nil, self.errored, err_name(self.errored) end
      local ok, err, name = self:_writeNow(chunk)
      if ok then return true end
      if err then return nil, err, name end
      ok, err, name = wait_drain(self, me)
      if not ok then return nil, err, name end
      if self.errored then return nil, self.errored, err_name(self.errored) end
      return true
    end
  end
  return (self:_writeNow(chunk, cb))
end

-- The non-suspending write that write(), finish() and pipe() use;
-- sockets have their own.
Writable._writeNow = write_now

function Writable:_write(_, cb)
  local _, err = fail("ENOSYS")
  cb(err)
end

function maybe_finish(self)
  if self._wbusy or (self._wq and #self._wq > 0) or self._wfinished or self._wfinal then
    return
  end
  self._wfinal = true
  local function finished(err)
    if err then
      wake_writers(self, nil, err, err_name(err))
      return self:destroy(err)
    end
    self._wfinished = true
    self.writable = false
    self:emit("finish")
    wake_writers(self, true)
    if not self._noAutoDestroy and (not self.readable or self._rendEmitted or
                                    not self._read) then
      self:destroy()
    end
  end
  -- "finish" always comes on a later turn (as in Node), even when
  -- everything was written already.
  timer.setImmediate(function()
    if self.destroyed then return end
    if self._final then self:_final(finished) else finished() end
  end)
end
M.maybe_finish = maybe_finish
-- What finish() runs once the writes are queued; sockets shut down.
Writable._maybeFinish = maybe_finish

--- Ends the write side (after writing chunk, if given): "finish" follows
--- once everything queued is written. cb is called on "finish" (or with
--- the error). In a task without a callback, waits for "finish": returns
--- true, or nil and an error. The Lua keyword makes `s:end()` invalid:
--- write `s:finish()` or `s["end"](s)`.
function Writable:finish(chunk, cb)
  if type(chunk) == "function" then chunk, cb = nil, chunk end
  if chunk ~= nil then self:_writeNow(chunk) end
  if cb then
    if self._wfinished then timer.setImmediate(cb)
    else
      self:once("finish", function() cb() end)
    end
  end
  if not self._wending and not self.destroyed then
    self._wending = true
    self:_maybeFinish()
  end
  if cb == nil then
    local me = task.current()
    if me then
      if not self._co then self._co = true end
      if self._wfinished then return true end
      if self.errored then return nil, self.errored, err_name(self.errored) end
      if self.destroyed then return fail("EBADF") end
      return wait_drain(self, me)
    end
  end
  return self
end
Writable["end"] = Writable.finish

--- Holds writes in the queue until uncork().
function Writable:cork()
  self._wcorked = true
end

function Writable:uncork()
  if not self._wcorked then return end
  self._wcorked = false
  if not self._wbusy then
    local nxt = self._wq and table.remove(self._wq, 1)
    if nxt then
      self._wbusy = true
      self:_write(nxt[1], function(e) write_done(self, nxt[3], nxt[2], e) end)
    elseif self._wending then
      maybe_finish(self)
    end
  end
end

-- Destroy (both sides) -----------------------------------------------------

local function destroy(self, err)
  if self.destroyed then return self end
  self.destroyed = true
  self.readable, self.writable = false, false
  if err and not self.errored then self.errored = err end
  local name = err and err_name(err)
  -- Waiting tasks wake at once with the error (or EBADF).
  local w = self._rwait
  if w then self._rwait = nil; wake(w, true) end
  if err then wake_writers(self, nil, err, name) else wake_writers(self, fail("EBADF")) end
  local function done(err2)
    if err2 and not self.errored then self.errored = err2 end
    local e = err or err2
    if e then report_error(self, e) end
    self:emit("close", e ~= nil)
  end
  if self._destroy then
    self:_destroy(err, done)
  else
    timer.setImmediate(done)
  end
  return self
end
M.destroy = destroy
Readable.destroy = destroy
Writable.destroy = destroy

--- Ends a stream at once: in-flight data is dropped, "close" follows.
Readable.close = function(self) return destroy(self) end
Writable.close = Readable.close

-- Duplex, Transform, PassThrough -------------------------------------------

local Duplex = Readable:extend("loom.stream.Duplex")
M.Duplex = Duplex
for k, v in pairs(Writable) do
  if type(k) == "string" and k:sub(1, 2) ~= "__" and k ~= "initialize" and k ~= "new"
     and k ~= "extend" and k ~= "super" and rawget(Duplex, k) == nil and rawget(Readable, k) == nil then
    Duplex[k] = v
  end
end

function Duplex:initialize(opts)
  opts = opts or {}
  init_readable(self, opts)
  init_writable(self, opts)
  if opts.allowHalfOpen == false then self._noHalfOpen = true end
end

function Duplex:_onReadEnd()
  if self._noHalfOpen and not self._wending then self:finish() end
end

local Transform = Duplex:extend("loom.stream.Transform")
M.Transform = Transform

--- opts.transform(self, chunk, push, cb) handles each written chunk:
--- push(out) any number of times, then cb(err); opts.flush(self, push, cb)
--- runs at the end. Backpressure: cb is held while the read side is full.
function Transform:initialize(opts)
  opts = opts or {}
  Duplex.initialize(self, opts)
  if opts.transform then self._transform = opts.transform end
  if opts.flush then self._flush = opts.flush end
  self._pushfn = function(chunk) return self:push(chunk) end
end

function Transform:_transform(chunk, push, cb)
  push(chunk)
  cb()
end

function Transform:_write(chunk, cb)
  self:_transform(chunk, self._pushfn, function(err)
    if err then return cb(err) end
    if self._rlen >= self._rhwm then
      self._tcb = cb -- resumed by _read once the reader caught up
    else
      cb()
    end
  end)
end

function Transform:_read()
  local cb = self._tcb
  if cb then
    self._tcb = nil
    cb()
  end
end

function Transform:_final(cb)
  local function done(err)
    if err then return cb(err) end
    self:push(nil)
    cb()
  end
  if self._flush then self:_flush(self._pushfn, done) else done() end
end

local PassThrough = Transform:extend("loom.stream.PassThrough")
M.PassThrough = PassThrough

-- pipe and pipeline ----------------------------------------------------------

--- Sends everything read from this stream to dest, pausing while dest's
--- queue is full; ends dest at the end unless opts["end"] == false.
--- Returns dest.
function Readable:pipe(dest, opts)
  local src = self
  local ondata
  ondata = function(chunk)
    if dest.destroyed then
      -- The destination is gone: stop sending to it (pipeline destroys
      -- the source too; a plain pipe leaves it paused).
      src:off("data", ondata)
      src:pause()
      return
    end
    if dest:_writeNow(chunk) == false then src:pause() end
  end
  local ondrain = function()
    if src._rflow == false then src:resume() end
  end
  src:on("data", ondata)
  dest:on("drain", ondrain)
  if not (opts and opts["end"] == false) then
    src:once("end", function() dest:finish() end)
  end
  local function cleanup()
    src:off("data", ondata)
    dest:off("drain", ondrain)
  end
  src:once("close", cleanup)
  dest:once("close", cleanup)
  dest:emit("pipe", src)
  return dest
end

--- pipeline(a, b, ..., z, [cb]): pipes each stream into the next. The
--- first error (or a stream closed before its end) destroys every stage
--- and calls cb(err); cb() follows once z has finished. In a task without
--- cb, waits for that and returns true, or nil and the error.
function M.pipeline(...)
  local stages = table.pack(...)
  local cb = stages[stages.n]
  if type(cb) == "function" then stages.n = stages.n - 1 else cb = nil end
  if stages.n < 2 then error("pipeline needs at least two streams", 2) end
  for i = 1, stages.n do
    if type(stages[i]) ~= "table" or not stages[i].emit then
      error("bad argument #" .. i .. " to 'pipeline' (stream expected)", 2)
    end
  end
  local me = cb == nil and need_task("pipeline (without a callback)") or nil
  local settled = false
  local result
  local function settle(err)
    if settled then return end
    settled = true
    if err then
      for i = 1, stages.n do stages[i]:destroy(err) end
    end
    result = err
    if cb then cb(err) elseif me then local w = me; me = nil; wake(w, true) end
  end
  local last = stages[stages.n]
  for i = 1, stages.n do
    local s = stages[i]
    s:on("error", function(err) settle(err) end)
    s:once("close", function()
      -- Closed before its part was done: the others must not wait.
      if not (s._wfinished or s._rendEmitted) then settle(select(2, fail("EPIPE"))) end
    end)
    if i < stages.n then s:pipe(stages[i + 1]) end
  end
  if last._isWritable then
    last:once("finish", function() settle(nil) end)
  else
    last:once("end", function() settle(nil) end)
    last:resume()
  end
  if me then
    if not settled then
      local ok, err, name = park(me, function()
        me = nil
        settle(select(2, fail("ECANCELED")))
      end)
      if not ok then return nil, err, name end
    end
    if result then return nil, result, err_name(result) end
    return true
  end
  return last
end

--- A Readable of the values of an array (object mode) or the strings of
--- an array, one per read.
function M.from(list, opts)
  opts = opts or {}
  local i = 0
  local r = Readable:new{
    objectMode = opts.objectMode,
    highWaterMark = opts.highWaterMark,
    read = function(self)
      i = i + 1
      self:push(list[i])
    end,
  }
  return r
end

return M
