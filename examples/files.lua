-- files.lua: loom.fs in its three forms. A log line is appended with a
-- callback, a report is built in a task (the loop keeps serving while
-- files are read), and a one-off setup step runs synchronously, as a
-- script's first lines would.
--   loom examples/files.lua [dir]        (default: a fresh temporary directory)
--   loom examples/files.lua --self-test
local fs = require "loom.fs"
local path = require "loom.path"
local task = require "loom.task"

local self_test = arg[1] == "--self-test"
local base = (not self_test and arg[1]) or assert(fs.mkdtemp("/tmp/loom-files-"))

-- Sync (outside a task, no callback): blocks, like luv's sync calls.
assert(fs.mkdir(path.join(base, "logs/2026"), {recursive = true}))
assert(fs.writeFile(path.join(base, "config.json"), '{"level":"info"}\n'))

-- Callback style.
fs.appendFile(path.join(base, "logs/2026/app.log"), "started\n", function(err)
  assert(not err, err)
  print("log line appended")
end)

-- Coroutine style: a task walks the tree and copies a big file through
-- streams with backpressure.
task.spawn(function()
  local big = path.join(base, "big.bin")
  local w = fs.createWriteStream(big)
  for i = 1, 256 do assert(w:write(("%04d"):format(i):rep(1024))) end -- 1 MiB
  assert(w:finish())
  assert(require("loom.stream").pipeline(fs.createReadStream(big),
                                         fs.createWriteStream(big .. ".copy")))
  local function walk(dir, depth)
    for _, e in ipairs(assert(fs.readdir(dir, {withFileTypes = true}))) do
      local full = path.join(dir, e.name)
      local size = e.type == "file" and (" " .. assert(fs.stat(full)).size .. " bytes") or "/"
      print(("  "):rep(depth) .. e.name .. size)
      if e.type == "directory" then walk(full, depth + 1) end
    end
  end
  walk(base, 0)
  assert(fs.readFile(big) == fs.readFile(big .. ".copy"))
  if self_test then
    assert(fs.rm(base, {recursive = true}))
    assert(not fs.exists(base))
    print("self-test ok")
  end
end)
