-- bench/http_min.lua PORT: the least a Lua HTTP server on loom's binding
-- can do per request, as a reference row beside loom.http: the parser
-- reads whole heads from the socket and makes the request tables (as
-- for loom.http), and every request gets the same answer through
-- uv.http_respond. No response object, no keep-alive rules, no
-- deadlines, no body handling: the gap between this row and loom.http's
-- is what loom.http's Lua layer costs.
local uv = require "loom"
local http = require "loom.http"
local port = assert(tonumber(arg[1]), "usage: http_min.lua PORT")

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", port))
local fields = {"content-type", "Content-Type", "text/plain"}
assert(server:listen(1024, function(err)
  assert(not err, err)
  local c = uv.new_tcp()
  server:accept(c)
  local parser = uv.new_http_parser("request", {lean = true, metatable = http.IncomingMessage})
  parser:read_start(c, function(_, data, req)
    if req then
      uv.http_respond(c, "HTTP/1.1 200 OK\r\n", fields, 200, 12, "hello world\n", true, "")
      return true
    end
    -- Anything but a whole head (a partial one, a body, the end): this
    -- reference server only closes.
    if data ~= false and not c:is_closing() then c:close() end
  end)
  parser:arm()
end))
print("ready")
io.stdout:flush()
uv.run()
