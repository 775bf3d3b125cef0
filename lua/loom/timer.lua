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
function M.sleep(ms)
  ms = check_delay(ms, 3)
  local co, main = coroutine.running()
  if main then error("timer.sleep must be called inside a coroutine", 2) end
  local t = uv.new_timer()
  t:start(ms, 0, function()
    t:close()
    assert(coroutine.resume(co))
  end)
  coroutine.yield()
end

return M
