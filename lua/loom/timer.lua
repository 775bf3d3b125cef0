-- loom.timer: Node/Luvit-style timers over the uv timer, check and idle
-- handles.
--
--   local timer = require "loom.timer"
--   local t = timer.setTimeout(100, fn, ...)   -- fn(...) once after 100 ms
--   local i = timer.setInterval(50, fn, ...)   -- every 50 ms until cleared
--   timer.clearTimeout(t); timer.clearInterval(i)
--   timer.setImmediate(fn, ...)                -- after the current poll phase
--   timer.sleep(ms)                            -- inside a coroutine: yields
local uv = require "loom"

local M = {}

local function check_delay(ms, level)
  if type(ms) ~= "number" or ms < 0 or ms ~= ms or ms == math.huge then
    error("bad delay (a non-negative number of milliseconds expected, got " ..
          tostring(ms) .. ")", level)
  end
  return math.floor(ms)
end

local function check_fn(fn, level)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad callback (callable expected, got " .. type(fn) .. ")", level)
  end
end

-- Starts a timer that calls fn(...) after ms, then every ms if repeating.
local function start(ms, repeating, fn, ...)
  -- Errors name the caller of setTimeout/setInterval (4 levels up).
  ms = check_delay(ms, 4)
  check_fn(fn, 4)
  local args = table.pack(...)
  local t = uv.new_timer()
  t:start(ms, repeating and ms or 0, function()
    if not repeating then t:close() end
    fn(table.unpack(args, 1, args.n))
  end)
  return t
end

-- Runs fn once after ms milliseconds; returns the timer handle.
function M.setTimeout(ms, fn, ...)
  local t = start(ms, false, fn, ...) -- not a tail call: errors name our caller
  return t
end

-- Runs fn every ms milliseconds until cleared; returns the timer handle.
function M.setInterval(ms, fn, ...)
  local t = start(ms, true, fn, ...)
  return t
end

-- Cancels a timeout or an interval; clearing twice is harmless.
function M.clearTimeout(t)
  if t and not t:is_closing() then t:close() end
end
M.clearInterval = M.clearTimeout

-- Runs fn after the current poll phase (a check handle), before timers
-- of the next pass. Immediates queued together run in order; one queued
-- by an immediate runs on the next pass, as in Node. While any waits, an
-- idle handle keeps the poll phase from blocking and the loop alive; both
-- handles are closed once none is left.
local queue = {}          -- waiting for the next check phase
local batch, head = {}, 1 -- the immediates being run, and the next one
local check, idle

local function close_handles()
  if not check:is_closing() then check:close() end
  if not idle:is_closing() then idle:close() end
  check, idle = nil, nil
end

local function run_immediates()
  if head > #batch then batch, head, queue = queue, 1, {} end
  -- The next one is counted before each call: should one raise (and the
  -- error policy let the loop go on), the rest run on the next pass.
  while head <= #batch do
    local item = batch[head]
    head = head + 1
    if not item.cancelled then
      item.fn(table.unpack(item.args, 1, item.args.n))
    end
  end
  if #queue == 0 and check then close_handles() end
end

