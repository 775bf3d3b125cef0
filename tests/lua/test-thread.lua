-- test-thread.lua: luv's thread section: threads with their own Lua
-- states and loops, semaphores shared across them, async handles woken
-- from them, and the thread utilities. Every wait is bounded: threads
-- only block on semaphores that the test posts.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local raises = T.raises

test("arguments and results cross both ways, every type", function()
  local t = uv.new_thread(function(...)
    local n = select("#", ...)
    local a, b, c, d, e, f, g, h = ...
    assert(n == 8, n)
    assert(a == nil and b == true and c == false)
    assert(math.type(d) == "integer" and d == 1 << 60)
    assert(math.type(e) == "float" and e == 2.0)
    assert(f == "bytes\0inside" and g.list[3] == "c" and g.nested.deep.x == 1)
    assert(h == -0.5)
    return nil, 7, 7.0, "s", {k = {1, 2}}, false
  end, nil, true, false, 1 << 60, 2.0, "bytes\0inside",
     {list = {"a", "b", "c"}, nested = {deep = {x = 1}}}, -0.5)
  local r = table.pack(t:join())
  assert(r.n == 7, r.n)
  assert(r[1] == true and r[2] == nil and math.type(r[3]) == "integer")
  assert(math.type(r[4]) == "float" and r[5] == "s" and r[6].k[2] == 2)
  assert(r[7] == false)
end)

test("entry as source text, options, upvalues do not cross", function()
  local t = uv.new_thread({stack_size = 1 << 20}, "local a, b = ... return a * b", 6, 7)
  local ok, v = t:join()
  assert(ok == true and v == 42)
  local up = 5
  t = uv.new_thread(nil, function() return type(up) end)
  ok, v = uv.thread_join(t)
  -- As with load(), the first upvalue (_ENV here) gets the new globals;
  -- the others start as nil.
  assert(ok == true and v == "nil", tostring(v))
  -- Bytecode made by string.dump is accepted too.
  t = uv.new_thread(string.dump(function(x) return x + 1 end), 1)
  assert(select(2, t:join()) == 2)
end)

test("an error in the entry: join gives false and the message", function()
  local t = uv.new_thread(function() error("thread boom") end)
  local ok, msg = t:join()
  assert(ok == false and msg:match("thread boom") and msg:match("traceback"), msg)
  -- Source text that errors when run (one that does not compile raises
  -- at new_thread: see "argument errors").
  t = uv.new_thread("error('text boom')")
  ok, msg = t:join()
  assert(ok == false and msg:match("text boom"), msg)
  -- A result that cannot cross is an error too.
  t = uv.new_thread(function() return print end)
  ok, msg = t:join()
  assert(ok == false and msg:match("cannot cross"), msg)
end)

test("join and detach: each once", function()
  local t = uv.new_thread(function() end)
  assert(t:join() == true)
  local v, msg, code = t:join()
  assert(v == nil and code == "EINVAL", msg)
  v, msg, code = t:detach()
  assert(v == nil and code == "EINVAL")
  t = uv.new_thread(function() end)
  assert(uv.thread_detach(t) == true)
  v, _, code = t:join()
  assert(v == nil and code == "EINVAL")
  v, _, code = uv.thread_self():join()
  assert(v == nil and code == "EINVAL")
  -- Operations on a joined thread say it is gone.
  local joined = uv.new_thread(function() end)
  joined:join()
  v, _, code = joined:getname()
  assert(v == nil and code == "ESRCH")
end)

test("an error nobody can join is printed, not lost", function()
  local out, err, status = T.loom([[
    local uv = require "loom"
    local t = uv.new_thread(function() error("detached boom") end)
    t:detach()
    uv.sleep(100)
    local u = uv.new_thread(function() error("collected boom") end)
    u = nil
    collectgarbage()
    uv.sleep(100)
    collectgarbage()
    print("done")
  ]])
  assert(status == 0 and out == "done\n", err)
  assert(err:match("uncaught error in thread: .*detached boom"), err)
  assert(err:match("uncaught error in thread: .*collected boom"), err)
end)

