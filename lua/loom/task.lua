-- loom.task: coroutine tasks with structured concurrency.
--
--   local task = require "loom.task"
--   local t = task.spawn(function(a) task.sleep(10); return a * 2 end, 21)
--   task.spawn(function() print(t:join()) end)        --> 42
--
-- A task is a coroutine that the loop resumes. Inside one, the library's
-- I/O calls made without a callback suspend the task ("park" it) until
-- their result is ready, and return it: errors come back as
-- nil, "ENAME: message", "ENAME", as from the binding.
--
-- Scheduling rules (they keep stacks shallow and callbacks simple):
--   * A task is resumed only from outside every task: from the main
--     chunk, from a loop callback, or from the scheduler's own queue.
--   * A wake-up that happens while a task runs (a channel send, a
--     cancel, a finished task waking its joiners) is queued, and the
--     queue is run as soon as the running task parks or ends.
--   * task.spawn from outside a task runs the new task at once, until it
--     first parks; from inside a task it queues it.
local uv = require "loom"

local M = {}

local Task = {}
Task.__index = Task
Task.__name = "loom.task"
-- Defaults for every task: a task holds only what differs (memory per
-- task matters with one task per connection). While a task waits,
-- `parked` holds the wait's cleanup function, or true if it has none,
-- and `carg` the cleanup's argument.
Task.expired = 0
Task.parked = false

local PARK = setmetatable({}, {__name = "loom.task.park"})

-- The task running now. Only one runs at a time and only the scheduler
-- resumes tasks, so this is the running task whenever the running
-- coroutine is its coroutine (a plain coroutine inside a task is not).
local current = nil
local live = 0                                     -- tasks not yet done

-- The ready queue: tasks woken while a task was running, with the values
-- each is to be resumed with.
local ready_task, ready_vals = {}, {}
local ready_head, ready_tail = 1, 0
local draining = false

local pack, unpack = table.pack, table.unpack
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_status = coroutine.running, coroutine.status

-- The fail triple for an error name: nil, "ENAME: message", "ENAME".
local messages = {}
local function fail(name)
  local msg = messages[name]
  if not msg then
    msg = name .. ": " .. uv.strerror(name)
    messages[name] = msg
  end
  return nil, msg, name
end
M.fail = fail

-- "ECONNRESET" (the name a binding callback gets) -> its message,
-- "ECONNRESET: connection reset by peer", as the library reports errors.
function M.message(name)
  local _, msg = fail(name)
  return msg
end

-- The running task, or a clear error naming what needed one.
local function need_task(what, level)
  local t = current
  if not t or co_running() ~= t.co then
    error(what .. " must be called inside a task (task.spawn(fn) runs fn in one)",
          (level or 2) + 1)
  end
  return t
end
M.need = need_task

local step, resumed -- forward

local function enqueue(t, vals)
  ready_tail = ready_tail + 1
  ready_task[ready_tail], ready_vals[ready_tail] = t, vals
end

local function drain()
  while ready_head <= ready_tail do
    local i = ready_head
    local t, vals = ready_task[i], ready_vals[i]
    ready_task[i], ready_vals[i] = nil, nil
    ready_head = i + 1
    step(t, unpack(vals, 1, vals.n))
  end
  ready_head, ready_tail = 1, 0
end

-- Resumes t with the given values now, or after the running task parks.
-- No pcall around the step: a resume catches the task's own errors, and
-- the one step that runs other code (finish: ondone, joiners) protects
-- itself and leaves the scheduler usable. Most wakes make nothing else
-- ready: the queue is drained only when the step filled it.
local function run_soon(t, ...)
  if draining then
    enqueue(t, pack(...))
    return
  end
  draining = true
  step(t, ...)
  if ready_head <= ready_tail then drain() end
  draining = false
end

local function stop_timer(t)
  if t.tmode then
    t.tmode = nil
    local tm = t.timer
    -- Someone may have closed it (uv.walk over every handle).
    if not tm:is_closing() then tm:stop() end
  end
end

