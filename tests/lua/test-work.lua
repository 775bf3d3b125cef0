-- test-work.lua: luv's work section: new_work/queue_work with Lua states
-- on the pool's threads, values copied both ways, errors in the work
-- function under the error policy, and pools of 1 and 64 threads.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

test("every argument type crosses and comes back", function(expect)
  local work = uv.new_work(function(...)
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      out[i] = type(v) == "number" and math.type(v) or type(v)
    end
    return select("#", ...), table.concat(out, ","), ...
  end, expect(function(n, types, a, b, c, d, e, f, g)
    assert(n == 7, n)
    assert(types == "nil,boolean,boolean,integer,float,string,table", types)
    assert(a == nil and b == true and c == false)
    assert(math.type(d) == "integer" and d == 42)
    assert(math.type(e) == "float" and e == 42.0)
    assert(f == "bytes\0with zero")
    assert(g.list[3] == 3 and g.nested.deep.x == "y" and g[1.5] == true)
  end))
  assert(tostring(work):match("^luv_work_ctx_t: "))
  assert(uv.queue_work(work, nil, true, false, 42, 42.0, "bytes\0with zero",
                       {list = {1, 2, 3}, nested = {deep = {x = "y"}}, [1.5] = true}) == true)
end)

test("the worker state has the standard libraries and require 'loom'/'luv'", function(expect)
  local work = uv.new_work(function()
    local loom = require "loom"
    local luv = require "luv"
    return type(loom.fs_stat), loom == luv, string.format("%d", 7),
           type(os.time()), type(io.write)
  end, expect(function(fs_stat, same, s, t, w)
    assert(fs_stat == "function" and same and s == "7" and t == "number" and w == "function")
  end))
  work:queue()
end)

test("source text as the work function; upvalues do not cross", function(expect)
  local captured = "from the main state"
  uv.new_work("local a, b = ... return a * b", expect(function(r)
    assert(r == 42)
  end)):queue(6, 7)
  -- The dumped function's first upvalue becomes the worker's globals
  -- (here _ENV, through `type`); the others arrive as nil.
  uv.new_work(function() local _ = type; return captured end, expect(function(r)
    assert(r == nil, "an upvalue crossed: " .. tostring(r))
  end)):queue()
end)

test("1,000 round trips, each result to its own call", function(expect)
  local sum, n = 0, 1000
  local work = uv.new_work(function(i) return i * 2 end, expect(function(r)
    sum = sum + r
  end, n))
  for i = 1, n do assert(work:queue(i)) end
  T.after(function() assert(sum == n * (n + 1), sum) end)
end)

test("values that cannot cross are refused at queue time", function()
  local work = uv.new_work(function() end, function() end)
  local cyclic = {}
  cyclic.self = cyclic
  for _, bad in ipairs {print, coroutine.create(print), cyclic, {f = print}, io.stdout} do
    local ok, err = pcall(uv.queue_work, work, 1, bad)
    assert(not ok and err:match("bad argument #3"), tostring(err))
  end
  local ok, err = pcall(uv.new_work, print, function() end)
  assert(not ok and err:match("C function"), err)
  ok, err = pcall(uv.new_work, function() end, 5)
  assert(not ok and err:match("bad argument #2"), err)
  -- Source that does not compile raises at new_work, not on a worker.
  ok, err = pcall(uv.new_work, "x = = 1", function() end)
  assert(not ok and err:match("bad argument #1 .*work:1: unexpected symbol"), err)
  ok, err = pcall(uv.queue_work, {}, 1)
  assert(not ok and err:match("bad argument #1"), err)
end)

