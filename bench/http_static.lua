-- bench/http_static.lua STYLE PORT FILE: serves FILE at every URL through
-- loom.http, with a Content-Length.
--   STYLE "sendfile": res:sendFile (the kernel sends from the page cache)
--         "stream": fs.createReadStream(file):pipe(res) (through Lua)
local http = require "loom.http"
local fs = require "loom.fs"
local style, port, file = arg[1], tonumber(arg[2]), arg[3]
assert(style == "sendfile" or style == "stream", "usage: http_static.lua sendfile|stream PORT FILE")
local size = assert(fs.stat(file)).size
local fd = assert(fs.open(file))
local server
if style == "sendfile" then
  -- One descriptor, opened once, serves every request (sendfile reads at
  -- an offset and leaves the file position alone).
  server = http.createServer(function(req, res)
    res:setHeader("Content-Type", "application/octet-stream")
    res:sendFile(fd, 0, size)
  end)
else
  server = http.createServer(function(req, res)
    res:setHeader("Content-Type", "application/octet-stream")
    res:setHeader("Content-Length", size)
    fs.createReadStream(file):pipe(res)
  end)
end
assert(server:listen(port, "127.0.0.1"))
print("ready")
io.stdout:flush()