-- Wakes a parked task with the values its wait returns. A task that is
-- not parked (woken already, running, or done) is left alone: a late
-- callback never resumes a task that moved on.
local function wake(t, ...)
  if not t.parked then return false end
  t.parked = false
  t.carg = nil
  if t.tmode then stop_timer(t) end
  if draining then
    enqueue(t, pack(...))
    return true
  end
  -- run_soon and step, inline for the common wake (a parked task has run
  -- before and is not done): every wake of every connection's task
  -- passes here, and each vararg call costs a frame copy.
  local co = t.co
  if co then
    draining = true
    local prev = current
    current = t
    resumed(t, co, prev, co_resume(co, ...))
    if ready_head <= ready_tail then drain() end
    draining = false
  end
  return true
end
M.wake = wake

-- Ends a task's wait early with an error name: its cleanup runs first, so
-- the handle or request it waited on lets go of it.
local function abort(t, name)
  local cleanup, carg = t.parked, t.carg
  if cleanup ~= true then
    t.parked = true -- still parked, without the cleanup
    cleanup(carg, t, name)
  end
  return wake(t, fail(name))
end

local function on_timer(t)
  if t.tmode == "sleep" then
    t.tmode = nil
    wake(t, true)
  else
    t.tmode = nil
    abort(t, "ETIMEDOUT")
  end
end

local function start_timer(t, ms, mode)
  local tm = t.timer
  if not tm or tm:is_closing() then
    tm = uv.new_timer()
    t.timer = tm
    t.on_timer = function() on_timer(t) end
  end
  t.tmode = mode
  tm:start(ms, 0, t.on_timer)
end

local function check_ms(ms, what, level)
  if ms == nil then return nil end
  if type(ms) ~= "number" or ms ~= ms or ms < 0 or ms == math.huge then
    error("bad " .. what .. " (a non-negative number of milliseconds expected, got " ..
          tostring(ms) .. ")", level + 1)
  end
  return math.floor(ms)
end
M.check_ms = check_ms

-- Suspends task t (the running one) until wake(t, ...) and returns those
-- values. cleanup(arg, t, name), if given, runs when the wait is
-- abandoned (cancel, timeout) and must unregister t from whatever would
-- wake it; passing the state as arg spares a closure per wait. ms bounds
-- the wait: expiry returns nil, "ETIMEDOUT: ...". A cancelled task, or
-- one past a with_timeout deadline, fails at once.
local function prepark(t, cleanup, ms, arg)
  if t.cancelled or t.expired > 0 then
    local name = t.cancelled and "ECANCELED" or "ETIMEDOUT"
    if cleanup then cleanup(arg, t, name) end
    return fail(name)
  end
  t.parked = cleanup or true
  t.carg = arg
  if ms then start_timer(t, ms, "timeout") end
  return true
end

local function park(t, cleanup, ms, arg)
  local ok, err, name = prepark(t, cleanup, ms, arg)
  if not ok then return nil, err, name end
  return co_yield(PARK)
end
M.park = park

