-- test-async.lua: luv's async section; values passed with send.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

test("send calls back asynchronously with the values", function(expect, uv)
  local a
  a = uv.new_async(expect(function(...)
    local n = select("#", ...)
    local x, y, z, w, v = ...
    assert(n == 5, n)
    assert(x == 1 and math.type(x) == "integer")
    assert(y == 2.5 and math.type(y) == "float")
    assert(z == "str\0bin" and w == true and v == nil)
    a:close()
  end))
  assert(a:is_active())
  assert(a:send(1, 2.5, "str\0bin", true, nil) == 0)
end)

test("tables cross (nested), functions and cycles do not", function(expect, uv)
  local a
  a = uv.new_async(expect(function(t)
    assert(t.name == "x" and t[1] == 10 and t.nested.deep[2] == "b")
    assert(math.type(t[1]) == "integer")
    a:close()
  end))
  assert(uv.async_send(a, {name = "x", 10, nested = {deep = {"a", "b"}}}) == 0)
  local ok, err = pcall(a.send, a, function() end)
  assert(not ok and err:match("cannot transfer a function value"), err)
  local cyc = {}
  cyc.self = cyc
  ok, err = pcall(a.send, a, cyc)
  assert(not ok and err:match("cyclic"), err)
  ok, err = pcall(a.send, a, {f = print})
  assert(not ok and err:match("inside a table"), err)
  ok, err = pcall(a.send, a, io.stdout)
  assert(not ok and err:match("cannot transfer a userdata"), err)
end)

test("sends coalesce: the callback sees the last values", function(expect, uv)
  local a
  a = uv.new_async(expect(function(v)
    assert(v == 100, v)
    a:close()
  end))
  for i = 1, 100 do a:send(i) end
end)

test("send after close fails cleanly", function(expect, uv)
  local a = uv.new_async(function() error("closed async called") end)
  a:send()
  a:close()
  local ok, msg, name = a:send()
  assert(ok == nil and name == "EINVAL")
end)

test("new_async requires a callback", function(expect, uv)
  local ok, err = pcall(uv.new_async)
  assert(not ok and err:match("callable expected"), err)
end)

T.run()
