-- test-http-parser.lua: uv.new_http_parser (beyond luv), the binding of
-- the C parser that loom.http reads connections with. The parser's own
-- rules are tested in tests/c/test-http.c; here, what Lua gets.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test
local uv = T.uv

test("head: a request into the table given, headers case-insensitive", function()
  local p = uv.new_http_parser("request", {raw_headers = true})
  local s = "xxGET /a?b=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\n" ..
            "set-cookie: b=2, c\r\nContent-Length: 5\r\n\r\nhello"
  local req = {}
  local n, same, unusual = p:head(s, 3, req)
  assert(n == #s - 2 - 5, n)
  assert(same == req and unusual == false)
  assert(req.method == "GET" and req.url == "/a?b=1" and req.httpVersion == "1.1")
  assert(req.headers.host == "h" and req.headers.Host == "h" and req.headers.HOST == "h")
  assert(req.headers["x-a"] == "1, 2")
  local cookies = req.headers["set-cookie"]
  assert(cookies[1] == "a=1" and cookies[2] == "b=2, c" and #cookies == 2)
  assert(req._body == "length" and req._length == 5 and req._keepAlive == true)
  assert(#req.rawHeaders == 12 and req.rawHeaders[1] == "Host" and req.rawHeaders[4] == "1")
  assert(req.upgrade == nil and req._expectContinue == nil)
  -- Names of one length that differ are not repeats; a third repeat
  -- joins the two before it, whatever the case.
  local _, r2 = p:head("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-B: 2\r\nx-A: 3\r\nXA: 4\r\nX-a: 5\r\n\r\n")
  assert(r2.headers["x-a"] == "1, 3, 5" and r2.headers["x-b"] == "2" and r2.headers.xa == "4",
         r2.headers["x-a"])
  -- The third value says that the head asks for more than a plain
  -- exchange: an upgrade, CONNECT, or Expect: 100-continue.
  for _, head in ipairs{"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n",
                        "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
                        "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n"} do
    local m, t, more = p:head(head, 1)
    assert(m == #head and type(t) == "table" and more == true, head)
  end
end)

test("head: incomplete input is false; the search resumes where it stopped", function()
  local p = uv.new_http_parser("request")
  local full = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
  for i = 1, #full - 1 do
    assert(p:head(full:sub(1, i), 1, {}) == false)
  end
  local req = {}
  assert(p:head(full, 1, req) == #full)
  assert(req._keepAlive == false and req._body == "none")
end)

test("head: errors are nil, 'EPROTO: ...', 'EPROTO', and the status to answer", function()
  local p = uv.new_http_parser("request", {max_head = 200, max_fields = 3, max_target = 20})
  local function check(s, status, msg)
    p:reset()
    local r, err, name, code = p:head(s, 1, {})
    assert(r == nil and name == "EPROTO" and code == status, tostring(err))
    assert(err:match("^EPROTO: " .. msg), err)
  end
  check("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        400, "both Content%-Length and Transfer%-Encoding")
  check("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "LF without CR")
  check("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding")
  check("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505, "HTTP version not supported")
  check("GET /" .. ("a"):rep(30) .. " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "request target too long")
  check("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, "too many header fields")
  check("GET / HTTP/1.1\r\nHost: a\r\nX: " .. ("v"):rep(300), 431, "header section too large")
end)

test("head: a response, framed by the request's method", function()
  local p = uv.new_http_parser("response")
  local res = {}
  local s = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"
  assert(p:head(s, 1, res) == #s)
  assert(res.statusCode == 404 and res.statusMessage == "Not Found" and res._body == "length")
  res = {}
  assert(p:head(s, 1, res, "HEAD") == #s and res._body == "none")
  res = {}
  s = "HTTP/1.0 200 OK\r\n\r\n"
  assert(p:head(s, 1, res) == #s and res._body == "eof" and res._keepAlive == false)
end)

test("chunked: data from every whole piece, the next position, trailers at the end", function()
  local p = uv.new_http_parser("request")
  local s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" ..
            "5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\n\r\nNEXT"
  local req = {}
  local n = p:head(s, 1, req)
  assert(req._body == "chunked")
  -- In two parts: up to the middle of the second chunk, then the rest.
  local cut = s:find("wor", 1, true)
  local data, pos, done = p:chunked(s:sub(1, cut), n + 1)
  assert(data == "hello w" and pos == cut + 1 and done == false, data)
  local rest, trailers
  rest, pos, done, trailers = p:chunked(s, pos)
  assert(rest == "orld" and done == true and trailers["x-sum"] == "abc")
  assert(s:sub(pos) == "NEXT")
  -- Errors come as from head().
  p:reset()
  local r, err, name, code = p:chunked("zz\r\n")
  assert(r == nil and name == "EPROTO" and code == 400 and err:match("invalid chunk size"))
end)

test("head: a parser reuses the strings of the last head only where the bytes match", function()
  local p = uv.new_http_parser("request", {lean = true})
  local long = ("v"):rep(600)
  local heads = {
    {"Host: a\r\nAccept: x\r\n", {host = "a", accept = "x"}},
    {"Host: b\r\nAccept: x\r\n", {host = "b", accept = "x"}},
    {"HOST: b\r\nACCEPT: X\r\n", {host = "b", accept = "X"}},
    {"Host: bb\r\nX-Long: " .. long .. "\r\n", {host = "bb", ["x-long"] = long}},
    {"Host: bb\r\nX-Long: " .. long .. "\r\n", {host = "bb", ["x-long"] = long}},
    {"Host: bc\r\nX-Lonh: 1\r\nA: 2\r\n", {host = "bc", ["x-lonh"] = "1", a = "2"}},
    {"Host: h\r\n", {host = "h"}},
  }
  for i, case in ipairs(heads) do
    local s = "GET / HTTP/1.1\r\n" .. case[1] .. "\r\n"
    local n, req, unusual, body, length, keep = p:head(s)
    assert(n == #s and unusual == false and body == "none" and length == 0 and keep == true, i)
    -- A lean parser keeps the framing out of the message.
    assert(req._body == nil and req._keepAlive == nil, i)
    local count = 0
    for k, v in pairs(req.headers) do
      count = count + 1
      assert(case[2][k] == v, ("head %d: %s = %s"):format(i, k, v))
    end
    for _ in pairs(case[2]) do count = count - 1 end
    assert(count == 0, i)
  end
end)

test("read_start: while armed, a read that is one whole head arrives parsed; the rest as data", function(expect)
  local p = uv.new_http_parser("request", {lean = true})
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local head = "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n"
  local client = uv.new_tcp()
  local events = {}
  -- Each step: what the client sends, once the last read has been seen.
  local steps = {
    head,                                  -- armed: parsed, answer true
    head,                                  -- parsed again, answer false
    head,                                  -- disarmed: data
    "ARM",                                 -- (re-armed by p:arm())
    head .. head,                          -- two heads: data
    "ARM",
    "GET / HTTP/1.1\r\nHost: h\r\n",        -- half a head: data
    "\r\n",                                -- disarmed: data
    "ARM",
    "GET / HTTP/1.1\r\nHost h\r\n\r\n",     -- a head the parser refuses: data
  }
  local step = 0
  local conn
  local function next_step()
    step = step + 1
    local what = steps[step]
    if what == "ARM" then
      p:arm()
      return next_step()
    end
    if what then client:write(what) else client:shutdown() end
  end
  assert(server:listen(4, expect(function()
    conn = uv.new_tcp()
    assert(server:accept(conn))
    server:close()
    p:arm()
    assert(p:read_start(conn, function(err, data, msg, unusual, kind, length, keep)
      if msg then
        assert(err == nil and data == false and msg.method == "GET" and msg.url == "/x")
        assert(msg.headers["x-a"] == "1" and unusual == false and kind == "none" and
               length == 0 and keep == true)
        events[#events + 1] = "head"
        next_step()
        return #events == 1
      end
      if data then
        events[#events + 1] = #data
        next_step()
        return true -- the answer counts only for parsed heads
      end
      events[#events + 1] = "eof"
      conn:close()
      client:close()
    end))
  end)))
  client:connect("127.0.0.1", server:getsockname().port, expect(function(err)
    assert(not err, err)
    next_step()
  end))
  uv.run()
  local want = {"head", "head", #head, #head * 2, #steps[7], #steps[8], #steps[10], "eof"}
  assert(#events == #want, table.concat(events, " "))
  for i = 1, #want do assert(events[i] == want[i], table.concat(events, " ")) end
  T.raises("bad argument #1 to '.-' %(loom_http_parser expected", p.read_start, {}, conn, print)
  T.raises("bad argument #1 to '.-' %(loom_http_parser expected", p.arm, {})
end)

test("heads in a row: method, target and reason kept or made again as the bytes say", function()
  local p = uv.new_http_parser("request")
  local want = {{"GET", "/a"}, {"GET", "/a"}, {"POST", "/b"}, {"GET", "/a"}, {"GET", "/a?x"},
                {"DELETE", ("/" .. ("p"):rep(600))}, {"DELETE", ("/" .. ("p"):rep(600))}}
  for _, w in ipairs(want) do
    local head = w[1] .. " " .. w[2] .. " HTTP/1.1\r\nHost: h\r\n\r\n"
    local n, req = p:head(head)
    assert(n == #head and req.method == w[1] and req.url == w[2], w[1] .. " " .. w[2])
  end
  local r = uv.new_http_parser("response")
  for _, w in ipairs{{200, "OK"}, {200, "OK"}, {404, "Not Found"}, {200, "OK"}, {204, ""}} do
    local head = "HTTP/1.1 " .. w[1] .. " " .. w[2] .. "\r\nContent-Length: 0\r\n\r\n"
    local n, res = r:head(head, 1, nil, "GET")
    assert(n == #head and res.statusCode == w[1] and res.statusMessage == w[2], head)
  end
end)

-- Runs write(conn) on the server side of a fresh loopback connection,
-- then ends it; returns all the client read.
local function written_by(write)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  local got = {}
  assert(server:listen(1, function()
    local conn = uv.new_tcp()
    server:accept(conn)
    write(conn)
    conn:shutdown(function() conn:close() end)
  end))
  local client = uv.new_tcp()
  client:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    client:read_start(function(rerr, data)
      assert(not rerr, rerr)
      if data then got[#got + 1] = data else client:close() server:close() end
    end)
  end)
  uv.run()
  return table.concat(got)
end

test("http_respond: the Content-Length line for every width of length; none for 204/304", function()
  local lengths = {0, 7, 10, 99, 12345, 4294967296, math.maxinteger}
  local text = written_by(function(conn)
    for _, n in ipairs(lengths) do
      uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", false, 200, n, nil, "", "")
    end
    uv.http_respond(conn, "HTTP/1.1 204 No Content\r\n", false, 204, 0, nil, "", "")
    uv.http_respond(conn, "HTTP/1.1 304 Not Modified\r\n", false, 304, 5, nil, "", "")
  end)
  local want = {}
  for _, n in ipairs(lengths) do
    want[#want + 1] = ("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"):format(n)
  end
  want[#want + 1] = "HTTP/1.1 204 No Content\r\n\r\n"
  want[#want + 1] = "HTTP/1.1 304 Not Modified\r\n\r\n"
  local expected = table.concat(want)
  assert(text == expected, ("%q"):format(text))
  local client = uv.new_tcp()
  T.raises("length must not be negative", uv.http_respond, client, "HTTP/1.1 200 OK\r\n",
           false, 200, -1, nil, "", "")
  client:close()
end)

test("http_date: the IMF-fixdate of now; http_respond writes it for a date of true", function()
  local IMF = "^%u%l%l, %d%d %u%l%l %d%d%d%d %d%d:%d%d:%d%d GMT$"
  local before = os.date("!%a, %d %b %Y %H:%M:%S GMT")
  local value = uv.http_date()
  local after = os.date("!%a, %d %b %Y %H:%M:%S GMT")
  assert(value:match(IMF), value)
  -- The names are English whatever the locale; the second is the clock's.
  assert(value == before or value == after, value .. " not " .. before)
  local text = written_by(function(conn)
    uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", false, 200, 1, "a", true, "")
    uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", false, 200, 1, "b", false, "")
    uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", false, 200, 1, "c", nil, "X: y\r\n")
  end)
  local date = text:match("^HTTP/1%.1 200 OK\r\nContent%-Length: 1\r\nDate: ([^\r]+)\r\n\r\na")
  assert(date and date:match(IMF), ("%q"):format(text))
  local rest = text:sub(#"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: \r\n\r\na" + #date + 1)
  assert(rest == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb" ..
                 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: y\r\n\r\nc", ("%q"):format(rest))
end)

test("http_respond: fields (arrays, numbers) and a text larger than its stack buffer", function()
  local body = ("0123456789abcdef"):rep(600)           -- 9600 bytes
  local fields = {"x-n", "X-N", 42, "set-cookie", "Set-Cookie", {"a=1", "b=2"},
                  "x-long", "X-Long", ("v"):rep(3000)}
  local text = written_by(function(conn)
    -- Around the buffer's edge too: texts of 4095, 4096 and 4097 bytes.
    local head = "HTTP/1.1 200 OK\r\nContent-Length: 4058\r\n\r\n"
    for extra = -1, 1 do
      local n = 4096 - #head + extra
      uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", false, 200, n, ("z"):rep(n), "", "")
    end
    uv.http_respond(conn, "HTTP/1.1 200 OK\r\n", fields, 200, #body, body, "", "")
  end)
  local want = {}
  for extra = -1, 1 do
    local n = 4096 - #"HTTP/1.1 200 OK\r\nContent-Length: 4058\r\n\r\n" + extra
    want[#want + 1] = ("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"):format(n) .. ("z"):rep(n)
    assert(#want[#want] == 4096 + extra)
  end
  want[#want + 1] = "HTTP/1.1 200 OK\r\nX-N: 42\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n" ..
                    "X-Long: " .. ("v"):rep(3000) .. "\r\nContent-Length: 9600\r\n\r\n" .. body
  local expected = table.concat(want)
  assert(text == expected, #text .. " bytes, expected " .. #expected)
end)

test("http_respond: fields changed by a finalizer while a large answer is made raise, never overrun", function()
  local failures, last = 0, nil
  local text = written_by(function(conn)
    -- Every allocation steps the collector, and the finalizers grow the
    -- fields: the allocation between http_respond's two passes runs some.
    collectgarbage("incremental", 0, 1000)
    for _ = 1, 200 do
      local fields = {"x", "X", "1"}
      for _ = 1, 20 do
        setmetatable({}, {__gc = function()
          fields[#fields + 1], fields[#fields + 2], fields[#fields + 3] = "y", "Y", ("v"):rep(300)
        end})
      end
      local ok, err = pcall(uv.http_respond, conn, "HTTP/1.1 200 OK\r\n", fields, 200, 5000,
                            ("b"):rep(5000), "", "")
      if not ok then failures, last = failures + 1, err end
    end
    collectgarbage("generational")
  end)
  assert(last == nil or last:match("the fields changed while the answer was made"), last)
  -- What was sent is whole answers, one after another: nothing from past
  -- a block.
  local p, pos, answers = uv.new_http_parser("response"), 1, 0
  while pos <= #text do
    local n, res = p:head(text, pos, nil, "GET")
    assert(n and res.statusCode == 200 and res.headers["content-length"] == "5000", pos)
    pos = pos + n
    assert(text:sub(pos, pos + 4999) == ("b"):rep(5000), pos)
    pos = pos + 5000
    answers = answers + 1
  end
  assert(answers + failures == 200, answers .. " + " .. failures)
end)

test("bad arguments raise naming the argument", function()
  T.raises("bad argument #1 to 'loom.new_http_parser'", uv.new_http_parser, "both")
  T.raises("max_head must be an integer", uv.new_http_parser, "request", {max_head = 0})
  T.raises("max_fields must be an integer", uv.new_http_parser, "request", {max_fields = 1e9})
  local p = uv.new_http_parser("request")
  T.raises("bad argument #4 to '.-' %(table expected", p.head, p, "GET", 1, 42)
  local n, t = p:head("GET / HTTP/1.0\r\n\r\n")
  assert(n == 18 and t.method == "GET" and t.httpVersion == "1.0")
  -- metatable: the tables head() makes get it.
  local mt = {__index = {kind = "request object"}}
  local pm = uv.new_http_parser("request", {metatable = mt})
  local _, m = pm:head("GET / HTTP/1.0\r\n\r\n")
  assert(getmetatable(m) == mt and m.kind == "request object")
  T.raises("position out of range", p.head, p, "GET", 9, {})
  T.raises("bad argument #1 to '.-' %(loom_http_parser expected", p.head, {}, "GET", 1, {})
  assert(tostring(p):match("^loom_http_parser %(request%)"))
end)

T.run()
