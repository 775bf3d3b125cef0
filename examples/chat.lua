-- chat.lua: a TCP chat server in the coroutine style. One task per
-- client reads lines; each client also has a bounded outbox (a channel)
-- drained by its own writer task, so a client that stops reading loses
-- its own messages instead of stalling everyone else.
--   loom examples/chat.lua [port]      serve until ^C (try: nc 127.0.0.1 7070)
--   loom examples/chat.lua --self-test start, run three clients (one never reads), stop
--
-- Protocol: the first line is the nickname; then every line is said to
-- everyone; "/who" lists who is here; "/quit" leaves.
local net = require "loom.net"
local task = require "loom.task"

local self_test = arg[1] == "--self-test"
local port = self_test and 0 or tonumber(arg[1] or "7070")
local OUTBOX = 256       -- lines queued for one client before it misses some
local LINE_MAX = 1024    -- longer lines end the connection

local members = {}       -- nickname -> {outbox = channel, dropped = count}

local function broadcast(from, text)
  for nick, m in pairs(members) do
    if nick ~= from then
      -- try_send never waits: a full outbox means that client is not
      -- reading; it misses this line (and is told how many it missed).
      if not m.outbox:try_send(text) then m.dropped = m.dropped + 1 end
    end
  end
end

local function writer(sock, m)
  for line in m.outbox:iter() do
    if m.dropped > 0 then
      sock:write(("* you missed %d line(s)\n"):format(m.dropped))
      m.dropped = 0
    end
    if not sock:write(line .. "\n") then break end
  end
end

local function session(sock)
  sock:settimeout(60000) -- a silent client is dropped after a minute
  sock:write("nickname? ")
  local nick = sock:readLine(32)
  if not nick or nick == "" or members[nick] then
    sock:write("* that name is taken or empty\n")
    return -- returning closes the socket (createServer{task = true})
  end
  local m = {outbox = task.channel(OUTBOX), dropped = 0}
  members[nick] = m
  local out = task.spawn(writer, sock, m)
  broadcast(nick, "* " .. nick .. " joined")
  m.outbox:try_send("* welcome, " .. nick)
  while true do
    local line, err = sock:readLine(LINE_MAX)
    if not line or line == "/quit" then
      if err then print(("%s left: %s"):format(nick, err)) end
      break
    elseif line == "/who" then
      local names = {}
      for n in pairs(members) do names[#names + 1] = n end
      table.sort(names)
      m.outbox:try_send("* here: " .. table.concat(names, ", "))
    elseif line ~= "" then
      broadcast(nick, "<" .. nick .. "> " .. line)
    end
  end
  members[nick] = nil
  m.outbox:close()
  out:join()
  broadcast(nick, "* " .. nick .. " left")
end

local server = net.createServer({task = true}, session)
assert(server:listen(port, "127.0.0.1"))
port = server:address().port
print("chat on 127.0.0.1:" .. port)

if not self_test then return end

-- Self-test: alice and bob talk while carol connects and never reads.
-- alice sends enough lines to fill carol's socket and outbox; alice and
-- bob must still get everything, at full speed.
task.spawn(function()
  local function join(nick)
    local c = assert(net.connect(port, "127.0.0.1"))
    assert(c:readUntil("? ") == "nickname")
    c:write(nick .. "\n")
    assert(c:readLine() == "* welcome, " .. nick)
    return c
  end
  local alice = join("alice")
  local bob = join("bob")
  assert(alice:readLine() == "* bob joined")
  local carol = join("carol")
  assert(alice:readLine() == "* carol joined" and bob:readLine() == "* carol joined")
  local N = 20000 -- 20 MB: more than the kernel buffers carol's socket can hold
  local big = (" filler"):rep(140)
  -- alice talks in bursts of 100 lines and waits until bob has read the
  -- previous burst (a busy human, not a flood): bob, who reads, must get
  -- every line while carol's outbox overflows.
  local progress = task.channel(N // 100)
  local reader = task.spawn(function()
    for i = 1, N do
      local line = assert(bob:readLine(LINE_MAX))
      assert(line == "<alice> " .. i .. big, line)
      if i % 100 == 0 then progress:send(i) end
    end
  end)
  for i = 1, N do
    assert(alice:write(i .. big .. "\n"))
    if i % 100 == 0 and i > 100 then assert(progress:recv(10000) == i - 100) end
  end
  assert(reader:join(10000) == nil and reader:done(), "bob did not get every line")
  alice:write("/who\n")
  assert(alice:readLine() == "* here: alice, bob, carol")
  local dropped = members.carol.dropped
  print(("bob got %d lines; carol (not reading) missed %d"):format(N, dropped))
  assert(dropped > 0)
  for _, c in ipairs({alice, bob, carol}) do c:write("/quit\n"); c:close() end
  task.sleep(20)
  assert(next(members) == nil, "a member was left behind")
  server:close()
  print("self-test ok")
end)
