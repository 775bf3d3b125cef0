-- examples/static-server.lua: files from a directory over HTTP, with
-- byte ranges (206), HEAD, conditional GET (304 on If-Modified-Since),
-- and bodies sent by the kernel with sendfile(2) (res:sendFile): no
-- copy through Lua, and a slow client holds no file data in memory.
--
--   loom examples/static-server.lua [DIR] [PORT]   serve DIR (.) on PORT (7091)
--   loom examples/static-server.lua --self-test
local http = require "loom.http"
local fs = require "loom.fs"
local path = require "loom.path"
local task = require "loom.task"

local TYPES = {html = "text/html; charset=utf-8", css = "text/css", js = "text/javascript",
               json = "application/json", txt = "text/plain; charset=utf-8", png = "image/png",
               jpg = "image/jpeg", svg = "image/svg+xml", lua = "text/plain; charset=utf-8"}

local function percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- "bytes=a-b", "bytes=a-", "bytes=-n" against a size: first, last (0-based,
-- inclusive), or nil if unsatisfiable. One range only.
local function parse_range(header, size)
  local a, b = header:match("^bytes=(%d*)-(%d*)$")
  if not a or (a == "" and b == "") then return nil end
  local first, last
  if a == "" then
    first, last = math.max(0, size - tonumber(b)), size - 1
  else
    first, last = tonumber(a), b == "" and size - 1 or math.min(tonumber(b), size - 1)
  end
  if first > last or first >= size then return nil end
  return first, last
end

local function serve_file(root, req, res)
  if req.method ~= "GET" and req.method ~= "HEAD" then
    res:writeHead(405, {Allow = "GET, HEAD"})
    return res:finish()
  end
  local rel = percent_decode(req.url:match("^[^?#]*"))
  -- Resolve against the root, then check it is still inside: "/../x"
  -- must not leave the directory.
  local file = path.resolve(root, "." .. rel)
  if file ~= root and file:sub(1, #root + 1) ~= root .. "/" then
    res:writeHead(403)
    return res:finish("forbidden\n")
  end
  local st = fs.stat(file)
  if st and st.type == "directory" then
    file = path.join(file, "index.html")
    st = fs.stat(file)
  end
  if not st or st.type ~= "file" then
    res:writeHead(404, {["Content-Type"] = "text/plain"})
    return res:finish("not found\n")
  end
  local mtime = os.date("!%a, %d %b %Y %H:%M:%S GMT", st.mtime.sec)
  res:setHeader("Last-Modified", mtime)
  res:setHeader("Accept-Ranges", "bytes")
  res:setHeader("Content-Type", TYPES[path.extname(file):sub(2):lower()] or "application/octet-stream")
  if req.headers["if-modified-since"] == mtime then
    res:writeHead(304)
    return res:finish()
  end
  local first, last = 0, st.size - 1
  local range = req.headers.range
  if range then
    first, last = parse_range(range, st.size)
    if not first then
      res:writeHead(416, {["Content-Range"] = "bytes */" .. st.size})
      return res:finish()
    end
    res:writeHead(206, {["Content-Range"] = ("bytes %d-%d/%d"):format(first, last, st.size)})
  end
  res:setHeader("Content-Length", last - first + 1)
  if req.method == "HEAD" or last < first then return res:finish() end
  -- The kernel sends the bytes from the page cache (sendfile): they never
  -- enter Lua, and a slow client holds the connection's queue, not
  -- memory. sendFile returns once they have gone; then the file closes.
  local fd, err = fs.open(file)
  if not fd then
    res:writeHead(500, {["Content-Type"] = "text/plain"})
    return res:finish(err .. "\n")
  end
  res:sendFile(fd, first, last - first + 1)
  fs.close(fd)
end

local self_test = arg[1] == "--self-test"
local root = path.resolve(self_test and assert(fs.mkdtemp("/tmp/loom-static-XXXXXX")) or arg[1] or ".")
local server = http.createServer({task = true}, function(req, res) serve_file(root, req, res) end)
assert(server:listen(self_test and 0 or tonumber(arg[2] or "7091"), "127.0.0.1"))
local port = server:address().port
if not self_test then
  print("serving " .. root .. " on http://127.0.0.1:" .. port .. "/")
  return
end

task.spawn(function()
  local data = {}
  for i = 1, 50000 do data[i] = ("%06d\n"):format(i) end
  data = table.concat(data)
  assert(fs.writeFile(root .. "/numbers.txt", data))
  assert(fs.writeFile(root .. "/index.html", "<h1>hi</h1>"))
  local base = "http://127.0.0.1:" .. port
  local res = assert(http.fetch(base .. "/numbers.txt"))
  assert(res.statusCode == 200 and res:body() == data)
  local modified = res.headers["last-modified"]
  res = assert(http.fetch(base .. "/numbers.txt", {headers = {Range = "bytes=7-20"}}))
  assert(res.statusCode == 206 and res.headers["content-range"] == "bytes 7-20/" .. #data)
  assert(res:body() == data:sub(8, 21))
  res = assert(http.fetch(base .. "/numbers.txt", {headers = {Range = "bytes=-7"}}))
  assert(res:body() == "050000\n")
  res = assert(http.fetch(base .. "/numbers.txt", {headers = {Range = "bytes=999999-"}}))
  assert(res.statusCode == 416)
  res:body()
  res = assert(http.fetch(base .. "/"))
  assert(res.headers["content-type"]:match("^text/html") and res:body() == "<h1>hi</h1>")
  res = assert(http.fetch(base .. "/numbers.txt", {headers = {["If-Modified-Since"] = modified}}))
  assert(res.statusCode == 304)
  res = assert(http.fetch(base .. "/%2e%2e/%2e%2e/etc/passwd"))
  assert(res.statusCode == 403, res.statusCode)
  res:body()
  res = assert(http.fetch(base .. "/missing"))
  assert(res.statusCode == 404)
  res:body()
  print("self-test ok: " .. #data .. " bytes served, ranges and 304 answered")
  http.globalAgent:destroy()
  server:close()
  fs.rm(root, {recursive = true})
end)
