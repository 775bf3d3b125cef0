-- test-lib-child.lua: loom.child_process with real child processes.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local cp = require "loom.child_process"
local task = require "loom.task"

test("spawn: pipes, exit then close, exit code and signal", function(expect, uv)
  local c = cp.spawn("sh", {"-c", "read line; echo \"got $line\"; echo oops >&2; exit 3"})
  assert(c.pid > 0 and c.stdin and c.stdout and c.stderr)
  local out, err = {}, {}
  c.stdout:on("data", function(d) out[#out + 1] = d end)
  c.stderr:on("data", function(d) err[#err + 1] = d end)
  c:on("spawn", expect())
  c:on("exit", expect(function(code, signal) assert(code == 3 and signal == nil) end))
  c:on("close", expect(function(code)
    assert(code == 3 and c.exitCode == 3)
    assert(table.concat(out) == "got hello\n" and table.concat(err) == "oops\n")
  end))
  c.stdin:finish("hello\n")
  local k = cp.spawn("sleep", {"10"}, {stdio = "ignore"})
  assert(k.stdout == nil)
  k:on("close", expect(function(code, signal) assert(code == nil and signal == "SIGKILL") end))
  assert(k:kill("sigkill") == true)
end)

test("options: env, cwd, inherit; a command that does not exist", function(expect, uv)
  local dir = T.tmpdir()
  local c = cp.spawn("sh", {"-c", "echo \"$LOOM_CHILD_X\" \"$(pwd)\"; echo \"${HOME:-nohome}\""},
                     {env = {LOOM_CHILD_X = "value"}, cwd = dir})
  local out = {}
  c.stdout:on("data", function(d) out[#out + 1] = d end)
  c:on("close", expect(function(code)
    assert(code == 0)
    local real = uv.fs_realpath(dir)
    assert(table.concat(out) == "value " .. real .. "\nnohome\n", table.concat(out))
  end))
  local missing = cp.spawn("/nonexistent/command")
  assert(missing.pid == nil)
  missing:on("error", expect(function(e) assert(e:match("^ENOENT"), e) end))
  missing:on("close", expect())
  local inherit = cp.spawn("true", {}, {stdio = "inherit"})
  assert(inherit.stdout == nil)
  inherit:on("close", expect(function(code) assert(code == 0) end))
end)

test("exec and execFile collect output; errors for exit codes, limits and time", function(expect, uv)
  cp.exec("echo hi; echo there >&2", expect(function(err, stdout, stderr, code)
    assert(err == nil and stdout == "hi\n" and stderr == "there\n" and code == 0)
  end))
  cp.execFile("sh", {"-c", "exit 7"}, expect(function(err, stdout, stderr, code)
    assert(err == "exited with code 7" and code == 7 and stdout == "")
  end))
  cp.execFile("cat", {}, {input = "piped in"}, expect(function(err, stdout)
    assert(err == nil and stdout == "piped in")
  end))
  cp.execFile("sh", {"-c", "head -c 200000 /dev/zero"}, {maxBuffer = 1000}, expect(function(err)
    assert(err:match("^ENOBUFS"), err)
  end))
  local pid
  local slow = cp.execFile("sleep", {"10"}, {timeout = 30}, expect(function(err, _, _, code, signal)
    assert(err:match("^ETIMEDOUT") and signal == "SIGTERM", tostring(err))
    -- Reaped: no zombie with that pid is left.
    local ok, _, name = uv.kill(pid, 0)
    assert(ok == nil and name == "ESRCH", "the child is still there")
  end))
  pid = slow.pid
  cp.execFile("/nonexistent", expect(function(err) assert(err:match("^ENOENT")) end))
  T.raises("needs a callback", cp.execFile, "true")
end)

task_test("run: the coroutine form", function(expect, uv)
  local out, err, code, signal = cp.run{"sh", "-c", "cat; echo err >&2; exit 4", input = "abc"}
  assert(out == "abc" and err == "err\n" and code == 4 and signal == nil)
  out, err, code = cp.run("echo", {"plain"})
  assert(out == "plain\n" and code == 0)
  local none, e, name = cp.run{"sleep", "10", timeout = 20}
  assert(none == nil and name == "ETIMEDOUT", e)
  none, e, name = cp.run{"/nonexistent"}
  assert(none == nil and name == "ENOENT", e)
  -- A cancelled run kills its child.
  local t = task.spawn(function() return cp.run{"sleep", "10"} end)
  task.sleep(20)
  t:cancel()
  local r = table.pack(t:join())
  assert(r[1] == nil and r[3] == "ECANCELED")
  -- wait() on a spawned child.
  local c = cp.spawn("sh", {"-c", "exit 5"}, {stdio = "ignore"})
  assert(c:wait() == 5)
  T.raises("a command expected", cp.run, {})
end)

T.run()
