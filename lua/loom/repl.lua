-- loom.repl: the interactive prompt of the `loom` runner.
--
-- `loom` with no script on a terminal (or `loom -i script.lua`, after the
-- script) calls repl.start(). Lines are Lua: an expression prints its
-- values through loom.inspect; an incomplete chunk continues on the next
-- line (">> "). The event loop runs between lines (and while a line is
-- being typed), so servers and timers started at the prompt keep working.
--
-- Editing, on loom's own tty handle in raw mode (no readline): left and
-- right, Home/End (also Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-U/Ctrl-K
-- (delete to the start/end), Ctrl-W (the word before the cursor), Ctrl-L
-- (clear the screen), Up/Down (history of this session). Ctrl-C cancels
-- the line; on an empty line a second Ctrl-C exits. Ctrl-D on an empty
-- line exits. Each line is evaluated with the terminal back in its normal
-- mode, so programs print as usual.
local uv = require "loom"
local inspect = require "loom.inspect"

local M = {}

local PROMPT, CONTINUE = "> ", ">> "

-- Compiles the text: as an expression first (to print its value), then
-- as statements. Returns the function, or nil and whether more input
-- could complete it, and the message.
local function compile(text, env)
  local fn = load("return " .. text, "=stdin", "t", env)
  if fn then return fn end
  local err
  fn, err = load(text, "=stdin", "t", env)
  if fn then return fn end
  if err:match("<eof>$") then return nil, true, err end
  return nil, false, err
end

-- The error and the stack of the evaluated code only (the prompt's own
-- frames, from the xpcall down, are cut off).
local function traceback(err)
  local tb = debug.traceback(tostring(err), 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  return cut and tb:sub(1, cut - 1) or tb
end

function M.start(opts)
  opts = opts or {}
  local input = uv.new_tty(0, true)
  local output = uv.new_tty(1, false)
  local env = opts.env or _G
  local history, hpos = {}, 0
  local line, cursor = "", 0          -- cursor: bytes before it
  local pending = nil                 -- the lines of an incomplete chunk
  local ctrl_c = false                -- the last key was Ctrl-C on an empty line
  local colors = uv.guess_handle(1) == "tty"
  local escape = ""                   -- a partial escape sequence

  local function write(s) output:write(s) end

  local function prompt() return pending and CONTINUE or PROMPT end

  local function redraw()
    local p = prompt()
    local s = "\r" .. p .. line .. "\27[K"
    local back = #line - cursor
    if back > 0 then s = s .. "\27[" .. back .. "D" end
    write(s)
  end

  local function set_raw(raw)
    input:set_mode(raw and 1 or 0)
  end

  local function finish()
    write("\n")
    set_raw(false)
    uv.tty_reset_mode()
    if not input:is_closing() then input:close() end
    if not output:is_closing() then output:close() end
    if opts.on_exit then return opts.on_exit() end
    io.stdout:flush()
    os.exit(0, true)
  end

  local function evaluate(text)
    local fn, more, err = compile(text, env)
    if not fn then
      if more then return "more" end
      io.stderr:write(err, "\n")
      return
    end
    local r = table.pack(xpcall(fn, traceback))
    if not r[1] then
      io.stderr:write(tostring(r[2]), "\n")
      return
    end
    if r.n > 1 then
      local parts = {}
      for i = 2, r.n do parts[#parts + 1] = inspect.inspect(r[i], {colors = colors}) end
      io.stdout:write(table.concat(parts, "\t"), "\n")
    end
  end

  local function submit()
    write("\r\n")
    local text = pending and (pending .. "\n" .. line) or line
    if line:match("%S") and history[#history] ~= line then history[#history + 1] = line end
    hpos = #history + 1
    line, cursor = "", 0
    if not text:match("%S") and not pending then
      redraw()
      return
    end
    set_raw(false)
    M.evaluating(true)
    local status = evaluate(text)
    M.evaluating(false)
    io.stdout:flush()
    pending = status == "more" and text or nil
    set_raw(true)
    redraw()
  end

  local function insert(s)
    line = line:sub(1, cursor) .. s .. line:sub(cursor + 1)
    cursor = cursor + #s
  end

  local function key(k)
    if k ~= "\3" then ctrl_c = false end
    if k == "\r" or k == "\n" then
      return submit()
    elseif k == "\3" then -- Ctrl-C
      if line == "" and not pending then
        if ctrl_c then return finish() end
        ctrl_c = true
        write("\r\n(press Ctrl-C again or Ctrl-D to exit)\r\n")
      else
        write("^C\r\n")
        ctrl_c = false
      end
      line, cursor, pending = "", 0, nil
    elseif k == "\4" then -- Ctrl-D
      if line == "" then return finish() end
      line = line:sub(1, cursor) .. line:sub(cursor + 2)
    elseif k == "\127" or k == "\8" then
      if cursor > 0 then
        line = line:sub(1, cursor - 1) .. line:sub(cursor + 1)
        cursor = cursor - 1
      end
    elseif k == "\1" or k == "\27[H" or k == "\27OH" or k == "\27[1~" then
      cursor = 0
    elseif k == "\5" or k == "\27[F" or k == "\27OF" or k == "\27[4~" then
      cursor = #line
    elseif k == "\2" or k == "\27[D" then
      if cursor > 0 then cursor = cursor - 1 end
    elseif k == "\6" or k == "\27[C" then
      if cursor < #line then cursor = cursor + 1 end
    elseif k == "\27[3~" then
      line = line:sub(1, cursor) .. line:sub(cursor + 2)
    elseif k == "\21" then -- Ctrl-U
      line, cursor = line:sub(cursor + 1), 0
    elseif k == "\11" then -- Ctrl-K
      line = line:sub(1, cursor)
    elseif k == "\23" then -- Ctrl-W
      local before = line:sub(1, cursor):gsub("%s*[^%s]*$", "")
      line, cursor = before .. line:sub(cursor + 1), #before
    elseif k == "\12" then -- Ctrl-L
      write("\27[H\27[2J")
    elseif k == "\27[A" then
      if hpos > 1 then
        hpos = hpos - 1
        line = history[hpos]
        cursor = #line
      end
    elseif k == "\27[B" then
      if hpos < #history then
        hpos = hpos + 1
        line = history[hpos]
      else
        hpos, line = #history + 1, ""
      end
      cursor = #line
    elseif k:byte(1) >= 32 or k == "\t" then
      insert(k == "\t" and "  " or k)
    else
      return -- another control key or sequence: ignored
    end
    redraw()
  end

  -- Splits what the terminal sent into keys: printable runs, control
  -- bytes, and escape sequences (which may arrive in pieces).
  local function feed(data)
    data = escape .. data
    escape = ""
    local i = 1
    while i <= #data do
      local c = data:sub(i, i)
      if c == "\27" then
        local seq = data:match("^\27%[[%d;]*[~%a]", i) or data:match("^\27O%a", i)
        if seq then
          key(seq)
          i = i + #seq
        elseif #data - i < 5 and not data:sub(i):match("^\27[^%[O]") then
          escape = data:sub(i) -- the rest comes with the next read
          return
        else
          i = i + 1 -- a lone Escape
        end
      elseif c:byte() < 32 or c == "\127" then
        key(c)
        i = i + 1
      else
        local run = data:match("^[^%c\127]+", i)
        key(run)
        i = i + #run
      end
    end
  end

  -- print from a callback while the user types: clear the line being
  -- edited, print, then draw the prompt and the line again below it.
  local raw_print = print
  local editing = true
  local function evaluating(on) editing = not on end
  _G.print = function(...)
    if not editing then return raw_print(...) end
    write("\r\27[K")
    set_raw(false)
    raw_print(...)
    io.stdout:flush()
    set_raw(true)
    redraw()
  end
  M.evaluating = evaluating

  set_raw(true)
  write("loom " .. uv.loom_version .. " (" .. _VERSION .. ") — Lua with the loop running; " ..
        "Ctrl-D exits\r\n")
  redraw()
  input:read_start(function(err, data)
    if err or not data then return finish() end
    feed(data)
  end)
  M.input = input
end

return M
