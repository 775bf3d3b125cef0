-- test-hostile.lua: every exported function called with wrong argument
-- types. A wrong type must raise a Lua error (never crash); the process
-- surviving the whole table is part of the test.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

-- Functions with no required argument: junk in extra positions is
-- ignored, as Lua functions ignore extra arguments.
local no_required = {
  version = 1, version_string = 1, loop_alive = 1, stop = 1,
  backend_fd = 1, backend_timeout = 1, now = 1, update_time = 1,
  loop_mode = 1, new_timer = 1, new_idle = 1, new_prepare = 1,
  new_check = 1, new_signal = 1, exepath = 1, cwd = 1,
  get_process_title = 1, get_total_memory = 1, get_free_memory = 1,
  get_constrained_memory = 1, get_available_memory = 1,
  resident_set_memory = 1, getrusage = 1, getrusage_thread = 1,
  available_parallelism = 1, cpu_info = 1, cpumask_size = 1, getpid = 1,
  getuid = 1, getgid = 1, hrtime = 1, uptime = 1, print_all_handles = 1,
  print_active_handles = 1, gettimeofday = 1, interface_addresses = 1,
  loadavg = 1, os_uname = 1, os_gethostname = 1, os_environ = 1,
  os_homedir = 1, os_tmpdir = 1, os_get_passwd = 1, os_getpid = 1,
  os_getppid = 1, metrics_idle_time = 1, metrics_info = 1,
  new_tcp = 1, new_pipe = 1, new_udp = 1, pipe = 1, socketpair = 1,
  disable_stdio_inheritance = 1, tty_reset_mode = 1, tty_get_vterm_state = 1,
  new_fs_event = 1, new_fs_poll = 1, thread_self = 1, thread_getcpu = 1,
  new_resolver = 1, http_date = 1,
}
-- Functions where nil is a valid first argument (an optional one).
local nil_ok = {run = 1, on_error = 1}
-- Functions where any table is a valid first argument (getnameinfo's
-- address may leave out ip and port, as in luv).
local table_ok = {getnameinfo = 1}
-- Functions with effects on the whole test process that are checked in
-- their own tests instead.
-- kill(-1) would signal every process of the user.
local skip = {loop_close = 1, on_error = 1, setuid = 1, setgid = 1, chdir = 1,
              set_process_title = 1, os_unsetenv = 1, os_setenv = 1, kill = 1}

local closed = uv.new_timer()
closed:close()
uv.run()

local bad_values = {
  {"nil", nil}, {"table", {}}, {"string", "nonsense"}, {"float", 1.5},
  {"negative", -1}, {"boolean", true}, {"function", print},
  {"foreign userdata", io.stdout}, {"closed handle", closed},
  {"huge", math.huge},
}

local names = {}
for name, fn in pairs(uv) do
  if type(fn) == "function" and not skip[name] then names[#names + 1] = name end
end
table.sort(names)

test("wrong types for every function: a Lua error, never a crash", function()
  local checked = 0
  for _, name in ipairs(names) do
    local fn = uv[name]
    for _, bv in ipairs(bad_values) do
      local label, v = bv[1], bv[2]
      -- the wrong value in each of the first four positions
      for pos = 1, 4 do
        local args = {}
        for i = 1, 4 do args[i] = (i == pos) and v or nil end
        local ok = pcall(fn, table.unpack(args, 1, 4))
        if pos == 1 and not no_required[name] and not (nil_ok[name] and v == nil) then
          -- A first argument of the wrong type must be refused, except
          -- where the value happens to be acceptable (a string for a
          -- string parameter, a number for a number, a callable ...).
          -- (A closed handle is a valid argument: as in luv, it gets the
          -- core's answer, see test-luv-head.lua; here it only must not
          -- crash.)
          if label == "foreign userdata" or (label == "table" and not table_ok[name]) then
            if ok then
              T.fail(("%s(%s) did not raise"):format(name, label))
            end
          end
        end
        checked = checked + 1
      end
    end
    T.close_all()
    uv.run()
  end
  assert(checked > 1000)
end)

test("hostile values for every function: never a crash; errors name the function", function()
  -- Values that a C binding cuts or wraps when it is careless: a string
  -- with a zero byte (cut at it by C), 2^32 (0 once cut to 32 bits), -1
  -- (every bit), the integer extremes, NaN. Each in each of the first
  -- four positions of every function, the others nil.
  local values = {
    {"NUL string", "/tmp\0x"}, {"2^32", 1 << 32}, {"-1", -1},
    {"2^63-1", math.maxinteger}, {"-2^63", math.mininteger}, {"NaN", 0 / 0},
  }
  -- sleep(2^32) would sleep for 49 days; a memory limit would be the
  -- harness's problem (it is reset after each call instead).
  local not_here = {sleep = 1}
  local checked = 0
  for _, name in ipairs(names) do
    if not not_here[name] then
      local fn = uv[name]
      for _, hv in ipairs(values) do
        for pos = 1, 4 do
          local args = {}
          args[pos] = hv[2]
          local ok, err = pcall(fn, table.unpack(args, 1, 4))
          uv.set_memory_limit(nil)
          if not ok then
            local who = tostring(err):match("bad argument #%d+ to '([^']*)'")
            if who == "?" then
              T.fail(("%s(%s at #%d): the error does not name the function: %s"):format(
                name, hv[1], pos, tostring(err)))
            end
          end
          checked = checked + 1
        end
      end
      T.close_all()
      uv.run("nowait")
    end
  end
  uv.run()
  assert(checked > 1000, checked)
end)

test("every handle method refuses handles of other types", function()
  local handles = {uv.new_timer(), uv.new_idle(), uv.new_prepare(), uv.new_check(),
                   uv.new_async(function() end), uv.new_signal()}
  local specific = {"timer_start", "timer_stop", "timer_again", "timer_set_repeat",
                    "timer_get_repeat", "timer_get_due_in", "idle_start", "idle_stop",
                    "prepare_start", "prepare_stop", "check_start", "check_stop",
                    "async_send", "signal_start", "signal_start_oneshot", "signal_stop"}
  for _, name in ipairs(specific) do
    local prefix = name:match("^(%a+)_")
    for _, h in ipairs(handles) do
      if h:get_type() ~= prefix then
        local ok, err = pcall(uv[name], h, 1, 0, function() end)
        if ok then T.fail(name .. " accepted a " .. h:get_type()) end
        if not tostring(err):match("uv_" .. prefix .. " expected") then
          T.fail(name .. ": " .. tostring(err))
        end
      end
    end
  end
  for _, h in ipairs(handles) do h:close() end
end)

test("methods called with a bad self", function()
  local t = uv.new_timer()
  local bad = setmetatable({}, {__index = getmetatable(t).__index})
  local ok, err = pcall(function() return bad:start(1, 0, print) end)
  assert(not ok and err:match("calling 'start' on bad self"), err)
  ok, err = pcall(t.close, io.stdout)
  assert(not ok and err:match("uv_handle expected, got FILE%*"), err)
  t:close()
end)

test("closed handles answer operations with errors, as luv; close raises", function()
  local r, msg, name = uv.timer_start(closed, 1, 0, print)
  assert(r == nil and name == "EINVAL", msg)
  assert(uv.is_active(closed) == false)
  uv.ref(closed)
  uv.unref(closed)
  assert(type(uv.has_ref(closed)) == "boolean")
  local ok, err = pcall(uv.close, closed)
  assert(not ok and err:match("already closing"), err)
  assert(uv.is_closing(closed) == true)
  assert(uv.handle_get_type(closed) == "timer")
end)

T.run()
