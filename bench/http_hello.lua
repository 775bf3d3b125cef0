-- bench/http_hello.lua STYLE PORT: hello world through loom.http.
--   STYLE "cb": callback style; "co": the handler in a task (coroutine style)
local http = require "loom.http"
local style, port = arg[1], tonumber(arg[2])
local function hello(req, res)
  res:setHeader("Content-Type", "text/plain")
  res:finish("hello world\n")
end
assert(style == "cb" or style == "co", "usage: http_hello.lua cb|co PORT")
assert(http.createServer(style == "co" and {task = true} or nil, hello):listen(port, "127.0.0.1"))
print("ready")
io.stdout:flush()
