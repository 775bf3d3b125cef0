-- test-lib-http.lua: the loom.http server, with real clients: curl, wrk,
-- Node's http client, and raw sockets for what no polite client sends
-- (smuggling attempts, slow clients, pipelines nobody reads).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test, task_test = T.test, T.task_test
local http = require "loom.http"
local net = require "loom.net"
local task = require "loom.task"
local cp = require "loom.child_process"
local uv = require "loom"

-- A server on a free port of 127.0.0.1; returns it and the port.
local function serve(opts, handler)
  local srv = http.createServer(opts, handler)
  assert(srv:listen(0, "127.0.0.1"))
  return srv, srv:address().port
end

-- Sends raw bytes on a new connection and reads until the server closes
-- it (at most ms, default 5 s); returns what came back.
local function raw(port, bytes, ms)
  local s = assert(net.connect(port, "127.0.0.1"))
  s:settimeout(ms or 5000)
  s:write(bytes)
  local out = {}
  while true do
    local chunk = s:read()
    if not chunk then break end
    out[#out + 1] = chunk
  end
  s:destroy()
  return table.concat(out)
end

local function curl(...)
  local spec = {"curl", "-s", "--max-time", "10", maxBuffer = 8 << 20}
  for _, a in ipairs{...} do spec[#spec + 1] = a end
  local out, err, code = cp.run(spec)
  assert(out, err)
  return out, code
end

local hello = function(req, res)
  res:setHeader("Content-Type", "text/plain")
  res:finish("hello " .. req.method .. " " .. req.url .. "\n")
end

task_test("curl: GET, HEAD, keep-alive reuse, headers both ways", function()
  local srv, port = serve(nil, function(req, res)
    res:writeHead(201, {["X-Seen"] = req.headers["X-Test"] or "-", ["Set-Cookie"] = {"a=1", "b=2"}})
    res:finish("hello " .. req.method .. " " .. req.url .. "\n")
  end)
  local base = "http://127.0.0.1:" .. port
  local out = curl("-i", "-H", "X-Test: yes", base .. "/a?b=1")
  assert(out:match("^HTTP/1.1 201 Created\r\n"), out)
  assert(out:match("\r\nX%-Seen: yes\r\n") and out:match("Set%-Cookie: a=1\r\nSet%-Cookie: b=2"), out)
  assert(out:match("\r\nContent%-Length: 17\r\n") and out:match("\r\nDate: "), out)
  assert(out:match("\r\n\r\nhello GET /a%?b=1\n$"), out)
  out = curl("-I", base .. "/h")
  assert(out:match("^HTTP/1.1 201") and out:match("Content%-Length: 14") and not out:match("hello"), out)
  -- Two URLs in one curl: the second reuses the connection.
  local _, err = cp.run{"curl", "-sv", base .. "/1", base .. "/2"}
  local o2, e2 = cp.run{"sh", "-c", "curl -sv " .. base .. "/1 " .. base .. "/2 2>&1"}
  assert(o2:match("Re%-using existing connection"), o2 .. tostring(e2))
  assert(o2:match("hello GET /1") and o2:match("hello GET /2"), o2)
  srv:close()
end)

task_test("request bodies: Content-Length and chunked, callback and task styles", function()
  local cb_srv, cb_port = serve(nil, function(req, res)
    local parts = {}
    req:on("data", function(d) parts[#parts + 1] = d end)
    req:on("end", function() res:finish(#table.concat(parts) .. ":" .. table.concat(parts)) end)
  end)
  local co_srv, co_port = serve({task = true}, function(req, res)
    local body = assert(req:body())
    res:write(#body .. ":")
    res:write(body)
    -- Returning without finish: the response is finished for us.
  end)
  for _, port in ipairs{cb_port, co_port} do
    local base = "http://127.0.0.1:" .. port .. "/"
    assert(curl("--data-binary", "posted body", base) == "11:posted body")
    assert(curl("-H", "Transfer-Encoding: chunked", "--data-binary", "chunked body", base) ==
           "12:chunked body")
    local big = ("x"):rep(300000)
    local path = T.script_file(big)
    assert(curl("--data-binary", "@" .. path, base) == "300000:" .. big)
    -- Expect: 100-continue (curl sends it for bodies over 1 MiB).
    local huge = T.script_file(("y"):rep(1100000))
    local out = curl("-v", "--data-binary", "@" .. huge, base)
    assert(out:sub(1, 8) == "1100000:", out:sub(1, 40))
  end
  cb_srv:close(); co_srv:close()
end)

task_test("pipelined requests are answered in order", function()
  local srv, port = serve({task = true}, function(req, res)
    if req.url == "/slow" then task.sleep(50) end
    res:finish(req.url)
  end)
  local one = "GET %s HTTP/1.1\r\nHost: a\r\n\r\n"
  local out = raw(port, one:format("/slow") .. one:format("/b") ..
                  one:format("/c"):gsub("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n"))
  local bodies = {}
  for body in out:gmatch("\r\n\r\n(/%l+)") do bodies[#bodies + 1] = body end
  assert(table.concat(bodies, ",") == "/slow,/b,/c", out)
  srv:close()
end)

task_test("10,000 pipelined requests with the responses unread: memory stays bounded", function()
  local served = 0
  local srv, port = serve(nil, function(req, res)
    served = served + 1
    res:finish(("r"):rep(2000))
  end)
  local s = assert(net.connect(port, "127.0.0.1"))
  local one = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
  collectgarbage()
  local before = collectgarbage("count")
  s:write(one:rep(10000))
  task.sleep(300)
  collectgarbage()
  local grown = collectgarbage("count") - before
  -- The server stopped reading: far fewer than 10,000 served, and the
  -- heap holds no more than its read-ahead and the kernel's buffers.
  assert(served < 10000, served)
  assert(grown < 4096, ("heap grew %.0f KiB"):format(grown))
  -- Reading the responses lets it go on to the end.
  local got, carry = 0, ""
  while got < 10000 do
    local chunk = carry .. assert(s:read())
    local _, n = chunk:gsub("HTTP/1.1 200", "")
    got = got + n
    -- A status line cut between two reads is counted with the next.
    carry = chunk:sub(-11)
    if carry:find("HTTP/1.1 200", 1, true) then carry = "" end
  end
  assert(got == 10000 and served == 10000)
  s:destroy()
  srv:close()
end)

task_test("smuggling and malformed requests: 400 (or 413/414/431/505), then close", function()
  -- The handler reads the body first: errors in it are found before any
  -- answer.
  local srv, port = serve({maxBodySize = 1000, task = true}, function(req, res)
    req:body()
    res:finish("read")
  end)
  local cases = {
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", 400},
    {"GET / HTTP/1.1\nHost: a\n\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;" .. ("e"):rep(1 << 20) ..
     "\r\nx\r\n0\r\n\r\n", 400},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    {"GET /" .. ("u"):rep(9000) .. " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: " .. ("h"):rep(20000) .. "\r\n\r\n", 431},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", 413},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" .. ("b"):rep(2000) ..
     "\r\n0\r\n\r\n", 413},
  }
  for i, case in ipairs(cases) do
    -- A valid request after the bad one must not be answered: the
    -- connection is closed after the error.
    local out = raw(port, case[1] .. "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    assert(out:match("^HTTP/1.1 " .. case[2] .. " "), i .. ": " .. out:sub(1, 60))
    assert(out:match("Connection: close"), i .. ": " .. out)
    assert(not out:match("smuggled"), i .. ": " .. out)
  end
  srv:close()
end)

task_test("slowloris and slow bodies are cut off; a fresh client is served meanwhile", function()
  local srv, port = serve({headersTimeout = 300, requestTimeout = 500,
                           connectionsCheckingInterval = 50, task = true}, function(req, res)
    local body = req:body()
    res:finish("hello " .. req.method .. " " .. req.url .. "\n" .. (body or ""))
  end)
  local slow = task.spawn(function()
    local s = assert(net.connect(port, "127.0.0.1"))
    local head = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "
    for i = 1, #head do
      if not s:write(head:sub(i, i)) then break end
      task.sleep(20)
    end
    -- Dripping a header forever: cut off after headersTimeout.
    for _ = 1, 100 do
      if not s:write("z") then break end
      task.sleep(20)
    end
    local out = s:read() or ""
    s:destroy()
    return out
  end)
  local slow_body = task.spawn(function()
    local s = assert(net.connect(port, "127.0.0.1"))
    s:write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
    local out = s:read() or ""
    s:destroy()
    return out
  end)
  task.sleep(100)
  local t0 = uv.hrtime()
  assert(curl("http://127.0.0.1:" .. port .. "/fresh") == "hello GET /fresh\n")
  assert((uv.hrtime() - t0) / 1e6 < 1000)
  local out = slow:join()
  assert(out:match("^HTTP/1.1 408"), out)
  out = slow_body:join()
  assert(out:match("^HTTP/1.1 408"), out)
  srv:close()
end)

task_test("idle keep-alive connections close after keepAliveTimeout; close() ends idle ones", function()
  local srv, port = serve({keepAliveTimeout = 100, connectionsCheckingInterval = 20}, hello)
  local s = assert(net.connect(port, "127.0.0.1"))
  s:write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
  assert(s:readUntil("hello GET /\n"))
  local t0 = uv.hrtime()
  assert(s:read() == nil)  -- closed by the server
  local waited = (uv.hrtime() - t0) / 1e6
  assert(waited >= 90 and waited < 2000, waited)
  s:destroy()
  -- server:close(): the idle connection is closed, "close" follows.
  local s2 = assert(net.connect(port, "127.0.0.1"))
  s2:write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
  assert(s2:readUntil("hello GET /\n"))
  local closed = task.event()
  srv:close(function() closed:set() end)
  assert(s2:read() == nil)
  s2:destroy()
  assert(closed:wait(2000))
end)

task_test("errors in handlers: 500, the loop's error policy, the connection closed", function()
  local reported = {}
  local old = uv.on_error(function(err) reported[#reported + 1] = tostring(err) end)
  T.after(function() uv.on_error(old) end)
  local srv, port = serve({task = true}, function(req, res)
    if req.url == "/boom" then error("handler failed") end
    res:finish("ok")
  end)
  local out = raw(port, "GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
  assert(out:match("^HTTP/1.1 500 ") and out:match("Connection: close"), out)
  task.sleep(10)
  assert(#reported == 1 and reported[1]:match("handler failed"), table.concat(reported, "\n"))
  -- The report carries the handler's own traceback (this file's line).
  assert(reported[1]:match("test%-lib%-http%.lua:%d+"), reported[1])
  assert(curl("http://127.0.0.1:" .. port .. "/") == "ok")
  srv:close()
end)

task_test("errors in handlers of later requests: after a wait, after the head went out", function()
  local reported = {}
  local old = uv.on_error(function(err) reported[#reported + 1] = tostring(err) end)
  T.after(function() uv.on_error(old) end)
  local srv, port = serve({task = true}, function(req, res)
    if req.url == "/late" then
      task.sleep(5)
      error("late failure")
    elseif req.url == "/midway" then
      res:writeHead(200, {["Content-Type"] = "text/plain"})
      res:write("partial")
      task.sleep(5)
      error("midway failure")
    end
    res:finish("ok")
  end)
  -- A keep-alive connection's second request, its handler raising after
  -- a wait: 500 and close, the first answer untouched.
  local out = raw(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /late HTTP/1.1\r\nHost: a\r\n\r\n")
  local first, second = out:match("^(HTTP/1.1 200 .-\r\n\r\nok)(.*)$")
  assert(first and second:match("^HTTP/1.1 500 ") and second:match("Connection: close"), out)
  -- The head and part of the body sent: the connection is cut, nothing
  -- more is written (the client sees a body without its end).
  out = raw(port, "GET /midway HTTP/1.1\r\nHost: a\r\n\r\n")
  assert(out:match("^HTTP/1.1 200 ") and out:match("partial") and not out:match("500"), out)
  assert(out:match("\r\n0\r\n\r\n$") == nil, out)
  task.sleep(10)
  assert(#reported == 2 and reported[1]:match("late failure") and
         reported[2]:match("midway failure"), table.concat(reported, "\n"))
  srv:close()
end)

task_test("rawHeaders: the fields as received, on request", function()
  local seen
  local srv, port = serve({rawHeaders = true}, function(req, res)
    seen = req.rawHeaders
    res:finish("ok")
  end)
  local plain, pport = serve(nil, function(req, res)
    -- Numbers and arrays as values, HTTP/1.0 keep-alive: the binding's
    -- writer (uv.http_respond) makes these heads.
    res:setHeader("X-Num", 42)
    res:setHeader("X-List", {"a", 1.5})
    res:finish(tostring(req.rawHeaders))
  end)
  local out = raw(port, "GET / HTTP/1.1\r\nHost: h\r\nX-CamelCase: A\r\nx-camelcase: b\r\nConnection: close\r\n\r\n")
  assert(out:match("ok$"), out)
  assert(#seen == 8 and seen[1] == "Host" and seen[3] == "X-CamelCase" and seen[4] == "A" and
         seen[5] == "x-camelcase" and seen[6] == "b", table.concat(seen, "|"))
  out = raw(pport, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
  assert(out:match("nil$"), out)
  assert(out:match("\r\nX%-Num: 42\r\n") and out:match("\r\nX%-List: a\r\nX%-List: 1.5\r\n"), out)
  assert(out:match("\r\nConnection: close\r\n") and out:match("\r\nContent%-Length: 3\r\n"), out)
  -- HTTP/1.0 with keep-alive asked for: said back, and the connection stays.
  local s = assert(net.connect(pport, "127.0.0.1"))
  s:settimeout(5000)
  s:write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
  local head = assert(s:read())
  assert(head:match("^HTTP/1.1 200 OK\r\n") and head:match("\r\nConnection: keep%-alive\r\n"), head)
  s:write("GET / HTTP/1.0\r\n\r\n")
  local second = assert(s:read())
  assert(second:match("\r\nConnection: close\r\n") and second:match("nil$"), second)
  s:destroy()
  srv:close()
  plain:close()
end)

task_test("sendFile: bytes from a file by sendfile(2), ranges, HEAD, chunked, both styles", function()
  local fs = require "loom.fs"
  local dir = T.tmpdir()
  local lines = {}
  for i = 1, 300000 do lines[i] = ("%07d\n"):format(i) end
  local data = table.concat(lines) -- 2.4 MB: more than the socket holds
  assert(fs.writeFile(dir .. "/f", data))
  local fd = assert(fs.open(dir .. "/f"))
  -- Callback style: the file part goes after the head; cb says when.
  local sent_cb = 0
  local cb_srv, cb_port = serve(nil, function(req, res)
    local first = tonumber(req.headers["x-first"] or "0")
    local n = tonumber(req.headers["x-length"] or tostring(#data))
    if req.headers["x-chunked"] then res:setHeader("Transfer-Encoding", "chunked") end
    res:setHeader("Content-Type", "text/plain")
    if req.headers["x-finish"] then
      -- The caller's own chunked coding, with finish: framed too.
      return res:finish("abc")
    end
    assert(res:sendFile(fd, first, n, function(err)
      assert(err == nil, err)
      sent_cb = sent_cb + 1
    end) == res)
  end)
  -- Task style: sendFile waits until the bytes have gone.
  local co_srv, co_port = serve({task = true}, function(req, res)
    assert(res:sendFile(fd, 8, 16) == true)
    -- The response is over: a second answer is refused.
    local ok, err = res:sendFile(fd, 0, 1)
    assert(ok == nil and err:match("^EPIPE"), tostring(err))
  end)
  local base = "http://127.0.0.1:" .. cb_port
  local out = curl(base .. "/")
  assert(out == data, #out)
  out = curl("-i", "-H", "X-First: 80", "-H", "X-Length: 24", base .. "/")
  assert(out:match("\r\nContent%-Length: 24\r\n") and out:match("\r\n\r\n0000011\n0000012\n0000013\n$"), out)
  out = curl("-i", "-H", "X-Chunked: 1", "-H", "X-Length: 16", base .. "/")
  assert(out:match("\r\nTransfer%-Encoding: chunked\r\n"), out)
  out = curl("-H", "X-Chunked: 1", "-H", "X-Length: 16", base .. "/")
  assert(out == "0000001\n0000002\n", out)
  out = curl("-i", "-H", "X-Chunked: 1", "-H", "X-Finish: 1", base .. "/")
  assert(out:match("\r\nTransfer%-Encoding: chunked\r\n") and out:match("\r\n\r\nabc$"), out)
  out = curl("-I", base .. "/")
  assert(out:match("Content%-Length: " .. #data) and not out:match("0000001"), out)
  -- Keep-alive: several file answers on one connection, read by our client.
  for _ = 1, 3 do
    local res = assert(http.fetch(base .. "/", {headers = {["X-First"] = "8", ["X-Length"] = "8"}}))
    assert(res:body() == "0000002\n")
  end
  local res = assert(http.fetch("http://127.0.0.1:" .. co_port .. "/"))
  assert(res:body() == "0000002\n0000003\n")
  -- A slow reader: the file waits in the kernel's and the stream's queue,
  -- not in the Lua heap.
  local s = assert(net.connect(cb_port, "127.0.0.1"))
  collectgarbage()
  local heap = collectgarbage("count")
  s:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  task.sleep(100)
  assert(collectgarbage("count") - heap < 512, collectgarbage("count") - heap)
  local got = 0
  while got < #data do
    local chunk = assert(s:read())
    got = got + #chunk
  end
  s:destroy()
  assert(sent_cb == 9, sent_cb) -- 5 curl runs (one HEAD), 3 fetches, the slow reader
  T.raises("bad argument #2 to 'sendFile'", function()
    local r = setmetatable({}, {__index = http.ServerResponse})
    r:sendFile(fd, -1, 1)
  end)
  http.globalAgent:destroy()
  cb_srv:close()
  co_srv:close()
  assert(fs.close(fd))
end)

task_test("upgrade: the socket and the bytes after the head go to the 'upgrade' listener", function()
  local srv, port = serve(nil, hello)
  srv:on("upgrade", function(req, sock, head)
    assert(req.headers.upgrade == "echo" and head == "early")
    sock:write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
    sock:write(head)
    sock:on("data", function(d) sock:write(d) end)
    sock:on("end", function() sock:finish() end)
  end)
  local s = assert(net.connect(port, "127.0.0.1"))
  s:write("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly")
  assert(s:readUntil("\r\n\r\n"):match("^HTTP/1.1 101"))
  assert(s:read(5) == "early")
  s:write("more")
  assert(s:read(4) == "more")
  s:destroy()
  srv:close()
end)

task_test("real load: wrk for a second, keep-alive, no errors", function()
  local srv, port = serve(nil, hello)
  local out = assert(cp.run{"wrk", "-t1", "-c20", "-d1s", "http://127.0.0.1:" .. port .. "/w"})
  local n = tonumber(out:match("(%d+) requests in"))
  assert(n and n > 1000, out)
  assert(not out:match("Socket errors") and not out:match("Non%-2xx"), out)
  srv:close()
end)

task_test("Node's http client against the server (a second implementation)", function()
  local sockets, nsockets = {}, 0
  local srv, port = serve({task = true}, function(req, res)
    if not sockets[req.socket] then sockets[req.socket] = true; nsockets = nsockets + 1 end
    local body = req:body()
    res:setHeader("X-Method", req.method)
    res:setHeader("X-Headers", req.headers["x-a"] .. "|" .. tostring(req.headers["x-b"]))
    res:write(body:upper())
    res:finish("!")
  end)
  -- Three requests one after the other through a keep-alive agent: a
  -- Content-Length body, then chunked ones.
  local js = [==[
    const http = require('http');
    const agent = new http.Agent({keepAlive: true, maxSockets: 1});
    const out = [];
    function one(i) {
      const chunked = i > 0;
      const req = http.request({port: PORT, host: '127.0.0.1', method: 'POST', path: '/' + i, agent,
                                headers: Object.assign({'X-A': 'one', 'X-B': 'two'},
                                                       chunked ? {} : {'Content-Length': 5})}, (res) => {
        let b = ''; res.setEncoding('utf8');
        res.on('data', (d) => b += d);
        res.on('end', () => {
          out.push([res.statusCode, res.headers['x-method'], res.headers['x-headers'],
                    res.headers['transfer-encoding'], b].join(' '));
          if (i < 2) setTimeout(() => one(i + 1), 10); else { console.log(out.join('\n')); agent.destroy(); }
        });
      });
      if (chunked) { req.write('ab'); req.write('c'); req.end('de'); } else { req.end('hello'); }
    }
    one(0);
  ]==]
  local out, err = cp.run{"node", "-e", (js:gsub("PORT", tostring(port)))}
  assert(out, err)
  assert(out == "200 POST one|two chunked HELLO!\n200 POST one|two chunked ABCDE!\n" ..
                "200 POST one|two chunked ABCDE!\n", out)
  -- The agent kept the connection alive: one connection for three.
  assert(nsockets == 1, nsockets)
  srv:close()
end)

task_test("client: callback and coroutine forms, keep-alive reuse counted on both sides", function()
  local conns = {}
  local nconns = 0
  local srv, port = serve({task = true}, function(req, res)
    if not conns[req.socket] then conns[req.socket] = true; nconns = nconns + 1 end
    local body = req:body()
    res:setHeader("X-Url", req.url)
    res:finish(req.method .. " " .. body)
  end)
  local agent = http.Agent:new({keepAlive = true})
  local base = "http://127.0.0.1:" .. port
  for i = 1, 50 do
    local res = assert(http.fetch(base .. "/n" .. i, {method = "POST", body = "b" .. i, agent = agent}))
    assert(res.statusCode == 200 and res.headers["x-url"] == "/n" .. i)
    assert(res:body() == "POST b" .. i)
  end
  assert(agent.created == 1 and nconns == 1, agent.created .. " " .. nconns)
  -- The callback form.
  local got = task.event()
  http.get(base .. "/cb", {agent = agent}, function(res)
    local parts = {}
    res:on("data", function(d) parts[#parts + 1] = d end)
    res:on("end", function()
      got.text = res.statusCode .. " " .. table.concat(parts)
      got:set()
    end)
  end)
  assert(got:wait(5000) and got.text == "200 GET ", got.text)
  -- A chunked upload.
  local req = http.request(base .. "/up", {method = "PUT", agent = agent})
  req:write("ab")
  req:write("cde")
  local res = assert(req:finish())
  assert(res:body() == "PUT abcde")
  assert(agent.created == 1 and nconns == 1)
  agent:destroy()
  srv:close()
end)

task_test("client: errors, timeouts, and a kept-alive connection the server closed", function()
  local srv, port = serve({keepAliveTimeout = 50, connectionsCheckingInterval = 10, task = true},
                          function(req, res)
    if req.url == "/never" then task.sleep(2000) end
    res:finish("ok")
  end)
  local base = "http://127.0.0.1:" .. port
  local free = net.createServer()
  free:listen(0, "127.0.0.1")
  local closed_port = free:address().port
  free:close()
  local res, err = http.fetch("http://127.0.0.1:" .. closed_port .. "/")
  assert(res == nil and err:match("^ECONNREFUSED"), err)
  res, err = http.fetch(base .. "/never", {timeout = 100, agent = false})
  assert(res == nil and err:match("^ETIMEDOUT"), err)
  -- The server drops idle connections after 50 ms; the agent keeps them
  -- 5 s. The next GET meets a closed connection and goes again.
  local agent = http.Agent:new()
  assert(assert(http.fetch(base .. "/1", {agent = agent})):body() == "ok")
  task.sleep(200)
  res, err = http.fetch(base .. "/2", {agent = agent})
  assert(res and res:body() == "ok", err)
  agent:destroy()
  T.raises("bad URL", http.request, "not a url")
  T.raises("unsupported protocol 'https:'", http.request, "https://127.0.0.1/")
  srv:close()
end)

task_test("client against Node's http server (a second implementation)", function()
  local js = [==[
    const http = require('http');
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => body += d);
      req.on('end', () => {
        if (req.url === '/chunked') {
          res.setHeader('Trailer', 'X-Sum');
          res.write('one,'); res.write('two');
          res.addTrailers({'X-Sum': '7'});
          res.end();
        } else if (req.url === '/204') {
          res.writeHead(204); res.end();
        } else if (req.url === '/close') {
          res.writeHead(200, {'Connection': 'close'}); res.end('bye');
        } else {
          res.writeHead(200, {'Content-Type': 'text/plain', 'X-Req-TE': String(req.headers['transfer-encoding']),
                              'Set-Cookie': ['a=1', 'b=2']});
          res.end(req.method + ' ' + req.url + ' ' + body);
        }
      });
    });
    srv.keepAliveTimeout = 5000;
    srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
  ]==]
  local node = cp.spawn("node", {"-e", js}, {stdio = {"pipe", "pipe", "inherit"}})
  local port = tonumber(node.stdout:readLine())
  assert(port, "node did not start")
  local base = "http://127.0.0.1:" .. port
  local agent = http.Agent:new()
  local res = assert(http.fetch(base .. "/a?b=1", {agent = agent}))
  assert(res.statusCode == 200 and res.headers["content-type"] == "text/plain")
  assert(res.headers["set-cookie"][1] == "a=1" and res.headers["set-cookie"][2] == "b=2")
  assert(res:body() == "GET /a?b=1 ")
  local req = http.request(base .. "/up", {method = "POST", agent = agent})
  req:write("x")
  req:write("yz")
  res = assert(req:finish())
  assert(res.headers["x-req-te"] == "chunked" and res:body() == "POST /up xyz")
  res = assert(http.fetch(base .. "/chunked", {agent = agent}))
  assert(res.headers["transfer-encoding"] == "chunked" and res:body() == "one,two")
  assert(res.trailers and res.trailers["x-sum"] == "7")
  res = assert(http.fetch(base .. "/204", {agent = agent}))
  assert(res.statusCode == 204 and res:body() == "")
  res = assert(http.fetch(base .. "/h", {method = "HEAD", agent = agent}))
  assert(res.statusCode == 200 and res:body() == "")
  assert(agent.created == 1, agent.created)
  res = assert(http.fetch(base .. "/close", {agent = agent}))
  assert(res:body() == "bye")
  res = assert(http.fetch(base .. "/after", {agent = agent}))
  assert(res:body() == "GET /after ")
  assert(agent.created == 2, agent.created)
  agent:destroy()
  node.stdin:finish()
  assert(node:wait(5000) == 0)
end)

task_test("a large answer to a large body the handler never read arrives whole", function()
  local big = ("z"):rep(200000)
  local srv, port = serve(nil, function(_, res) res:finish(big) end)
  local res = assert(http.fetch("http://127.0.0.1:" .. port .. "/", {method = "POST", body = big,
                                                                   agent = false}))
  local body, err = res:body()
  assert(body == big, tostring(err))
  -- A chunked upload the same way.
  local req = http.request("http://127.0.0.1:" .. port .. "/", {method = "PUT", agent = false})
  req:write(big)
  res = assert(req:finish())
  assert(res:body() == big)
  srv:close()
end)

test("bad arguments raise naming the argument", function()
  T.raises("bad argument #1 to 'createServer' %(options table expected", http.createServer, 42)
  T.raises("bad argument #2 to 'createServer' %(function expected", http.createServer, {}, 42)
  T.raises("bad option headersTimeout", http.createServer, {headersTimeout = -1})
  local res = setmetatable({}, http.ServerResponse)
  T.raises("bad value for header 'X' %(CR, LF or NUL%)", res.setHeader, res, "X", "a\r\nInjected: 1")
  T.raises("bad header name", res.setHeader, res, "Bad Name", "v")
  T.raises("bad argument #1 to 'writeHead' %(status code", res.writeHead, res, 42)
end)

T.run()
