-- loom.fs: files in Node's `fs` shapes, in three forms each.
--
--   local fs = require "loom.fs"
--   fs.readFile("a.txt", function(err, data) ... end)    -- callback
--   task.spawn(function() local data, err = fs.readFile("a.txt") end)  -- coroutine
--   local data, err = fs.readFile("a.txt")               -- outside a task: sync
--
-- With a callback the work runs on the thread pool and cb(err, ...)
-- follows; in a task without one the task waits (the loop goes on); in
-- plain code without one the call blocks, as luv's sync form does.
-- Failures are nil, "ENOENT: no such file or directory: a.txt", "ENOENT"
-- (callbacks get the message as err).
local uv = require "loom"
local Emitter = require "loom.emitter"
local stream = require "loom.stream"
local task = require "loom.task"

local M = {}
local wake, park = task.wake, task.park
local pack, unpack = table.pack, table.unpack

local err_name = stream.err_name

local function clear_flag(state)
  state.waiting = false
  if state.req then pcall(uv.cancel, state.req) end
end

-- One binding call: async and waiting in a task, synchronous elsewhere.
-- Returns the binding's results, or nil, err, name.
local function call(fn, ...)
  local me = task.current()
  if not me then return fn(...) end
  local state = {waiting = true}
  local n = select("#", ...)
  local args = pack(...)
  args[n + 1] = function(err, ...)
    if not state.waiting then return end
    state.waiting = false
    if err then wake(me, nil, err, err_name(err)) else wake(me, true, ...) end
  end
  local req, err = fn(unpack(args, 1, n + 1))
  if not req then
    state.waiting = false
    return nil, err, err_name(err)
  end
  state.req = req
  local r = pack(park(me, clear_flag, nil, state))
  if r[1] == nil then return nil, r[2], r[3] end
  if r.n == 1 then return true end -- operations with no result
  return unpack(r, 2, r.n)
end

-- Runs body(...) in the three forms: with cb, in a new task whose result
-- goes to cb(err, ...); in a task, directly; outside, directly too (its
-- binding calls are then synchronous). body returns values or nil, err.
local function three(body, cb, ...)
  if cb == nil then return body(...) end
  if type(cb) ~= "function" then error("bad callback (function expected, got " .. type(cb) .. ")", 3) end
  local args = pack(...)
  task.spawn(function()
    local r = pack(body(unpack(args, 1, args.n)))
    if r[1] == nil and r[2] ~= nil then cb(r[2]) else cb(nil, unpack(r, 1, r.n)) end
  end)
end

local function check_path(p, i, what)
  if type(p) ~= "string" then
    error(("bad argument #%d to '%s' (path string expected, got %s)"):format(i, what, type(p)), 3)
  end
end

-- f(path, [opts], [cb]) argument shuffling.
local function opts_cb(opts, cb)
  if type(opts) == "function" then return nil, opts end
  return opts, cb
end

-- Whole files ---------------------------------------------------------------

