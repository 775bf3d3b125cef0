-- test-lib-task.lua: loom.task — tasks, cancellation, deadlines, groups,
-- channels, semaphores, events.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local task = require "loom.task"
local timer = require "loom.timer"

local function is_cancel(ok, err, name)
  return ok == nil and name == "ECANCELED" and err == "ECANCELED: operation canceled"
end

local function is_timeout(ok, err, name)
  return ok == nil and name == "ETIMEDOUT" and err:match("^ETIMEDOUT: ") ~= nil
end

test("spawn runs at once until the first wait; join returns every result", function(expect, uv)
  local order = {}
  local t = task.spawn(function(a, b)
    order[#order + 1] = "start"
    task.sleep(1)
    order[#order + 1] = "end"
    return a, nil, b
  end, 1, "x")
  order[#order + 1] = "after spawn"
  assert(t:status() == "parked")
  task.spawn(expect(function()
    local r = table.pack(t:join())
    assert(r.n == 3 and r[1] == 1 and r[2] == nil and r[3] == "x")
    assert(t:status() == "done" and t:done())
    -- Joining a finished task answers at once.
    assert(t:join() == 1)
  end))
  uv.run()
  assert(table.concat(order, ",") == "start,after spawn,end")
end)

test("spawn inside a task queues the child until the parent waits", function(expect, uv)
  local order = {}
  task.spawn(expect(function()
    local child = task.spawn(function() order[#order + 1] = "child" end)
    order[#order + 1] = "parent"
    assert(child:status() == "new")
    task.yield()
    assert(child:done())
  end))
  uv.run()
  assert(table.concat(order, ",") == "parent,child")
end)

task_test("join of a task that raised gives nil and the error", function()
  local t = task.spawn(function() task.sleep(1); error("bad thing") end)
  local ok, err = t:join()
  assert(ok == nil and err:match("bad thing$"), err)
  -- An error object comes back unchanged.
  local obj = {}
  local t2 = task.spawn(function() error(obj) end)
  local _, e2 = t2:join()
  assert(e2 == obj)
end)

task_test("join with a timeout; the task goes on", function()
  local t = task.spawn(function() task.sleep(30); return "late" end)
  assert(is_timeout(t:join(5)))
  assert(t:join() == "late")
end)

test("an error in a task nobody joins goes to uv.on_error with the task's stack", function(expect, uv)
  local got
  local old = uv.on_error(expect(function(err) got = err end))
  local function deep_inside_the_task() task.sleep(1); error("unjoined failure") end
  task.spawn(function() deep_inside_the_task() end)
  uv.run()
  uv.on_error(old)
  assert(got:match("unjoined failure"), got)
  assert(got:match("deep_inside_the_task"), got)
end)

test("without on_error an unjoined task error prints its traceback and exits 1", function()
  local out, err, code = T.loom([[
    local task = require "loom.task"
    local function handler_body() task.sleep(1); error("boom in task") end
    task.spawn(function() handler_body() end)
  ]])
  assert(code == 1, "exit " .. tostring(code))
  assert(err:match("boom in task") and err:match("handler_body"), err)
end)

test("a task joined right after it failed is not reported", function(expect, uv)
  task.spawn(expect(function()
    local t = task.spawn(function() error("caught by join") end)
    -- It failed before the parent got here; the join still owns it.
    local ok, err = t:join()
    assert(ok == nil and err:match("caught by join"))
  end))
end)

test("a raise from a task's ondone reaches the loop's policy; the scheduler goes on", function(expect, uv)
  local reported = {}
  local old = uv.on_error(function(err) reported[#reported + 1] = tostring(err) end)
  local t = task.spawn(function() task.sleep(1) end)
  t.ondone = function() error("ondone failed", 0) end
  -- Queued behind t's wake: runs only if the scheduler was left usable.
  local after = task.spawn(expect(function()
    task.sleep(5)
    assert(#reported == 1 and reported[1] == "ondone failed", table.concat(reported, "\n"))
    local inner = task.spawn(function() task.sleep(1) return "fine" end)
    assert(inner:join() == "fine")
    uv.on_error(old)
  end))
  assert(after:status() == "parked")
end)

test("suspending calls outside a task raise a clear error", function()
  T.raises("task.sleep must be called inside a task", task.sleep, 1)
  T.raises("task.yield must be called inside a task", task.yield)
  local t = task.spawn(function() end)
  T.raises("join must be called inside a task", t.join, t)
  local ch = task.channel(0)
  T.raises("channel:recv %(on an empty channel%) must be called inside a task", ch.recv, ch)
  T.raises("channel:send %(on a full channel%) must be called inside a task", ch.send, ch, 1)
  T.raises("task.with_timeout must be called inside a task", task.with_timeout, 5, print)
  T.raises("task.group must be called inside a task", task.group, print)
  -- Inside a plain coroutine inside a task, too: its yield would go to
  -- the task, not to the scheduler.
  task.spawn(function()
    local co = coroutine.wrap(function() task.sleep(1) end)
    T.raises("must be called inside a task", co)
  end)
end)

test("bad arguments raise", function()
  T.raises("function expected", task.spawn, 42)
  T.raises("non%-negative number", task.sleep, -1)
  T.raises("non%-negative integer", task.channel, -1)
  T.raises("non%-negative integer", task.semaphore, 1.5)
end)

task_test("all and any check their argument", function()
  T.raises("item 2 is not a function", task.all, {print, 3})
  T.raises("table of functions expected", task.any, "x")
  T.raises("no functions to run", task.any, {})
end)

-- Cancellation at every kind of wait --------------------------------------

task_test("cancel wakes a sleeping task with ECANCELED and stops its timer", function(expect, uv)
  local t = task.spawn(function() return task.sleep(10000) end)
  assert(t:cancel() == true)
  assert(is_cancel(t:join()))
  assert(t:cancel() == false) -- done
end)

task_test("a cancelled task fails every later wait at once", function()
  local t = task.spawn(function()
    local a = table.pack(task.sleep(10000))
    local b = table.pack(task.sleep(10000))
    local c = table.pack(task.yield())
    return a, b, c
  end)
  task.yield() -- started, now in its first sleep
  t:cancel()
  local a, b, c = t:join()
  assert(is_cancel(table.unpack(a)) and is_cancel(table.unpack(b)) and is_cancel(table.unpack(c)))
end)

task_test("a task cancelled before it started never runs", function()
  local ran = false
  local t = task.spawn(function() ran = true end) -- queued: we are in a task
  t:cancel()
  assert(is_cancel(t:join()))
  assert(not ran)
end)

task_test("cancel while waiting in join, channel recv and send, semaphore, event, yield", function()
  local ch = task.channel(1)
  assert(ch:send("fills it"))
  local sem = task.semaphore(0)
  local ev = task.event()
  local forever = task.spawn(function() return task.sleep(100000) end)
  local waits = {
    function() return forever:join() end,
    function() return task.channel(0):recv() end,
    function() return ch:send("no room") end,
    function() return sem:acquire() end,
    function() return ev:wait() end,
    function() return task.yield() end,
  }
  local tasks = {}
  for i, w in ipairs(waits) do tasks[i] = task.spawn(w) end
  task.yield() -- let them all reach their waits
  for i, t in ipairs(tasks) do
    if i ~= #waits then assert(t:status() == "parked", i) end
    t:cancel()
  end
  for i, t in ipairs(tasks) do assert(is_cancel(t:join()), "wait " .. i) end
  -- The cancelled waiters left nothing behind: the channel still holds
  -- one value and takes no other, the semaphore and event work on.
  assert(#ch == 1 and ch:try_send("x") == false and ch:recv() == "fills it")
  sem:release()
  assert(sem:acquire() == true)
  ev:set()
  assert(ev:wait() == true)
  forever:cancel()
  assert(is_cancel(forever:join()))
end)

test("no callback resumes a task after it was cancelled", function(expect, uv)
  -- The sleep's timer would have fired at 5 ms; the task is cancelled at
  -- once and then waits for 20 ms: the old timer must not end that wait.
  local t = task.spawn(expect(function()
    assert(is_cancel(task.sleep(5)))
    local start = uv.now()
    -- cancelled is sticky: use a fresh task to check the old timer.
    return start
  end))
  t:cancel()
  local woke = 0
  local s = task.spawn(function()
    local ok = task.sleep(20)
    woke = woke + 1
    return ok
  end)
  uv.run()
  assert(woke == 1 and s:done())
end)

-- Deadlines --------------------------------------------------------------

task_test("with_timeout ends the wait inside with ETIMEDOUT and returns ETIMEDOUT", function(expect, uv)
  local inner
  local r = table.pack(task.with_timeout(10, function()
    inner = table.pack(task.sleep(10000))
    -- Past the deadline every wait fails at once.
    local again = table.pack(task.yield())
    assert(is_timeout(table.unpack(again)))
    return "ignored"
  end))
  assert(is_timeout(table.unpack(inner)))
  assert(is_timeout(table.unpack(r)))
  -- Outside the scope waits work again.
  assert(task.sleep(1) == true)
end)

task_test("with_timeout returns fn's results in time, and passes errors on", function()
  local a, b = task.with_timeout(1000, function(x) task.sleep(1); return x, "b" end, "a")
  assert(a == "a" and b == "b")
  local ok, err = pcall(task.with_timeout, 1000, function() error("inner error") end)
  assert(not ok and err:match("inner error"))
  -- Nested: the inner (shorter) deadline fires, the outer goes on.
  local outer = task.with_timeout(1000, function()
    local r = table.pack(task.with_timeout(5, task.sleep, 10000))
    assert(is_timeout(table.unpack(r)))
    return task.sleep(1)
  end)
  assert(outer == true)
end)

-- Groups -------------------------------------------------------------------

task_test("a group waits for all its children", function()
  local done = {}
  local r = task.group(function(g)
    for i = 1, 5 do
      g:spawn(function() task.sleep(6 - i); done[#done + 1] = i end)
    end
    return "body result"
  end)
  assert(r == "body result" and #done == 5)
  assert(done[1] == 5 and done[5] == 1)
end)

task_test("a failing child cancels its siblings and its error is raised", function()
  local sibling
  local ok, err = pcall(task.group, function(g)
    g:spawn(function() sibling = table.pack(task.sleep(10000)) end)
    g:spawn(function() task.sleep(2); error("child failed") end)
  end)
  assert(not ok and err:match("child failed"), err)
  assert(is_cancel(table.unpack(sibling)))
end)

task_test("an error in the group's body cancels the children", function()
  local child
  local ok, err = pcall(task.group, function(g)
    g:spawn(function() child = table.pack(task.sleep(10000)) end)
    task.yield()
    error("body failed")
  end)
  assert(not ok and err:match("body failed"))
  assert(is_cancel(table.unpack(child)))
end)

task_test("cancelling the parent cancels the group's children", function()
  local children = {}
  local parent = task.spawn(function()
    return task.group(function(g)
      for i = 1, 3 do g:spawn(function() children[i] = table.pack(task.sleep(10000)) end) end
    end)
  end)
  task.yield()
  parent:cancel()
  assert(is_cancel(parent:join()))
  for i = 1, 3 do assert(is_cancel(table.unpack(children[i])), i) end
end)

task_test("a deadline reaching a group cancels its children", function()
  local child
  local r = table.pack(task.with_timeout(5, function()
    return task.group(function(g) g:spawn(function() child = table.pack(task.sleep(10000)) end) end)
  end))
  assert(is_timeout(table.unpack(r)))
  assert(is_cancel(table.unpack(child)))
end)

task_test("all collects first results in order; the first failure cancels the rest", function()
  local r = task.all{
    function() task.sleep(3); return "a" end,
    function() return "b" end,
    function() task.sleep(1); return "c", "extra" end,
  }
  assert(r[1] == "a" and r[2] == "b" and r[3] == "c" and #r == 3)
  local slow
  local ok, err, name = task.all{
    function() slow = table.pack(task.sleep(10000)) end,
    function() task.sleep(1); return nil, "ENOENT: no such file or directory", "ENOENT" end,
  }
  assert(ok == nil and name == "ENOENT" and err:match("^ENOENT"))
  assert(is_cancel(table.unpack(slow)))
  local pok, perr = pcall(task.all, {function() error("raised in all") end})
  assert(not pok and perr:match("raised in all"))
  assert(#task.all{} == 0)
end)

task_test("any returns the first to finish and cancels the others", function()
  local loser
  local a, b = task.any{
    function() loser = table.pack(task.sleep(10000)); return "slow" end,
    function() task.sleep(2); return "fast", 2 end,
  }
  assert(a == "fast" and b == 2)
  assert(is_cancel(table.unpack(loser)))
end)

-- Channels, semaphores, events -------------------------------------------------

task_test("a bounded channel between a fast producer and a slow consumer", function()
  local ch = task.channel(4)
  local most = 0
  local producer = task.spawn(function()
    for i = 1, 50 do
      assert(ch:send(i) == true)
      if #ch > most then most = #ch end
    end
    ch:close()
  end)
  local got = {}
  for v in ch:iter() do
    got[#got + 1] = v
    if v % 10 == 0 then task.sleep(1) end
  end
  assert(producer:join() == nil and producer:done())
  assert(#got == 50 and got[1] == 1 and got[50] == 50)
  assert(most <= 4, "the buffer held " .. most)
  -- Closed: sends fail, receives end.
  local ok, err, name = ch:send(1)
  assert(ok == nil and name == "EPIPE" and err:match("^EPIPE"))
  assert(ch:recv() == nil)
end)

task_test("an unbuffered channel hands values over one by one", function()
  local ch = task.channel(0)
  local log = {}
  local p = task.spawn(function()
    for i = 1, 3 do
      ch:send(i)
      log[#log + 1] = "sent" .. i
    end
  end)
  for _ = 1, 3 do
    local v = ch:recv()
    log[#log + 1] = "got" .. v
  end
  p:join()
  -- Each send returns once a receiver has the value, not before.
  local at = {}
  for i, e in ipairs(log) do at[e] = i end
  assert(#log == 6 and at.got1 < at.sent2 and at.got2 < at.sent3, table.concat(log, ","))
  assert(ch:try_recv() == nil and ch:try_send(1) == false)
  T.raises("other than nil", ch.send, ch, nil)
end)

task_test("closing a channel wakes receivers with nil and senders with EPIPE", function()
  local ch = task.channel(0)
  local r = task.spawn(function() return table.pack(ch:recv()) end)
  local full = task.channel(0)
  local s = task.spawn(function() return table.pack(full:send("x")) end)
  task.yield()
  ch:close()
  full:close()
  local rr, sr = r:join(), s:join()
  assert(rr.n == 1 and rr[1] == nil)
  assert(sr[1] == nil and sr[3] == "EPIPE")
end)

task_test("channel waits take a timeout", function()
  local ch = task.channel(0)
  assert(is_timeout(ch:recv(2)))
  assert(is_timeout(ch:send(1, 2)))
  assert(#ch.receivers == 0 and #ch.senders == 0)
end)

task_test("a semaphore lets n tasks in at once", function()
  local sem = task.semaphore(2)
  local inside, most = 0, 0
  task.group(function(g)
    for _ = 1, 6 do
      g:spawn(function()
        sem:with(function()
          inside = inside + 1
          if inside > most then most = inside end
          task.sleep(2)
          inside = inside - 1
        end)
      end)
    end
  end)
  assert(most == 2 and inside == 0 and sem.count == 2)
  -- with() gives the permit back when fn raises.
  assert(not pcall(sem.with, sem, function() error("x") end))
  assert(sem.count == 2)
  assert(is_timeout(task.semaphore(0):acquire(2)))
end)

task_test("an event wakes every waiter", function()
  local ev = task.event()
  local n = 0
  task.group(function(g)
    for _ = 1, 3 do g:spawn(function() assert(ev:wait() == true); n = n + 1 end) end
    task.yield()
    assert(n == 0 and not ev:is_set())
    ev:set()
  end)
  assert(n == 3 and ev:is_set())
  ev:clear()
  assert(is_timeout(ev:wait(2)))
end)

task_test("task.yield lets the loop run once; a bare coroutine.yield does the same", function(expect, uv)
  local ran = false
  timer.setImmediate(function() ran = true end)
  task.yield()
  assert(ran)
  ran = false
  timer.setImmediate(function() ran = true end)
  coroutine.yield()
  assert(ran)
end)

task_test("task.current and timer.sleep inside a task", function()
  local me = task.current()
  assert(getmetatable(me) == task.Task and me:status() == "running")
  assert(tostring(me):match("^loom.task"))
  assert(timer.sleep(1) == true)
  assert(task.current() == me)
end)

test("task.run runs a task and the loop from plain lua5.4", function()
  local out, err, code = T.plain_lua(([[
    package.path = %q .. "/?.lua;" .. package.path
    local task = require "loom.task"
    print(task.run(function(a) task.sleep(1); return a + 1 end, 41))
    local ok, e = pcall(task.run, function() error("run error") end)
    print(ok, e:match("run error"))
  ]]):format(T.dir .. "/../../lua"))
  if out == nil then return end -- no plain lua in this build
  assert(code == 0, err)
  assert(out == "42\nfalse\trun error\n", out)
end)

test("10,000 tasks sleeping and a channel fan-in end with nothing left", function(expect, uv)
  local ch = task.channel(16)
  local sum = 0
  task.spawn(expect(function()
    for _ = 1, 10000 do sum = sum + ch:recv() end
  end))
  for i = 1, 10000 do
    task.spawn(function() task.sleep(i % 7); ch:send(i) end)
  end
  uv.run()
  assert(sum == 10000 * 10001 // 2)
  assert(task.count() == 0)
end)

T.run()
