-- test-apifuzz.lua: random calls of the whole API (apifuzz_fixture.lua),
-- each seed in a child runner of its own (it first found uv_thread's
-- __eq raising for a non-thread; test-thread.lua keeps that case). Every
-- seed must end with status 0, every
-- handle closed and the loop ended; under the sanitizer build, without
-- a report (a size no allocator can give is then "not enough memory",
-- as in the normal build, instead of an abort).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/tap.lua")
local test = T.test

local SEEDS, CALLS = 40, 3000

test(("%d seeds of %d random calls: no crash, no hang, nothing left"):format(
       SEEDS, CALLS), function()
  local fixture = T.dir .. "/apifuzz_fixture.lua"
  local asan = os.getenv("ASAN_OPTIONS")
  local env = asan and ("ASAN_OPTIONS=" ..
                        T.q(asan .. ":allocator_may_return_null=1") .. " ")
              or ""
  for seed = 1, SEEDS do
    local verdict = os.tmpname()
    local _, err, code = T.sh(env .. "timeout 120 " .. T.q(T.runner) .. " " ..
                              T.q(fixture) .. " " .. seed .. " " .. CALLS ..
                              " " .. T.q(verdict))
    local f = io.open(verdict)
    local result = f and f:read("a") or ""
    if f then f:close() end
    os.remove(verdict)
    assert(code == 0 and result:match("^calls %d+, raised %d+, alive false\n$"),
           ("seed %d: status %s, verdict %q, stderr %s"):format(
             seed, tostring(code), result, err:sub(1, 2000)))
    -- (A WARNING that a huge allocation failed is the expected path.)
    assert(not err:match("ERROR: %w+Sanitizer") and
           not err:match("runtime error"),
           ("seed %d: %s"):format(seed, err:sub(1, 2000)))
  end
end)

T.run()
