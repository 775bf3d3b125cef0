-- test-lib-process.lua: loom.process, mostly in child processes (exit
-- codes, stdio as pipes, files and closed ends, signals).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local process = require "loom.process"

test("facts: argv, pid, platform, versions, cwd, hrtime, memory, uptime", function(expect, uv)
  assert(process.argv[1] == uv.exepath() and process.argv[2]:match("test%-lib%-process%.lua$"))
  assert(process.pid == uv.os_getpid() and process.ppid == uv.os_getppid())
  assert(process.platform == "linux" and process.versions.lua == "5.4")
  assert(process.version == "v" .. uv.loom_version)
  assert(process.cwd() == uv.cwd())
  local a = process.hrtime()
  local d = process.hrtime(a)
  assert(d[1] >= 0 and d[2] >= 0 and d[2] < 1e9)
  assert(process.hrtimeNs() > 0)
  local m = process.memoryUsage()
  assert(m.rss > 0 and m.heapUsed > 0)
  local up = process.uptime()
  assert(up >= 0 and up < 3600, up)
  T.raises("no such file or directory", process.chdir, "/nonexistent/dir")
  T.raises("string expected", process.chdir, 42)
end)

test("env reads, writes, deletes and lists the real environment", function(expect, uv)
  process.env.LOOM_PROCESS_TEST = 42
  assert(process.env.LOOM_PROCESS_TEST == "42" and os.getenv("LOOM_PROCESS_TEST") == "42")
  local seen = false
  for k, v in pairs(process.env) do
    if k == "LOOM_PROCESS_TEST" then seen = v == "42" end
  end
  assert(seen)
  process.env.LOOM_PROCESS_TEST = nil
  assert(process.env.LOOM_PROCESS_TEST == nil and os.getenv("LOOM_PROCESS_TEST") == nil)
end)

test("exit: the 'exit' event, exitCode, and the status", function()
  local out, err, code = T.loom([[
    local process = require "loom.process"
    process:on("exit", function(c) print("exit", c) end)
    process.exitCode = 4
    require("loom.timer").setTimeout(5, function() process.exit() end)
  ]])
  assert(code == 4, err)
  assert(out == "exit\t4\n", out)
  local _, _, code2 = T.loom('require("loom.process").exit(0)')
  assert(code2 == 0)
  local _, err3, code3 = T.loom('require("loom.process").exit(1.5)')
  assert(code3 == 1 and err3:match("integer expected"))
end)

test("stdout and stderr as streams keep order with print, to pipes and files", function()
  local code = [[
    local process = require "loom.process"
    print("one")
    process.stdout:write("two\n")
    io.write("three\n")
    process.stdout:write("four\n", function(err) assert(err == nil) end)
    process.stderr:write("err\n")
    assert(process.stdout.isTTY == false)
  ]]
  local out, err, status = T.loom(code)
  assert(status == 0, err)
  assert(out == "one\ntwo\nthree\nfour\n", out)
  assert(err == "err\n", err)
  -- stdout redirected to a file goes through fs writes.
  local file = os.tmpname()
  T.after(function() os.remove(file) end)
  local _, err2, status2 = T.sh(T.q(T.runner) .. " -e " .. T.q(code) .. " > " .. T.q(file))
  assert(status2 == 0, err2)
  local f = assert(io.open(file))
  local got = f:read("a")
  f:close()
  assert(got == "one\ntwo\nthree\nfour\n", got)
end)

test("stdin read in a task from a pipe and from a file; EOF ends it", function()
  local code = [[
    local process, task = require "loom.process", require "loom.task"
    task.spawn(function()
      local lines = {}
      for line in process.stdin:lines() do lines[#lines + 1] = line end
      print(#lines, lines[1], lines[#lines])
    end)
  ]]
  local out, err, status = T.sh("printf 'a\\nb\\nc\\n' | " .. T.q(T.runner) .. " -e " .. T.q(code))
  assert(status == 0, err)
  assert(out == "3\ta\tc\n", out)
  local file = os.tmpname()
  T.after(function() os.remove(file) end)
  local f = assert(io.open(file, "w"))
  for i = 1, 5000 do f:write("line ", i, "\n") end
  f:close()
  out, err, status = T.sh(T.q(T.runner) .. " -e " .. T.q(code) .. " < " .. T.q(file))
  assert(status == 0, err)
  assert(out == "5000\tline 1\tline 5000\n", out)
  -- Nothing read: the script ends (stdin does not hold the loop).
  out, err, status = T.sh("sleep 5 | " .. T.q(T.runner) ..
                          " -e 'local p = require \"loom.process\"; local _ = p.stdin; print(\"done\")'")
  assert(status == 0 and out == "done\n", err)
end)

test("stdin in the event style", function()
  local out, err, status = T.sh("printf 'xyz' | " .. T.q(T.runner) .. " -e " .. T.q([[
    local process = require "loom.process"
    local got = {}
    process.stdin:on("data", function(d) got[#got + 1] = d end)
    process.stdin:on("end", function() print(table.concat(got)) end)
  ]]))
  assert(status == 0, err)
  assert(out == "xyz\n", out)
end)

test("signal events: a listener per signal name, removed with off", function()
  local out, err, status = T.loom([[
    local process, uv = require "loom.process", require "loom"
    local n = 0
    local function on_usr1(name) n = n + 1; print("got", name) end
    process:on("SIGUSR1", on_usr1)
    uv.kill(process.pid, "sigusr1")
    local t = uv.new_timer()
    t:start(50, 0, function()
      process:off("SIGUSR1", on_usr1)
      t:close()
      print("listeners", process:listenerCount("SIGUSR1"), n)
    end)
  ]])
  assert(status == 0, err)
  assert(out == "got\tSIGUSR1\nlisteners\t0\t1\n", out)
  -- A listener does not keep the process alive by itself.
  local out2, err2, status2 = T.loom([[
    require("loom.process"):on("SIGHUP", function() end)
    print("ends")
  ]])
  assert(status2 == 0 and out2 == "ends\n", err2)
  T.raises("unknown signal", process.on, process, "SIGNOPE", print)
end)

task_test("nextTick runs soon, in order", function()
  local order = {}
  process.nextTick(function(x) order[#order + 1] = x end, "a")
  process.nextTick(function(x) order[#order + 1] = x end, "b")
  require("loom.task").yield()
  assert(table.concat(order) == "ab")
end)

T.run()