test("a thread's own loop runs after its entry returns", function()
  local t = uv.new_thread(function()
    local uv = require "loom"
    local fired = 0
    local timer = uv.new_timer()
    timer:start(5, 5, function()
      fired = fired + 1
      if fired == 3 then timer:close() end
    end)
    -- The loop is not the creating thread's: it has only this timer.
    local n = 0
    uv.walk(function() n = n + 1 end)
    assert(n == 1)
    return "started"
  end)
  assert(select(2, t:join()) == "started")
end)

test("semaphores shared by many threads", function()
  local sem = uv.new_sem()
  local go = uv.new_sem(0)
  local threads = {}
  for i = 1, 16 do
    threads[i] = uv.new_thread(function(done, start, n)
      start:wait()
      done:post()
      return n * 2
    end, sem, go, i)
  end
  assert(sem:trywait() == false)
  for _ = 1, 16 do go:post() end
  for _ = 1, 16 do uv.sem_wait(sem) end
  assert(uv.sem_trywait(sem) == false)
  for i, t in ipairs(threads) do
    local ok, v = t:join()
    assert(ok and v == i * 2)
  end
  local s3 = uv.new_sem(3)
  assert(s3:trywait() and s3:trywait() and s3:trywait())
  assert(not s3:trywait())
  assert(tostring(s3):match("^uv_sem_t: 0x"))
end)

test("async_send from threads: values arrive, sends coalesce", function(expect)
  local received, last = 0, nil
  local async
  async = uv.new_async(function(from, n)
    -- Every call carries the values of a send not yet delivered: a
    -- wake-up left over from a send an earlier call already took must
    -- call nobody.
    assert(from == "t" and n > (last or 0), "a call without a new send")
    received = received + 1
    last = n
    if n == 1000 then async:close() end
  end)
  local t = uv.new_thread(function(a)
    for i = 1, 999 do assert(a:send("t", i) == 0) end
    -- uv.async_send takes what crossed too.
    assert(require("loom").async_send(a, "t", 1000) == 0)
  end, async)
  uv.run()
  assert(t:join() == true)
  assert(last == 1000)
  -- Coalesced: at most one call per send, at least the last one.
  assert(received >= 1 and received <= 1000, received)
  -- After close, a send from another thread fails cleanly.
  local closed = uv.new_async(function() end)
  local go = uv.new_sem()
  local t2 = uv.new_thread(function(a, s)
    s:wait()
    return a:send("late")
  end, closed, go)
  closed:close(expect())
  uv.run()
  go:post()
  local ok, v, msg, code = t2:join()
  assert(ok and v == nil and code == "EINVAL", tostring(msg))
end)

test("shared objects cross to work functions and onward", function(expect)
  local sem = uv.new_sem()
  local async
  async = uv.new_async(expect(function(msg)
    assert(msg == "from worker")
    async:close()
  end))
  local work = uv.new_work(function(s, a)
    s:post()
    a:send("from worker")
    return "ok"
  end, expect(function(r) assert(r == "ok") end))
  assert(work:queue(sem, async))
  uv.run()
  sem:wait()
  -- A thread passed to another thread can be joined there.
  local inner = uv.new_thread(function() return 7 end)
  local outer = uv.new_thread(function(t) return t:join() end, inner)
  local ok, ok2, v = outer:join()
  assert(ok and ok2 and v == 7)
end)

test("thread_self, equal, names", function()
  local me = uv.thread_self()
  assert(me == uv.thread_self() and me:equal(uv.thread_self()))
  assert(uv.thread_equal(me, uv.thread_self()))
  -- == with anything else is false, as for any Lua value, never an error.
  assert(not (me == io.stdout) and me ~= uv.new_sem() and me ~= uv.new_buffer(1))
  assert(tostring(me):match("^uv_thread_t: 0x"))
  local named, release = uv.new_sem(), uv.new_sem()
  local t = uv.new_thread(function(n, r)
    local uv = require "loom"
    assert(uv.thread_setname("loom-worker-with-a-long-name") == 0)
    n:post()
    r:wait()
    return uv.thread_getname(uv.thread_self())
  end, named, release)
  assert(t ~= me and not t:equal(me))
  named:wait()
  assert(t:getname() == "loom-worker-wit", t:getname())
  assert(t:setname("renamed") == 0)
  release:post()
  local ok, name = t:join()
  assert(ok and name == "renamed", name)
end)

