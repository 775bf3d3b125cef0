-- loom.http: HTTP/1.1 server and client in Node's shapes (callbacks and
-- emitters), with a coroutine style over the same objects.
--
--   local http = require "loom.http"
--   http.createServer(function(req, res) res:finish("hi\n") end):listen(8080)
--
--   local res = http.fetch("http://127.0.0.1:8080/")   -- in a task
--   print(res.statusCode, res:body())
--
-- The server is loom.http.server, the client loom.http.client; the parser
-- is C (src/http).
local common = require "loom.http.common"
local server = require "loom.http.server"
local client = require "loom.http.client"

local M = {}
M.STATUS_CODES = common.STATUS_CODES
M.METHODS = common.METHODS
M.createServer = server.createServer
M.Server = server.Server
M.IncomingMessage = server.IncomingMessage
M.ServerResponse = server.ServerResponse
M.request = client.request
M.get = client.get
M.fetch = client.fetch
M.Agent = client.Agent
M.globalAgent = client.globalAgent
M.ClientRequest = client.ClientRequest

return M
