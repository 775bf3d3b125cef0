-- test-lib-emitter.lua: loom.emitter against Node's documented
-- EventEmitter behaviour, and loom.class.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local Emitter = require "loom.emitter"
local Object = require "loom.class"

test("on/emit pass every argument, in registration order", function()
  local e = Emitter:new()
  local log = {}
  e:on("x", function(a, b, c) log[#log + 1] = "1:" .. a .. tostring(b) .. c end)
  e:on("x", function(a) log[#log + 1] = "2:" .. a end)
  assert(e:emit("x", "a", nil, "c") == true)
  assert(e:emit("nobody") == false)
  assert(table.concat(log, " ") == "1:anilc 2:a")
end)

test("once runs once; off finds it by the original function", function()
  local e = Emitter:new()
  local n = 0
  local function f() n = n + 1 end
  e:once("x", f)
  e:emit("x"); e:emit("x")
  assert(n == 1 and e:listenerCount("x") == 0)
  e:once("x", f)
  assert(e:listeners("x")[1] == f)
  e:off("x", f)
  e:emit("x")
  assert(n == 1)
end)

test("prependListener and prependOnceListener go first", function()
  local e = Emitter:new()
  local log = {}
  e:on("x", function() log[#log + 1] = "b" end)
  e:prependListener("x", function() log[#log + 1] = "a" end)
  e:prependOnceListener("x", function() log[#log + 1] = "0" end)
  e:emit("x"); e:emit("x")
  assert(table.concat(log) == "0abab", table.concat(log))
end)

test("a listener removed during emit still runs in that emit; one added does not", function()
  local e = Emitter:new()
  local log = {}
  local function b() log[#log + 1] = "b" end
  local function c() log[#log + 1] = "c" end
  e:on("x", function()
    log[#log + 1] = "a"
    e:off("x", b)
    e:on("x", c)
  end)
  e:on("x", b)
  e:emit("x")
  assert(table.concat(log) == "ab", table.concat(log))
  log = {}
  e:emit("x")
  -- b is gone; c was added once per emit so far.
  assert(table.concat(log) == "ac", table.concat(log))
end)

test("off removes the most recently added instance only", function()
  local e = Emitter:new()
  local n = 0
  local function f() n = n + 1 end
  e:on("x", f); e:on("x", f)
  assert(e:listenerCount("x") == 2 and e:listenerCount("x", f) == 2)
  e:off("x", f)
  e:emit("x")
  assert(n == 1)
  e:off("x", print) -- not there: nothing happens
  assert(e:listenerCount("x") == 1)
end)

test("error with no listener raises; with one it is delivered", function()
  local e = Emitter:new()
  T.raises("unhandled 'error' event: disk full", e.emit, e, "error", "disk full")
  local obj = setmetatable({}, {__tostring = function() return "obj" end})
  local ok, err = pcall(e.emit, e, "error", obj)
  assert(not ok and err == obj)
  local got
  e:on("error", function(x) got = x end)
  assert(e:emit("error", "handled") == true and got == "handled")
end)

test("removeAllListeners, eventNames, newListener and removeListener", function()
  local e = Emitter:new()
  local added, removed = {}, {}
  e:on("newListener", function(name) added[#added + 1] = name end)
  e:on("removeListener", function(name) removed[#removed + 1] = name end)
  local function f() end
  e:on("a", f); e:once("b", f)
  assert(table.concat(added, ",") == "removeListener,a,b")
  e:off("a", f)
  assert(removed[1] == "a")
  local names = e:eventNames()
  table.sort(names)
  assert(table.concat(names, ",") == "b,newListener,removeListener", table.concat(names, ","))
  e:removeAllListeners("b")
  assert(e:listenerCount("b") == 0)
  e:removeAllListeners()
  assert(#e:eventNames() == 0)
end)

test("bad listeners raise; the leak warning is printed once", function()
  local e = Emitter:new()
  T.raises("function expected", e.on, e, "x", 42)
  T.raises("bad event name", e.on, e, nil, print)
  local callable = setmetatable({}, {__call = function() end})
  e:on("x", callable)
  assert(e:emit("x"))
  local out, err = T.loom([[
    local e = require("loom.emitter"):new()
    for i = 1, 12 do e:on("tick", function() end) end
    e:setMaxListeners(0)
    for i = 1, 20 do e:on("other", function() end) end
  ]])
  local _, count = err:gsub("possible listener leak", "")
  assert(count == 1 and err:match("11 'tick' listeners"), err)
  assert(e:getMaxListeners() == 10)
end)

test("classes: extend, new/initialize, inheritance, is, metamethods", function()
  local Animal = Emitter:extend()
  function Animal:initialize(name) self.name = name end
  function Animal:speak() return self.name .. " makes a sound" end
  Animal.__tostring = function(self) return "Animal " .. self.name end
  local Dog = Animal:extend()
  function Dog:speak() return self.name .. " barks" end
  local d = Dog:new("rex")
  local a = Animal("cat")
  assert(d:speak() == "rex barks" and a:speak() == "cat makes a sound")
  assert(d:is(Dog) and d:is(Animal) and d:is(Emitter) and d:is(Object))
  assert(not a:is(Dog))
  assert(tostring(d) == "Animal rex")
  -- Instances are emitters.
  local heard
  d:on("bark", function(x) heard = x end)
  d:emit("bark", 3)
  assert(heard == 3)
  assert(Dog.super == Animal)
end)

T.run()
