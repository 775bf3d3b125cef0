-- test-resolver.lua: uv.new_resolver against the loopback DNS fixture
-- (dns_fixture.lua): every record type, server errors, TCP fallback,
-- timeouts and tries, hostile replies, cancel and close (also from
-- inside callbacks), collection with queries in flight, 10,000 queries.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local fixture = dofile(T.dir .. "/dns_fixture.lua")
local test = T.test
local uv = T.uv
local raises = T.raises

-- Calls done() after n calls of the returned function.
local function countdown(n, done)
  return function()
    n = n - 1
    if n == 0 then done() end
  end
end

local function resolver_for(fx, opts)
  opts = opts or {}
  opts.servers = opts.servers or {fx.server}
  opts.timeout = opts.timeout or 2000
  opts.tries = opts.tries or 2
  return assert(uv.new_resolver(opts))
end

local function find(records, field, value)
  for _, r in ipairs(records) do
    if r[field] == value then return r end
  end
end

test("every record type, with TTLs", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx)
  local finish = countdown(13, function() r:close() fx:close() end)
  local function q(name, rtype, check)
    return r:query(name, rtype, expect(function(err, records)
      assert(err == nil, name .. " " .. tostring(rtype) .. ": " .. tostring(err))
      check(records)
      finish()
    end))
  end
  local req = q("example.test", "A", function(rs)
    assert(#rs == 2 and rs[1].type == "A" and rs[1].ttl == 300)
    assert(find(rs, "addr", "192.0.2.1") and find(rs, "addr", "192.0.2.2"))
  end)
  assert(tostring(req):match("^uv_dns_query_t: ") and req:get_type() == "dns_query")
  q("example.test", "AAAA", function(rs)
    assert(#rs == 1 and rs[1].addr == "2001:db8::1" and rs[1].ttl == 600 and rs[1].type == "AAAA")
  end)
  q("alias.example.test", "CNAME", function(rs)
    assert(#rs == 1 and rs[1].name == "www.example.test" and rs[1].ttl == 100)
  end)
  q("example.test", "mx", function(rs)
    assert(#rs == 2)
    local m = find(rs, "priority", 10)
    assert(m and m.exchange == "mail.example.test" and m.ttl == 3600)
    assert(find(rs, "exchange", "backup.example.test").priority == 20)
  end)
  q("example.test", "TXT", function(rs)
    assert(#rs == 2)
    assert(find(rs, "text", "v=spf1 -all").strings[1] == "v=spf1 -all")
    local two = find(rs, "text", "part one, part two")
    assert(two and #two.strings == 2 and two.strings[2] == "part two" and two.ttl == 120)
  end)
  q("_sip._udp.example.test", "SRV", function(rs)
    local s = rs[1]
    assert(#rs == 1 and s.name == "sip.example.test" and s.port == 5060)
    assert(s.priority == 10 and s.weight == 5 and s.ttl == 60)
  end)
  q("example.test", "NS", function(rs)
    assert(#rs == 1 and rs[1].name == "ns1.example.test" and rs[1].ttl == 86400)
  end)
  q("example.test", "SOA", function(rs)
    local s = rs[1]
    assert(#rs == 1 and s.nsname == "ns1.example.test")
    assert(s.hostmaster == "hostmaster.example.test" and s.serial == 2026112401)
    assert(s.refresh == 7200 and s.retry == 3600 and s.expire == 1209600)
    assert(s.minttl == 300 and s.ttl == 900)
  end)
  q("example.test", "CAA", function(rs)
    assert(#rs == 2)
    local issue = find(rs, "tag", "issue")
    assert(issue.value == "ca.example.net" and issue.critical == false and issue.flags == 0)
    local iodef = find(rs, "tag", "iodef")
    assert(iodef.critical == true and iodef.value == "mailto:security@example.test")
  end)
  q("example.test", "NAPTR", function(rs)
    local n = rs[1]
    assert(#rs == 1 and n.order == 100 and n.preference == 10)
    assert(n.flags == "S" and n.service == "SIP+D2U" and n.regexp == "")
    assert(n.replacement == "_sip._udp.example.test" and n.ttl == 30)
  end)
  q("example.test", "ANY", function(rs)
    assert(#rs == 12, #rs)
    assert(find(rs, "type", "SOA") and find(rs, "type", "CAA") and find(rs, "type", "NAPTR"))
  end)
  r:reverse("192.0.2.1", expect(function(err, rs)
    assert(err == nil, err)
    assert(#rs == 1 and rs[1].type == "PTR" and rs[1].name == "example.test" and rs[1].ttl == 500)
    finish()
  end))
  r:reverse("2001:db8::1", expect(function(err, rs)
    assert(err == nil, err)
    assert(rs[1].name == "v6.example.test")
    finish()
  end))
end)

test("CNAME chains, no data, server errors", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx)
  local finish = countdown(6, function() r:close() fx:close() end)
  local function want(name, rtype, code, check)
    r:query(name, rtype, expect(function(err, rs)
      if code then
        assert(err == code and rs == nil, name .. ": " .. tostring(err))
      else
        assert(err == nil, err)
        check(rs)
      end
      finish()
    end))
  end
  -- An A query through a CNAME gives the A records only.
  want("alias.example.test", "A", nil, function(rs)
    assert(#rs == 1 and rs[1].addr == "192.0.2.10" and rs[1].type == "A")
  end)
  want("dangling.example.test", "A", "ENODATA")
  want("nodata.example.test", "A", "ENODATA")
  want("nx.example.test", "A", "ENOTFOUND")
  want("servfail.example.test", "A", "ESERVFAIL")
  want("refused.example.test", "A", "EREFUSED")
end)

test("truncated replies fall back to TCP; EDNS and TCP-only options", function(expect)
  local fx = fixture.start(uv)
  local plain = resolver_for(fx)
  local edns = resolver_for(fx, {udp_max_size = 4096})
  local no_fallback = resolver_for(fx, {tcp_fallback = false})
  local tcp_only = resolver_for(fx, {tcp = true})
  local finish = countdown(4, function()
    plain:close() edns:close() no_fallback:close() tcp_only:close()
    fx:close()
  end)
  plain:query("big.example.test", "A", expect(function(err, rs)
    assert(err == nil, err)
    assert(#rs == 200, #rs)
    assert(fx.truncated >= 1 and fx.tcp_queries >= 1)
    -- EDNS: the whole answer over UDP, no TCP.
    local tcp_before = fx.tcp_queries
    edns:query("big.example.test", "A", expect(function(err2, rs2)
      assert(err2 == nil and #rs2 == 200, err2)
      assert(fx.tcp_queries == tcp_before)
      finish()
    end))
    -- Without the fallback the truncated reply is the answer: no records.
    no_fallback:query("big.example.test", "A", expect(function(err2)
      assert(err2 == "ENODATA", err2)
      assert(fx.tcp_queries == tcp_before)
      finish()
    end))
    finish()
  end))
  tcp_only:query("www.example.test", "A", expect(function(err, rs)
    assert(err == nil and rs[1].addr == "192.0.2.10", err)
    assert(fx.tcp_queries >= 1)
    finish()
  end))
end)

test("no reply: ETIMEDOUT after the configured tries", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {timeout = 50, tries = 3})
  local started = uv.hrtime()
  r:query("silent.example.test", "A", expect(function(err, rs)
    assert(err == "ETIMEDOUT" and rs == nil, err)
    assert(fx.seen["silent.example.test"] == 3, fx.seen["silent.example.test"])
    assert((uv.hrtime() - started) / 1e6 >= 50 * 3 - 10)
    r:close()
    fx:close()
  end))
end)

test("hostile replies: each query ends once with a clear error", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {timeout = 100, tries = 1})
  local cases = {
    ["loop.example.test"] = "EBADRESP",
    ["forward.example.test"] = "EBADRESP",
    ["absurd.example.test"] = "EBADRESP",
    ["longname.example.test"] = "EBADRESP",
    ["badrdata.example.test"] = "EBADRESP",
    ["cutshort.example.test"] = "EBADRESP",
    ["chain200.example.test"] = "EBADRESP",
    ["wrongid.example.test"] = "ETIMEDOUT",
    ["empty.example.test"] = true, -- any error
  }
  local n = 0
  for _ in pairs(cases) do n = n + 1 end
  local finish = countdown(n + 3, function() r:close() fx:close() end)
  for name, code in pairs(cases) do
    local rtype = name:match("^forward") and "CNAME" or name:match("^longname") and "CNAME" or "A"
    r:query(name, rtype, expect(function(err, rs)
      assert(rs == nil, name)
      if code == true then
        assert(type(err) == "string", name)
      else
        assert(err == code, name .. ": " .. tostring(err))
      end
      finish()
    end))
  end
  -- A chain of 100 pointers is still a name; 2,000 records come whole.
  r:query("chain100.example.test", "A", expect(function(err, rs)
    assert(err == nil and #rs == 1 and rs[1].addr == "192.0.2.8", err)
    finish()
  end))
  r:query("huge.example.test", "A", expect(function(err, rs)
    assert(err == nil and #rs == 2000, err)
    assert(rs[2000].addr == "10.0.7.208" and rs[1].ttl == 60)
    finish()
  end))
  -- Odd bytes in labels come escaped, as in zone files.
  r:query("escape.example.test", "CNAME", expect(function(err, rs)
    assert(err == nil, err)
    assert(rs[1].name == "a\\.b.c\\\\d.\\000.test", rs[1].name)
    finish()
  end))
end)

test("a server on ::1; rotate spreads queries, servfail_failover", function(expect)
  local v6 = fixture.start(uv, nil, "::1")
  local fx1, fx2 = fixture.start(uv), fixture.start(uv)
  local r6 = resolver_for(v6)
  assert(r6:get_servers()[1] == v6.server, r6:get_servers()[1])
  local rotating = resolver_for(fx1, {servers = {fx1.server, fx2.server}, rotate = true})
  local fixed = resolver_for(fx1, {servers = {fx1.server, fx2.server}, rotate = false})
  local failover = resolver_for(fx1, {servers = {fx1.server, fx2.server}, servfail_failover = true, tries = 1})
  local finish = countdown(3 + 20 + 20, function()
    assert(fx2.seen["www.example.test"] > 0, "rotate never used the second server")
    assert(fx1.seen["example.test"] == 20 and fx2.seen["example.test"] == nil,
      "without rotate the first server takes every query")
    r6:close() rotating:close() fixed:close() failover:close()
    v6:close() fx1:close() fx2:close()
  end)
  r6:query("www.example.test", "A", expect(function(err, rs)
    assert(err == nil and rs[1].addr == "192.0.2.10", err)
    assert(v6.seen["www.example.test"] == 1)
    finish()
  end))
  r6:reverse("192.0.2.1", expect(function(err, rs)
    assert(err == nil and rs[1].name == "example.test", err)
    finish()
  end))
  for _ = 1, 20 do
    rotating:query("www.example.test", "A", function(err) assert(err == nil, err) finish() end)
    fixed:query("example.test", "A", function(err) assert(err == nil, err) finish() end)
  end
  -- Both servers fail the query: c-ares 1.18 then reports ECONNREFUSED.
  failover:query("servfail.example.test", "A", expect(function(err)
    assert(err == "ECONNREFUSED", err)
    assert(fx1.seen["servfail.example.test"] == 1 and fx2.seen["servfail.example.test"] == 1)
    finish()
  end))
end)

test("names c-ares cannot send: EBADNAME, once", function(expect)
  local r = assert(uv.new_resolver({servers = {"127.0.0.1:9"}, tries = 1, timeout = 100}))
  local left = 3
  local bad = expect(function(err, rs)
    assert(err == "EBADNAME" and rs == nil, err)
    left = left - 1
    if left == 0 then r:close() end
  end, 3)
  r:query(string.rep("a", 64) .. ".test", "A", bad)       -- a 64-octet label
  r:query(string.rep("abcdefg.", 32) .. "test", "A", bad) -- a 260-octet name
  r:query("a..b", "A", bad)                                -- an empty label
end)

test("search domains and ndots", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {search = {"nothere.test", "search.test"}, ndots = 1})
  r:query("host", "A", expect(function(err, rs)
    assert(err == nil and rs[1].addr == "192.0.2.77", err)
    assert(fx.seen["host.nothere.test"] == 1 and fx.seen["host.search.test"] == 1)
    r:close()
    fx:close()
  end))
end)

test("cancel: every pending callback once with ECANCELED", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {timeout = 5000, tries = 1})
  local cancelled = expect(function(err, rs)
    assert(err == "ECANCELED" and rs == nil, err)
  end, 4)
  for _ = 1, 3 do r:query("silent.example.test", "A", cancelled) end
  local one = r:query("silent.example.test", "TXT", cancelled)
  -- One request alone, then the rest.
  assert(one:cancel() == 0)
  assert(one:cancel() == 0) -- again before delivery: still once
  assert(r:cancel() == 3)
  assert(r:cancel() == 0)
  -- The resolver still works after a cancel.
  r:query("www.example.test", "A", expect(function(err, rs)
    assert(err == nil and rs[1].addr == "192.0.2.10", err)
    local ok, msg, code = one:cancel()
    assert(ok == nil and code == "EINVAL", msg)
    r:close()
    fx:close()
  end))
end)

test("cancel and close from inside a DNS callback", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {timeout = 5000, tries = 1})
  local cancelled = expect(function(err)
    assert(err == "ECANCELED", err)
  end, 4)
  for _ = 1, 2 do r:query("silent.example.test", "A", cancelled) end
  r:query("www.example.test", "A", expect(function(err)
    assert(err == nil, err)
    assert(r:cancel() == 2)
    -- A query started after the cancel, inside the same callback, lives.
    r:query("example.test", "AAAA", expect(function(err2, rs)
      assert(err2 == nil and rs[1].addr == "2001:db8::1", err2)
      for _ = 1, 2 do r:query("silent.example.test", "A", cancelled) end
      r:close()
      assert(r:is_closed())
      r:close() -- twice is fine
      local ok, msg, code = r:query("www.example.test", "A", function() end)
      assert(ok == nil and code == "EBADF", msg)
      fx:close()
    end))
  end))
end)

test("a resolver collected with queries in flight finishes them", function(expect)
  local fx = fixture.start(uv)
  local weak = setmetatable({}, {__mode = "k"})
  local left = 5
  do
    local r = resolver_for(fx)
    weak[r] = true
    for _ = 1, 5 do
      r:query("example.test", "A", expect(function(err, rs)
        assert(err == nil and #rs == 2, err)
        left = left - 1
        if left == 0 then
          local t = uv.new_timer()
          t:start(0, 0, function()
            t:close()
            collectgarbage()
            collectgarbage()
            assert(next(weak) == nil, "the idle resolver was not collected")
            fx:close()
          end)
        end
      end))
    end
  end
  collectgarbage()
  collectgarbage()
  assert(next(weak) ~= nil, "collected while queries were in flight")
end)

test("10,000 concurrent queries", function(expect)
  local fx = fixture.start(uv)
  local r = resolver_for(fx, {timeout = 5000, tries = 3})
  local left = 10000
  local errors = 0
  local done = expect()
  for i = 1, 10000 do
    local name = (i % 2 == 0) and "example.test" or "www.example.test"
    r:query(name, "A", function(err, rs)
      if err or #rs == 0 then errors = errors + 1 end
      left = left - 1
      if left == 0 then
        assert(errors == 0, errors .. " failed")
        done()
        r:close()
        fx:close()
      end
    end)
  end
end)

test("many resolvers on one loop; servers", function(expect)
  local fx = fixture.start(uv)
  local resolvers = {}
  local finish = countdown(20, function()
    for _, r in ipairs(resolvers) do r:close() end
    fx:close()
  end)
  for i = 1, 20 do
    resolvers[i] = resolver_for(fx)
    resolvers[i]:query("www.example.test", "A", expect(function(err)
      assert(err == nil, err)
      finish()
    end))
  end
  local r = assert(uv.new_resolver({servers = "127.0.0.1:5300,[::1]:53"}))
  local list = r:get_servers()
  assert(#list == 2 and list[1] == "127.0.0.1:5300" and list[2] == "[::1]:53", table.concat(list, " "))
  assert(r:set_servers({"192.0.2.53"}) == true)
  assert(r:get_servers()[1] == "192.0.2.53:53")
  local ok, msg, code = r:set_servers({"not an address"})
  assert(ok == nil and code == "EINVAL", msg)
  ok, msg, code = uv.new_resolver({servers = {"300.1.1.1"}})
  assert(ok == nil and code == "EINVAL", msg)
  -- Defaults come from /etc/resolv.conf.
  local default = assert(uv.new_resolver())
  assert(type(default:get_servers()) == "table")
  default:close()
  r:close()
  ok, msg, code = r:get_servers()
  assert(ok == nil and code == "EBADF", msg)
  -- A to-be-closed variable closes it.
  do
    local scoped <close> = assert(uv.new_resolver({servers = {fx.server}}))
    assert(not scoped:is_closed())
  end
end)

test("exit and state close with queries in flight", function()
  local code = [[
    local uv = require "loom"
    local sink = uv.new_udp()
    assert(sink:bind("127.0.0.1", 0))
    local server = "127.0.0.1:" .. sink:getsockname().port
    local keep = {}
    for i = 1, 20 do
      local r = uv.new_resolver({servers = {server}, timeout = 60000})
      for j = 1, 20 do r:query("q" .. j .. ".example.test", "A", function() end) end
      if i % 2 == 0 then keep[#keep + 1] = r end
    end
    uv.run("nowait")
    print("done")
  ]]
  T.exits_cleanly(code)
end)

test("argument errors", function()
  local cb = function() end
  raises("bad argument #1", uv.new_resolver, 5)
  raises("bad option 'timeout'", uv.new_resolver, {timeout = "soon"})
  raises("bad option 'tries'", uv.new_resolver, {tries = 0})
  raises("bad option 'udp_max_size'", uv.new_resolver, {udp_max_size = 100})
  raises("bad option 'search'", uv.new_resolver, {search = "example.test"})
  raises("bad option 'search'", uv.new_resolver, {search = {1}})
  raises("bad option 'servers' %(array of", uv.new_resolver, {servers = 53})
  raises("bad option 'servers' %(servers must be strings", uv.new_resolver, {servers = {53}})
  -- c-ares would cut a port above 65535 to 16 bits and ask another one.
  for _, bad in ipairs({"127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:",
                        "127.0.0.1:53x", "[::1]:70000", "1.2.3.4,5.6.7.8:65536"}) do
    raises("bad option 'servers' %(bad port in", uv.new_resolver, {servers = {bad}})
  end
  -- A misspelt option raises instead of being dropped.
  raises("unknown option 'timout'", uv.new_resolver, {timout = 100})
  raises("option names are strings", uv.new_resolver, {100})
  local r = assert(uv.new_resolver({servers = {"127.0.0.1:53"}}))
  raises("bad argument #2", r.query, r, nil, "A", cb)
  raises("zero byte", r.query, r, "example.test\0.evil", "A", cb)
  raises("zero byte", uv.getaddrinfo, "localhost\0.evil", nil, nil, cb)
  raises("unknown record type 'BOGUS'", r.query, r, "example.test", "BOGUS", cb)
  raises("out of range", r.query, r, "example.test", 0, cb)
  raises("bad argument #3", r.query, r, "example.test", {}, cb)
  raises("bad argument #4", r.query, r, "example.test", "A")
  raises("bad argument #4", r.query, r, "example.test", "A", "cb")
  raises("not an IPv4 or IPv6 address", r.reverse, r, "example.test", cb)
  raises("bad argument #3", r.reverse, r, "127.0.0.1")
  raises("bad argument #1", r.query, {}, "example.test", "A", cb)
  raises("bad argument #1", r.cancel, 5)
  raises("bad argument #2", r.set_servers, r, 5)
  raises("bad argument #2 .*bad port in '127.0.0.1:65536'", r.set_servers, r,
         {"127.0.0.1:65536"})
  assert(r:set_servers({"[::1]:5353", "127.0.0.1"}))
  local servers = r:get_servers()
  assert(servers[1] == "[::1]:5353" and servers[2] == "127.0.0.1:53",
         table.concat(servers, " "))
  r:close()
end)

test("the resolver's sockets are non-blocking and close-on-exec", function(expect)
  -- loom opens c-ares's sockets itself (to see socket() fail); it must
  -- set what c-ares would have.
  local silent = uv.new_udp()
  assert(silent:bind("127.0.0.1", 0))
  local port = silent:getsockname().port
  local r = uv.new_resolver({servers = {"127.0.0.1:" .. port}, tries = 1, timeout = 300})
  r:query("example.com", "A", expect(function(err)
    assert(err == "ETIMEDOUT", tostring(err))
    r:close()
    silent:close()
  end))
  local own = {}
  uv.walk(function(h) local fd = h.fileno and h:fileno() if fd then own[fd] = true end end)
  local checked = 0
  local dir = assert(uv.fs_scandir("/proc/self/fd"))
  for name in function() return uv.fs_scandir_next(dir) end do
    local fd = tonumber(name)
    local link = fd and uv.fs_readlink("/proc/self/fd/" .. fd)
    if link and link:match("^socket:") and not own[fd] then
      local info = T.read_file("/proc/self/fdinfo/" .. fd)
      local flags = tonumber(info:match("flags:%s*(%d+)"), 8)
      if flags then
        assert(flags & 0x800 ~= 0, "O_NONBLOCK missing on fd " .. fd)      -- 04000
        assert(flags & 0x80000 ~= 0, "O_CLOEXEC missing on fd " .. fd)    -- 02000000
        checked = checked + 1
      end
    end
  end
  assert(checked >= 1, "no resolver socket found")
end)

test("descriptors exhausted: lookups say EMFILE, not a refused server or an unknown name", function()
  -- In a child with 30 descriptors, all taken: c-ares on its own would say
  -- ECONNREFUSED and getaddrinfo EAI_AGAIN or EAI_NONAME. Once descriptors
  -- are free again, a refused server is reported as such.
  local script = [[
    local uv = require "loom"
    local fds = {}
    while true do
      local fd = uv.fs_open("/dev/null", "r", 0)
      if not fd then break end
      fds[#fds + 1] = fd
    end
    print("sync", select(3, uv.getaddrinfo("localhost", nil, {socktype = "stream"})))
    print("name", select(3, uv.getnameinfo({ip = "127.0.0.1", port = 80})))
    uv.getaddrinfo("example.invalid", nil, {socktype = "stream"}, function(err)
      print("async", err)
    end)
    local r = uv.new_resolver({servers = {"127.0.0.1:9"}, tries = 1, timeout = 500})
    r:query("example.com", "A", function(err)
      print("resolver", err)
      for _, fd in ipairs(fds) do uv.fs_close(fd) end
      r:query("example.com", "A", function(err2)
        print("after", err2)
        r:close()
      end)
    end)
  ]]
  local out = T.sh("ulimit -n 30; " .. T.q(T.runner) .. " -e " .. T.q(script) .. " 2>&1")
  assert(out:match("sync%s+EMFILE"), out)
  assert(out:match("async%s+EMFILE"), out)
  assert(out:match("resolver%s+EMFILE"), out)
  -- getnameinfo of a numeric address needs no descriptor: it answers.
  assert(out:match("name%s+nil") or out:match("name%s+EMFILE"), out)
  -- Port 9 on loopback is closed: refused (or no answer), no longer EMFILE.
  local after = out:match("after%s+(%S+)")
  assert(after == "ECONNREFUSED" or after == "ETIMEDOUT", out)
end)

T.run()
