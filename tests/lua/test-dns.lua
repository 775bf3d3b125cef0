-- test-dns.lua: luv's dns section: getaddrinfo and getnameinfo, both
-- forms. Only names that need no network: numeric hosts, localhost from
-- /etc/hosts, service names from /etc/services.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

local raises = T.raises

local function has(list, want)
  for _, e in ipairs(list) do
    local all = true
    for k, v in pairs(want) do
      if e[k] ~= v then all = false end
    end
    if all then return true end
  end
  return false
end

test("numeric hosts, both forms", function(expect)
  local res = assert(uv.getaddrinfo("127.0.0.1", "8080", {socktype = "stream"}))
  assert(#res == 1, #res)
  assert(res[1].addr == "127.0.0.1" and res[1].family == "inet")
  assert(res[1].port == 8080 and res[1].socktype == "stream")
  assert(res[1].protocol == "tcp")
  local called = false
  local req = uv.getaddrinfo("::1", "8080", {socktype = "dgram"},
    expect(function(err, list)
      called = true
      assert(err == nil, err)
      assert(#list == 1 and list[1].addr == "::1" and list[1].family == "inet6")
      assert(list[1].port == 8080 and list[1].socktype == "dgram")
      assert(list[1].protocol == "udp")
    end))
  -- Never called back from inside the call, even when c-ares answers at once.
  assert(not called)
  assert(tostring(req):match("^uv_getaddrinfo_t: ") and req:get_type() == "getaddrinfo")
  -- Without a socket type each address comes as stream, dgram and raw.
  uv.getaddrinfo("10.1.2.3", nil, nil, expect(function(err, list)
    assert(err == nil and #list == 3, err)
    assert(has(list, {socktype = "stream", protocol = "tcp"}))
    assert(has(list, {socktype = "dgram", protocol = "udp"}))
    assert(list[1].port == nil)
  end))
end)

test("localhost from /etc/hosts, service names, canonname", function(expect)
  local sync = assert(uv.getaddrinfo("localhost", "http", {family = "inet", socktype = "stream"}))
  assert(has(sync, {addr = "127.0.0.1", port = 80}), #sync)
  uv.getaddrinfo("localhost", "http", {family = "inet", socktype = "stream"},
    expect(function(err, list)
      assert(err == nil, err)
      assert(has(list, {addr = "127.0.0.1", port = 80, family = "inet"}))
    end))
  uv.getaddrinfo("127.0.0.1", "https", {canonname = true, socktype = "stream"},
    expect(function(err, list)
      assert(err == nil, err)
      assert(list[1].port == 443 and list[1].canonname == "127.0.0.1")
    end))
  uv.getaddrinfo(nil, "ssh", {socktype = "stream", family = "inet"},
    expect(function(err, list)
      assert(err == nil, err)
      assert(list[1].port == 22)
    end))
end)

test("errors: EAI names, sync fail triple, async name only", function(expect)
  local v, msg, code = uv.getaddrinfo("localhost", "no-such-service")
  assert(v == nil and code == "EAI_SERVICE", msg)
  assert(msg:match("^EAI_SERVICE: "))
  v, msg, code = uv.getaddrinfo("not-a-number", nil, {numerichost = true})
  assert(v == nil and code == "EAI_NONAME", msg)
  uv.getaddrinfo("localhost", "no-such-service", nil, expect(function(err, list)
    assert(err == "EAI_SERVICE" and list == nil, err)
  end))
  uv.getaddrinfo("not-a-number", nil, {numerichost = true},
    expect(function(err) assert(err == "EAI_NONAME", err) end))
end)

test("cancel: the callback runs once with EAI_CANCELED", function(expect)
  local req = uv.getaddrinfo("127.0.0.1", "80", nil, expect(function(err, list)
    assert(err == "EAI_CANCELED" and list == nil, err)
  end))
  assert(req:cancel() == 0)
  local req2 = uv.getnameinfo({ip = "127.0.0.1", port = 80}, expect(function(err)
    assert(err == "EAI_CANCELED", err)
  end))
  assert(uv.cancel(req2) == 0)
  -- Cancelling a finished lookup is refused.
  local done
  done = uv.getaddrinfo("127.0.0.1", nil, nil, expect(function()
    local v, _, code = done:cancel()
    assert(v == nil and code == "EINVAL")
  end))
end)

test("getnameinfo, both forms", function(expect)
  local host, service = uv.getnameinfo({ip = "127.0.0.1", port = 80})
  assert(host == "localhost" and service == "http", tostring(host))
  local called = false
  uv.getnameinfo({ip = "127.0.0.1", port = 22}, expect(function(err, h, s)
    called = true
    assert(err == nil, err)
    assert(h == "localhost" and s == "ssh", tostring(h) .. " " .. tostring(s))
  end))
  assert(not called)
  uv.getnameinfo({ip = "::1", port = 443, family = "inet6"}, expect(function(err, h, s)
    assert(err == nil, err)
    assert(type(h) == "string" and #h > 0 and s == "https")
  end))
end)

test("1,000 lookups in flight", function(expect)
  local left = 1000
  local check = expect(function() end)
  for i = 1, 1000 do
    uv.getaddrinfo("localhost", tostring(i), {family = "inet", socktype = "stream"},
      function(err, list)
        assert(err == nil, err)
        assert(list[1].port == i)
        left = left - 1
        if left == 0 then check() end
      end)
  end
end)

test("exit and state close with lookups in flight", function()
  local code = [[
    local uv = require "loom"
    for i = 1, 200 do
      uv.getaddrinfo("localhost", "80", nil, function() end)
      uv.getnameinfo({ip = "127.0.0.1", port = i}, function() end)
    end
    uv.run("nowait")
    print("done")
  ]]
  T.exits_cleanly(code)
end)

test("the async form agrees with getaddrinfo(3) on hints", function(expect)
  local cases = {
    {"127.0.0.1", {family = "inet6", v4mapped = true, socktype = "stream"}},
    {"localhost", {family = "inet6", v4mapped = true, all = true, socktype = "stream"}},
    {"localhost", {numerichost = true, socktype = "stream"}},
    {"::1", {numerichost = true, socktype = "dgram"}},
    {"192.0.2.1", {family = "inet", socktype = "dgram", protocol = "udp"}},
    {"localhost", {family = "inet", socktype = "stream", canonname = true}},
  }
  local function flat(list)
    local out = {}
    for _, a in ipairs(list or {}) do
      out[#out + 1] = a.addr .. "/" .. a.family .. "/" .. a.socktype .. "/" .. tostring(a.protocol)
    end
    -- glibc sorts by RFC 6724, loom keeps the hosts file's order.
    table.sort(out)
    return table.concat(out, " ")
  end
  for i, c in ipairs(cases) do
    local sync, _, sync_err = uv.getaddrinfo(c[1], nil, c[2])
    uv.getaddrinfo(c[1], nil, c[2], expect(function(err, list)
      assert(err == sync_err, ("case %d: %s vs %s"):format(i, tostring(err), tostring(sync_err)))
      assert(flat(list) == flat(sync), ("case %d: %s vs %s"):format(i, flat(list), flat(sync)))
      if c[2].canonname then assert(list[1].canonname == sync[1].canonname, list[1].canonname) end
    end))
  end
end)

test("a name only in a test hosts file (CARES_HOSTS)", function(expect)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("192.0.2.44 only-in-test-hosts.loom.test\n2001:db8::44 only-in-test-hosts.loom.test\n")
  f:close()
  local before = uv.os_getenv("CARES_HOSTS")
  assert(uv.os_setenv("CARES_HOSTS", path))
  uv.getaddrinfo("only-in-test-hosts.loom.test", "80", {family = "inet", socktype = "stream"},
    expect(function(err, list)
      assert(err == nil, err)
      assert(#list == 1 and list[1].addr == "192.0.2.44" and list[1].port == 80)
    end))
  uv.getaddrinfo("ONLY-in-test-hosts.loom.test", nil, {family = "inet6", socktype = "dgram", canonname = true},
    expect(function(err, list)
      assert(err == nil, err)
      assert(#list == 1 and list[1].addr == "2001:db8::44")
      assert(list[1].canonname == "only-in-test-hosts.loom.test", list[1].canonname)
      -- The file is parsed once and kept; a change is seen on a later tick.
      f = assert(io.open(path, "w"))
      f:write("# changed\n192.0.2.45 only-in-test-hosts.loom.test alias.loom.test\n")
      f:close()
      local t = uv.new_timer()
      t:start(20, 0, expect(function()
        t:close()
        uv.getaddrinfo("alias.loom.test", nil, {family = "inet", socktype = "stream", canonname = true},
          expect(function(err2, list2)
            assert(err2 == nil, err2)
            assert(#list2 == 1 and list2[1].addr == "192.0.2.45")
            assert(list2[1].canonname == "only-in-test-hosts.loom.test")
            if before then uv.os_setenv("CARES_HOSTS", before) else uv.os_unsetenv("CARES_HOSTS") end
            os.remove(path)
          end))
      end))
    end))
end)

test("argument errors", function()
  local cb = function() end
  raises("both be nil", uv.getaddrinfo, nil, nil)
  raises("bad argument #3", uv.getaddrinfo, "localhost", nil, "hints")
  raises("invalid option", uv.getaddrinfo, "localhost", nil, {family = "martian"})
  raises("invalid option", uv.getaddrinfo, "localhost", nil, {socktype = "tube"})
  raises("unknown protocol", uv.getaddrinfo, "localhost", nil, {protocol = "nope"})
  raises("bad argument #1", uv.getaddrinfo, {}, nil)
  raises("bad argument #4", uv.getaddrinfo, "localhost", nil, nil, 42)
  raises("bad argument #1", uv.getnameinfo, "127.0.0.1")
  raises("invalid IP address", uv.getnameinfo, {ip = "not an ip"})
  raises("bad argument #2", uv.getnameinfo, {ip = "127.0.0.1"}, "cb")
  assert(cb)
end)

-- A private mount namespace (unshare -m, as root) lets a resolv.conf of
-- the test's own stand in for the system's: its nameserver is a UDP
-- socket of the script that reads and never answers.
local function with_resolv_conf(conf, env)
  local dir = T.tmpdir()
  local path = dir .. "/resolv.conf"
  T.write_file(path, conf)
  local script = T.script_file([[
    io.stdout:setvbuf("no")
    local uv = require "loom"
    local silent = uv.new_udp()
    if not silent:bind("127.0.0.1", 53) then print("skip: port 53") os.exit(0) end
    silent:recv_start(function() end)
    local t0 = uv.hrtime()
    uv.getaddrinfo("nothing-here.invalid", nil, {socktype = "stream"}, function(err)
      print(("%s %.1f"):format(tostring(err), (uv.hrtime() - t0) / 1e9))
      silent:close()
    end)
  ]])
  return T.sh(("unshare -m sh -c %s"):format(T.q(("mount --bind %s /etc/resolv.conf && %s timeout 30 %s %s")
    :format(T.q(path), env or "", T.q(T.runner), T.q(script)))))
end

test("getaddrinfo follows resolv.conf's timeout and attempts (and RES_OPTIONS), as the system resolver", function()
  local out, err = with_resolv_conf("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
  if out == "" and err:match("unshare") then
    print("# skip: no private mount namespace here (" .. err:gsub("\n", " ") .. ")")
    return
  end
  if out:match("^skip") then print("# " .. out); return end
  local name, secs = out:match("^(%S+) ([%d.]+)")
  -- c-ares's own defaults would wait 75 s; glibc gives up after 2-3 s.
  assert(name == "EAI_AGAIN" and tonumber(secs) < 6, out .. err)
  out = with_resolv_conf("nameserver 127.0.0.1\n", "RES_OPTIONS='timeout:1 attempts:1'")
  name, secs = out:match("^(%S+) ([%d.]+)")
  assert(name == "EAI_AGAIN" and tonumber(secs) < 4, out)
end)

T.run()
