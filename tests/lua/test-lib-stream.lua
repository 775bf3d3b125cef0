-- test-lib-stream.lua: loom.stream — Readable, Writable, Duplex,
-- Transform, pipe and pipeline, in the event and the coroutine style.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local stream = require "loom.stream"
local task = require "loom.task"
local timer = require "loom.timer"

-- A source of `count` chunks of `size` bytes, produced one per _read call.
local function source(count, size, opts)
  local sent = 0
  local chunk = ("x"):rep(size)
  opts = opts or {}
  opts.read = function(self)
    sent = sent + 1
    if sent > count then self:push(nil) else self:push(chunk) end
  end
  return stream.Readable:new(opts), function() return sent end
end

-- A sink that completes each write after `delay` ms (0: on the next
-- pass of the loop), collecting what it got.
local function slow_sink(delay, opts)
  local got = {}
  opts = opts or {}
  opts.write = function(self, chunk, cb)
    got[#got + 1] = chunk
    if delay then timer.setTimeout(delay, cb) else timer.setImmediate(cb) end
  end
  return stream.Writable:new(opts), got
end

test("a Readable flows to 'data' then 'end' then 'close'", function(expect, uv)
  local r = source(3, 4)
  local log = {}
  r:on("data", function(c) log[#log + 1] = c end)
  r:on("end", expect(function() log[#log + 1] = "end" end))
  r:on("close", expect(function() log[#log + 1] = "close" end))
  uv.run()
  assert(table.concat(log, ",") == "xxxx,xxxx,xxxx,end,close", table.concat(log, ","))
  assert(r.destroyed and not r.readable)
end)

test("push returns false at the high-water mark and _read waits for the reader", function(expect, uv)
  local reads = 0
  local r = stream.Readable:new{highWaterMark = 10, read = function() reads = reads + 1 end}
  assert(r:push("12345") == true)
  assert(r:push("67890") == false) -- 10 bytes: at the mark
  assert(r._rlen == 10)
  local got = {}
  r:on("data", function(c) got[#got + 1] = c end)
  uv.run()
  -- Emptied, it asked the source for more once.
  assert(#got == 2 and reads == 1, reads)
  r:destroy()
end)

test("pause buffers, resume delivers in order", function(expect, uv)
  local r = stream.Readable:new()
  local got = {}
  r:on("data", function(c) got[#got + 1] = c end)
  r:pause()
  assert(r:isPaused())
  r:push("a"); r:push("b")
  uv.run()
  assert(#got == 0)
  r:resume()
  r:push("c")
  r:push(nil)
  r:on("end", expect())
  uv.run()
  assert(table.concat(got) == "abc", table.concat(got))
end)

test("Writable: write returns false at the mark, 'drain' when empty, then finish and close", function(expect, uv)
  local w, got = slow_sink(nil, {highWaterMark = 8})
  assert(w:write("1234") == true)
  assert(w:write("5678") == false) -- 8 bytes queued
  local log = {}
  w:on("drain", expect(function() log[#log + 1] = "drain" end))
  w:on("finish", expect(function() log[#log + 1] = "finish" end))
  w:on("close", expect(function() log[#log + 1] = "close" end))
  uv.run()
  w:finish("9", expect(function() log[#log + 1] = "cb" end))
  uv.run()
  assert(table.concat(log, ",") == "drain,finish,cb,close", table.concat(log, ","))
  assert(table.concat(got) == "123456789")
end)

test("write after finish is an error; write callbacks get errors", function(expect, uv)
  local w = slow_sink(nil)
  w:finish()
  -- With a callback the callback gets the error (no "error" event).
  w:on("error", function(e) error("unexpected error event: " .. e) end)
  w:write("late", expect(function(e) assert(e:match("^EPIPE")) end))
  uv.run()
  local failing = stream.Writable:new{write = function(_, _, cb) cb("EIO: i/o error") end}
  failing:on("error", expect(function(e) assert(e == "EIO: i/o error") end))
  failing:on("close", expect(function(had) assert(had == true) end))
  failing:write("x", expect(function(e) assert(e == "EIO: i/o error") end))
  uv.run()
  assert(failing.destroyed and failing.errored == "EIO: i/o error")
end)

test("destroy(err) emits error then close; with no listener it raises through the policy", function(expect, uv)
  local r = stream.Readable:new()
  local log = {}
  r:on("error", function(e) log[#log + 1] = e end)
  r:on("close", function(had) log[#log + 1] = "close:" .. tostring(had) end)
  r:destroy("EBOOM: it broke")
  uv.run()
  assert(table.concat(log, ",") == "EBOOM: it broke,close:true", table.concat(log, ","))
  local caught
  local old = uv.on_error(expect(function(e) caught = e end))
  stream.Readable:new():destroy("EOTHER: nobody listens")
  uv.run()
  uv.on_error(old)
  assert(caught:match("EOTHER: nobody listens"))
end)

test("Transform and PassThrough, with flush", function(expect, uv)
  local upper = stream.Transform:new{
    transform = function(self, chunk, push, cb) push(chunk:upper()); cb() end,
    flush = function(self, push, cb) push("!"); cb() end,
  }
  local out = {}
  upper:on("data", function(c) out[#out + 1] = c end)
  upper:on("end", expect())
  upper:on("close", expect())
  upper:write("ab")
  upper:write("cd")
  upper:finish()
  uv.run()
  assert(table.concat(out) == "ABCD!", table.concat(out))
  local pt = stream.PassThrough:new()
  local got = {}
  pt:on("data", function(c) got[#got + 1] = c end)
  pt:finish("same")
  uv.run()
  assert(got[1] == "same")
end)

test("pipe: a fast source into a slow sink holds memory bounded", function(expect, uv)
  -- 8 MiB through a sink that takes one 16 KiB chunk per loop pass. If
  -- pipe ignored backpressure, the whole 8 MiB would sit in the queue.
  local src = source(512, 16384)
  local sink, got = slow_sink(nil)
  local most_queued, most_buffered = 0, 0
  local base = collectgarbage("count")
  local peak = 0
  local probe = uv.new_check()
  probe:start(function()
    if sink._wlen > most_queued then most_queued = sink._wlen end
    if src._rlen > most_buffered then most_buffered = src._rlen end
    local kb = collectgarbage("count") - base
    if kb > peak then peak = kb end
  end)
  sink:on("finish", expect(function() probe:close() end))
  src:pipe(sink)
  uv.run()
  assert(#got == 512)
  assert(most_queued <= 2 * 16384, "sink queue reached " .. most_queued)
  assert(most_buffered <= 2 * 16384, "source buffer reached " .. most_buffered)
  assert(peak < 4096, ("Lua heap grew by %.0f KiB"):format(peak))
end)

test("pipeline: an error in any stage destroys every stage and calls back once", function(expect, uv)
  local src = source(1000, 100)
  local mid = stream.Transform:new{
    transform = function(self, chunk, push, cb)
      self.n = (self.n or 0) + 1
      if self.n == 5 then return cb("EBADMSG: bad message") end
      push(chunk); cb()
    end,
  }
  local sink = slow_sink(nil)
  stream.pipeline(src, mid, sink, expect(function(err)
    assert(err == "EBADMSG: bad message", err)
  end))
  uv.run()
  assert(src.destroyed and mid.destroyed and sink.destroyed)
end)

test("pipeline calls back with nil when the last stage finishes", function(expect, uv)
  local src = source(10, 10)
  local sink, got = slow_sink(nil)
  stream.pipeline(src, stream.PassThrough:new(), sink, expect(function(err)
    assert(err == nil, err)
    assert(#got == 10)
  end))
end)

task_test("coroutine pipeline returns true or the error", function()
  local src = source(5, 10)
  local sink = slow_sink(nil)
  assert(stream.pipeline(src, sink) == true)
  assert(sink._wfinished)
  local bad = stream.Readable:new{read = function(self) self:destroy("EIO: i/o error") end}
  local ok, err, name = stream.pipeline(bad, (slow_sink(nil)))
  assert(ok == nil and err == "EIO: i/o error" and name == "EIO", err)
end)

task_test("coroutine read: chunks, read(n), readLine, readUntil across pieces", function()
  local r = stream.Readable:new()
  local pieces = {"he", "llo\r\nwor", "ld\n", "ab", "c|def|", "123", "456", "7"}
  task.spawn(function()
    for _, p in ipairs(pieces) do task.sleep(1); r:push(p) end
    r:push(nil)
  end)
  assert(r:readLine() == "hello")
  assert(r:readLine() == "world")
  assert(r:readUntil("|") == "abc")
  assert(r:readUntil("|") == "def")
  assert(r:read(4) == "1234")
  assert(r:read(10) == "567") -- the rest, at the end of the stream
  assert(r:read() == nil)
  assert(r:readLine() == nil)
end)

task_test("readLine with a peer that never sends a newline: EMSGSIZE, not unbounded memory", function()
  local r = stream.Readable:new{highWaterMark = 1024}
  local feeder = task.spawn(function()
    for _ = 1, 100 do
      if r.destroyed then return end
      r:push(("z"):rep(1000))
      task.yield()
    end
  end)
  local line, err, name = r:readLine(4096)
  assert(line == nil and name == "EMSGSIZE" and err:match("^EMSGSIZE"), tostring(err))
  assert(r._rlen <= 4096 + 2000, r._rlen)
  r:destroy()
  feeder:join()
end)

task_test("coroutine write suspends at the high-water mark", function()
  local w, got = slow_sink(nil, {highWaterMark = 100})
  local most = 0
  for _ = 1, 50 do
    assert(w:write(("y"):rep(40)) == true)
    if w._wlen > most then most = w._wlen end
  end
  assert(w:finish() == true)
  assert(#got == 50 and most < 140, most)
end)

task_test("an error reaches the task as a return value, not a raise", function()
  local r = stream.Readable:new()
  task.spawn(function() task.sleep(1); r:destroy("ECONNRESET: connection reset by peer") end)
  local data, err, name = r:read()
  assert(data == nil and name == "ECONNRESET" and err:match("reset"))
  -- Later calls answer the same.
  assert(select(3, r:read()) == "ECONNRESET")
  local w = stream.Writable:new{write = function(_, _, cb) cb("EIO: i/o error") end}
  assert(w:write("a") == true) -- queued; the failure comes with the callback
  task.yield()
  local ok, werr = w:write("b")
  assert(ok == nil and werr == "EIO: i/o error")
end)

task_test("read() on a stream read by events raises, and the other way round", function()
  local r = stream.Readable:new()
  r:on("data", function() end)
  T.raises("read by 'data' events", r.read, r)
  local r2 = stream.Readable:new()
  r2:push("x")
  assert(r2:read() == "x")
  T.raises("a 'data' listener would take its data", r2.on, r2, "data", print)
  r:destroy(); r2:destroy()
end)

task_test("a task reading a stream can be cancelled and the data stays", function()
  local r = stream.Readable:new()
  local reader = task.spawn(function() return r:read() end)
  task.yield()
  reader:cancel()
  local d, err, name = reader:join()
  assert(d == nil and name == "ECANCELED", err)
  r:push("kept")
  assert(r:read() == "kept")
  r:destroy()
end)

task_test("readAll and lines", function()
  local r = stream.from({"a\n", "b\nc", "\n"})
  local lines = {}
  for l in r:lines() do lines[#lines + 1] = l end
  assert(table.concat(lines, ",") == "a,b,c", table.concat(lines, ","))
  local r2 = stream.from({"x", "y", "z"})
  assert(r2:readAll() == "xyz")
  local r3 = stream.from({"123456"})
  assert(select(3, r3:readAll(3)) == "EMSGSIZE")
  r3:destroy()
end)

test("object mode carries any value; from() makes a Readable of an array", function(expect, uv)
  local r = stream.from({1, {2}, "three"}, {objectMode = true})
  local got = {}
  r:on("data", function(v) got[#got + 1] = v end)
  r:on("end", expect())
  uv.run()
  assert(got[1] == 1 and got[2][1] == 2 and got[3] == "three")
end)

test("bad arguments raise", function()
  local r = stream.Readable:new()
  T.raises("string expected", r.push, r, 42)
  local w = stream.Writable:new{write = function(_, _, cb) cb() end}
  T.raises("string expected", w.write, w, {})
  T.raises("at least two streams", stream.pipeline, r, function() end)
  r:destroy(); w:destroy()
end)

task_test("'end' follows when a reader takes the last data of an ended stream", function()
  local r = stream.Readable:new()
  r:push("a\nb\n")
  r:push(nil)
  local ended = false
  r:on("end", function() ended = true end)
  assert(r:readLine() == "a" and r:readLine() == "b")
  -- Nobody reads again, yet "end" (and an owner's close that waits for
  -- it) comes.
  task.sleep(5)
  assert(ended)
end)

T.run()
