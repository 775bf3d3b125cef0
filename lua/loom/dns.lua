-- loom.dns: name resolution in Node's `dns` shapes, over the binding's
-- getaddrinfo and c-ares resolvers (no thread: all on the loop).
--
--   local dns = require "loom.dns"
--   dns.lookup("localhost", function(err, address, family) ... end)
--   dns.resolveMx("example.com", function(err, records) ... end)
--   task.spawn(function()
--     local addr, family = dns.lookup("example.com")       -- coroutine style
--     local txt, err = dns.resolveTxt("example.com")
--   end)
--   local r = dns.Resolver:new{timeout = 2000, tries = 2}
--   r:setServers{"127.0.0.1:5353"}
--
-- Each function takes a callback (err first; err is "ENAME: message"),
-- or, called in a task without one, waits and returns the result or
-- nil, err, name. Outside a task a callback is required.
local uv = require "loom"
local Object = require "loom.class"
local task = require "loom.task"
local timer = require "loom.timer"

local M = {}
local fail, wake, park = task.fail, task.wake, task.park

local errstr = task.message

-- getaddrinfo's names as Node reports them.
local LOOKUP_ERRORS = {EAI_NONAME = "ENOTFOUND", EAI_NODATA = "ENOTFOUND"}

-- A start that failed at once (the binding returned nil, err): done
-- still comes on a later turn, with the error's name.
local function failed_now(done, err)
  timer.setImmediate(done, type(err) == "string" and err:match("^(E[%u_%d]+)") or "EINVAL")
  return nil
end

-- Runs start(done) where done(err_name, ...) ends the operation: with cb
-- it calls cb(err_message, ...); in a task it wakes the task. start
-- returns a request that cancel_req(req) can cancel, or nil.
local function run(what, cb, start, cancel_req)
  if cb ~= nil then
    if type(cb) ~= "function" then
      error("bad callback to '" .. what .. "' (function expected, got " .. type(cb) .. ")", 3)
    end
    start(function(err, ...)
      if err then cb(errstr(err)) else cb(nil, ...) end
    end)
    return nil
  end
  local me = task.current()
  if not me then
    error(what .. " needs a callback outside a task (inside one it waits and returns)", 3)
  end
  local waiting = true
  local req = start(function(err, ...)
    if not waiting then return end
    waiting = false
    if err then wake(me, fail(err)) else wake(me, ...) end
  end)
  return park(me, function()
    waiting = false
    if req and cancel_req then cancel_req(req) end
  end)
end

local function check_name(name, what)
  if type(name) ~= "string" then
    error("bad argument #1 to '" .. what .. "' (string expected, got " .. type(name) .. ")", 3)
  end
end

