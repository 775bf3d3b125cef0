-- test-process.lua: luv's process section with real children.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

-- Reads a stream to its end; calls done(text).
local function slurp(stream, done)
  local parts = {}
  stream:read_start(function(err, data)
    assert(not err, err)
    if data then parts[#parts + 1] = data return end
    stream:close()
    done(table.concat(parts))
  end)
end

test("spawn echo and capture its stdout", function(expect)
  local out = uv.new_pipe()
  local handle, pid
  handle, pid = uv.spawn("echo", {args = {"hello", "child"}, stdio = {nil, out, 2}},
    expect(function(code, signal)
      assert(code == 0 and signal == 0, code .. "/" .. signal)
      handle:close()
    end))
  assert(tostring(handle):match("^uv_process_t: "))
  assert(type(pid) == "number" and pid > 0 and handle:get_pid() == pid)
  assert(uv.process_get_pid(handle) == pid)
  slurp(out, expect(function(text) assert(text == "hello child\n", text) end))
end)

test("exit codes and terminating signals", function(expect)
  local h1, h2
  h1 = uv.spawn("sh", {args = {"-c", "exit 3"}}, expect(function(code, signal)
    assert(code == 3 and signal == 0)
    h1:close()
  end))
  h2 = uv.spawn("sleep", {args = {"10"}}, expect(function(code, signal)
    assert(signal == 15, signal)
    h2:close()
  end))
  assert(h2:kill("sigterm") == 0)
end)

test("a missing executable: ENOENT and no zombie", function()
  local h, msg, name = uv.spawn("/nonexistent/program", {}, function() error("no exit") end)
  assert(h == nil and name == "ENOENT", msg)
  local me = uv.os_getpid()
  local zombies = T.sh("ps -o stat= --ppid " .. me .. " | grep -c Z || true")
  assert(tonumber(zombies) == 0, zombies)
end)

test("a file that is not executable: EACCES", function()
  local path = os.tmpname()
  local h, msg, name = uv.spawn(path, {})
  assert(h == nil and name == "EACCES", msg)
  os.remove(path)
end)

test("100 concurrent children", function(expect)
  local exited = 0
  for i = 1, 100 do
    local h
    h = uv.spawn("sh", {args = {"-c", "exit " .. (i % 7)}}, function(code)
      assert(code == i % 7, code)
      exited = exited + 1
      h:close()
    end)
    assert(h, "spawn " .. i)
  end
  uv.run()
  assert(exited == 100, exited)
end)

test("env, cwd and a stdin pipe", function(expect)
  local stdin, stdout = uv.new_pipe(), uv.new_pipe()
  local h
  h = uv.spawn("sh", {
    args = {"-c", "echo $LOOM_VAR; pwd; cat"},
    env = {"LOOM_VAR=from-env", "PATH=/usr/bin:/bin"},
    cwd = "/tmp",
    stdio = {stdin, stdout, 2},
  }, expect(function(code) assert(code == 0); h:close() end))
  stdin:write("from stdin\n")
  stdin:shutdown(function() stdin:close() end)
  slurp(stdout, expect(function(text)
    assert(text == "from-env\n/tmp\nfrom stdin\n", text)
  end))
end)

test("a user SIGCHLD handle still fires next to spawn", function(expect)
  local sig = uv.new_signal()
  sig:start("sigchld", expect(function() sig:close() end))
  local h
  h = uv.spawn("true", {}, expect(function() h:close() end))
end)

test("detached children and kill", function(expect)
  local h
  h = uv.spawn("sleep", {args = {"10"}, detached = true}, expect(function(code, signal)
    assert(signal == 9, signal)
    h:close()
  end))
  assert(uv.kill(h:get_pid(), 0) == 0)
  assert(uv.kill(h:get_pid(), "sigkill") == 0)
end)

test("spawn arguments are checked", function()
  -- Numbers are taken as strings (luv's lua_tostring); other values raise.
  local ok, err = pcall(uv.spawn, "true", {args = {true}})
  assert(not ok and err:match("options.args%[1%] must be a string"), err)
  ok, err = pcall(uv.spawn, "true", {cwd = 5})
  assert(not ok and err:match("options.cwd must be a string"), err)
  ok, err = pcall(uv.spawn, "true", {stdio = {"x"}})
  assert(not ok and err:match("stdio%[1%] must be"), err)
  ok, err = pcall(uv.spawn, "true", {}, 5)
  assert(not ok and err:match("callable expected"), err)
  ok, err = pcall(uv.spawn, {})
  assert(not ok and err:match("string expected"), err)
  ok, err = pcall(uv.kill, 1, "sigwhat")
  assert(not ok and err:match("unknown signal"), err)
  ok, err = pcall(uv.process_kill, uv.new_timer())
  assert(not ok and err:match("uv_process expected"), err)
  -- A zero byte would cut a string short on its way to exec.
  ok, err = pcall(uv.spawn, "echo", {args = {"a", "b\0c"}})
  assert(not ok and err:match("options.args%[2%] contains a zero byte"), err)
  ok, err = pcall(uv.spawn, "true", {env = {"A=1\0B=2"}})
  assert(not ok and err:match("options.env%[1%] contains a zero byte"), err)
  ok, err = pcall(uv.spawn, "true", {cwd = "/\0tmp"})
  assert(not ok and err:match("options.cwd contains a zero byte"), err)
  ok, err = pcall(uv.spawn, "tr\0ue", {})
  assert(not ok and err:match("bad argument #1 .*zero byte"), err)
  -- A handle that is not a stream is named by its stdio slot.
  ok, err = pcall(uv.spawn, "true", {stdio = {nil, uv.new_timer()}})
  assert(not ok and err:match("options.stdio%[2%] must be nil, an fd or a stream"), err)
  -- A closing pipe can neither be inherited nor get a new pipe.
  local closing = uv.new_pipe()
  closing:close()
  local h, msg, name = uv.spawn("true", {stdio = {nil, closing}})
  assert(h == nil and name == "EINVAL", msg)
  uv.run()
  uv.disable_stdio_inheritance()
  uv.walk(function(h) if not h:is_closing() then h:close() end end)
end)

T.run()