test("an error inside work_fn goes through the error policy", function()
  -- In a child, so that the default policy (print and exit 1) shows.
  local out, err, code = T.loom([[
    local uv = require "loom"
    uv.new_work(function() error("broken work") end, function()
      print("after_fn must not run")
    end):queue()
  ]])
  assert(code == 1, "exit status " .. tostring(code))
  assert(out == "", out)
  assert(err:match("in work function: .*broken work"), err)
  -- With uv.on_error, both errors arrive and the loop goes on.
  out, err, code = T.loom([[
    local uv = require "loom"
    local seen = {}
    uv.on_error(function(e) seen[#seen + 1] = tostring(e) end)
    uv.new_work(function() error("broken work") end, function() end):queue()
    uv.new_work(function() return print end, function() end):queue()
    uv.run()
    local all = table.concat(seen, "\n")
    print(#seen, all:match("cannot cross to the loop thread") ~= nil, all:match("broken work") ~= nil)
  ]])
  assert(code == 0 and out == "2\ttrue\ttrue\n", out .. err)
end)

-- The workers are named loom-pool and run LOOM_THREADPOOL_NICE (default
-- 10, clamped to 0..19) nicer than the process, so that they cannot
-- crowd out the loop thread, which stays at the process's own priority.
test("pool threads are named and run nicer than the loop thread", function()
  local probe = [[
    local uv = require "loom"
    local function nice_of(task)
      local f = io.open("/proc/self/task/" .. task .. "/stat")
      local stat = f:read("a"); f:close()
      -- Fields after the command name; nice is field 19 of stat(5).
      local rest = stat:match("%) (.*)$")
      local fields = {}
      for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
      return tonumber(fields[17])
    end
    local function name_of(task)
      local f = io.open("/proc/self/task/" .. task .. "/comm")
      local name = f:read("l"); f:close()
      return name
    end
    -- Workers name and renice themselves as they start: look until all
    -- three have (bounded: 2 s).
    local timer, tries = uv.new_timer(), 0
    local function look()
      local loop_nice = nice_of(uv.os_getpid())
      local pool = {}
      for task in uv.fs_scandir_next, assert(uv.fs_scandir("/proc/self/task")) do
        if name_of(task) == "loom-pool" then pool[#pool + 1] = nice_of(task) - loop_nice end
      end
      table.sort(pool)
      tries = tries + 1
      if #pool < 3 and tries < 200 then return timer:start(10, 0, look) end
      timer:close()
      print(#pool, pool[1], pool[#pool])
    end
    uv.new_work(function() return 1 end, look):queue()
    uv.run()
  ]]
  for _, case in ipairs {{nil, 10}, {"0", 0}, {"3", 3}, {"-5", 0}, {"99", 19}} do
    local env = "LOOM_THREADPOOL_SIZE=3 " .. (case[1] and ("LOOM_THREADPOOL_NICE=" .. case[1] .. " ") or "")
    local out, err, code = T.sh(env .. T.q(T.runner) .. " -e " .. T.q(probe))
    local expected = ("3\t%d\t%d\n"):format(case[2], case[2])
    assert(code == 0, err)
    if out ~= expected then
      -- A suite already running niced can only be clamped at 19.
      local base = tonumber(io.popen("nice"):read("l"))
      local capped = math.min(19, base + case[2]) - base
      assert(out == ("3\t%d\t%d\n"):format(capped, capped),
             ("LOOM_THREADPOOL_NICE=%s: %s"):format(tostring(case[1]), out))
    end
  end
end)

test("pools of 1 and of 64 threads", function()
  for _, size in ipairs {1, 64} do
    -- Each worker has its own state, so the distinct _G tables seen
    -- count the workers that ran jobs.
    local out, err, code = T.sh("LOOM_THREADPOOL_SIZE=" .. size .. " " .. T.q(T.runner) ..
      " -e " .. T.q([[
        local uv = require "loom"
        local states, done = {}, 0
        local work = uv.new_work(function(i)
          local t = os.clock() + 0.001
          while os.clock() < t do end
          return tostring(_G), i
        end, function(s, i)
          states[s] = true
          done = done + i
        end)
        for i = 1, 300 do work:queue(i) end
        uv.run()
        local n = 0
        for _ in pairs(states) do n = n + 1 end
        print(n, done)
      ]]))
    local n, done = out:match("^(%d+)\t(%d+)")
    n = tonumber(n)
    assert(code == 0 and done == "45150", out .. err)
    assert(n >= 1 and n <= size, "workers: " .. out)
    if size == 1 then assert(n == 1) else assert(n > 1, "64 threads, one used") end
  end
end)

test("state close with work queued and running", function()
  local out, err, code = T.loom_exiting([[
    local uv = require "loom"
    local w = uv.new_work(function(s)
      local t = os.clock() + 0.001
      while os.clock() < t do end
      return s .. s
    end, function() end)
    for i = 1, 2000 do w:queue(string.rep("x", 100)) end
    uv.new_work(function() end, function() os.exit(0, true) end):queue()
    uv.run()
  ]])
  assert(code == 0 and err == "", err)
end)

T.run()
