-- loom.http: HTTP/1.1 server and client in Node's shapes (callbacks and
-- emitters), with a coroutine style over the same objects.
--
--   local http = require "loom.http"
--   http.createServer(function(req, res) res:finish("hi\n") end):listen(8080)
--
-- The server is loom.http.server; the parser is C (src/http).
local common = require "loom.http.common"
local server = require "loom.http.server"

local M = {}
M.STATUS_CODES = common.STATUS_CODES
M.METHODS = common.METHODS
M.createServer = server.createServer
M.Server = server.Server
M.IncomingMessage = server.IncomingMessage
M.ServerResponse = server.ServerResponse

return M
