-- test-misc.lua: luv's miscellaneous section: every function, with shapes.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

local function is_int(v) return math.type(v) == "integer" end

test("paths: exepath, cwd, chdir", function(expect, uv)
  assert(uv.exepath():match("/loom$"), uv.exepath())
  local here = uv.cwd()
  assert(here:sub(1, 1) == "/")
  assert(uv.chdir("/") == 0)
  assert(uv.cwd() == "/")
  assert(uv.chdir(here) == 0)
  local ok, msg, name = uv.chdir("/nonexistent/dir")
  assert(ok == nil and name == "ENOENT" and msg == "ENOENT: no such file or directory")
end)

test("process title", function(expect, uv)
  assert(type(uv.get_process_title()) == "string")
  assert(uv.set_process_title("loom-test-title") == 0)
  assert(uv.get_process_title() == "loom-test-title")
end)

test("memory", function(expect, uv)
  local total, free = uv.get_total_memory(), uv.get_free_memory()
  assert(is_int(total) and total > 0 and is_int(free) and free > 0 and free <= total)
  assert(is_int(uv.get_constrained_memory()) and uv.get_constrained_memory() >= 0)
  local avail = uv.get_available_memory()
  assert(is_int(avail) and avail > 0 and avail <= total)
  local rss = uv.resident_set_memory()
  assert(is_int(rss) and rss > 1024 * 1024)
end)

test("getrusage and getrusage_thread", function(expect, uv)
  for _, fn in ipairs({uv.getrusage, uv.getrusage_thread}) do
    local r = fn()
    assert(is_int(r.utime.sec) and is_int(r.utime.usec))
    assert(is_int(r.stime.sec) and is_int(r.maxrss) and r.maxrss > 0)
    for _, k in ipairs({"ixrss", "idrss", "isrss", "minflt", "majflt", "nswap",
                        "inblock", "oublock", "msgsnd", "msgrcv", "nsignals",
                        "nvcsw", "nivcsw"}) do
      assert(is_int(r[k]), k)
    end
  end
end)

