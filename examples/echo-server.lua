-- echo-server.lua: a TCP echo server on IPv4 and IPv6 that respects
-- backpressure: it stops reading from a client whose replies are not being
-- taken, and reads again once they drained.
--   loom examples/echo-server.lua [port]     serve until ^C (try: nc 127.0.0.1 7000)
--   loom examples/echo-server.lua --self-test  start, talk to itself, stop
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local port = self_test and 0 or tonumber(arg[1] or "7000")
local HIGH_WATER = 1024 * 1024 -- bytes queued for one client before pausing it

local servers, clients = {}, {}

local function serve_client(client)
  clients[client] = true
  local function on_read(err, data)
    if err or not data then           -- error or end of stream: hang up
      clients[client] = nil
      if not client:is_closing() then client:close() end
      return
    end
    client:write(data, function(werr)
      if werr or client:is_closing() then return end
      -- The queue drained below the mark: read again.
      if client:get_write_queue_size() < HIGH_WATER and not client:is_active() then
        client:read_start(on_read)
      end
    end)
    if client:get_write_queue_size() >= HIGH_WATER then
      client:read_stop()              -- the peer is not reading: stop feeding it
    end
  end
  client:read_start(on_read)
end

local function listen(host)
  local server = uv.new_tcp()
  local ok, err = server:bind(host, port)
  if not ok then
    print("cannot bind " .. host .. ": " .. err)
    server:close()
    return
  end
  assert(server:listen(128, function(lerr)
    if lerr then print("accept failed: " .. lerr) return end
    local client = uv.new_tcp()
    if server:accept(client) then serve_client(client) else client:close() end
  end))
  local addr = server:getsockname()
  print(("listening on %s port %d"):format(addr.ip, addr.port))
  servers[#servers + 1] = server
  return addr
end

local v4 = listen("127.0.0.1")
listen("::1")

local function shutdown()
  for _, s in ipairs(servers) do s:close() end
  for c in pairs(clients) do if not c:is_closing() then c:close() end end
end

if not self_test then
  local sigint = uv.new_signal()
  sigint:start("sigint", function() print("bye"); sigint:close(); shutdown() end)
  uv.run()
  return
end

-- Self-test: one client sends three lines and checks they come back.
local client = uv.new_tcp()
local expected = "one\ntwo\nthree\n"
local got = ""
client:connect("127.0.0.1", v4.port, function(err)
  assert(not err, err)
  client:read_start(function(rerr, data)
    assert(not rerr, rerr)
    got = got .. (data or "")
    if #got >= #expected then
      print("echoed: " .. got:gsub("\n", " "))
      client:close()
      shutdown()
    end
  end)
  client:write({"one\n", "two\n"})
  client:write("three\n")
end)
uv.run()
assert(got == expected, got)
