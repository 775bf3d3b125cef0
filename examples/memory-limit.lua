-- memory-limit.lua: a server that caps its Lua heap. Each connection's
-- handler keeps what it reads (a careless protocol parser would); when a
-- client sends more than the heap allows, that handler fails with "not
-- enough memory", the error policy's handler drops the connection that
-- overran, and the server goes on serving the others.
--   loom examples/memory-limit.lua              serve on 127.0.0.1:7002
--   loom examples/memory-limit.lua --self-test  one polite client, one flood
local uv = require "loom"

local self_test = arg[1] == "--self-test"
local LIMIT = 16 * 1024 * 1024

collectgarbage()
uv.set_memory_limit(math.floor(collectgarbage("count") * 1024) + LIMIT)

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", self_test and 0 or 7002))
local port = server:getsockname().port
print(("serving on 127.0.0.1 port %d with a %d MiB heap limit"):format(
  port, LIMIT // (1024 * 1024)))

-- The connection whose callback is running: the one to drop on error.
local current

uv.on_error(function(err)
  if tostring(err):match("not enough memory") and current then
    print("a client overran the heap limit: dropping it")
    if not current:is_closing() then current:close() end
    current = nil
    collectgarbage() -- its buffered chunks are garbage now
  else
    print("error: " .. tostring(err))
  end
end)

assert(server:listen(64, function(err)
  assert(not err, err)
  local conn = uv.new_tcp()
  server:accept(conn)
  local chunks, bytes = {}, 0
  conn:read_start(function(rerr, data)
    current = conn
    if rerr or not data then
      conn:write(("you sent %d bytes\n"):format(bytes))
      conn:close()
      return
    end
    bytes = bytes + #data
    chunks[#chunks + 1] = data -- keeps every byte
    chunks[#chunks + 1] = data:upper() -- and a copy, as parsers do
  end)
end))

if self_test then
  local done = 0
  local function finished()
    done = done + 1
    if done == 2 then server:close() end
  end
  -- A polite client: a few lines, then it half-closes and reads the reply.
  local polite = uv.new_tcp()
  polite:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    polite:write("hello\n")
    polite:write("world\n")
    polite:shutdown()
    polite:read_start(function(_, data)
      if data then
        io.write("polite client got: ", data)
      else
        polite:close()
        finished()
      end
    end)
  end)
  -- A flood: 64 KiB chunks until the server hangs up (at most 256 MiB).
  local flood, sent = uv.new_tcp(), 0
  local chunk = ("x"):rep(64 * 1024)
  local function pump()
    if sent >= 256 * 1024 * 1024 or flood:is_closing() then return end
    sent = sent + #chunk
    flood:write(chunk, function(err) if not err then pump() end end)
  end
  flood:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    flood:read_start(function(_, data)
      if not data and not flood:is_closing() then
        print(("the flood was cut off after %d MiB"):format(sent // (1024 * 1024)))
        flood:close()
        finished()
      end
    end)
    for _ = 1, 4 do pump() end
  end)
end

uv.run()
