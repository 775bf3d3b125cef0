-- apifuzz_fixture.lua SEED CALLS OUT: random calls of the whole loom
-- API, run by test-apifuzz.lua in a child process per seed. Each call
-- gets 0 to 6 values of every kind (numbers at their extremes, strings
-- that are paths, addresses, modes and junk, tables, callbacks, handles
-- open, closing and closed, buffers, foreign userdata) under pcall; the
-- loop runs a pass now and then. Whatever the calls do, the process must
-- not crash, hang or trip a sanitizer, and once every handle is closed
-- the loop must end. The verdict goes to the file OUT, since a random
-- call may close stdout.
local uv = require "loom"
local seed, iterations, out_path = tonumber(arg[1]), tonumber(arg[2]), arg[3]
math.randomseed(seed)
local rnd = math.random
-- Every path is relative and none climbs out (no ".."): the calls work
-- one level below a scratch directory of their own, so that even a
-- chmod or chown of their parent stays inside it. (An earlier version
-- had "..", and as root it took /tmp's permissions away.)
local sandbox = assert(uv.fs_mkdtemp("/tmp/loom-apifuzz-XXXXXX"))
assert(uv.fs_mkdir(sandbox .. "/work", 448))
assert(uv.chdir(sandbox .. "/work") == 0)
local fd0 = assert(uv.fs_open("f", "w+", 420))
assert(uv.fs_write(fd0, "hello"))
assert(uv.fs_mkdir("d", 493))

-- Left out: what signals, exits or changes the whole process (kill,
-- setuid, chdir, priorities, stdio inheritance, the environment), what
-- blocks or ends the loop (sleep, run, loop_close, thread_join), what
-- starts programs or threads, and name lookups (they would leave the
-- machine: tests use loopback only).
local skip = {
  kill = 1, process_kill = 1, setuid = 1, setgid = 1, chdir = 1, sleep = 1,
  loop_close = 1, run = 1, on_error = 1, set_memory_limit = 1,
  disable_stdio_inheritance = 1, os_unsetenv = 1, os_setenv = 1,
  tty_set_mode = 1, set_process_title = 1, thread_setaffinity = 1,
  thread_setpriority = 1, os_setpriority = 1, print_all_handles = 1,
  print_active_handles = 1, spawn = 1, new_thread = 1, thread_join = 1,
  getaddrinfo = 1, getnameinfo = 1, new_resolver = 1,
}
local names = {}
for k, v in pairs(uv) do
  if type(v) == "function" and not skip[k] then names[#names + 1] = k end
end
table.sort(names)

local handles = {}
local function cb() end
local function make_handle()
  local makers = {
    uv.new_timer, uv.new_idle, uv.new_prepare, uv.new_check, uv.new_tcp,
    uv.new_udp, uv.new_pipe, uv.new_fs_event, uv.new_fs_poll, uv.new_signal,
    function() return uv.new_async(cb) end,
    function() return uv.new_udp({family = "inet", mmsgs = 4}) end,
  }
  local h = makers[rnd(#makers)]()
  if h then handles[#handles + 1] = h end
  return h
end
for _ = 1, 10 do make_handle() end

local strings = {
  "", "f", "d", "nope", "127.0.0.1", "::1", "0.0.0.0", "localhost", "r",
  "w+", "a", "rw", "inet", "inet6", "sigusr1", "A", "AAAA", "now", "omit",
  "\0", "a\0b", ("x"):rep(300), "d/x", "f/x", ".", "sock", "-1",
  "1e309", "return 1", "x = = 1", "utf\xff", "raw", "normal", "r+", "wx",
  "64", "sigkill",
}
local numbers = {
  0, 1, -1, 2, 3, 7, 64, 1024, 65535, 65536, 2^31, 2^53, -2^63,
  math.maxinteger, math.mininteger, 0.5, -0.0, 1/0, -1/0, 0/0, 1e300, 100,
  5, fd0,
}

local function value()
  local k = rnd(10)
  if k <= 3 then return numbers[rnd(#numbers)] end
  if k <= 6 then return strings[rnd(#strings)] end
  if k == 7 then return handles[rnd(#handles)] end
  if k == 8 then
    local t = {}
    for i = 1, rnd(0, 3) do t[i] = strings[rnd(#strings)] end
    if rnd(2) == 1 then
      t.ip, t.port, t.family = "127.0.0.1", rnd(0, 70000), "inet"
    end
    if rnd(3) == 1 then t.recursive = true end
    return t
  end
  if k == 9 then return cb end
  local others = {true, false, nil, io.stdout, coroutine.create(cb),
                  uv.new_buffer(8)}
  return others[rnd(#others)]
end

local calls, errors = 0, 0
local t0 = uv.hrtime()
-- A method of the handle's own type, so that the rest of the call is
-- reached more often than a type check lets it.
local function method_of(h)
  local index = getmetatable(h).__index
  local list = {}
  for k, v in pairs(index) do
    if type(v) == "function" and not skip[k] and k ~= "set_mode" then
      list[#list + 1] = k
    end
  end
  table.sort(list)
  return list[rnd(#list)], index
end

for _ = 1, iterations do
  local name = names[rnd(#names)]
  local fn = uv[name]
  local n = rnd(0, 5)
  local args = {}
  for j = 1, n do args[j] = value() end
  -- Method form now and then: a handle first, with one of its own
  -- methods, or with any function at all.
  local kind = rnd(3)
  if kind < 3 and #handles > 0 then
    local h = handles[rnd(#handles)]
    if kind == 1 then
      local index
      name, index = method_of(h)
      fn = index[name]
    end
    table.insert(args, 1, h)
    n = n + 1
  end
  -- Functions that take a descriptor over (or close it) must not get the
  -- loop's own epoll, eventfd and stdio descriptors: that breaks the loop
  -- in libuv and luv too. They get a descriptor number nothing uses.
  if name:match("^fs_") or name:match("close$") or name:match("open$") or
     name:match("poll$") or name:match("tty") then
    for j = 1, n do
      if math.type(args[j]) == "integer" and args[j] >= 0 and args[j] < 20 and
         args[j] ~= fd0 then
        args[j] = 999
      end
    end
  end
  local ok, r = pcall(fn, table.unpack(args, 1, n))
  calls = calls + 1
  if not ok then errors = errors + 1 end
  -- A new handle joins the pool of values.
  if type(r) == "userdata" and tostring(r):match("^uv_") and #handles < 200
     and pcall(function() return r.is_closing end) and r.is_closing then
    handles[#handles + 1] = r
  end
  if rnd(20) == 1 then make_handle() end
  if rnd(10) == 1 then pcall(uv.run, "nowait") end
  if rnd(200) == 1 then collectgarbage() end
  if (uv.hrtime() - t0) > 20e9 then break end
end
-- Close everything and let the loop end (requests still on the pool
-- finish; nothing here waits on the network).
uv.walk(function(h) if not h:is_closing() then h:close() end end)
local deadline = uv.hrtime() + 20e9
while uv.loop_alive() and uv.hrtime() < deadline do
  pcall(uv.run, "nowait")
  uv.walk(function(h) if not h:is_closing() then h:close() end end)
end
uv.fs_close(fd0)
assert(uv.chdir("/") == 0)
os.execute("chmod -R u+rwx " .. sandbox .. " 2>/dev/null; rm -rf " .. sandbox)
-- A random fs_close may have closed stdout: the verdict goes to a file.
local out = assert(io.open(out_path, "w"))
out:write(("calls %d, raised %d, alive %s\n"):format(
  calls, errors, tostring(uv.loop_alive())))
out:close()
