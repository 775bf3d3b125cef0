-- bench/echo.lua MODULE MODE PORT [MMSGS]: the echo server the network
-- benchmarks run for loom and for luv (the same code for both).
--   MODULE  "loom" or "luv"
--   MODE    "tcp" (echo every byte) or "udp" (echo every datagram)
--   MMSGS   udp only: datagrams per recvmmsg (1 = plain recvmsg)
local uv = require(arg[1])
local mode, port = arg[2], tonumber(arg[3])

if mode == "tcp" then
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", port))
  assert(server:listen(1024, function(err)
    assert(not err, err)
    local client = uv.new_tcp()
    server:accept(client)
    client:read_start(function(rerr, data)
      if data then
        client:write(data)
      else
        client:close()
      end
    end)
  end))
else
  local mmsgs = tonumber(arg[4] or "1")
  local udp = uv.new_udp(mmsgs > 1 and {family = "inet", mmsgs = mmsgs} or "inet")
  assert(udp:bind("127.0.0.1", port))
  udp:recv_start(function(err, data, addr)
    if data and addr then udp:send(data, addr.ip, addr.port) end
  end)
end
print("ready")
io.stdout:flush()
uv.run()