test("affinity, cpu, priority, sleep", function()
  local size = uv.cpumask_size()
  local mine = assert(uv.thread_getaffinity(uv.thread_self()))
  assert(#mine == size and mine[1] ~= nil)
  raises("mask_size", uv.thread_getaffinity, uv.thread_self(), 1)
  local t = uv.new_thread(function()
    local uv = require "loom"
    local self = uv.thread_self()
    local old = assert(self:setaffinity({true}, true))
    assert(type(old) == "table" and #old == uv.cpumask_size())
    local now = self:getaffinity()
    assert(now[1] == true and now[2] == false)
    assert(uv.thread_getcpu() == 1)
    assert(self:setpriority(uv.constants.THREAD_PRIORITY_LOWEST))
    assert(self:getpriority() == uv.constants.THREAD_PRIORITY_LOWEST)
    local before = uv.hrtime()
    uv.sleep(20)
    return (uv.hrtime() - before) / 1e6
  end)
  local ok, slept = t:join()
  assert(ok == true, slept)
  assert(slept >= 19, slept)
  local cpu = uv.thread_getcpu()
  assert(math.type(cpu) == "integer" and cpu >= 1 and cpu <= size)
  assert(uv.thread_getpriority(uv.thread_self()) == 0)
  -- Every CPU off is refused.
  local v, _, code = uv.thread_setaffinity(uv.thread_self(), {false})
  assert(v == nil and code == "EINVAL")
end)

test("100 threads at once", function()
  local threads = {}
  for i = 1, 100 do
    threads[i] = assert(uv.new_thread(function(n)
      local s = 0
      for k = 1, n do s = s + k end
      return s
    end, i * 100))
  end
  for i, t in ipairs(threads) do
    local n = i * 100
    assert(select(2, t:join()) == n * (n + 1) // 2)
  end
end)

test("threads left running at exit, and unjoined threads collected", function()
  local out, err, status = T.loom([[
    local uv = require "loom"
    for i = 1, 10 do
      uv.new_thread(function() require("loom").sleep(10) end)
    end
    collectgarbage()
    uv.new_thread(function() require("loom").sleep(2000) end)
    print("exiting")
  ]])
  assert(status == 0 and out == "exiting\n", err)
end)

test("argument errors", function()
  local fn = function() end
  raises("bad argument #1 .*function or string", uv.new_thread, 42)
  -- Source that does not compile raises here, not later on the thread.
  raises("bad argument #1 .*thread:1: syntax error near 'is'", uv.new_thread,
         "this is not lua")
  raises("bad argument #2 .*thread:1:", uv.new_thread, {}, "return +")
  raises("bad argument #2 .*function or string", uv.new_thread, {}, 42)
  raises("C function", uv.new_thread, print)
  raises("bad argument #2 .*cannot transfer a function", uv.new_thread, fn, fn)
  raises("bad argument #2 .*cannot transfer a userdata", uv.new_thread, fn, io.stdout)
  raises("stack_size", uv.new_thread, {stack_size = -1}, fn)
  raises("bad argument #1 .*uv_thread expected", uv.thread_join, "x")
  raises("bad argument #1 .*uv_thread expected", uv.thread_detach, uv.new_sem())
  raises("bad argument #2 .*uv_thread expected", uv.thread_equal, uv.thread_self(), 1)
  raises("bad argument #2", uv.thread_setaffinity, uv.thread_self(), "x")
  raises("bad argument #2 .*THREAD_PRIORITY", uv.thread_setpriority, uv.thread_self(), 99)
  raises("bad argument #1", uv.thread_setname, {})
  raises("bad argument #1", uv.sleep, -1)
  raises("bad argument #1", uv.sleep, "x")
  raises("bad argument #1 .*uv_sem expected", uv.sem_post, "x")
  raises("bad argument #1 .*uv_sem expected", uv.sem_wait, uv.thread_self())
  raises("bad argument #1", uv.new_sem, -1)
  raises("bad argument #1", uv.new_sem, "many")
  local a = uv.new_async(fn)
  raises("bad argument #1 .*uv_async expected", uv.async_send, uv.new_sem())
  a:close()
end)

T.run()
