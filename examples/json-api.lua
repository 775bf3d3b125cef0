-- examples/json-api.lua: a small JSON API on loom.http, in the coroutine
-- style (each connection's requests run in a task).
--
--   loom examples/json-api.lua [PORT]     serve on 127.0.0.1:PORT (7090)
--   loom examples/json-api.lua --self-test
--
--   GET    /todos            the list
--   POST   /todos            {"title": "..."} -> 201 and the new item
--   GET    /todos/ID         one item, or 404
--   DELETE /todos/ID         204, or 404
-- Bodies larger than 64 KiB get 413 (maxBodySize); a body that is not a
-- JSON object with a title gets 400.
local http = require "loom.http"
local json = require "loom.json"
local task = require "loom.task"

local todos, next_id = {}, 1

local function reply(res, status, value)
  local body = value == nil and "" or json.encode(value)
  res:writeHead(status, {["Content-Type"] = "application/json"})
  res:finish(body)
end

local routes = {}

routes["GET /todos"] = function(_, res)
  local list = {}
  for id = 1, next_id - 1 do
    if todos[id] then list[#list + 1] = todos[id] end
  end
  reply(res, 200, json.array(list))
end

routes["POST /todos"] = function(req, res)
  local body, err = req:body()
  if not body then return reply(res, 400, {error = err}) end
  local item = json.decode(body)
  if type(item) ~= "table" or type(item.title) ~= "string" then
    return reply(res, 400, {error = "a JSON object with a string title expected"})
  end
  local todo = {id = next_id, title = item.title, done = false}
  todos[next_id] = todo
  next_id = next_id + 1
  reply(res, 201, todo)
end

routes["GET /todos/:id"] = function(_, res, id)
  if not todos[id] then return reply(res, 404, {error = "no such todo"}) end
  reply(res, 200, todos[id])
end

routes["DELETE /todos/:id"] = function(_, res, id)
  if not todos[id] then return reply(res, 404, {error = "no such todo"}) end
  todos[id] = nil
  reply(res, 204)
end

local server = http.createServer({task = true, maxBodySize = 65536}, function(req, res)
  local path = req.url:match("^[^?#]*")
  local id = tonumber(path:match("^/todos/(%d+)$"))
  local route = routes[req.method .. " " .. (id and "/todos/:id" or path)]
  if not route then return reply(res, 404, {error = "not found"}) end
  route(req, res, id)
end)

local self_test = arg[1] == "--self-test"
assert(server:listen(self_test and 0 or tonumber(arg[1] or "7090"), "127.0.0.1"))
local port = server:address().port
if not self_test then
  print("JSON API on http://127.0.0.1:" .. port .. "/todos")
  return
end

task.spawn(function()
  local base = "http://127.0.0.1:" .. port
  local function call(method, path, body)
    local res = assert(http.fetch(base .. path, {method = method, body = body,
                                                 headers = {["Content-Type"] = "application/json"}}))
    local text = res:body()
    return res.statusCode, text ~= "" and json.decode(text) or nil
  end
  local status, item = call("POST", "/todos", json.encode{title = "write the docs"})
  assert(status == 201 and item.id == 1 and item.done == false)
  assert(call("POST", "/todos", json.encode{title = "ship"}) == 201)
  local _, list = call("GET", "/todos")
  assert(#list == 2 and list[2].title == "ship")
  assert(call("POST", "/todos", "not json") == 400)
  assert(call("POST", "/todos", ("x"):rep(70000)) == 413)
  assert(call("DELETE", "/todos/1") == 204)
  assert(call("GET", "/todos/1") == 404)
  _, list = call("GET", "/todos")
  assert(#list == 1 and list[1].id == 2)
  print("self-test ok: " .. #list .. " todo left")
  http.globalAgent:destroy()
  server:close()
end)
