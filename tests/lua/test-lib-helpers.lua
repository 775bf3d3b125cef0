-- test-lib-helpers.lua: loom.path, loom.querystring, loom.url, loom.json,
-- loom.os and loom.inspect, against Node's documented results.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

local function eq(got, want, what)
  if got ~= want then
    error(("%s: got %q, want %q"):format(what or "value", tostring(got), tostring(want)), 2)
  end
end

test("path: join, normalize, resolve, relative", function(expect, uv)
  local path = require "loom.path"
  eq(path.join("/foo", "bar", "baz/asdf", "quux", ".."), "/foo/bar/baz/asdf")
  eq(path.join("a", "", "b"), "a/b")
  eq(path.join(), ".")
  eq(path.join("..", "a"), "../a")
  eq(path.normalize("/foo/bar//baz/asdf/quux/.."), "/foo/bar/baz/asdf")
  eq(path.normalize("a/./b/"), "a/b/")
  eq(path.normalize("/../x"), "/x")
  eq(path.normalize(""), ".")
  eq(path.normalize("./"), "./")
  eq(path.resolve("/foo/bar", "./baz"), "/foo/bar/baz")
  eq(path.resolve("/foo/bar", "/tmp/file/"), "/tmp/file")
  eq(path.resolve("x"), uv.cwd() .. "/x")
  eq(path.resolve(), uv.cwd())
  eq(path.relative("/data/orandea/test/aaa", "/data/orandea/impl/bbb"), "../../impl/bbb")
  eq(path.relative("/a/b", "/a/b"), "")
  eq(path.relative("/a", "/a/b/c"), "b/c")
  assert(path.isAbsolute("/x") and not path.isAbsolute("x"))
  T.raises("string expected", path.join, "a", 1)
end)

test("path: dirname, basename, extname, parse, format", function()
  local path = require "loom.path"
  eq(path.dirname("/foo/bar/baz/asdf/quux"), "/foo/bar/baz/asdf")
  eq(path.dirname("/a/b/"), "/a")
  eq(path.dirname("a"), ".")
  eq(path.dirname("/"), "/")
  eq(path.dirname("/a"), "/")
  eq(path.basename("/foo/bar/baz/asdf/quux.html"), "quux.html")
  eq(path.basename("/foo/bar/baz/asdf/quux.html", ".html"), "quux")
  eq(path.basename("/a/b/"), "b")
  eq(path.extname("index.html"), ".html")
  eq(path.extname("index.coffee.md"), ".md")
  eq(path.extname("index."), ".")
  eq(path.extname("index"), "")
  eq(path.extname(".index"), "")
  eq(path.extname(".index.md"), ".md")
  eq(path.extname(".."), "")
  local p = path.parse("/home/user/dir/file.txt")
  eq(p.root, "/"); eq(p.dir, "/home/user/dir"); eq(p.base, "file.txt")
  eq(p.ext, ".txt"); eq(p.name, "file")
  eq(path.format(p), "/home/user/dir/file.txt")
  eq(path.format{root = "/", base = "file.txt"}, "/file.txt")
  eq(path.format{name = "file", ext = ".txt"}, "file.txt")
  eq(path.sep, "/"); eq(path.delimiter, ":")
end)