--- lookup(hostname, [options | family], [cb]): the first address (and
--- its family, 4 or 6) that getaddrinfo gives, or with options.all every
--- address as {address, family}. options.family: 0 (any), 4 or 6. The
--- hosts file is honoured. Errors: ENOTFOUND, EAI_AGAIN, ...
function M.lookup(hostname, options, cb)
  check_name(hostname, "lookup")
  if type(options) == "function" then options, cb = nil, options end
  local family, all = nil, false
  if type(options) == "number" then
    family = options
  elseif type(options) == "table" then
    family, all = options.family, options.all and true or false
  elseif options ~= nil then
    error("bad argument #2 to 'lookup' (options table or family expected)", 2)
  end
  if family ~= nil and family ~= 0 and family ~= 4 and family ~= 6 then
    error("bad family (0, 4 or 6 expected, got " .. tostring(family) .. ")", 2)
  end
  local hints = {socktype = "stream", family = family == 4 and "inet" or family == 6 and "inet6" or nil}
  return run("lookup", cb, function(done)
    local req, err = uv.getaddrinfo(hostname, nil, hints, function(e, res)
      if e then return done(LOOKUP_ERRORS[e] or e) end
      if not res or #res == 0 then return done("ENOTFOUND") end
      if all then
        local list, seen = {}, {}
        for _, a in ipairs(res) do
          if not seen[a.addr] then
            seen[a.addr] = true
            list[#list + 1] = {address = a.addr, family = a.family == "inet6" and 6 or 4}
          end
        end
        return done(nil, list)
      end
      local a = res[1]
      done(nil, a.addr, a.family == "inet6" and 6 or 4)
    end)
    if not req then return failed_now(done, err) end
    return req
  end, uv.cancel)
end

--- lookupService(address, port, [cb]): the host name and service name
--- for an address and port (getnameinfo).
function M.lookupService(address, port, cb)
  check_name(address, "lookupService")
  if math.type(port) ~= "integer" or port < 0 or port > 65535 then
    error("bad argument #2 to 'lookupService' (a port 0-65535 expected)", 2)
  end
  return run("lookupService", cb, function(done)
    local req, err = uv.getnameinfo({ip = address, port = port}, function(e, host, service)
      if e then return done(LOOKUP_ERRORS[e] or e) end
      done(nil, host, service)
    end)
    if not req then return failed_now(done, err) end
    return req
  end, uv.cancel)
end

-- Records in Node's shapes --------------------------------------------------

local function names(records)
  local out = {}
  for i, r in ipairs(records) do out[i] = r.name end
  return out
end

local SHAPES = {
  A = function(records, opts)
    local out = {}
    for i, r in ipairs(records) do
      out[i] = opts and opts.ttl and {address = r.addr, ttl = r.ttl} or r.addr
    end
    return out
  end,
  MX = function(records)
    local out = {}
    for i, r in ipairs(records) do out[i] = {exchange = r.exchange, priority = r.priority} end
    return out
  end,
  TXT = function(records)
    local out = {}
    for i, r in ipairs(records) do out[i] = r.strings end
    return out
  end,
  SRV = function(records)
    local out = {}
    for i, r in ipairs(records) do
      out[i] = {name = r.name, port = r.port, priority = r.priority, weight = r.weight}
    end
    return out
  end,
  NS = names, CNAME = names, PTR = names,
  SOA = function(records)
    local r = records[1]
    return {nsname = r.nsname, hostmaster = r.hostmaster, serial = r.serial,
            refresh = r.refresh, retry = r.retry, expire = r.expire, minttl = r.minttl}
  end,
  CAA = function(records)
    local out = {}
    for i, r in ipairs(records) do
      out[i] = {critical = r.flags, [r.tag] = r.value}
    end
    return out
  end,
  NAPTR = function(records)
    local out = {}
    for i, r in ipairs(records) do
      out[i] = {flags = r.flags, service = r.service, regexp = r.regexp,
                replacement = r.replacement, order = r.order, preference = r.preference}
    end
    return out
  end,
  ANY = function(records) return records end,
}
SHAPES.AAAA = SHAPES.A

-- Resolver -----------------------------------------------------------------------

local Resolver = Object:extend("loom.dns.Resolver")
M.Resolver = Resolver

--- Resolver:new{timeout = ms, tries = n, servers = {...}}: its own
--- servers and options (those of uv.new_resolver).
function Resolver:initialize(opts)
  self._opts = {}
  for k, v in pairs(opts or {}) do self._opts[k] = v end
end

function Resolver:_channel()
  local r = self._r
  if r and not r:is_closed() then return r end
  local err
  r, err = uv.new_resolver(self._opts)
  if not r then error(err, 3) end
  self._r = r
  return r
end

--- The servers queries go to, as "ip:port" strings.
function Resolver:getServers()
  return self:_channel():get_servers()
end

--- Sets the servers: an array of "ip", "ip:port" or "[ipv6]:port".
--- Returns true, or nil and an error.
function Resolver:setServers(servers)
  if type(servers) ~= "table" then
    error("bad argument #1 to 'setServers' (array of strings expected)", 2)
  end
  self._opts.servers = servers
  return self:_channel():set_servers(servers)
end

--- Ends every query in flight with ECANCELED.
function Resolver:cancel()
  if self._r and not self._r:is_closed() then return self._r:cancel() end
  return 0
end

--- Releases the resolver's channel (a later query opens a new one).
function Resolver:close()
  if self._r then self._r:close() end
  self._r = nil
end

--- resolve(hostname, [rrtype = "A"], [cb]): records of one type, in
--- Node's shapes (see the reference).
function Resolver:resolve(hostname, rrtype, cb)
  check_name(hostname, "resolve")
  if type(rrtype) == "function" then rrtype, cb = nil, rrtype end
  rrtype = (rrtype or "A"):upper()
  local shape = SHAPES[rrtype]
  if not shape then error("bad record type '" .. tostring(rrtype) .. "'", 2) end
  return self:_query(hostname, rrtype, nil, cb, shape)
end

function Resolver:_query(hostname, rrtype, opts, cb, shape)
  local channel = self:_channel()
  return run("resolve" .. rrtype, cb, function(done)
    return channel:query(hostname, rrtype, function(err, records)
      if err then return done(err) end
      done(nil, shape(records, opts))
    end)
  end, uv.cancel)
end

local function typed(rrtype, with_opts)
  return function(self, hostname, opts, cb)
    check_name(hostname, "resolve" .. rrtype)
    if type(opts) == "function" then opts, cb = nil, opts end
    if not with_opts then opts = nil end
    return self:_query(hostname, rrtype, opts, cb, SHAPES[rrtype])
  end
end

Resolver.resolve4 = typed("A", true)
Resolver.resolve6 = typed("AAAA", true)
Resolver.resolveMx = typed("MX")
Resolver.resolveTxt = typed("TXT")
Resolver.resolveSrv = typed("SRV")
Resolver.resolveNs = typed("NS")
Resolver.resolveCname = typed("CNAME")
Resolver.resolvePtr = typed("PTR")
Resolver.resolveSoa = typed("SOA")
Resolver.resolveCaa = typed("CAA")
Resolver.resolveNaptr = typed("NAPTR")
Resolver.resolveAny = typed("ANY")

--- reverse(ip, [cb]): the host names of an IPv4 or IPv6 address.
function Resolver:reverse(ip, cb)
  check_name(ip, "reverse")
  local channel = self:_channel()
  return run("reverse", cb, function(done)
    local req, err = channel:reverse(ip, function(e, records)
      if e then return done(e) end
      done(nil, names(records))
    end)
    if not req then return failed_now(done, err) end
    return req
  end, uv.cancel)
end

-- The module-level functions use one default resolver (resolv.conf's
-- servers), made on first use.
local default
local function default_resolver()
  if not default then default = Resolver:new() end
  return default
end

for _, name in ipairs{"resolve", "resolve4", "resolve6", "resolveMx", "resolveTxt", "resolveSrv",
                      "resolveNs", "resolveCname", "resolvePtr", "resolveSoa", "resolveCaa",
                      "resolveNaptr", "resolveAny", "reverse", "getServers", "setServers"} do
  M[name] = function(...)
    local r = default_resolver()
    return r[name](r, ...)
  end
end

return M