-- park in two halves, for the waits that every idle connection sits in:
--   local ok, err, name = prepark(t, cleanup, ms, arg)
--   if ok then ok, err, name = coroutine.yield(task.PARK) end
-- The caller yields from its own frame, so a parked task's coroutine
-- holds one call frame less (its stack is most of a task's memory).
M.prepark = prepark
M.PARK = PARK

-- A park that cancellation and deadlines do not end: a group waiting for
-- its children. on_cancel runs instead when the task is cancelled or its
-- deadline passes (the group cancels its children then).
local function park_shielded(t, on_cancel)
  t.parked = true
  t.shield = on_cancel
  local r = pack(co_yield(PARK))
  t.shield = nil
  return unpack(r, 1, r.n)
end

local report_unjoined -- forward

local function finish(t, ok, ...)
  live = live - 1
  local co = t.co
  t.co = nil
  if t.timer then
    t.tmode = nil
    if not t.timer:is_closing() then t.timer:close() end
    t.timer, t.on_timer = nil, nil
  end
  if ok then
    t.results = pack(...)
  else
    local err = ...
    t.failed = true
    t.err = err
    t.traceback = debug.traceback(co, type(err) == "string" and err or
                                  ("(error object is a " .. type(err) .. " value)"))
  end
  coroutine.close(co)
  -- ondone: a function called with the task, or an object to close
  -- (a handler task's socket; one field, no closure per task).
  local ondone = t.ondone
  if ondone then
    t.ondone = nil
    if type(ondone) == "function" then ondone(t) else ondone:close() end
  end
  local g = t.group
  if g then g:_child_done(t) end
  local joiners = t.joiners
  if joiners then
    t.joiners = nil
    for i = 1, #joiners do wake(joiners[i], true) end
  elseif not ok and not g and not t.observed then
    report_unjoined(t)
  end
end

-- finish, and if it raises (an ondone or a joiner's code), the scheduler
-- is left usable for the next callback before the error goes on.
local function finish_protected(t, ok, ...)
  local fine, err = pcall(finish, t, ok, ...)
  if not fine then
    draining = false
    ready_head, ready_tail = 1, 0
    error(err, 0)
  end
end

function resumed(t, co, prev, ok, first, ...)
  current = prev
  if first == PARK and ok then return end
  if co_status(co) == "dead" then
    return finish_protected(t, ok, first, ...)
  end
  -- A bare coroutine.yield() in the task body: resume it on the next
  -- pass of the loop, like task.yield().
  local timer = require "loom.timer"
  t.parked = timer.clearImmediate
  t.carg = timer.setImmediate(wake, t)
end

-- Runs t until it parks or ends. Called only from outside every task.
function step(t, ...)
  local co = t.co
  if not co then return end
  local prev = current
  if t.fresh then
    t.fresh = nil
    if t.cancelled then
      -- Cancelled before it ever ran: the function is not called.
      return finish_protected(t, true, fail("ECANCELED"))
    end
    current = t
    local argc, args = t.argc, t.args
    t.args, t.argc = nil, nil
    if argc == 1 then return resumed(t, co, prev, co_resume(co, args)) end
    if args then return resumed(t, co, prev, co_resume(co, unpack(args, 1, args.n))) end
  end
  current = t
  return resumed(t, co, prev, co_resume(co, ...))
end

-- Errors of tasks nobody joins go through the loop's error policy
-- (uv.on_error, else traceback and exit 1), from a callback of their own
-- on the next pass: a join called right after spawn still catches them.
local unjoined = {}
function report_unjoined(t)
  unjoined[#unjoined + 1] = t
  if #unjoined == 1 then
    require("loom.timer").setImmediate(function()
      local list = unjoined
      unjoined = {}
      for i = 1, #list do
        local u = list[i]
        if not u.observed then
          u.observed = true
          -- The others are raised from callbacks of their own.
          for j = i + 1, #list do report_unjoined(list[j]) end
          if type(u.err) == "string" then
            error("error in a task nobody joined: " .. u.traceback, 0)
          end
          error(u.err, 0)
        end
      end
    end)
  end
end

local function new_task(fn, level, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")",
          level + 1)
  end
  -- The coroutine runs fn itself (its arguments come with the first
  -- resume): no wrapper frame, so tracebacks start at fn. One argument
  -- (a handler's socket) is kept as it is, more in a table.
  local co = co_create(fn)
  local argc = select("#", ...)
  -- The fields every wake and park reads are in the table from the
  -- start (a field left to the class costs a second lookup each time);
  -- parked and carg come with the first park. Seven fields at most: the
  -- table stays at eight slots.
  local t
  if argc == 0 then
    t = setmetatable({co = co, fresh = true, tmode = false, cancelled = false,
                      expired = 0}, Task)
  elseif argc == 1 then
    t = setmetatable({co = co, fresh = true, tmode = false, cancelled = false,
                      expired = 0, argc = 1, args = ...}, Task)
  else
    t = setmetatable({co = co, fresh = true, tmode = false, cancelled = false,
                      expired = 0, args = pack(...)}, Task)
  end
  live = live + 1
  return t
end

local function start(t)
  if draining then
    enqueue(t, {n = 0})
  else
    run_soon(t)
  end
  return t
end

--- Runs fn(...) in a new task; returns the Task.
function M.spawn(fn, ...)
  return start(new_task(fn, 2, ...))
end

--- The running task, or nil outside every task.
function M.current()
  local t = current
  if t and co_running() == t.co then return t end
  return nil
end

--- The number of tasks that have not ended (for tests and monitoring).
function M.count()
  return live
end

--- Suspends the running task for ms milliseconds; returns true, or nil and
--- an error if it was cancelled meanwhile.
function M.sleep(ms)
  ms = check_ms(ms, "delay", 2)
  if ms == nil then error("bad argument #1 to 'sleep' (number expected, got nil)", 2) end
  local t = need_task("task.sleep")
  if t.cancelled then return fail("ECANCELED") end
  if t.expired > 0 then return fail("ETIMEDOUT") end
  t.parked = true
  start_timer(t, ms, "sleep")
  return co_yield(PARK)
end

--- Lets the loop run once (other callbacks and tasks go first).
function M.yield()
  local t = need_task("task.yield")
  local timer = require "loom.timer"
  return park(t, timer.clearImmediate, nil, timer.setImmediate(wake, t, true))
end

--- Runs fn(...) as a task and the loop until nothing is left (for plain
--- lua5.4 scripts; the loom runner runs the loop by itself). Returns the
--- task's results, or raises its error.
function M.run(fn, ...)
  if M.current() then
    error("task.run is for the top level; inside a task use task.spawn", 2)
  end
  local t = new_task(fn, 2, ...)
  t.observed = true
  start(t)
  if t.co then
    local ok, err = uv.run()
    if ok == nil and err then error("task.run: " .. tostring(err), 2) end
  end
  if t.co then
    error("task.run: the loop ended while the task was still waiting", 2)
  end
  if t.failed then error(t.err, 0) end
  return unpack(t.results, 1, t.results.n)
end

-- Task methods ---------------------------------------------------------

--- Waits for the task to end; returns its results, or nil and its error
--- (a raised error, or ECANCELED), or nil, ETIMEDOUT after ms.
function Task:join(ms)
  ms = check_ms(ms, "timeout", 2)
  local me = need_task("join")
  if me == self then error("a task cannot join itself", 2) end
  self.observed = true
  if self.co then
    local joiners = self.joiners
    if not joiners then joiners = {}; self.joiners = joiners end
    joiners[#joiners + 1] = me
    local ok, err, name = park(me, M.unlist, ms, joiners)
    if not ok then return nil, err, name end
  end
  if self.failed then return nil, self.err end
  return unpack(self.results, 1, self.results.n)
end

--- Cancels the task: its current wait (and every later one) returns
--- nil, "ECANCELED: operation canceled". Returns false if it had ended.
function Task:cancel()
  if not self.co then return false end
  if self.cancelled then return true end
  self.cancelled = true
  if self.parked then
    if self.shield then self.shield() else abort(self, "ECANCELED") end
  end
  -- A task that has not started yet ends without calling its function.
  return true
end

--- "new", "running", "parked", "ready" (woken, about to run) or "done".
function Task:status()
  if not self.co then return "done" end
  if self.parked then return "parked" end
  if self.fresh then return "new" end
  if current == self then return "running" end
  return "ready"
end

function Task:done()
  return self.co == nil
end

function Task:__tostring()
  return ("loom.task: %s (%s)"):format(tostring(self.co):match("0x%x+") or "-",
                                       self:status())
end

-- Deadlines --------------------------------------------------------------

--- Runs fn(...) in the running task with a deadline ms from now: every
--- wait inside that is still going at the deadline ends with nil,
--- "ETIMEDOUT...", and so does every later wait inside fn. Returns fn's
--- results, or nil, "ETIMEDOUT: ...", "ETIMEDOUT" if the deadline passed.
function M.with_timeout(ms, fn, ...)
  ms = check_ms(ms, "timeout", 2)
  if ms == nil then error("bad argument #1 to 'with_timeout' (number expected, got nil)", 2) end
  local t = need_task("task.with_timeout")
  local expired = false
  local timer = uv.new_timer()
  timer:start(ms, 0, function()
    timer:stop()
    expired = true
    t.expired = t.expired + 1
    if t.parked then
      if t.shield then t.shield() else abort(t, "ETIMEDOUT") end
    end
  end)
  local r = pack(pcall(fn, ...))
  timer:close()
  if expired then t.expired = t.expired - 1 end
  if not r[1] then error(r[2], 0) end
  if expired then return fail("ETIMEDOUT") end
  return unpack(r, 2, r.n)
end

-- Groups -------------------------------------------------------------------

local Group = {}
Group.__index = Group
Group.__name = "loom.task.group"

--- Starts fn(...) as a child of the group; returns its Task.
function Group:spawn(fn, ...)
  if self.closed then error("this group has ended; spawn in an open group", 2) end
  local t = new_task(fn, 2, ...)
  t.group = self
  t.observed = true
  self.live = self.live + 1
  self.children[t] = true
  if self.cancelling then t.cancelled = true end
  return start(t)
end

--- Cancels every child still running (the group then ends normally
--- once they have).
function Group:cancel()
  self.cancelling = true
  for child in pairs(self.children) do child:cancel() end
end

function Group:_child_done(t)
  self.children[t] = nil
  self.live = self.live - 1
  if t.failed and not self.failure then
    self.failure = t
    self:cancel()
  end
  if self.live == 0 and self.waiting then
    self.waiting = false
    wake(self.parent, true)
  end
end

--- Runs body(g, ...) in the running task, where g:spawn(fn, ...) starts
--- children; returns body's results once every child has ended. When a
--- child raises, the others are cancelled and its error is raised here;
--- when body raises, the children are cancelled and body's error is
--- raised. If the running task is cancelled (or its deadline passes)
--- while it waits, the children are cancelled and the group returns
--- nil, "ECANCELED..." (or ETIMEDOUT).
function M.group(body, ...)
  local me = need_task("task.group")
  local g = setmetatable({parent = me, children = {}, live = 0}, Group)
  local r = pack(pcall(body, g, ...))
  if not r[1] then g:cancel() end
  local interrupted = nil
  while g.live > 0 do
    if me.cancelled or me.expired > 0 then
      interrupted = me.cancelled and "ECANCELED" or "ETIMEDOUT"
      g:cancel()
    end
    if g.live == 0 then break end
    g.waiting = true
    park_shielded(me, function()
      interrupted = me.cancelled and "ECANCELED" or "ETIMEDOUT"
      g:cancel()
    end)
    g.waiting = false
  end
  g.closed = true
  if not r[1] then error(r[2], 0) end
  if g.failure then error(g.failure.err, 0) end
  if interrupted or me.cancelled then return fail(interrupted or "ECANCELED") end
  return unpack(r, 2, r.n)
end

local function check_fns(fns, what)
  if type(fns) ~= "table" then
    error("bad argument #1 to '" .. what .. "' (table of functions expected, got " ..
          type(fns) .. ")", 3)
  end
  for i = 1, #fns do
    local f = fns[i]
    if type(f) ~= "function" and not (getmetatable(f) or {}).__call then
      error("bad argument #1 to '" .. what .. "' (item " .. i ..
            " is not a function)", 3)
    end
  end
end

--- Runs every function of fns in a child task and waits for all: returns
--- an array of their first results. The first one to fail (raise, or
--- return nil and an error) cancels the others; a raised error is raised
--- again, a returned one is returned (nil, err, name).
function M.all(fns)
  check_fns(fns, "all")
  local results, failure = {}, nil
  local ok, err, name = M.group(function(g)
    for i = 1, #fns do
      g:spawn(function()
        local r = pack(fns[i]())
        if r[1] == nil and r[2] ~= nil then
          if not failure then
            failure = r
            g:cancel()
          end
        else
          results[i] = r[1]
        end
      end)
    end
    return true
  end)
  if not ok then return nil, err, name end
  if failure then return nil, failure[2], failure[3] end
  return results
end

--- Runs every function of fns in a child task; the first to return wins:
--- its results are returned and the others are cancelled. If one raises
--- first, the others are cancelled and its error is raised.
function M.any(fns)
  check_fns(fns, "any")
  if #fns == 0 then error("bad argument #1 to 'any' (no functions to run)", 2) end
  local winner
  local ok, err, name = M.group(function(g)
    for i = 1, #fns do
      g:spawn(function()
        local r = pack(fns[i]())
        if not winner then
          winner = r
          g:cancel()
        end
      end)
    end
    return true
  end)
  if not ok then return nil, err, name end
  return unpack(winner, 1, winner.n)
end

-- Waiting lists: a FIFO of parked tasks, for channels, semaphores, events.

local function waitlist_add(list, t)
  list[#list + 1] = t
end

local function waitlist_remove(list, t)
  for i = #list, 1, -1 do
    if list[i] == t then table.remove(list, i); return end
  end
end
-- The cleanup for a wait in a list: park(t, unlist, ms, list).
M.unlist = waitlist_remove

-- Parks the running task at the end of list until it is woken (or the
-- wait ends early: cancel, ms).
local function wait_in(list, what, ms)
  local me = need_task(what, 3)
  waitlist_add(list, me)
  return park(me, waitlist_remove, ms, list)
end

local function waitlist_pop(list)
  local t = list[1]
  if t then table.remove(list, 1) end
  return t
end

-- Channels -----------------------------------------------------------------

local Channel = {}
Channel.__index = Channel
Channel.__name = "loom.task.channel"

--- A bounded queue between tasks: send suspends while `capacity` values
--- wait (0: until a receiver takes it), recv while none does.
function M.channel(capacity)
  capacity = capacity or 0
  if math.type(capacity) ~= "integer" or capacity < 0 then
    error("bad argument #1 to 'channel' (a non-negative integer expected, got " ..
          tostring(capacity) .. ")", 2)
  end
  return setmetatable({cap = capacity, buf = {}, head = 1, tail = 0,
                       senders = {}, receivers = {}, closed = false}, Channel)
end

function Channel:__len()
  return self.tail - self.head + 1
end

local function buf_push(ch, v)
  ch.tail = ch.tail + 1
  ch.buf[ch.tail] = v
end

local function buf_pop(ch)
  local h = ch.head
  if h > ch.tail then return nil end
  local v = ch.buf[h]
  ch.buf[h] = nil
  ch.head = h + 1
  if ch.head > ch.tail then ch.head, ch.tail = 1, 0 end
  return v
end

-- Hands v to a waiting receiver, or buffers it if there is room.
local function offer(ch, v)
  local r = waitlist_pop(ch.receivers)
  if r then
    wake(r, v)
    return true
  end
  if ch.tail - ch.head + 1 < ch.cap then
    buf_push(ch, v)
    return true
  end
  return false
end

local function remove_sender(entry)
  local list = entry.list
  for i = 1, #list do
    if list[i] == entry then table.remove(list, i); return end
  end
end

--- Sends v (not nil); suspends while the channel is full. Returns true,
--- or nil, "EPIPE..." once the channel is closed, or nil, ECANCELED /
--- ETIMEDOUT (after ms) with v not sent.
function Channel:send(v, ms)
  if v == nil then error("bad argument #1 to 'send' (a value other than nil expected)", 2) end
  ms = check_ms(ms, "timeout", 2)
  if self.closed then return fail("EPIPE") end
  if offer(self, v) then return true end
  local me = need_task("channel:send (on a full channel)")
  local entry = {task = me, value = v, list = self.senders}
  local senders = self.senders
  senders[#senders + 1] = entry
  return park(me, remove_sender, ms, entry)
end

--- Sends v if that needs no wait; returns true or false.
function Channel:try_send(v)
  if v == nil then error("bad argument #1 to 'try_send' (a value other than nil expected)", 2) end
  if self.closed then return false end
  return offer(self, v)
end

-- Takes the first waiting sender's value into the channel.
local function admit_sender(ch)
  local entry = table.remove(ch.senders, 1)
  if entry then
    buf_push(ch, entry.value)
    wake(entry.task, true)
  end
end

--- Receives the next value; suspends while there is none. Returns nil
--- once the channel is closed and empty, or nil, ECANCELED / ETIMEDOUT.
function Channel:recv(ms)
  ms = check_ms(ms, "timeout", 2)
  if self.head <= self.tail or #self.senders > 0 then
    admit_sender(self)
    return buf_pop(self)
  end
  if self.closed then return nil end
  return wait_in(self.receivers, "channel:recv (on an empty channel)", ms)
end

--- Receives a value if one is there; returns it, or nil.
function Channel:try_recv()
  if self.head <= self.tail or #self.senders > 0 then
    admit_sender(self)
    return buf_pop(self)
  end
  return nil
end

--- Closes the channel: waiting receivers get nil, waiting senders
--- nil, "EPIPE..."; values already sent can still be received.
function Channel:close()
  if self.closed then return end
  self.closed = true
  local receivers, senders = self.receivers, self.senders
  self.receivers, self.senders = {}, {}
  for i = 1, #receivers do wake(receivers[i], nil) end
  for i = 1, #senders do wake(senders[i].task, fail("EPIPE")) end
end

--- for v in ch:iter() do ... end: receives until the channel is closed
--- and empty (or the wait fails: cancelled, timed out).
function Channel:iter()
  return function() return (self:recv()) end
end

-- Semaphores ---------------------------------------------------------------

local Semaphore = {}
Semaphore.__index = Semaphore
Semaphore.__name = "loom.task.semaphore"

--- A counting semaphore with n permits.
function M.semaphore(n)
  if math.type(n) ~= "integer" or n < 0 then
    error("bad argument #1 to 'semaphore' (a non-negative integer expected, got " ..
          tostring(n) .. ")", 2)
  end
  return setmetatable({count = n, waiters = {}}, Semaphore)
end

--- Takes a permit, waiting while there is none; returns true, or nil and
--- an error (ECANCELED, ETIMEDOUT after ms).
function Semaphore:acquire(ms)
  ms = check_ms(ms, "timeout", 2)
  if self.count > 0 and #self.waiters == 0 then
    self.count = self.count - 1
    return true
  end
  return wait_in(self.waiters, "semaphore:acquire", ms)
end

--- Gives a permit back (to the first waiting task, if any).
function Semaphore:release()
  local t = waitlist_pop(self.waiters)
  if t then wake(t, true) else self.count = self.count + 1 end
end

--- Runs fn(...) holding a permit; the permit is given back however fn
--- ends. Returns fn's results (or nil and the acquire's error).
function Semaphore:with(fn, ...)
  local ok, err, name = self:acquire()
  if not ok then return nil, err, name end
  local r = pack(pcall(fn, ...))
  self:release()
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

-- Events -------------------------------------------------------------------

local Event = {}
Event.__index = Event
Event.__name = "loom.task.event"

--- A flag tasks can wait for: wait() returns once set() was called.
function M.event()
  return setmetatable({flag = false, waiters = {}}, Event)
end

function Event:set()
  if self.flag then return end
  self.flag = true
  local waiters = self.waiters
  self.waiters = {}
  for i = 1, #waiters do wake(waiters[i], true) end
end

function Event:clear()
  self.flag = false
end

function Event:is_set()
  return self.flag
end

--- Waits until the event is set; returns true, or nil and an error.
function Event:wait(ms)
  ms = check_ms(ms, "timeout", 2)
  if self.flag then return true end
  return wait_in(self.waiters, "event:wait", ms)
end

M.Task = Task
return M
