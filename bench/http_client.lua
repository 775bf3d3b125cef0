-- bench/http_client.lua PORT N CONC: N GET requests through loom.http's
-- client (a keep-alive Agent), CONC tasks at a time, against a server on
-- 127.0.0.1:PORT. Prints the time and the connections made.
local http = require "loom.http"
local task = require "loom.task"
local uv = require "loom"
local port, n, conc = tonumber(arg[1]), tonumber(arg[2] or "100000"), tonumber(arg[3] or "10")
local agent = http.Agent:new({keepAlive = true, maxSockets = conc})
local url = "http://127.0.0.1:" .. port .. "/"
local left = n
local t0 = uv.hrtime()
task.run(function()
  task.group(function(g)
    for _ = 1, conc do
      g:spawn(function()
        while left > 0 do
          left = left - 1
          local res = assert(http.fetch(url, {agent = agent}))
          assert(res:body() == "hello world\n")
        end
      end)
    end
  end)
end)
local ms = (uv.hrtime() - t0) / 1e6
print(("loom client: %d requests in %.0f ms (%.0f req/s), %d connections"):format(
  n, ms, n / ms * 1000, agent.created))
agent:destroy()
