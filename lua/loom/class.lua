-- loom.class: the small class helper the library's objects are built on
-- (Luvit's core.Object shape).
--
--   local Object = require "loom.class"
--   local Point = Object:extend()
--   function Point:initialize(x, y) self.x, self.y = x, y end
--   local p = Point:new(1, 2)          -- or Point(1, 2)
--   local Point3 = Point:extend()      -- methods are inherited
--   assert(Point3:new(1, 2):is(Point))
local Object = {}
Object.__index = Object
Object.__name = "loom.object"

local function call_new(class, ...)
  return class:new(...)
end

--- A subclass of this class: its methods fall back to this class's, and
--- so do metamethods such as __tostring (copied, as Lua looks them up
--- with rawget).
function Object:extend(name)
  local class = {}
  for k, v in pairs(self) do
    if type(k) == "string" and k:sub(1, 2) == "__" then class[k] = v end
  end
  class.__index = class
  class.__name = name or self.__name
  class.super = self
  return setmetatable(class, {__index = self, __call = call_new})
end

--- A new instance; calls self:initialize(...) when the class has one.
function Object:new(...)
  local obj = setmetatable({}, self)
  local init = self.initialize
  if init then init(obj, ...) end
  return obj
end

--- True if obj is an instance of class or of a subclass of it.
function Object.is(obj, class)
  local mt = getmetatable(obj)
  while mt do
    if mt == class then return true end
    mt = rawget(mt, "super")
  end
  return false
end

return Object
