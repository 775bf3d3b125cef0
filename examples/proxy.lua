-- proxy.lua: a TCP proxy in the callback style, built on pipe(). Each
-- client gets its own connection to the upstream server; bytes flow both
-- ways with backpressure (a slow side pauses the other), and an error or
-- a close on either side tears both down.
--   loom examples/proxy.lua LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT
--   loom examples/proxy.lua --self-test   proxy to a local echo server, check, stop
local net = require "loom.net"

local self_test = arg[1] == "--self-test"

local function start_proxy(listen_port, up_host, up_port)
  -- allowHalfOpen: when one side finishes sending, the other direction
  -- keeps flowing until it finishes too (a client that half-closes after
  -- its request still gets the whole reply).
  local server = net.createServer({allowHalfOpen = true}, function(client)
    local upstream = net.connect{port = up_port, host = up_host, allowHalfOpen = true}
    local function teardown(err)
      if err then print("proxy: " .. tostring(err)) end
      client:destroy()
      upstream:destroy()
    end
    -- pipe() pauses the reading side while the writing side's queue is
    -- full and ends the writing side at the end of the reading one.
    client:pipe(upstream)
    upstream:pipe(client)
    client:on("error", teardown)
    upstream:on("error", teardown)
    client:on("close", function() upstream:destroy() end)
    upstream:on("close", function() client:destroy() end)
  end)
  assert(server:listen(listen_port, "127.0.0.1"))
  return server
end

if not self_test then
  local port, host, up = tonumber(arg[1]), arg[2], tonumber(arg[3])
  if not (port and host and up) then
    io.stderr:write("usage: loom examples/proxy.lua LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT\n")
    os.exit(2)
  end
  start_proxy(port, host, up)
  print(("proxy 127.0.0.1:%d -> %s:%d"):format(port, host, up))
  return
end

-- Self-test: an echo server upstream, the proxy in front, and clients
-- that push 4 MiB each through it and check every byte that comes back.
local echo = net.createServer(function(sock) sock:pipe(sock) end)
assert(echo:listen(0, "127.0.0.1"))
local proxy = start_proxy(0, "127.0.0.1", echo:address().port)
local port = proxy:address().port
print("proxy on 127.0.0.1:" .. port .. " -> echo on " .. echo:address().port)

local CLIENTS, SIZE = 3, 4 * 1048576
local finished = 0
for c = 1, CLIENTS do
  local sock = net.connect(port, "127.0.0.1")
  local pattern = ("%d"):format(c):rep(65536)
  local sent, got = 0, {}
  local received = 0
  local function pump()
    while sent < SIZE do
      sent = sent + #pattern
      if not sock:write(pattern) then return end -- wait for "drain"
    end
    sock:finish()
  end
  sock:on("connect", pump)
  sock:on("drain", pump)
  sock:on("data", function(d)
    received = received + #d
    if d:find("[^" .. c .. "]") then error("client " .. c .. " got another client's bytes") end
    got[#got + 1] = #d
  end)
  sock:on("end", function()
    assert(received == SIZE, ("client %d got %d of %d bytes"):format(c, received, SIZE))
    finished = finished + 1
    if finished == CLIENTS then
      print(("%d clients x %d bytes through the proxy"):format(CLIENTS, SIZE))
      proxy:close()
      echo:close()
      print("self-test ok")
    end
  end)
end
