-- signals.lua: a service that reloads on SIGHUP and stops on SIGINT or
-- SIGTERM. Run: loom examples/signals.lua, then `kill -HUP <pid>` or ^C.
-- With --self-test it sends itself the signals and exits by itself.
local uv = require "loom"

local function send(sig) os.execute(("kill -s %s %d"):format(sig, uv.os_getpid())) end

local work = uv.new_timer()
work:start(0, 500, function() print("working...") end)

local hup = uv.new_signal()
hup:start("sighup", function(name) print("got " .. name .. ": reloading configuration") end)

local stop = uv.new_signal()
local function shutdown(name)
  print("got " .. name .. ": shutting down")
  -- Close everything; the loop ends when nothing is left.
  uv.walk(function(h) if not h:is_closing() then h:close() end end)
end
stop:start("sigint", shutdown)
local term = uv.new_signal()
term:start_oneshot("sigterm", shutdown)

print("pid " .. uv.os_getpid() .. ": send SIGHUP to reload, SIGINT/SIGTERM to stop")
if arg[1] == "--self-test" then
  local t = uv.new_timer()
  t:start(100, 0, function() t:close(); send("HUP") end)
  local t2 = uv.new_timer()
  t2:start(300, 0, function() t2:close(); send("TERM") end)
end