test("cpus", function(expect, uv)
  local n = uv.available_parallelism()
  assert(is_int(n) and n >= 1)
  local cpus = uv.cpu_info()
  assert(#cpus >= n)
  for _, c in ipairs(cpus) do
    assert(type(c.model) == "string" and is_int(c.speed))
    for _, k in ipairs({"user", "nice", "sys", "idle", "irq"}) do
      assert(is_int(c.times[k]), k)
    end
  end
  assert(uv.cpumask_size() >= n)
end)

test("ids", function(expect, uv)
  assert(is_int(uv.getpid()) and uv.getpid() == uv.os_getpid())
  assert(is_int(uv.os_getppid()) and uv.os_getppid() > 0)
  assert(is_int(uv.getuid()) and is_int(uv.getgid()))
  -- setting our own ids succeeds; a bad one is a clear failure or error
  assert(uv.setgid(uv.getgid()) == nil)
  assert(uv.setuid(uv.getuid()) == nil)
  assert(not pcall(uv.setuid, -1))
end)

test("time: hrtime, clock_gettime, uptime, gettimeofday", function(expect, uv)
  local a = uv.hrtime()
  local b = uv.hrtime()
  assert(is_int(a) and b >= a)
  local m = uv.clock_gettime("monotonic")
  assert(is_int(m.sec) and is_int(m.nsec) and m.nsec < 1e9)
  local r = uv.clock_gettime("realtime")
  assert(math.abs(r.sec - os.time()) <= 2)
  assert(not pcall(uv.clock_gettime, "bogus"))
  assert(type(uv.uptime()) == "number" and uv.uptime() > 0)
  local sec, usec = uv.gettimeofday()
  assert(is_int(sec) and is_int(usec) and math.abs(sec - os.time()) <= 2)
end)

test("guess_handle", function(expect, uv)
  local f = io.open(os.tmpname(), "w")
  -- fd of a regular file: find it through /proc
  local kinds = {}
  for fd = 0, 2 do kinds[#kinds + 1] = uv.guess_handle(fd) end
  for _, k in ipairs(kinds) do
    assert(({file = 1, tty = 1, pipe = 1, tcp = 1, udp = 1, unknown = 1})[k], k)
  end
  assert(uv.guess_handle(999) == "unknown")
  f:close()
end)

test("network interfaces", function(expect, uv)
  local ifs = uv.interface_addresses()
  local lo
  for name, list in pairs(ifs) do
    for _, a in ipairs(list) do
      assert(type(a.ip) == "string" and type(a.netmask) == "string")
      assert(a.family == "inet" or a.family == "inet6")
      assert(type(a.internal) == "boolean")
      assert(a.mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$"), a.mac)
      if a.ip == "127.0.0.1" then lo = name end
    end
  end
  assert(lo, "no loopback interface")
  assert(uv.if_indextoname(1) == "lo")
  assert(uv.if_indextoiid(1) == "lo")
  local ok, _, name = uv.if_indextoname(99999)
  assert(ok == nil and name == "ENXIO", name)
end)

test("loadavg, uname, hostname", function(expect, uv)
  local a, b, c = uv.loadavg()
  assert(type(a) == "number" and type(b) == "number" and type(c) == "number")
  local u = uv.os_uname()
  assert(u.sysname == "Linux" and type(u.release) == "string")
  assert(type(u.version) == "string" and type(u.machine) == "string")
  assert(#uv.os_gethostname() > 0)
end)

test("environment", function(expect, uv)
  assert(uv.os_setenv("LOOM_TEST_VAR", "hello") == true)
  assert(uv.os_getenv("LOOM_TEST_VAR") == "hello")
  assert(os.getenv("LOOM_TEST_VAR") == "hello")
  assert(uv.os_environ().LOOM_TEST_VAR == "hello")
  local ok, msg, name = uv.os_getenv("LOOM_TEST_VAR", 3)
  assert(ok == nil and name == "ENOBUFS")
  local long = string.rep("x", 10000)
  uv.os_setenv("LOOM_TEST_LONG", long)
  assert(uv.os_getenv("LOOM_TEST_LONG") == long)
  assert(uv.os_unsetenv("LOOM_TEST_VAR") == true)
  ok, msg, name = uv.os_getenv("LOOM_TEST_VAR")
  assert(ok == nil and name == "ENOENT")
  ok, msg, name = uv.os_setenv("BAD=NAME", "x")
  assert(ok == nil and name == "EINVAL")
end)

test("home, tmp, passwd", function(expect, uv)
  assert(uv.os_homedir():sub(1, 1) == "/")
  local old = os.getenv("TMPDIR")
  uv.os_setenv("TMPDIR", "/var/tmp/")
  assert(uv.os_tmpdir() == "/var/tmp")
  if old then uv.os_setenv("TMPDIR", old) else uv.os_unsetenv("TMPDIR") end
  local pw = uv.os_get_passwd()
  assert(type(pw.username) == "string" and is_int(pw.uid) and is_int(pw.gid))
  assert(type(pw.shell) == "string" and type(pw.homedir) == "string")
  assert(pw.uid == uv.getuid())
end)

test("priority", function(expect, uv)
  local p = uv.os_getpriority(0)
  assert(is_int(p))
  assert(uv.os_setpriority(0, p) == true)
  local ok, _, name = uv.os_setpriority(0, 100)
  assert(ok == nil and name == "EINVAL")
  ok, _, name = uv.os_getpriority(2^30)
  assert(ok == nil and name == "ESRCH")
end)

test("random, both forms", function(expect, uv)
  local r = uv.random(64)
  assert(type(r) == "string" and #r == 64)
  assert(uv.random(64, {}) ~= r)
  assert(uv.random(0) == "")
  -- As luv since 1.5x: a negative length is E2BIG and flags other than
  -- 0 are EINVAL, returned (the callback gets them in the async form;
  -- see test-luv-head.lua).
  local none, msg, name = uv.random(-1)
  assert(none == nil and name == "E2BIG", msg)
  local ok, err = pcall(uv.random, 8, nil, 42)
  assert(not ok and err:match("bad argument #3"), err)
  local seen = {}
  for i = 1, 50 do
    assert(uv.random(32, 0, expect(function(e, bytes)
      assert(e == nil and #bytes == 32)
      assert(not seen[bytes], "the same bytes twice")
      seen[bytes] = true
    end)) == 0)
  end
  assert(uv.random(0, nil, expect(function(e, bytes)
    assert(e == nil and bytes == "")
  end)) == 0)
  -- Pending requests at exit are dropped cleanly.
  local out, errs, code = T.loom([[
    local uv = require "loom"
    for i = 1, 100 do uv.random(1 << 16, nil, function() end) end
    os.exit(0, true)
  ]])
  assert(code == 0, errs)
end)

test("translate_sys_error, errno, constants", function(expect, uv)
  local msg, name = uv.translate_sys_error(2)
  assert(msg == "ENOENT: no such file or directory" and name == "ENOENT")
  assert(uv.errno.ENOENT == -2 and uv.errno.EOF == -4095)
  assert(uv.errno.EAI_NONAME == -3008 and uv.errno.ECANCELED < 0)
  for k, v in pairs(uv.errno) do assert(v < 0, k) end
  local c = uv.constants
  assert(c.SIGINT == 2 and c.AF_INET == 2 and c.O_CREAT == 64 and c.TCP_IPV6ONLY == 1)
  for k, v in pairs(c) do
    if k ~= "THREAD_PRIORITY_LOWEST" and k ~= "THREAD_PRIORITY_BELOW_NORMAL"
       and k ~= "FS_UTIME_NOW" and k ~= "FS_UTIME_OMIT" then
      assert(v >= 0, k)
    end
  end
  assert(c.FS_UTIME_NOW == math.huge and c.FS_UTIME_OMIT ~= c.FS_UTIME_OMIT)
end)

test("strerror and err_name take a code or a name (beyond luv)", function(expect, uv)
  assert(uv.strerror("ECONNRESET") == "connection reset by peer")
  assert(uv.strerror(uv.errno.ENOENT) == "no such file or directory")
  assert(uv.err_name(-2) == "ENOENT" and uv.err_name("EOF") == "EOF")
  -- Every name in uv.errno round-trips through its code.
  for name, code in pairs(uv.errno) do
    assert(uv.err_name(code) == name, name)
    assert(uv.strerror(name) == uv.strerror(code), name)
  end
  T.raises("not an error name", uv.strerror, "EFOO")
  T.raises("not a negative error code", uv.err_name, 3)
  T.raises("number expected", uv.strerror, {})
end)

-- UTF-16 as a Lua string: 16-bit units in the machine's byte order.
local function units(...)
  local n = select("#", ...)
  return string.pack("=" .. string.rep("I2", n), ...)
end

test("wtf8: luv's cases and supplementary code points", function(expect, uv)
  local utf16 = uv.wtf8_to_utf16("中文")
  assert(utf16 == units(0x4E2D, 0x6587))
  assert(uv.utf16_length_as_wtf8(utf16) == 6)
  assert(uv.utf16_to_wtf8(utf16) == "中文")
  assert(uv.wtf8_length_as_utf16("中文") == 2)
  -- U+1F600 is a surrogate pair in UTF-16 and four bytes in WTF-8.
  assert(uv.wtf8_to_utf16("\u{1F600}") == units(0xD83D, 0xDE00))
  assert(uv.wtf8_length_as_utf16("\u{1F600}") == 2)
  assert(uv.utf16_to_wtf8(units(0xD83D, 0xDE00)) == "\u{1F600}")
  assert(uv.utf16_length_as_wtf8(units(0xD83D, 0xDE00)) == 4)
  for _, s in ipairs({"", "a", "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}",
                      "\u{10FFFF}", "x\0y"}) do
    assert(uv.utf16_to_wtf8(uv.wtf8_to_utf16(s)) == s, s)
  end
  -- A NUL is a unit like any other, not the end of the text.
  assert(uv.wtf8_to_utf16("a\0b") == units(0x61, 0, 0x62))
  assert(uv.utf16_to_wtf8(units(0, 0x41)) == "\0A")
  assert(uv.wtf8_to_utf16("") == "" and uv.utf16_to_wtf8("") == "")
  assert(uv.wtf8_length_as_utf16("") == 0 and uv.utf16_length_as_wtf8("") == 0)
end)

test("wtf8: unpaired surrogates survive both ways", function(expect, uv)
  local lone_high = string.char(0xED, 0xA0, 0xBD) -- U+D83D
  assert(uv.wtf8_to_utf16(lone_high) == units(0xD83D))
  assert(uv.wtf8_length_as_utf16(lone_high) == 1)
  assert(uv.utf16_to_wtf8(units(0xD83D)) == lone_high)
  assert(uv.utf16_length_as_wtf8(units(0xD83D)) == 3)
  -- A low surrogate first, a high one last, and a pair in the wrong
  -- order are three lone surrogates each.
  local odd = units(0xDE00, 0x41, 0xDE00, 0xD83D, 0xD83D)
  local wtf8 = uv.utf16_to_wtf8(odd)
  assert(#wtf8 == 13 and uv.utf16_length_as_wtf8(odd) == 13)
  assert(uv.wtf8_to_utf16(wtf8) == odd)
  -- Halves encoded one by one (CESU-8) are accepted and become the pair,
  -- which comes back as the one four-byte sequence.
  local cesu = lone_high .. string.char(0xED, 0xB8, 0x80)
  assert(uv.wtf8_to_utf16(cesu) == units(0xD83D, 0xDE00))
  assert(uv.utf16_to_wtf8(uv.wtf8_to_utf16(cesu)) == "\u{1F600}")
end)

test("wtf8: malformed input fails with ECHARSET, odd UTF-16 raises", function(expect, uv)
  local bad = {
    "\x80", "a\xBFb", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF",
    "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
    "\xFF", "\xE4\xB8", "中\xE6\x96", "\xC3", "\xC3A", "\xF0\x9F\x98",
  }
  for _, s in ipairs(bad) do
    for _, fn in ipairs({uv.wtf8_to_utf16, uv.wtf8_length_as_utf16}) do
      local r, msg, name = fn(s)
      assert(r == nil and name == "ECHARSET" and
             msg == "ECHARSET: invalid Unicode character", ("%q"):format(s))
    end
  end
  for _, fn in ipairs({uv.utf16_to_wtf8, uv.utf16_length_as_wtf8}) do
    T.raises("bad argument #1 .*odd number of bytes %(3%)", fn, "abc")
    T.raises("bad argument #1 .*string expected, got table", fn, {})
  end
  T.raises("bad argument #1 .*string expected, got no value", uv.wtf8_to_utf16)
end)

test("wtf8: random UTF-16 round-trips, lengths agree", function(expect, uv)
  local rng = math.random
  math.randomseed(7)
  -- Units drawn mostly from the edges: ASCII, the two-byte and three-byte
  -- limits and both surrogate ranges.
  local pool = {0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDBFF,
                0xDC00, 0xDFFF, 0xE000, 0xFFFF}
  for _ = 1, 2000 do
    local t = {}
    for i = 1, rng(0, 12) do
      t[i] = rng(4) == 1 and rng(0, 0xFFFF) or pool[rng(#pool)]
    end
    local utf16 = units(table.unpack(t))
    local wtf8 = uv.utf16_to_wtf8(utf16)
    assert(#wtf8 == uv.utf16_length_as_wtf8(utf16))
    assert(uv.wtf8_length_as_utf16(wtf8) == #t)
    assert(uv.wtf8_to_utf16(wtf8) == utf16)
    -- Without surrogates WTF-8 is UTF-8, which Lua's utf8 library reads.
    local plain = true
    for _, u in ipairs(t) do
      if u >= 0xD800 and u <= 0xDFFF then plain = false end
    end
    if plain then assert(utf8.len(wtf8) == #t) end
  end
  -- A megabyte each way.
  local big = string.rep("ab\u{E9}\u{4E2D}\u{1F600}", 1e5)
  local utf16 = uv.wtf8_to_utf16(big)
  assert(#utf16 == 2 * 6e5 and uv.utf16_to_wtf8(utf16) == big)
end)

T.run()
