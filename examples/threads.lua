-- threads.lua: a pipeline of threads. Each thread has its own Lua state
-- and its own loop; they report progress to the main loop through an
-- async handle passed to them, and a semaphore holds them at a starting
-- line until the main loop is ready. join() hands back each thread's
-- results.
--   loom examples/threads.lua [N]       hash N blocks on 4 threads
--   loom examples/threads.lua --self-test
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local blocks = tonumber(self_test and 200 or arg[1]) or 2000
local nthreads = 4

-- A cheap checksum (FNV-1a over a generated block), enough to keep a
-- CPU busy without any library.
local function worker(id, first, last, progress, start)
  start:wait()
  local sum = 0
  for b = first, last do
    local block = string.rep(string.char(b % 256), 4096)
    local h = 2166136261
    for i = 1, #block do
      h = ((h ~ block:byte(i)) * 16777619) & 0xffffffff
    end
    sum = (sum + h) & 0xffffffff
    if b % 50 == 0 then progress:send(id, b - first + 1) end
  end
  return id, sum, last - first + 1
end

local done_per_thread = {}
local progress = uv.new_async(function(id, count)
  done_per_thread[id] = count
  local total = 0
  for _, n in pairs(done_per_thread) do total = total + n end
  io.write(("\rprogress: %d / %d blocks"):format(total, blocks))
end)

local start = uv.new_sem(0)
local threads = {}
local per = blocks // nthreads
for id = 1, nthreads do
  local first = (id - 1) * per + 1
  local last = id == nthreads and blocks or id * per
  threads[id] = assert(uv.new_thread(worker, id, first, last, progress, start))
end
for _ = 1, nthreads do start:post() end

-- Join on a timer tick, so the main loop keeps reporting progress while
-- the threads work; join() itself blocks only once a thread is done.
local results = {}
local poll = uv.new_timer()
poll:start(20, 20, function()
  for id, t in pairs(threads) do
    results[id] = table.pack(t:join())
    threads[id] = nil
    break
  end
  if next(threads) == nil then
    poll:close()
    progress:close()
    local total, sum = 0, 0
    for id, r in ipairs(results) do
      assert(r[1] == true and r[2] == id, tostring(r[2]))
      sum = (sum + r[3]) & 0xffffffff
      total = total + r[4]
    end
    io.write(("\n%d blocks on %d threads, checksum %08x\n"):format(total, nthreads, sum))
    if self_test then
      assert(total == blocks)
      print("self-test ok")
    end
  end
end)
