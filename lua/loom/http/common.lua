-- loom.http.common: what the HTTP server and client share: status texts,
-- methods, header checks, the Date value, and the binding's parser.
local uv = require "loom"
local stream = require "loom.stream"

local M = {}

M.STATUS_CODES = {
  [100] = "Continue", [101] = "Switching Protocols", [102] = "Processing",
  [103] = "Early Hints",
  [200] = "OK", [201] = "Created", [202] = "Accepted",
  [203] = "Non-Authoritative Information", [204] = "No Content", [205] = "Reset Content",
  [206] = "Partial Content", [207] = "Multi-Status", [208] = "Already Reported",
  [226] = "IM Used",
  [300] = "Multiple Choices", [301] = "Moved Permanently", [302] = "Found",
  [303] = "See Other", [304] = "Not Modified", [305] = "Use Proxy",
  [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [406] = "Not Acceptable", [407] = "Proxy Authentication Required",
  [408] = "Request Timeout", [409] = "Conflict", [410] = "Gone",
  [411] = "Length Required", [412] = "Precondition Failed", [413] = "Payload Too Large",
  [414] = "URI Too Long", [415] = "Unsupported Media Type", [416] = "Range Not Satisfiable",
  [417] = "Expectation Failed", [418] = "I'm a Teapot", [421] = "Misdirected Request",
  [422] = "Unprocessable Entity", [423] = "Locked", [424] = "Failed Dependency",
  [425] = "Too Early", [426] = "Upgrade Required", [428] = "Precondition Required",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [451] = "Unavailable For Legal Reasons",
  [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
  [505] = "HTTP Version Not Supported", [506] = "Variant Also Negotiates",
  [507] = "Insufficient Storage", [508] = "Loop Detected", [510] = "Not Extended",
  [511] = "Network Authentication Required",
}

M.METHODS = {"ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD",
             "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL",
             "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH",
             "PURGE", "PUT", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE",
             "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE"}

-- "HTTP/1.1 200 OK\r\n" for each code, made once.
local status_lines = setmetatable({}, {__index = function(t, code)
  local line = ("HTTP/1.1 %d %s\r\n"):format(code, M.STATUS_CODES[code] or "Unknown")
  t[code] = line
  return line
end})
M.status_lines = status_lines

--- Raises unless name is a token and value holds no CR, LF or NUL (a
--- value with a line break would let a caller's input add fields of its
--- own: response splitting).
function M.check_header(name, value, level)
  if type(name) ~= "string" or not name:match("^[!#$%%&'*+%-.^_`|~%w]+$") then
    error("bad header name (a token expected, got " .. tostring(name) .. ")", level + 1)
  end
  local t = type(value)
  if t == "table" then
    for i = 1, #value do M.check_header(name, value[i], level + 1) end
    return
  end
  if t == "number" then return end
  if t ~= "string" then
    error("bad value for header '" .. name .. "' (string expected, got " .. t .. ")", level + 1)
  end
  if value:find("[\r\n%z]") then
    error("bad value for header '" .. name .. "' (CR, LF or NUL)", level + 1)
  end
end

-- The Date field's value (the binding's, made again when the second
-- changes) and its whole line, remade when the value changes.
local http_date = uv.http_date
local date_value, date_line = nil, nil
M.date = http_date
function M.date_line()
  local value = http_date()
  if value ~= date_value then
    date_value, date_line = value, "Date: " .. value .. "\r\n"
  end
  return date_line
end

-- "Content-Length: N\r\n", kept for the small lengths most answers have.
local length_lines = {}
function M.length_line(n)
  local line = length_lines[n]
  if not line then
    line = "Content-Length: " .. n .. "\r\n"
    if n < 4096 then length_lines[n] = line end
  end
  return line
end

M.new_parser = uv.new_http_parser

-- What a request (server side) and a response (client side) share: a
-- Readable of the body whose source is the connection. Its errors reach
-- only "error" listeners: a peer that goes away must not reach the
-- loop's error policy ("aborted" and "close" tell the rest).
local IncomingMessage = stream.Readable:extend("loom.http.IncomingMessage")
M.IncomingMessage = IncomingMessage
IncomingMessage._co = true
IncomingMessage.complete = false
IncomingMessage.aborted = false

-- The reader wants more of the body: the connection reads again (if this
-- message is still the one it reads for).
function IncomingMessage:_read()
  local c = self._conn
  if c then c:_resumeFor(self) end
end

--- In a task: the whole body as a string ("" for none), or nil and an
--- error (EMSGSIZE past max bytes).
function IncomingMessage:body(max)
  return self:readAll(max)
end

return M