-- The whole file as one string: open, fstat, read to the end and close
-- in one request to the pool (the binding's fs_readfile), which reads
-- files whose size is unknown (/proc, pipes) to their end too.
local function read_all(path)
  return call(uv.fs_readfile, path)
end

-- The whole file into one loom_buffer (Node's readFile gives a Buffer):
-- one allocation and one read, no Lua string in between.
local function read_all_buffer(path)
  local fd, err, name = call(uv.fs_open, path, "r", 0)
  if not fd then return nil, err, name end
  local st
  st, err, name = call(uv.fs_fstat, fd)
  local buf
  if st and (st.size == 0 or st.type ~= "file") then
    -- /proc files and pipes report size 0: read them as a string.
    call(uv.fs_close, fd)
    local text, terr, tname = read_all(path)
    if not text then return nil, terr, tname end
    buf = uv.new_buffer(#text)
    if #text > 0 then buf:set(1, text) end
    return buf
  elseif st then
    buf = uv.new_buffer(st.size)
    local pos = 0
    while pos < st.size do
      local n
      n, err, name = call(uv.fs_read, fd, st.size > pos and buf:slice(pos + 1) or buf, pos)
      if not n then buf = nil; break end
      if n == 0 then buf = buf:slice(1, pos); break end -- the file shrank
      pos = pos + n
    end
  end
  call(uv.fs_close, fd)
  if not buf then return nil, err, name end
  return buf
end

--- readFile(path, [opts], [cb]) -> the whole file as a string, or with
--- {buffer = true} as a loom_buffer (`#buf`, `buf:sub(i, j)`, ...): for
--- large files, one allocation and one read.
function M.readFile(path, opts, cb)
  check_path(path, 1, "readFile")
  opts, cb = opts_cb(opts, cb)
  if opts and opts.buffer then return three(read_all_buffer, cb, path) end
  return three(read_all, cb, path)
end

local function write_all(path, data, flags, mode)
  local fd, err, name = call(uv.fs_open, path, flags, mode)
  if not fd then return nil, err, name end
  local ok
  ok, err, name = call(uv.fs_write, fd, data, -1)
  local cok, cerr, cname = call(uv.fs_close, fd)
  if not ok then return nil, err, name end
  if not cok then return nil, cerr, cname end
  return true
end

local function check_data(data, what)
  if type(data) ~= "string" and type(data) ~= "table" then
    error("bad argument #2 to '" .. what .. "' (string or array of strings expected, got " ..
          type(data) .. ")", 3)
  end
end

local function writer(what, flag)
  return function(path, data, opts, cb)
    check_path(path, 1, what)
    check_data(data, what)
    opts, cb = opts_cb(opts, cb)
    opts = opts or {}
    return three(write_all, cb, path, data, opts.flag or flag, opts.mode or 438)
  end
end

--- writeFile(path, data, [{flag = "w", mode = 0666}], [cb]): data is a
--- string or an array of strings (written with one writev). true.
M.writeFile = writer("writeFile", "w")

--- appendFile(path, data, [opts], [cb]): the same, flag "a".
M.appendFile = writer("appendFile", "a")

-- Directories -----------------------------------------------------------------

local function read_dir(path, with_types)
  local req, err, name = call(uv.fs_scandir, path)
  if not req then return nil, err, name end
  local out = {}
  while true do
    local entry, etype = uv.fs_scandir_next(req)
    if not entry then break end
    out[#out + 1] = with_types and {name = entry, type = etype} or entry
  end
  return out
end

--- readdir(path, [{withFileTypes = true}], [cb]) -> names, or
--- {name, type} entries ("file", "directory", "link", ...).
function M.readdir(path, opts, cb)
  check_path(path, 1, "readdir")
  opts, cb = opts_cb(opts, cb)
  return three(read_dir, cb, path, opts and opts.withFileTypes)
end

local function make_dir(path, recursive, mode)
  local ok, err, name = call(uv.fs_mkdir, path, mode)
  if ok or not recursive then
    if ok then return true end
    return nil, err, name
  end
  if name == "EEXIST" then
    local st = call(uv.fs_stat, path)
    if st and st.type == "directory" then return true end
    return nil, err, name
  end
  if name ~= "ENOENT" then return nil, err, name end
  -- The parent is missing: make it, then this one.
  local parent = path:gsub("/+$", ""):match("^(.*)/[^/]+$")
  if not parent or parent == "" or parent == path then return nil, err, name end
  local pok, perr, pname = make_dir(parent, true, mode)
  if not pok then return nil, perr, pname end
  ok, err, name = call(uv.fs_mkdir, path, mode)
  if not ok and name ~= "EEXIST" then return nil, err, name end
  return true
end

--- mkdir(path, [{recursive = true, mode = 0777}], [cb]): with recursive,
--- makes the missing parents and succeeds if the directory exists.
function M.mkdir(path, opts, cb)
  check_path(path, 1, "mkdir")
  opts, cb = opts_cb(opts, cb)
  opts = opts or {}
  return three(make_dir, cb, path, opts.recursive, opts.mode or 511)
end

local function remove(path, recursive, force)
  local st, err, name = call(uv.fs_lstat, path)
  if not st then
    if force and name == "ENOENT" then return true end
    return nil, err, name
  end
  if st.type == "directory" then
    if not recursive then
      local ok, rerr, rname = call(uv.fs_rmdir, path)
      if not ok then return nil, rerr, rname end
      return true
    end
    local entries, derr, dname = read_dir(path, false)
    if not entries then return nil, derr, dname end
    for _, entry in ipairs(entries) do
      local ok, rerr, rname = remove(path .. "/" .. entry, true, force)
      if not ok then return nil, rerr, rname end
    end
    local ok, rerr, rname = call(uv.fs_rmdir, path)
    if not ok then return nil, rerr, rname end
    return true
  end
  local ok, uerr, uname = call(uv.fs_unlink, path)
  if not ok and not (force and uname == "ENOENT") then return nil, uerr, uname end
  return true
end

--- rm(path, [{recursive = true, force = true}], [cb]): removes a file,
--- a link (not what it points to) or, with recursive, a whole tree.
--- force: a missing path is not an error.
function M.rm(path, opts, cb)
  check_path(path, 1, "rm")
  opts, cb = opts_cb(opts, cb)
  opts = opts or {}
  return three(remove, cb, path, opts.recursive, opts.force)
end

-- One-call operations --------------------------------------------------------------

-- f(paths..., [more args], [cb]) over one binding call; result(...)
-- shapes a success.
local function simple(what, fn, npaths, result)
  return function(...)
    local n = select("#", ...)
    local args = pack(...)
    local cb
    if n > 0 and type(args[n]) == "function" then cb = args[n]; n = n - 1 end
    for i = 1, npaths do check_path(args[i], i, what) end
    return three(function()
      local r = pack(call(fn, unpack(args, 1, n)))
      if r[1] == nil then return nil, r[2], r[3] end
      if result then return result(unpack(r, 1, r.n)) end
      return unpack(r, 1, r.n)
    end, cb)
  end
end

local function is_true() return true end

M.stat = simple("stat", uv.fs_stat, 1)
M.lstat = simple("lstat", uv.fs_lstat, 1)
M.readlink = simple("readlink", uv.fs_readlink, 1)
M.realpath = simple("realpath", uv.fs_realpath, 1)
M.unlink = simple("unlink", uv.fs_unlink, 1, is_true)
M.rmdir = simple("rmdir", uv.fs_rmdir, 1, is_true)
M.rename = simple("rename", uv.fs_rename, 2, is_true)
M.copyFile = simple("copyFile", uv.fs_copyfile, 2, is_true)
M.symlink = simple("symlink", uv.fs_symlink, 2, is_true)
M.chmod = simple("chmod", uv.fs_chmod, 1, is_true)

M.close = simple("close", uv.fs_close, 0, is_true)
M.fstat = simple("fstat", uv.fs_fstat, 0)

--- open(path, [flags], [mode], [cb]) -> a file descriptor (flags "r" by
--- default, as fs_open takes them; mode 0666 before the umask).
function M.open(path, flags, mode, cb)
  if type(flags) == "function" then flags, mode, cb = nil, nil, flags end
  if type(mode) == "function" then mode, cb = nil, mode end
  check_path(path, 1, "open")
  return three(function() return call(uv.fs_open, path, flags or "r", mode or 438) end, cb)
end

--- mkdtemp(prefix, [cb]) -> the new directory's path (prefix .. 6 chars).
function M.mkdtemp(prefix, cb)
  check_path(prefix, 1, "mkdtemp")
  return three(function(p) return call(uv.fs_mkdtemp, p .. "XXXXXX") end, cb, prefix)
end

--- exists(path, [cb]) -> true or false (never an error).
function M.exists(path, cb)
  check_path(path, 1, "exists")
  return three(function(p) return call(uv.fs_stat, p) ~= nil end, cb, path)
end

-- Streams ------------------------------------------------------------------------

-- A file stream's destroy: closes the descriptor it opened (not one it
-- was given), then lets the stream go on to "close".
local function closing(get_fd, set_fd, given)
  return function(_, err, cb)
    local fd = get_fd()
    if fd and not given then
      set_fd(nil)
      uv.fs_close(fd, function() cb(err) end)
    else
      cb(err)
    end
  end
end

--- createReadStream(path, [{start, ["end"], highWaterMark = 65536, fd}]):
--- a loom.stream Readable of the file's bytes start..end (inclusive, as
--- Node); reads wait while the reader is behind (backpressure).
function M.createReadStream(path, opts)
  check_path(path, 1, "createReadStream")
  opts = opts or {}
  local pos = opts.start or 0
  local last = opts["end"]
  local hwm = opts.highWaterMark or 65536
  local fd = opts.fd
  local r
  r = stream.Readable:new{
    highWaterMark = hwm,
    read = function(self)
      local function read_more()
        local want = hwm
        if last then want = math.min(want, last - pos + 1) end
        if want <= 0 then return self:push(nil) end
        uv.fs_read(fd, want, pos, function(err, data)
          if self.destroyed then return end
          if err then return self:destroy(err) end
          if #data == 0 then return self:push(nil) end
          pos = pos + #data
          self:push(data)
        end)
      end
      if fd then return read_more() end
      uv.fs_open(path, "r", 0, function(err, f)
        if err then return self:destroy(err) end
        if self.destroyed then uv.fs_close(f); return end
        fd = f
        self:emit("open", f)
        read_more()
      end)
    end,
    destroy = closing(function() return fd end, function(v) fd = v end, opts.fd),
  }
  r.path = path
  return r
end

--- createWriteStream(path, [{flags = "w", mode = 0666, start, fd,
--- highWaterMark}]): a loom.stream Writable; write() returns false (or
--- waits, in a task) while the queue is past the mark.
function M.createWriteStream(path, opts)
  check_path(path, 1, "createWriteStream")
  opts = opts or {}
  local pos = opts.start or -1
  local fd = opts.fd
  local function ensure_open(cb)
    if fd then return cb() end
    uv.fs_open(path, opts.flags or "w", opts.mode or 438, function(err, f)
      if err then return cb(err) end
      fd = f
      cb()
    end)
  end
  local w = stream.Writable:new{
    highWaterMark = opts.highWaterMark,
    write = function(self, chunk, cb)
      ensure_open(function(err)
        if err then return cb(err) end
        uv.fs_write(fd, chunk, pos, function(werr)
          if not werr and pos >= 0 then pos = pos + #chunk end
          cb(werr)
        end)
      end)
    end,
    final = function(self, cb)
      ensure_open(cb) -- an empty stream still makes the file
    end,
    destroy = closing(function() return fd end, function(v) fd = v end, opts.fd),
  }
  w.path = path
  return w
end

-- Watching ----------------------------------------------------------------------------

local Watcher = Emitter:extend("loom.fs.FSWatcher")

--- watch(path, [{recursive = true}], [listener]): an emitter of
--- "change" (eventType "rename" or "change", filename) and "error";
--- close() stops it.
function M.watch(path, opts, listener)
  check_path(path, 1, "watch")
  if type(opts) == "function" then opts, listener = nil, opts end
  opts = opts or {}
  local w = Watcher:new()
  local h = uv.new_fs_event()
  w._h = h
  local ok, err = h:start(path, {recursive = opts.recursive or nil}, function(e, filename, events)
    if e then
      if w:listenerCount("error") > 0 then w:emit("error", e) end
      return
    end
    w:emit("change", events.rename and "rename" or "change", filename)
  end)
  if not ok then
    h:close()
    return nil, err, err_name(err)
  end
  if listener then w:on("change", listener) end
  return w
end

function Watcher:close()
  local h = self._h
  if h and not h:is_closing() then h:close(function() self:emit("close") end) end
  self._h = nil
end

function Watcher:ref() if self._h then self._h:ref() end return self end
function Watcher:unref() if self._h then self._h:unref() end return self end

return M
