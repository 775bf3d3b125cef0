-- udp.lua: the shape of a game-server backend over UDP. Players send
-- position updates; the server receives them in batches (recvmmsg, the
-- `mmsgs` option), keeps the latest state per player, and every tick sends
-- the world state to every player in one system call (try_send2 uses
-- sendmmsg).
--   loom examples/udp.lua               serve on 127.0.0.1:7001 until ^C
--   loom examples/udp.lua --self-test   three bots play five ticks, then stop
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local TICK_MS = self_test and 20 or 50

local server = uv.new_udp({family = "inet", mmsgs = 32})
assert(server:bind("127.0.0.1", self_test and 0 or 7001))
local port = server:getsockname().port
print("game server on 127.0.0.1 port " .. port)

local players = {} -- "ip:port" -> {addr = {ip, port}, x = , y = }

server:recv_start(function(err, data, addr)
  if err then print("receive error: " .. err) return end
  if not data or not addr then return end
  local x, y = data:match("^pos (%-?%d+) (%-?%d+)$")
  if not x then return end -- not ours: ignore it, as a server must
  local key = addr.ip .. ":" .. addr.port
  local p = players[key]
  if not p then
    p = {addr = {ip = addr.ip, port = addr.port}}
    players[key] = p
    print("player joined from " .. key)
  end
  p.x, p.y = tonumber(x), tonumber(y)
end)

local ticks = 0
local tick = uv.new_timer()
tick:start(TICK_MS, TICK_MS, function()
  ticks = ticks + 1
  local state = {"tick " .. ticks}
  for key, p in pairs(players) do state[#state + 1] = ("%s=%d,%d"):format(key, p.x, p.y) end
  local world = table.concat(state, " ")
  local batch = {}
  for _, p in pairs(players) do batch[#batch + 1] = {data = world, addr = p.addr} end
  if #batch > 0 then
    local sent, msg = server:try_send2(batch)
    if not sent then print("tick " .. ticks .. ": " .. msg) end
  end
end)

if not self_test then
  local sigint = uv.new_signal()
  sigint:start("sigint", function() sigint:close(); tick:close(); server:close() end)
  uv.run()
  return
end

-- Self-test: three bots move every tick and count the world updates.
local bots, updates = {}, 0
for i = 1, 3 do
  local bot = uv.new_udp()
  assert(bot:bind("127.0.0.1", 0))
  local x = i * 10
  bot:recv_start(function(err, data)
    assert(not err, err)
    updates = updates + 1
    if i == 1 then print("bot 1 sees: " .. data) end
    x = x + 1
    bot:send(("pos %d %d"):format(x, -i), "127.0.0.1", port)
  end)
  bot:send(("pos %d %d"):format(x, -i), "127.0.0.1", port)
  bots[i] = bot
end

local stop = uv.new_timer()
stop:start(TICK_MS * 6, 0, function()
  stop:close(); tick:close(); server:close()
  for _, b in ipairs(bots) do b:close() end
end)
uv.run()
assert(updates >= 3, "the bots heard nothing")
print(("%d ticks, %d world updates delivered"):format(ticks, updates))
