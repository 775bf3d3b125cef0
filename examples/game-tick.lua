-- game-tick.lua: an authoritative UDP game server. Clients send their
-- inputs whenever they like; the server applies the latest input of each
-- player on a fixed 20 Hz tick and sends the whole world state to every
-- player after each tick. The ticker runs on absolute deadlines, so the
-- game clock does not drift; the server reports how late ticks came.
--   loom examples/game-tick.lua [port]            serve until ^C
--   loom examples/game-tick.lua --self-test [n]   n bots (default 50) play for 1.5 s
--
-- Datagrams (text, one per message):
--   client -> server   "join NAME" | "in SEQ DX DY" | "bye"
--   server -> client   "st TICK id:x:y id:x:y ..."
local dgram = require "loom.dgram"
local timer = require "loom.timer"
local task = require "loom.task"
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local port = self_test and 0 or tonumber(arg[1] or "7777")
local HZ = 20
local SPEED = 5           -- world units per tick at full input

local players = {}        -- "ip:port" -> player
local next_id = 1
local stats = {inputs = 0, ticks = 0, late = {}}

local server = dgram.createSocket{type = "udp4", mmsgs = 32, recvBufferSize = 1048576}

server:on("message", function(msg, rinfo)
  local key = rinfo.address .. ":" .. rinfo.port
  local p = players[key]
  local kind, a, b, c = msg:match("^(%a+) ?(%S*) ?(%S*) ?(%S*)")
  if kind == "join" and not p then
    players[key] = {id = next_id, name = a, x = 0, y = 0, dx = 0, dy = 0, seq = 0,
                    address = rinfo.address, port = rinfo.port}
    next_id = next_id + 1
  elseif kind == "in" and p then
    local seq = tonumber(a)
    -- Datagrams can arrive out of order: only a newer input counts.
    if seq and seq > p.seq then
      p.seq = seq
      p.dx = math.max(-1, math.min(1, tonumber(b) or 0))
      p.dy = math.max(-1, math.min(1, tonumber(c) or 0))
      stats.inputs = stats.inputs + 1
    end
  elseif kind == "bye" and p then
    players[key] = nil
  end
end)

assert(server:bind(port, "127.0.0.1"))
port = server:address().port
print(("game server on 127.0.0.1:%d at %d Hz"):format(port, HZ))

local ticker = timer.ticker({hz = HZ}, function(tk, tick, late_ms, skipped)
  stats.ticks = stats.ticks + 1
  stats.late[#stats.late + 1] = late_ms
  local parts = {"st " .. tick}
  for _, p in pairs(players) do
    p.x = p.x + p.dx * SPEED
    p.y = p.y + p.dy * SPEED
    parts[#parts + 1] = ("%d:%d:%d"):format(p.id, p.x, p.y)
  end
  local state = table.concat(parts, " ")
  for _, p in pairs(players) do server:send(state, p.port, p.address) end
  if skipped > 0 then print(("tick %d: %d tick(s) skipped, the loop was held up"):format(tick, skipped)) end
end)

local function percentile(list, q)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  if #s == 0 then return 0 end
  return s[math.max(1, math.ceil(#s * q))]
end

local function report()
  print(("%d ticks, %d inputs applied; tick lateness p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d skipped")
        :format(stats.ticks, stats.inputs, percentile(stats.late, 0.5),
                percentile(stats.late, 0.99), ticker.max_late_ms, ticker.skipped))
end

local sig = uv.new_signal()
sig:start("sigint", function()
  report()
  sig:close(); ticker:stop(); server:close()
end)
sig:unref()

if not self_test then return end

-- Self-test: n bots, each a task with its own UDP socket, send inputs at
-- 30 Hz (faster than the tick, as real clients do) for 1.5 s, and count
-- the states they get back. Bounded in count and time.
local BOTS = tonumber(arg[2] or "50")
local PLAY_MS = 1500
local received = {}

local function bot(i)
  local s = assert(dgram.createSocket("udp4"):bind(0, "127.0.0.1"))
  s:send("join bot" .. i, port, "127.0.0.1")
  local got, last_tick = 0, 0
  local listener = task.spawn(function()
    while true do
      local msg = s:recv()
      if not msg then return end
      local tick = tonumber(msg:match("^st (%d+)"))
      assert(tick and tick > last_tick, "state ticks go forward")
      last_tick = tick
      got = got + 1
    end
  end)
  local seq = 0
  task.with_timeout(PLAY_MS, function()
    local inputs = timer.ticker(1000 / 30)
    while true do
      if not inputs:wait() then break end -- nil, ETIMEDOUT: playtime is over
      seq = seq + 1
      -- UDP may drop the join (a full receive buffer under load): send
      -- it again until the first state shows that the server has us.
      if got == 0 then s:send("join bot" .. i, port, "127.0.0.1") end
      s:send(("in %d %d %d"):format(seq, (i + seq) % 3 - 1, (i * seq) % 3 - 1), port, "127.0.0.1")
    end
    inputs:stop()
  end)
  s:send("bye", port, "127.0.0.1")
  task.sleep(60) -- the last state in flight
  s:close()
  listener:join()
  received[i] = got
end

task.spawn(function()
  task.group(function(g)
    for i = 1, BOTS do g:spawn(bot, i) end
  end)
  report()
  local least, total = math.huge, 0
  for i = 1, BOTS do
    total = total + received[i]
    if received[i] < least then least = received[i] end
  end
  print(("%d bots got %d states (fewest: %d)"):format(BOTS, total, least))
  -- Every bot played for 1.5 s at 20 Hz: about 30 states each.
  assert(least >= 20, "a bot got only " .. least .. " states")
  assert(next(players) == nil, "a bot did not leave")
  ticker:stop()
  sig:close()
  server:close()
  print("self-test ok")
end)
