-- test-lib-dns.lua: loom.dns against the DNS server fixture on loopback,
-- in the callback and the coroutine style.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local fixture = dofile(T.dir .. "/dns_fixture.lua")
local dns = require "loom.dns"
local task = require "loom.task"

local function sorted(list)
  table.sort(list, function(a, b) return tostring(a) < tostring(b) end)
  return list
end

test("lookup: callback and coroutine forms, all, family, errors", function(expect, uv)
  dns.lookup("localhost", expect(function(err, address, family)
    assert(err == nil, err)
    assert((address == "127.0.0.1" and family == 4) or (address == "::1" and family == 6))
  end))
  dns.lookup("127.0.0.1", {all = true}, expect(function(err, list)
    assert(err == nil and #list == 1 and list[1].address == "127.0.0.1" and list[1].family == 4)
  end))
  dns.lookup("::1", 6, expect(function(err, address, family)
    assert(err == nil and address == "::1" and family == 6)
  end))
  task.spawn(expect(function()
    local address, family = dns.lookup("localhost", 4)
    assert(address == "127.0.0.1" and family == 4, tostring(address))
    -- A malformed name fails without a query leaving the machine;
    -- getaddrinfo's EAI_NONAME is Node's ENOTFOUND.
    local none, err, name = dns.lookup("bad..name")
    assert(none == nil and name == "ENOTFOUND" and err:match("^ENOTFOUND: "), tostring(err))
    local host, service = dns.lookupService("127.0.0.1", 22)
    assert(type(host) == "string" and (service == "ssh" or service == "22"), tostring(service))
  end))
  T.raises("needs a callback outside a task", dns.lookup, "localhost")
  T.raises("bad family", dns.lookup, "localhost", 5, print)
end)

test("resolve functions in Node's shapes (callback style)", function(expect, uv)
  local fx = fixture.start(uv)
  local r = dns.Resolver:new{servers = {fx.server}, timeout = 500, tries = 1}
  local left = 0
  local function done()
    left = left - 1
    if left == 0 then r:close(); fx:close() end
  end
  local function check(fn)
    left = left + 1
    return expect(function(err, v) assert(err == nil, err); fn(v); done() end)
  end
  r:resolve4("example.test", check(function(v)
    assert(table.concat(sorted(v), ",") == "192.0.2.1,192.0.2.2")
  end))
  r:resolve4("example.test", {ttl = true}, check(function(v)
    assert(v[1].ttl == 300 and v[1].address:match("^192%.0%.2%."))
  end))
  r:resolve6("example.test", check(function(v) assert(v[1] == "2001:db8::1") end))
  r:resolveMx("example.test", check(function(v)
    table.sort(v, function(a, b) return a.priority < b.priority end)
    assert(v[1].exchange == "mail.example.test" and v[1].priority == 10 and #v == 2)
  end))
  r:resolveTxt("example.test", check(function(v)
    local joined = {}
    for i, chunks in ipairs(v) do joined[i] = table.concat(chunks) end
    sorted(joined)
    assert(joined[1] == "part one, part two" and joined[2] == "v=spf1 -all")
  end))
  r:resolveSrv("_sip._udp.example.test", check(function(v)
    assert(v[1].name == "sip.example.test" and v[1].port == 5060 and v[1].priority == 10 and v[1].weight == 5)
  end))
  r:resolveNs("example.test", check(function(v) assert(v[1] == "ns1.example.test") end))
  r:resolveCname("alias.example.test", check(function(v) assert(v[1] == "www.example.test") end))
  r:resolveSoa("example.test", check(function(v)
    assert(v.nsname == "ns1.example.test" and v.serial == 2026112401 and v.minttl == 300)
  end))
  r:resolveCaa("example.test", check(function(v)
    local issue
    for _, c in ipairs(v) do if c.issue then issue = c end end
    assert(issue and issue.issue == "ca.example.net" and issue.critical == 0)
  end))
  r:reverse("192.0.2.1", check(function(v) assert(v[1] == "example.test") end))
  r:resolve("www.example.test", "A", check(function(v) assert(v[1] == "192.0.2.10") end))
  left = left + 1
  r:resolve4("nx.example.test", expect(function(err, v)
    assert(v == nil and err:match("^ENOTFOUND: "), err)
    done()
  end))
end)

task_test("coroutine style: results, errors, timeouts, cancellation", function(expect, uv)
  local fx = fixture.start(uv)
  local r = dns.Resolver:new{servers = {fx.server}, timeout = 300, tries = 1}
  assert(r:getServers()[1] == fx.server)
  local v = assert(r:resolve4("example.test"))
  assert(#v == 2)
  local mx = assert(r:resolveMx("example.test"))
  assert(#mx == 2)
  local none, err, name = r:resolve4("nx.example.test")
  assert(none == nil and name == "ENOTFOUND", err)
  none, err, name = r:resolveTxt("servfail.example.test")
  assert(none == nil and name == "ESERVFAIL", err)
  -- A query to a server that never answers: cancelled from another task.
  local waiter = task.spawn(function() return r:resolve4("silent.example.test") end)
  task.sleep(20)
  waiter:cancel()
  local _, cerr, cname = waiter:join()
  assert(cname == "ECANCELED", cerr)
  -- And bounded by a deadline.
  local res = table.pack(task.with_timeout(50, function() return r:resolve4("silent.example.test") end))
  assert(res[1] == nil and res[3] == "ETIMEDOUT")
  -- While a query is in flight (c-ares still waits for the silent
  -- server), the servers cannot change: EBUSY, as Node refuses too.
  local busy, berr, bname = r:setServers{fx.server}
  assert(busy == nil and bname == "EBUSY", tostring(berr))
  r:cancel()
  local sok, serr = r:setServers{fx.server}
  assert(sok == true, tostring(serr))
  r:close()
  fx:close()
end)

test("the module functions use a default resolver", function(expect, uv)
  assert(type(dns.getServers()) == "table")
  T.raises("bad record type", dns.resolve, "example.test", "BOGUS", print)
  T.raises("string expected", dns.resolve4, 42, print)
end)

test("an error raised in a dns callback follows the loop's error policy", function(expect, uv)
  local got
  local old = uv.on_error(expect(function(err) got = err end))
  dns.lookup("127.0.0.1", function() error("raised in the lookup callback") end)
  uv.run()
  uv.on_error(old)
  assert(got:match("raised in the lookup callback"), got)
end)

T.run()
