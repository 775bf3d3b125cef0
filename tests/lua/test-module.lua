-- test-module.lua: the module as a plain Lua 5.4 C module (loom.so),
-- loaded by the stock lua5.4 interpreter.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local q = T.q

local lua = T.plain_lua

local have_lua = (select(3, T.sh(q(T.lua) .. " -v")) == 0)

test("require 'loom' from lua5.4, run timers, exit cleanly", function()
  if not have_lua then return end
  local out, err, code = lua([[
    local uv = require "loom"
    assert(package.searchpath("loom", package.cpath))
    local t = uv.new_timer()
    t:start(5, 0, function() print("fired") t:close() end)
    uv.run()
    print(uv.version_string())
  ]])
  assert(code == 0, err)
  assert(out == "fired\n1.52.0\n", out)
end)

test("lua_close with handles open and callbacks pending neither crashes nor calls Lua", function()
  if not have_lua then return end
  local out, err, code = lua([[
    local uv = require "loom"
    local t = uv.new_timer(); t:start(10000, 0, function() print("called") end)
    local c = uv.new_timer(); c:close(function() print("called") end)
    local a = uv.new_async(function() print("called") end); a:send("x", {1})
    local s = uv.new_signal(); s:start("sigusr1", function() print("called") end)
    print("end")
  ]])
  assert(code == 0 and out == "end\n", out .. err)
end)

test("only luaopen_loom is exported from loom.so", function()
  local out, _, code = T.sh("nm -D --defined-only " .. q(T.module_dir .. "/loom.so"))
  if code ~= 0 then return end -- nm not installed
  local exported = {}
  for sym in out:gmatch("%x+ T (%S+)") do exported[#exported + 1] = sym end
  assert(#exported == 1 and exported[1] == "luaopen_loom", table.concat(exported, " "))
end)

T.run()