function M.setImmediate(fn, ...)
  check_fn(fn, 3)
  local item = {fn = fn, args = table.pack(...)}
  queue[#queue + 1] = item
  -- The handles may have been closed by someone else (uv.walk).
  if check and (check:is_closing() or idle:is_closing()) then
    close_handles()
  end
  if not check then
    check = uv.new_check()
    check:start(run_immediates)
    idle = uv.new_idle()
    idle:start(function() end)
  end
  return item
end

function M.clearImmediate(item)
  if item then item.cancelled = true end
end

-- Suspends the running coroutine for ms milliseconds (the loop goes on).
-- Inside a loom.task this is task.sleep (so cancelling the task ends it).
function M.sleep(ms)
  ms = check_delay(ms, 3)
  local co, main = coroutine.running()
  if main then error("timer.sleep must be called inside a coroutine", 2) end
  local task = package.loaded["loom.task"]
  if task and task.current() then return task.sleep(ms) end
  local t = uv.new_timer()
  t:start(ms, 0, function()
    t:close()
    assert(coroutine.resume(co))
  end)
  coroutine.yield()
end

-- Fixed-rate tickers ----------------------------------------------------------

local Ticker = {}
Ticker.__index = Ticker
Ticker.__name = "loom.timer.ticker"

local function period_of(spec, level)
  local ms
  if type(spec) == "number" then
    ms = spec
  elseif type(spec) == "table" and type(spec.hz) == "number" and spec.hz > 0 then
    ms = 1000 / spec.hz
  elseif type(spec) == "table" and type(spec.ms) == "number" then
    ms = spec.ms
  end
  if type(ms) ~= "number" or ms ~= ms or ms <= 0 or ms == math.huge then
    error("bad ticker interval (milliseconds > 0, or {hz = n} expected, got " ..
          tostring(spec) .. ")", level + 1)
  end
  return ms
end

local function arm(tk)
  local delay = (tk.next_ns - uv.hrtime()) / 1e6
  -- Timers have millisecond steps: round up so that a tick never comes
  -- before its deadline.
  tk.handle:start(delay > 0 and math.ceil(delay) or 0, 0, tk.on_fire)
end

local function fire(tk)
  local now = uv.hrtime()
  local period = tk.period_ns
  if now < tk.next_ns then return arm(tk) end
  local late = now - tk.next_ns
  local skipped = 0
  if late >= period then
    -- The loop was held up for more than a period: drop the ticks that
    -- were missed instead of running them in a burst.
    skipped = late // period
    tk.next_ns = tk.next_ns + skipped * period
    late = now - tk.next_ns
  end
  tk.tick = tk.tick + 1 + skipped
  tk.skipped = tk.skipped + skipped
  tk.late_ms = late / 1e6
  if tk.late_ms > tk.max_late_ms then tk.max_late_ms = tk.late_ms end
  tk.next_ns = tk.next_ns + period
  arm(tk)
  if tk.fn then
    tk.fn(tk, tk.tick, tk.late_ms, skipped)
  else
    local w = tk.waiter
    if w then
      tk.waiter = nil
      package.loaded["loom.task"].wake(w, tk.tick, tk.late_ms, skipped)
    end
  end
end

--- timer.ticker(interval, [fn]): calls fn(ticker, tick, late_ms, skipped)
--- at a fixed rate, on absolute deadlines (start + n * interval), so the
--- ticks do not drift however long fn takes. interval: milliseconds, or
--- {hz = n}. late_ms is how far after its deadline this tick came;
--- skipped counts the deadlines dropped because the loop was held up
--- longer than an interval (the tick number jumps over them). Without
--- fn, a task waits for each tick with ticker:wait() or ticker:ticks().
--- Stop with ticker:stop().
function M.ticker(spec, fn)
  local ms = period_of(spec, 2)
  if fn ~= nil then check_fn(fn, 3) end
  local tk = setmetatable({interval = ms, period_ns = math.floor(ms * 1e6 + 0.5), tick = 0,
                           skipped = 0, late_ms = 0, max_late_ms = 0, fn = fn}, Ticker)
  tk.handle = uv.new_timer()
  tk.on_fire = function() fire(tk) end
  tk.next_ns = uv.hrtime() + tk.period_ns
  arm(tk)
  return tk
end

local function clear_waiter(self)
  self.waiter = nil
end

--- In a task: waits for the next tick; returns tick, late_ms, skipped,
--- or nil and an error (ECANCELED, or EBADF once stopped).
function Ticker:wait()
  local task = require "loom.task"
  local me = task.need("ticker:wait")
  if self.fn then error("this ticker calls a function; wait() is for tickers made without one", 2) end
  if self.stopped then return task.fail("EBADF") end
  if self.waiter then error("another task is already waiting for this ticker", 2) end
  self.waiter = me
  return task.park(me, clear_waiter, nil, self)
end

--- In a task: for tick, late_ms, skipped in ticker:ticks() do ... end,
--- until the ticker is stopped (or the task cancelled).
function Ticker:ticks()
  return function() return self:wait() end
end

function Ticker:stop()
  if self.stopped then return end
  self.stopped = true
  self.handle:close()
  local w = self.waiter
  if w then
    self.waiter = nil
    local task = require "loom.task"
    task.wake(w, task.fail("EBADF"))
  end
end
Ticker.close = Ticker.stop

function Ticker:ref() if not self.stopped then self.handle:ref() end return self end
function Ticker:unref() if not self.stopped then self.handle:unref() end return self end

return M