test("querystring: parse and stringify, repeated keys, percent-encoding", function()
  local qs = require "loom.querystring"
  local t = qs.parse("foo=bar&abc=xyz&abc=123&sp=a+b%20c&empty=&bare&bad=%zz")
  eq(t.foo, "bar"); eq(t.abc[1], "xyz"); eq(t.abc[2], "123"); eq(#t.abc, 2)
  eq(t.sp, "a b c"); eq(t.empty, ""); eq(t.bare, ""); eq(t.bad, "%zz")
  eq(next(qs.parse("")), nil)
  local custom = qs.parse("w:%E4%BD%A0;x:1", ";", ":")
  eq(custom.w, "你"); eq(custom.x, "1")
  local limited = qs.parse("a=1&b=2&c=3", nil, nil, {maxKeys = 2})
  eq(limited.c, nil); eq(limited.b, "2")
  eq(qs.stringify{foo = "bar", baz = {"qux", "quux"}, corge = ""},
     "baz=qux&baz=quux&corge=&foo=bar")
  eq(qs.stringify{q = "a b&c=d/é", n = 2, t = true}, "n=2&q=a%20b%26c%3Dd%2F%C3%A9&t=true")
  eq(qs.escape("a b"), "a%20b"); eq(qs.unescape("a%20b+c"), "a b c")
  -- A round trip keeps every byte.
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  local s = table.concat(all)
  eq(qs.parse(qs.stringify{k = s}).k, s)
end)

test("url: parse the special schemes as the WHATWG parser does", function()
  local url = require "loom.url"
  local u = assert(url.parse("HTTP://user:pw@Example.COM:8080/a/../b?x=1&y=%20#top"))
  eq(u.protocol, "http:"); eq(u.username, "user"); eq(u.password, "pw")
  eq(u.hostname, "example.com"); eq(u.port, "8080"); eq(u.host, "example.com:8080")
  eq(u.pathname, "/b"); eq(u.search, "?x=1&y=%20"); eq(u.query, "x=1&y=%20"); eq(u.hash, "#top")
  eq(u.origin, "http://example.com:8080")
  eq(u.href, "http://user:pw@example.com:8080/b?x=1&y=%20#top")
  eq(url.parse("https://example.com:443").href, "https://example.com/")
  eq(url.parse("ws://h/chat").port, "")
  eq(url.parse("wss://h:444/").port, "444")
  eq(url.parse("http://[::1]:3000/x y").href, "http://[::1]:3000/x%20y")
  eq(url.parse("http:\\\\host\\a\\b").href, "http://host/a/b")
  eq(url.parse("http://h/a/./b/../../c/").pathname, "/c/")
  eq(url.parse("  http://h/\t\n  ").href, "http://h/")
  eq(url.parse("mailto:a@b.c").pathname, "a@b.c")
  for _, bad in ipairs{"no scheme", "http://", "http://a b/", "http://h:99999/", "http://h:x/",
                       "http://[zz]/"} do
    local v, err, name = url.parse(bad)
    assert(v == nil and name == "EINVAL" and err:match("^EINVAL: invalid URL"), bad)
  end
end)

test("url: format and resolve (RFC 3986's examples)", function()
  local url = require "loom.url"
  eq(url.format{protocol = "https", hostname = "example.com", port = 8443, pathname = "/p",
                query = {a = "1 2"}, hash = "h"}, "https://example.com:8443/p?a=1%202#h")
  local base = "http://a/b/c/d;p?q"
  local cases = {
    g = "http://a/b/c/g", ["./g"] = "http://a/b/c/g", ["g/"] = "http://a/b/c/g/",
    ["/g"] = "http://a/g", ["//g"] = "http://g/", ["?y"] = "http://a/b/c/d;p?y",
    ["g?y"] = "http://a/b/c/g?y", ["#s"] = "http://a/b/c/d;p?q#s", ["g#s"] = "http://a/b/c/g#s",
    [""] = "http://a/b/c/d;p?q", ["."] = "http://a/b/c/", [".."] = "http://a/b/",
    ["../g"] = "http://a/b/g", ["../.."] = "http://a/", ["../../../g"] = "http://a/g",
    ["https://z/y"] = "https://z/y",
  }
  for ref, want in pairs(cases) do eq(url.resolve(base, ref), want, ref) end
end)

test("json: lua-cjson with null, empty arrays, integers and errors", function()
  local json = require "loom.json"
  eq(json.encode{a = 1}, '{"a":1}')
  eq(json.encode{list = json.array{}}, '{"list":[]}')
  eq(json.encode{json.empty_array, {json.empty_array}}, '[[],[[]]]')
  eq(json.encode(json.array{1, 2}), "[1,2]")
  eq(json.encode({}), "{}")
  local v = assert(json.decode('{"a":[1,2.5,null,true],"n":12345678901,"s":"\\u00e9"}'))
  assert(v.a[3] == json.null and v.a[4] == true)
  eq(math.type(v.a[1]), "integer"); eq(v.a[2], 2.5)
  eq(math.type(v.n), "integer"); eq(v.n, 12345678901)
  eq(v.s, "é")
  local bad, err, name = json.decode("{bad")
  assert(bad == nil and name == "EINVAL" and err:match("^EINVAL: "), err)
  assert(not pcall(json.encode, {f = print}))
  assert(not pcall(json.encode, 0 / 0))
  -- Another user of cjson keeps its own settings.
  local cjson = require "cjson"
  assert(cjson.encode_number_precision() ~= nil)
end)

test("os: the machine's facts in Node's shapes", function(expect, uv)
  local os_ = require "loom.os"
  assert(#os_.hostname() > 0 and os_.platform() == "linux" and os_.EOL == "\n")
  assert(os_.totalmem() > os_.freemem() and os_.freemem() > 0)
  assert(#os_.cpus() >= 1 and os_.cpus()[1].times.user >= 0)
  assert(#os_.loadavg() == 3 and os_.uptime() > 0)
  assert(os_.tmpdir() ~= "" and os_.homedir() ~= "")
  local lo = os_.networkInterfaces().lo
  assert(lo, "no loopback interface")
  local found = false
  for _, a in ipairs(lo) do
    if a.address == "127.0.0.1" then
      found = true
      assert(a.family == "IPv4" and a.internal == true and a.cidr == "127.0.0.1/8", a.cidr)
    end
  end
  assert(found)
  assert(({x64 = 1, arm64 = 1, ia32 = 1, arm = 1})[os_.arch()] or #os_.arch() > 0)
  assert(os_.userInfo().uid >= 0)
end)

test("inspect: any value, cycles, depth, names, escapes, p()", function(expect, uv)
  local inspect = require "loom.inspect"
  eq(inspect({1, 2, x = {y = "z\n"}}), '{ 1, 2, x = { y = "z\\n" } }')
  local t = {}
  t.self = t
  eq(inspect(t), "{ self = <cycle> }")
  eq(inspect({a = {b = {c = {d = {e = 1}}}}}), "{ a = { b = { c = { d = {...} } } } }")
  eq(inspect({a = {b = 1}}, {depth = 1}), "{ a = {...} }")
  eq(inspect(setmetatable({}, {__name = "Point"})), "Point {}")
  eq(inspect({[true] = 1.0, [2.5] = "x", ["not id"] = 0}),
     '{ [2.5] = "x", ["not id"] = 0, [true] = 1.0 }')
  eq(inspect("\0\255"), '"\\0\\255"')
  eq(inspect(0 / 0), "nan"); eq(inspect(math.huge), "inf"); eq(inspect(nil), "nil")
  local timer = uv.new_timer()
  assert(inspect(timer):match("^uv_timer_t: 0x"))
  timer:close()
  local long = {}
  for i = 1, 30 do long[i] = i * 1000 end
  assert(inspect(long):find("\n", 1, true), "long tables go on several lines")
  local bad = setmetatable({}, {__tostring = function() error("no") end})
  eq(inspect(bad), "{}")
  assert(inspect({1}, {colors = true}):find("\27[33m", 1, true))
  local out = T.loom('require("loom.inspect").p({1, "a"}, nil)')
  eq(out, '{ 1, "a" }\tnil\n')
end)

T.run()
