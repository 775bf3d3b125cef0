-- helpers.lua: the small helper modules together — parse a request URL,
-- read its query, build a file path safely, answer in JSON, and print a
-- value for a human. What a JSON API handler does with each request.
--   loom examples/helpers.lua [url]      (default: a built-in example)
--   loom examples/helpers.lua --self-test
local url = require "loom.url"
local qs = require "loom.querystring"
local path = require "loom.path"
local json = require "loom.json"
local os_ = require "loom.os"
local inspect = require "loom.inspect"

local self_test = arg[1] == "--self-test"
local target = (not self_test and arg[1]) or
               "http://API.example.com:80/files/../docs/./guide.md?lang=en&tag=a&tag=b#intro"

local u = assert(url.parse(target))
local query = qs.parse(u.query)

-- A file under a document root, whatever ".." the request holds: resolve,
-- then check it is still inside.
local root = "/srv/docs"
local file = path.resolve(root, "." .. u.pathname)
local inside = file:sub(1, #root + 1) == root .. "/"

local reply = json.encode{
  host = u.hostname,
  file = inside and path.relative(root, file) or json.null,
  ext = path.extname(file),
  lang = query.lang,
  tags = json.array(type(query.tag) == "table" and query.tag or {query.tag}),
  server = {hostname = os_.hostname(), cpus = #os_.cpus()},
}
print(reply)
inspect.p(json.decode(reply))

if self_test then
  assert(u.href == "http://api.example.com/docs/guide.md?lang=en&tag=a&tag=b#intro", u.href)
  local back = assert(json.decode(reply))
  assert(back.file == "docs/guide.md" and back.ext == ".md" and back.lang == "en")
  assert(back.tags[1] == "a" and back.tags[2] == "b")
  assert(path.resolve(root, "./../../etc/passwd"):sub(1, #root) ~= root)
  print("self-test ok")
end
