-- run-commands.lua: child processes three ways — a task runs commands in
-- parallel and collects their output (run), a long one is cut off by a
-- timeout, and a pipeline streams one process's output into another's
-- input (spawn with pipes).
--   loom examples/run-commands.lua
--   loom examples/run-commands.lua --self-test
local cp = require "loom.child_process"
local task = require "loom.task"

local self_test = arg[1] == "--self-test"

task.spawn(function()
  -- Three commands at once; all() keeps their order.
  local results = task.all{
    function() return (cp.run{"uname", "-s"}) end,
    function() return (cp.run{"sh", "-c", "echo $((6 * 7))"}) end,
    function() return (cp.run{"date", "+%Y"}) end,
  }
  print("uname: " .. results[1]:gsub("\n", "") .. ", answer: " .. results[2]:gsub("\n", ""))

  -- A command that takes too long is killed (and reaped).
  local out, err, name = cp.run{"sleep", "30", timeout = 100}
  print("sleep 30 with a 100 ms timeout:", out, err)
  assert(out == nil and name == "ETIMEDOUT")

  -- seq 1 1000 | grep 7 | wc -l, with the pipes in between made by us.
  local seq = cp.spawn("seq", {"1", "1000"}, {stdio = {"ignore", "pipe", "inherit"}})
  local grep = cp.spawn("grep", {"7"}, {stdio = {"pipe", "pipe", "inherit"}})
  seq.stdout:pipe(grep.stdin)
  local count = 0
  for line in grep.stdout:lines() do
    if line ~= "" then count = count + 1 end
  end
  assert(grep:wait() == 0 and seq:wait() == 0)
  print("numbers up to 1000 with a 7 in them:", count)
  if self_test then
    assert(results[2] == "42\n" and count == 271, count)
    print("self-test ok")
  end
end)
