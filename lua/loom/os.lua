-- loom.os: facts about the machine, as Node's `os`, over the binding.
--
--   local os_ = require "loom.os"
--   os_.hostname(), os_.cpus(), os_.totalmem(), os_.networkInterfaces()
local uv = require "loom"

local M = {EOL = "\n", devNull = "/dev/null"}

local FAMILY = {inet = "IPv4", inet6 = "IPv6"}

local function must(v, err)
  if v == nil then error(err, 3) end
  return v
end

function M.hostname() return must(uv.os_gethostname()) end
function M.homedir() return must(uv.os_homedir()) end
function M.tmpdir() return must(uv.os_tmpdir()) end
function M.totalmem() return uv.get_total_memory() end
function M.freemem() return uv.get_free_memory() end
function M.uptime() return must(uv.uptime()) end
function M.availableParallelism() return uv.available_parallelism() end

--- {1 min, 5 min, 15 min} load averages.
function M.loadavg() return {uv.loadavg()} end

--- One entry per CPU: {model, speed (MHz), times = {user, nice, sys,
--- idle, irq} in ms}.
function M.cpus() return must(uv.cpu_info()) end

function M.platform() return "linux" end
function M.type() return must(uv.os_uname()).sysname end
function M.release() return must(uv.os_uname()).release end
function M.version() return must(uv.os_uname()).version end

--- "x64", "arm64", "ia32", "arm", or the kernel's machine name.
function M.arch()
  local machine = must(uv.os_uname()).machine
  return ({x86_64 = "x64", aarch64 = "arm64", i686 = "ia32", i386 = "ia32",
           armv7l = "arm"})[machine] or machine
end

function M.machine() return must(uv.os_uname()).machine end

--- {name = {{address, netmask, family = "IPv4" | "IPv6", mac, internal,
--- cidr, scopeid}, ...}} as Node's os.networkInterfaces().
function M.networkInterfaces()
  local out = {}
  for name, list in pairs(must(uv.interface_addresses())) do
    local entries = {}
    for i, a in ipairs(list) do
      local bits = 0
      local family = FAMILY[a.family] or a.family
      if family == "IPv4" then
        for octet in a.netmask:gmatch("%d+") do
          local n = tonumber(octet)
          while n > 0 do bits = bits + (n & 1); n = n >> 1 end
        end
      else
        for group in a.netmask:gmatch("%x+") do
          local n = tonumber(group, 16)
          while n > 0 do bits = bits + (n & 1); n = n >> 1 end
        end
      end
      entries[i] = {address = a.ip, netmask = a.netmask, family = family, mac = a.mac,
                    internal = a.internal, cidr = a.ip .. "/" .. bits, scopeid = a.scopeid}
    end
    out[name] = entries
  end
  return out
end

--- The current user: {uid, gid, username, homedir, shell}.
function M.userInfo()
  return must(uv.os_get_passwd())
end

return M
