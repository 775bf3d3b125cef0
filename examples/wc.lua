-- wc.lua: count lines, words and bytes of stdin, in the coroutine style
-- over loom.process's streams; ^C prints what was counted so far.
--   printf 'a b\nc\n' | loom examples/wc.lua
--   loom examples/wc.lua --self-test
local process = require "loom.process"
local task = require "loom.task"

if process.argv[3] == "--self-test" then
  -- Run this script as a child with text on its stdin.
  local cmd = ("printf 'one two\\nthree\\n\\nfour five six\\n' | %q %q"):format(
    process.execPath, process.argv[2])
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, _, code = p:close()
  io.write(out)
  assert(ok and code == 0, "exit " .. tostring(code))
  assert(out == "4 lines, 6 words, 29 bytes\n", out)
  print("self-test ok")
  return
end

local lines, words, bytes = 0, 0, 0

local function report()
  process.stdout:write(("%d lines, %d words, %d bytes\n"):format(lines, words, bytes))
end

process:on("SIGINT", function()
  report()
  process.exit(130)
end)

task.spawn(function()
  while true do
    local line, err = process.stdin:readLine(1048576)
    if not line then
      if err then process.stderr:write("wc: " .. err .. "\n"); process.exitCode = 1 end
      break
    end
    lines = lines + 1
    bytes = bytes + #line + 1
    for _ in line:gmatch("%S+") do words = words + 1 end
  end
  report()
  process:removeAllListeners("SIGINT")
end)
