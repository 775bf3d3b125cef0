-- loom.emitter: Node's EventEmitter for Lua.
--
--   local Emitter = require "loom.emitter"
--   local e = Emitter:new()
--   e:on("data", function(chunk) print(chunk) end)
--   e:emit("data", "hello")
--
--   local Server = Emitter:extend()    -- a class of your own (loom.class)
--
-- Listeners are kept per event name: one function as itself, more as an
-- array that is replaced, never changed in place, when a listener is
-- added or removed. So emit() runs the listeners registered when it
-- started, in order: one removed during the emit still runs in it, one
-- added during it does not (Node's documented behaviour).
local Object = require "loom.class"

local Emitter = Object:extend("loom.emitter")

local DEFAULT_MAX = 10

local function check_listener(fn, level)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad listener (function expected, got " .. type(fn) .. ")", level + 1)
  end
end

local function check_name(name, level)
  if name == nil then error("bad event name (nil)", level + 1) end
end

-- The function a `once` wrapper stands for (so off(name, fn) finds it).
local once_of = setmetatable({}, {__mode = "k"})

local function warn_if_many(self, name, count)
  local max = rawget(self, "_maxListeners") or DEFAULT_MAX
  if max > 0 and count > max then
    local warned = rawget(self, "_warned")
    if not warned then warned = {}; self._warned = warned end
    if not warned[name] then
      warned[name] = true
      io.stderr:write(("loom: possible listener leak: %d '%s' listeners " ..
                       "(setMaxListeners raises the limit)\n"):format(count, tostring(name)))
    end
  end
end

local function add(self, name, fn, prepend)
  local events = rawget(self, "_ev")
  if not events then events = {}; self._ev = events end
  if events.newListener then
    self:emit("newListener", name, once_of[fn] or fn)
  end
  local cur = events[name]
  if cur == nil then
    events[name] = fn
    return self
  end
  local list
  if type(cur) == "table" and rawget(cur, "__list") then
    local n = #cur
    list = {__list = true}
    if prepend then
      list[1] = fn
      for i = 1, n do list[i + 1] = cur[i] end
    else
      for i = 1, n do list[i] = cur[i] end
      list[n + 1] = fn
    end
  else
    list = prepend and {fn, cur, __list = true} or {cur, fn, __list = true}
  end
  events[name] = list
  warn_if_many(self, name, #list)
  return self
end

--- Adds fn as a listener of event `name`; returns self.
function Emitter:on(name, fn)
  check_name(name, 2)
  check_listener(fn, 2)
  return add(self, name, fn, false)
end
Emitter.addListener = Emitter.on

--- Adds fn before the listeners already there.
function Emitter:prependListener(name, fn)
  check_name(name, 2)
  check_listener(fn, 2)
  return add(self, name, fn, true)
end

local function once_wrapper(self, name, fn)
  local wrapper
  wrapper = function(...)
    self:off(name, wrapper)
    return fn(...)
  end
  once_of[wrapper] = fn
  return wrapper
end

--- Adds fn to be called the next time `name` is emitted only.
function Emitter:once(name, fn)
  check_name(name, 2)
  check_listener(fn, 2)
  return add(self, name, once_wrapper(self, name, fn), false)
end

function Emitter:prependOnceListener(name, fn)
  check_name(name, 2)
  check_listener(fn, 2)
  return add(self, name, once_wrapper(self, name, fn), true)
end

local function matches(listener, fn)
  return listener == fn or once_of[listener] == fn
end

--- Removes the most recently added instance of fn (or of a `once`
--- wrapper of fn) from `name`'s listeners; returns self.
function Emitter:off(name, fn)
  local events = rawget(self, "_ev")
  if not events then return self end
  local cur = events[name]
  if cur == nil then return self end
  local removed
  if type(cur) == "table" and rawget(cur, "__list") then
    local n = #cur
    for i = n, 1, -1 do
      if matches(cur[i], fn) then
        removed = cur[i]
        if n == 2 then
          events[name] = cur[3 - i]
        else
          local list = {__list = true}
          for j = 1, n do
            if j ~= i then list[#list + 1] = cur[j] end
          end
          events[name] = list
        end
        break
      end
    end
  elseif matches(cur, fn) then
    removed = cur
    events[name] = nil
  end
  if removed and events.removeListener then
    self:emit("removeListener", name, once_of[removed] or removed)
  end
  return self
end
Emitter.removeListener = Emitter.off

--- Removes every listener of `name`, or of every event when name is nil.
function Emitter:removeAllListeners(name)
  local events = rawget(self, "_ev")
  if not events then return self end
  if name == nil then
    self._ev = nil
  else
    events[name] = nil
  end
  return self
end

--- Calls the listeners of `name` with the arguments, in order; returns
--- true if there were any. Emitting "error" with no listener raises the
--- error (a string gets Node's "Unhandled 'error' event" prefix).
function Emitter:emit(name, ...)
  local events = rawget(self, "_ev")
  local cur = events and events[name]
  if cur == nil then
    if name == "error" then
      local err = ...
      if type(err) == "string" or err == nil then
        error("unhandled 'error' event: " .. tostring(err), 2)
      end
      error(err, 2)
    end
    return false
  end
  if type(cur) == "table" and rawget(cur, "__list") then
    for i = 1, #cur do cur[i](...) end
  else
    cur(...)
  end
  return true
end

--- A copy of the listeners of `name` (once wrappers as the functions
--- they wrap), in call order.
function Emitter:listeners(name)
  local events = rawget(self, "_ev")
  local cur = events and events[name]
  if cur == nil then return {} end
  if type(cur) == "table" and rawget(cur, "__list") then
    local out = {}
    for i = 1, #cur do out[i] = once_of[cur[i]] or cur[i] end
    return out
  end
  return {once_of[cur] or cur}
end

--- How many listeners `name` has (fn given: how many are fn).
function Emitter:listenerCount(name, fn)
  local events = rawget(self, "_ev")
  local cur = events and events[name]
  if cur == nil then return 0 end
  if type(cur) == "table" and rawget(cur, "__list") then
    if fn == nil then return #cur end
    local n = 0
    for i = 1, #cur do if matches(cur[i], fn) then n = n + 1 end end
    return n
  end
  if fn == nil or matches(cur, fn) then return 1 end
  return 0
end

--- The names of the events that have listeners.
function Emitter:eventNames()
  local out = {}
  local events = rawget(self, "_ev")
  if events then
    for k in pairs(events) do out[#out + 1] = k end
  end
  return out
end

--- Warn (once per event, on stderr) when an event has more than n
--- listeners: a likely leak. 0 turns the warning off. Default 10.
function Emitter:setMaxListeners(n)
  if math.type(n) ~= "integer" or n < 0 then
    error("bad argument #1 to 'setMaxListeners' (a non-negative integer expected)", 2)
  end
  self._maxListeners = n
  return self
end

function Emitter:getMaxListeners()
  return rawget(self, "_maxListeners") or DEFAULT_MAX
end

return Emitter
