-- LuaRocks: `luarocks --lua-version 5.4 make rockspec/loom-scm-1.rockspec`
-- builds with Meson and installs the module (loom.so), the loom.* Lua
-- modules and the `loom` runner into the rocks tree.
rockspec_format = "3.0"
package = "loom"
version = "scm-1"
source = {
  url = "git+https://example.invalid/loom.git",
}
description = {
  summary = "Asynchronous I/O for Lua 5.4: an epoll event loop, luv's API, a runner",
  detailed = [[
    loom is an asynchronous I/O toolkit for Lua 5.4 written in C: its own
    event loop (epoll, timers, signals, async), a luv-compatible module
    (`require "loom"`), Luvit-style Lua modules and the `loom` runner.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson >= 2.1", -- loom.json
}
build = {
  type = "command",
  build_command = [[
    rm -rf _rockbuild &&
    meson setup _rockbuild --prefix="$(PREFIX)" --buildtype=release \
      -Dlua_cmod_dir="$(LIBDIR)" -Dlua_lmod_dir="$(LUADIR)" -Dtests=false &&
    meson compile -C _rockbuild
  ]],
  install_command = [[meson install -C _rockbuild]],
}
