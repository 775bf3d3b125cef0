-- bench/files.lua DIR BIGFILE: loom.fs's readFile of every file in DIR
-- (64 tasks at a time) and of BIGFILE, then exec of `true` 1,000 times
-- (16 at a time). bench/files.js does the same with Node.
local fs = require "loom.fs"
local cp = require "loom.child_process"
local task = require "loom.task"
local uv = require "loom"
local dir, big = arg[1], arg[2]

local function ms(t0) return (uv.hrtime() - t0) / 1e6 end

task.spawn(function()
  local names = assert(fs.readdir(dir))
  local t0 = uv.hrtime()
  local next_i, bytes = 1, 0
  task.group(function(g)
    for _ = 1, 64 do
      g:spawn(function()
        while next_i <= #names do
          local name = names[next_i]
          next_i = next_i + 1
          local data = assert(fs.readFile(dir .. "/" .. name))
          bytes = bytes + #data -- after the wait: no update is lost
        end
      end)
    end
  end)
  print(("loom readFile %d small files: %.0f ms (%d bytes)"):format(#names, ms(t0), bytes))
  if big then
    t0 = uv.hrtime()
    local data = assert(fs.readFile(big))
    print(("loom readFile %d MiB: %.0f ms"):format(#data // 1048576, ms(t0)))
    data = nil
    collectgarbage()
    t0 = uv.hrtime()
    local buf = assert(fs.readFile(big, {buffer = true}))
    print(("loom readFile{buffer = true} %d MiB: %.0f ms"):format(#buf // 1048576, ms(t0)))
    buf = nil
    collectgarbage()
  end
  t0 = uv.hrtime()
  local left = 1000
  task.group(function(g)
    for _ = 1, 16 do
      g:spawn(function()
        while left > 0 do
          left = left - 1
          local _, _, code = cp.run{"true"}
          assert(code == 0)
        end
      end)
    end
  end)
  print(("loom exec true x1000 (16 at a time): %.0f ms"):format(ms(t0)))
end)
