-- test-repl.lua: the runner's interactive prompt, driven through a real
-- pseudo-terminal (tmux) as a user would type.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local q = T.q

local session = "loomrepl" .. require("loom").os_getpid()

local function tmux(args)
  local out, err, code = T.sh("tmux " .. args)
  return out, err, code
end

local function start(cmd)
  local _, err, code = tmux(("new-session -d -s %s -x 120 -y 50 %s"):format(session, q(cmd)))
  assert(code == 0, "tmux: " .. err)
  T.after(function() tmux("kill-session -t " .. session) end)
end

local function screen()
  return (tmux("capture-pane -p -t " .. session))
end

-- Waits (up to 5 s) until the screen matches pattern; returns the screen.
local function wait_for(pattern)
  local s
  for _ = 1, 100 do
    s = screen()
    if s:find(pattern) then return s end
    os.execute("sleep 0.05")
  end
  error("the screen never showed " .. pattern .. ":\n" .. s, 2)
end

local function type_line(text)
  tmux(("send-keys -t %s -l %s"):format(session, q(text)))
  tmux(("send-keys -t %s Enter"):format(session))
end

local function keys(...)
  tmux(("send-keys -t %s %s"):format(session, table.concat({...}, " ")))
end

local function running()
  local _, _, code = tmux("has-session -t " .. session)
  return code == 0
end

test("expressions print their values; multi-line chunks; errors; history", function()
  local _, _, code = T.sh("command -v tmux")
  assert(code == 0, "tmux is needed for this test (apt-get install tmux)")
  start(T.runner)
  wait_for("Ctrl%-D exits")
  type_line("1 + 1")
  wait_for("\n2\n>")
  type_line("t = {a = 1, 'b'}")
  type_line("t")
  wait_for('{ "b", a = 1 }')
  type_line("for i = 1, 2 do")
  wait_for(">>")
  type_line("print('line ' .. i)")
  type_line("end")
  wait_for("line 1\nline 2")
  type_line("error('boom')")
  wait_for("stdin:1: boom")
  keys("Up")          -- the last line again
  keys("Enter")
  local s = wait_for("boom.*boom")
  assert(not s:find("repl%.lua"), "the prompt's own frames are in the traceback")
  -- Editing: type, move left, delete, insert.
  tmux(("send-keys -t %s -l %s"):format(session, q("x = 15")))
  keys("Left", "BSpace")
  tmux(("send-keys -t %s -l 2"):format(session))
  keys("Enter")
  type_line("x * 2")
  wait_for("\n50\n")
  -- Ctrl-C cancels a line; Ctrl-D on an empty line exits.
  tmux(("send-keys -t %s -l %s"):format(session, q("not run")))
  keys("C-c")
  wait_for("not run%^C")
  keys("C-d")
  for _ = 1, 100 do
    if not running() then break end
    os.execute("sleep 0.05")
  end
  assert(not running(), "Ctrl-D did not exit")
end)

test("the loop runs between lines: a server started at the prompt answers", function()
  start(T.runner)
  wait_for("Ctrl%-D exits")
  type_line("net = require 'loom.net'")
  type_line("srv = net.createServer(function(s) s:on('data', function(d) s:write(d:upper()) end) end)")
  type_line("srv:listen(0, '127.0.0.1'); port = srv:address().port")
  type_line("print('port=' .. port)")
  local s = wait_for("port=%d+")
  local port = tonumber(s:match("port=(%d+)"))
  -- A real client talks to it while the prompt waits for input.
  local out = T.sh(("printf 'hello' | timeout 5 %s -e %s"):format(q(T.runner), q(([[
    local uv = require "loom"
    local c = uv.new_tcp()
    c:connect("127.0.0.1", %d, function()
      c:write("hello")
      c:read_start(function(_, d) if d then io.write(d); c:close() end end)
    end)
  ]]):format(port))))
  assert(out == "HELLO", out)
  -- A timer fires while nothing is typed.
  type_line("require('loom.timer').setTimeout(30, function() print('tick fired') end)")
  wait_for("tick fired")
  -- Ctrl-C twice on an empty line exits, servers or not.
  keys("C-c")
  wait_for("press Ctrl%-C again")
  keys("C-c")
  for _ = 1, 100 do
    if not running() then break end
    os.execute("sleep 0.05")
  end
  assert(not running(), "the second Ctrl-C did not exit")
end)

test("loom -i runs the script, then the prompt sees its globals", function()
  local script = T.script_file("greeting = 'hi from the script'\n")
  start(T.runner .. " -i " .. script)
  wait_for("Ctrl%-D exits")
  type_line("greeting")
  wait_for('"hi from the script"')
  keys("C-d")
end)

T.run()
