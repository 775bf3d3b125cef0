-- test-runner.lua: the `loom` program: options, the arg table, stdin,
-- exit statuses, module lookup, the luv alias.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local q = T.q

local function tmpscript(code)
  local name = os.tmpname() .. ".lua"
  local f = assert(io.open(name, "w"))
  f:write(code)
  f:close()
  return name
end

test("the arg table and script arguments, as lua builds them", function()
  local s = tmpscript([[
    print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
    print(arg[-1] ~= nil, arg[-2] ~= nil)
  ]])
  local out, err, code = T.sh(q(T.runner) .. " -e 'x=1' " .. q(s) .. " a b")
  assert(code == 0, err)
  local l1, l2 = out:match("^(.-)\n(.-)\n$")
  assert(l1 == s .. "\ta\tb\t2\t2\ta\tb", l1)
  assert(l2 == "true\ttrue", l2)
  -- compare with lua5.4 itself
  local lout = T.sh(q(T.lua) .. " -e 'x=1' " .. q(s) .. " a b")
  assert(lout:match("^[^\n]*") == l1, lout)
  os.remove(s)
end)

test("-e, -l, -v, -h, --", function()
  local out, _, code = T.sh(q(T.runner) .. " -e 'print(1+1)' -e 'print(\"x\")'")
  assert(code == 0 and out == "2\nx\n", out)
  out, _, code = T.sh(q(T.runner) .. " -l string -e 'print(type(string))'")
  assert(code == 0 and out == "table\n", out)
  out, _, code = T.sh(q(T.runner) .. " -l s=string -e 'print(s == string)'")
  assert(code == 0 and out == "true\n", out)
  out, _, code = T.sh(q(T.runner) .. " -v")
  assert(code == 0 and out:match("^loom %d+%.%d+%.%d+"), out)
  out, _, code = T.sh(q(T.runner) .. " --version")
  assert(code == 0 and out:match("^loom "), out)
  out, _, code = T.sh(q(T.runner) .. " -h")
  assert(code == 0 and out:match("usage:"), out)
  local s = tmpscript("print('dashdash', ...)")
  out, _, code = T.sh(q(T.runner) .. " -- " .. q(s) .. " -x")
  assert(code == 0 and out == "dashdash\t-x\n", out)
  os.remove(s)
  local _, err
  _, err, code = T.sh(q(T.runner) .. " -z")
  assert(code == 1 and err:match("unrecognized or incomplete option '%-z'"), err)
  _, err, code = T.sh(q(T.runner) .. " -e")
  assert(code == 1, err)
end)

test("script from stdin, with - and without a script", function()
  local out, _, code = T.sh("echo 'print(\"stdin\", ...)' | " .. q(T.runner) .. " - a")
  assert(code == 0 and out == "stdin\ta\n", out)
  out, _, code = T.sh("echo 'print(\"implicit\")' | " .. q(T.runner))
  assert(code == 0 and out == "implicit\n", out)
end)

test("exit statuses: 0, os.exit code, 1 on error, syntax errors", function()
  local _, err, code = T.loom("local x = 1")
  assert(code == 0, err)
  _, _, code = T.loom("os.exit(5)")
  assert(code == 5)
  _, _, code = T.loom("os.exit(false)")
  assert(code == 1)
  _, err, code = T.loom("error('top-level boom')")
  assert(code == 1 and err:match("top%-level boom") and err:match("stack traceback"), err)
  _, err, code = T.loom("this is not lua")
  assert(code == 1 and err:match("syntax error") or err:match("expected"), err)
  _, err, code = T.sh(q(T.runner) .. " /nonexistent/script.lua")
  assert(code == 1 and err:match("cannot open"), err)
end)

test("the loop runs after the script until nothing is left", function()
  local out, err, code = T.loom([[
    local uv = require "loom"
    local t = uv.new_timer()
    t:start(20, 0, function() print("fired"); t:close() end)
    print("script done")
  ]])
  assert(code == 0 and out == "script done\nfired\n", out .. err)
end)

test("luv scripts run unchanged; loom.* modules are found", function()
  local out, err, code = T.loom([[
    local uv = require "luv"
    assert(uv == require "loom")
    local timer = require "loom.timer"
    timer.setTimeout(5, function() print("lib ok") end)
    uv.run()
  ]])
  assert(code == 0 and out == "lib ok\n", out .. err)
end)

test("the examples run and end by themselves", function()
  local examples = T.dir .. "/../../examples/"
  for _, ex in ipairs({"demo.lua", "timers.lua", "signals.lua --self-test",
                       "echo-server.lua --self-test", "udp.lua --self-test",
                       "walk.lua --self-test", "offload.lua --self-test", "copy.lua --self-test",
                       "watch.lua --self-test", "threads.lua --self-test",
                       "resolve.lua --self-test", "memory-limit.lua --self-test",
                       "utf16.lua --self-test", "chat.lua --self-test",
                       "proxy.lua --self-test", "game-tick.lua --self-test",
                       "helpers.lua --self-test", "wc.lua --self-test",
                       "files.lua --self-test", "run-commands.lua --self-test",
                       "cluster.lua --self-test", "json-api.lua --self-test",
                       "static-server.lua --self-test"}) do
    local out, err, code = T.sh(q(T.runner) .. " " .. examples .. ex)
    assert(code == 0, ex .. ": " .. err)
    assert(#out > 0, ex .. " printed nothing")
  end
  local out = T.sh(q(T.runner) .. " " .. examples .. "demo.lua")
  assert(out:match("timer %-> idle %-> prepare %-> check"), out)
  assert(out:match("caught sigusr1"), out)
end)

test("started with stdin, stdout and stderr closed, the runner puts /dev/null there", function()
  local out = os.tmpname()
  T.after(function() os.remove(out) end)
  local code = ([[
    local uv = require "loom"
    local s = uv.new_tcp()
    assert(s:bind("127.0.0.1", 0))
    local f = assert(io.open(%q, "w"))
    for fd = 0, 2 do f:write(fd, "=", uv.fs_readlink("/proc/self/fd/" .. fd) or "?", "\n") end
    f:write("socket=", s:fileno(), "\n")
    f:close()
    s:close()
    error("this traceback goes to /dev/null, not to a socket")
  ]]):format(out)
  local _, _, status = os.execute(T.q(T.runner) .. " -e " .. T.q(code) .. " 0<&- 1>&- 2>&-")
  assert(status == 1, "exit " .. tostring(status))
  local f = assert(io.open(out))
  local got = f:read("a")
  f:close()
  assert(got:match("0=/dev/null\n1=/dev/null\n2=/dev/null\n"), got)
  assert(tonumber(got:match("socket=(%d+)")) > 2, got)
end)

test("the runner ignores SIGPIPE (as Node): a write to a pipe without reader is EPIPE; children get the default back", function()
  local out, err, code = T.loom([[
    local uv = require "loom"
    local fds = uv.pipe()
    uv.fs_close(fds.read)
    local n, msg, name = uv.fs_write(fds.write, "x")
    uv.fs_close(fds.write)
    print(name)
    -- A child sees SIGPIPE's default disposition again.
    local f = io.popen("grep SigIgn /proc/self/status")
    print(f:read("a"))
    f:close()
  ]])
  assert(code == 0, err)
  assert(out:match("^EPIPE\n"), out)
  -- SIGPIPE (signal 13, bit 12 of the mask) is not ignored in a child
  -- that io.popen started: the runner's handler did not survive exec.
  local mask = tonumber(out:match("SigIgn:%s*(%x+)"), 16)
  assert(mask and mask & (1 << 12) == 0, out)
end)

test("flag integers out of range raise instead of being cut", function()
  local out, err, code = T.loom([[
    local uv = require "loom"
    local ok, e = pcall(uv.fs_copyfile, "/etc/hostname", "/tmp/x", 1 << 32)
    print(ok, e:match("flags out of range") ~= nil)
  ]])
  assert(code == 0 and out == "false\ttrue\n", out .. err)
end)

T.run()
