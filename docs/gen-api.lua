-- docs/gen-api.lua: regenerates docs/api.md from the module itself and
-- luv's function list, so the compatibility column cannot drift.
--   build/loom docs/gen-api.lua ../shared/compat/luv-functions.txt > docs/api.md
local uv = require "loom"
local list = assert(arg[1], "usage: gen-api.lua <luv-functions.txt>")
local notes = {
  run = "`mode`: \"default\", \"once\" or \"nowait\"; returns `true` if handles remain; re-entry returns `nil, \"loop already running\"`",
  loop_close = "fails with EBUSY while any handle is open or closing; afterwards every call raises",
  loop_configure = "\"block_signal\" (only \"sigprof\", as libuv) and \"metrics_idle_time\"",
  walk = "visits closing handles too; errors in the callback propagate after the walk",
  close = "raises if already closing; the close callback gets no arguments",
  is_closing = "also true for a fully closed handle. As in luv, every operation on a closing or closed handle answers with the core's error (EINVAL, EBADF, ENOTCONN) instead of raising, and none starts it again; `close` raises (already closing); after loop_close a closed handle raises",
  handle_get_type = "returns the name and libuv's type number",
  timer_start = "timeout and repeat: non-negative integers up to 2^53 ms (negative raises; luv wraps them)",
  signal_start = "signal by name (any case) or number; the callback gets the name",
  signal_start_oneshot = "the handle stops itself before its callback runs",
  get_total_memory = "an integer (luv: a float)",
  get_free_memory = "an integer (luv: a float)",
  get_constrained_memory = "an integer; 0 without a cgroup limit",
  get_available_memory = "an integer",
  get_process_title = "works without `uv_setup_args` (luv returns ENOBUFS then)",
  set_process_title = "sets the kernel's name (first 15 bytes) and the stored title",
  interface_addresses = "`mac` as \"xx:xx:xx:xx:xx:xx\"",
  os_getpriority = "an integer (luv: a float)",
  accept = "as libuv, the client's type is not compared with the server's: a Unix-socket connection may be accepted into a tcp handle (its tcp-only calls then answer with the kernel's errors)",
  tcp_open = "a descriptor that is not a stream socket gives ENOTSOCK or EINVAL, one a handle already holds EEXIST (it would be closed twice)",
  udp_open = "a descriptor that is not a datagram socket gives ENOTSOCK or EINVAL, one a handle already holds EEXIST",
  pipe_open = "a descriptor a handle already holds gives EEXIST (it would be closed twice)",
  fs_close = "the loop's own descriptors (the poller, its wake-up eventfd, c-ares's sockets, a watcher's inotify descriptor) are refused with EBADF: closing one would hang the loop",
  fs_scandir_next = "a finished scandir request may be passed to `new_thread` and `queue_work` (as luv): the other state iterates its own copy of the entries not yet taken",
  getaddrinfo = "the system resolver's `options timeout:N attempts:N` (resolv.conf, and RES_OPTIONS) are honoured, which c-ares 1.18 alone ignores: with a dead nameserver it gives up when getent would",
  random = "with a callback the bytes are made on the thread pool and the call returns 0; the callback gets `(err, bytes)`; as luv: flags other than 0 (nil, 0 or a table are accepted) give EINVAL and a negative length E2BIG, returned or passed to the callback",
  fs_statfs = "luv's fields and `frsize` (libuv's f_frsize)",
  translate_sys_error = "returns \"ENAME: message\", \"ENAME\" (as luv 1.44)",
  setuid = "returns nothing, or the fail triple (luv raises)",
  setgid = "returns nothing, or the fail triple (luv raises)",
  print_all_handles = "to stderr: `[RAI] type address`",
  print_active_handles = "to stderr: `[RAI] type address`",
  cancel = "fs requests not yet started: 0, and the callback gets ECANCELED; once running or finished: EBUSY; socket requests (write, connect, shutdown, udp send): EINVAL, as in libuv (closing the handle cancels them)",
  fs_open = "`flags`: \"r\", \"r+\", \"rs\", \"w\", \"wx\", \"a\", \"ax+\", ... or an integer; `mode` optional (0666), an integer or an octal string; always O_CLOEXEC",
  fs_read = "`offset` optional (nil or negative: the current position); sync reads go straight into the new string; beyond luv, `fs_read(fd, buffer, [offset], [cb])` fills a `loom_buffer` (up to its length) and returns the number of bytes read",
  fs_write = "`data`: a string, an array of strings (writev; no copy; numbers are taken as strings, as luv) or (beyond luv) a `loom_buffer`; writes every byte, resuming after short writes",
  fs_mkdir = "`mode` optional (0777), an integer or an octal string",
  fs_mkstemp = "returns `fd, path`",
  fs_scandir = "returns its request in both forms (the callback gets it as the second value); entries sorted by name",
  fs_scandir_next = "`name, type` until the end, then nothing; types \"file\", \"directory\", \"link\", \"fifo\", \"socket\", \"char\", \"block\" (lstat when the file system does not say)",
  fs_stat = "luv's table: dev, mode, nlink, uid, gid, rdev, ino, size, blksize, blocks, flags, gen, type and {sec, nsec} atime/mtime/ctime/birthtime (statx: a real birthtime where the file system keeps one)",
  fs_sendfile = "one transfer (may be short), with a read/write fallback where sendfile refuses the pair",
  fs_access = "`mode`: an integer or a string of r, w, x; returns true",
  fs_utime = "times: seconds with fractions, \"now\", \"omit\", FS_UTIME_NOW, FS_UTIME_OMIT; nil means omit (leave it unchanged), as luv since 1.51",
  fs_futime = "as `fs_utime`",
  fs_lutime = "as `fs_utime`, on the link itself",
  fs_symlink = "`flags` optional, `{dir, junction}` or an integer (Windows notions: no effect on Linux)",
  fs_readlink = "targets of any length",
  fs_copyfile = "`flags` optional, `{excl, ficlone, ficlone_force}` or an integer; reflink (FICLONE), then copy_file_range, then read/write; the mode is copied; a failed copy removes the partial destination",
  fs_opendir = "`entries` (third argument, default 1): how many entries each readdir returns",
  fs_readdir = "an array of `{name, type}`, or nil at the end; EBUSY while another readdir of the dir is in flight",
  fs_closedir = "a second close: EBADF; an unclosed dir is closed when collected",
  new_work = "`work_fn`: a Lua function (dumped: upvalues do not cross) or source/bytecode text (text that does not compile raises here, not on a worker); runs in a per-worker Lua state with the standard libraries and `require \"loom\"`/`\"luv\"`",
  queue_work = "arguments and results: nil, booleans, integers and floats (kept apart), strings and (beyond luv) tables of those; values that cannot cross raise at queue time; an error in `work_fn` is raised under the callback error policy instead of calling `after_fn`",
  send_buffer_size = "no argument reads; a size sets (Linux reports twice the size set)",
  recv_buffer_size = "no argument reads; a size sets (Linux reports twice the size set)",
  listen = "accepts in bounded batches; out of descriptors (EMFILE/ENFILE) the listener drops the waiting connections through a reserve descriptor instead of spinning",
  write = "data: a string or an array of strings (no copy: the strings are kept alive until the callback; numbers are taken as strings, as luv, in write, try_write, udp_send and udp_try_send); returns the request",
  write2 = "as `write`, passing a tcp or pipe handle over an ipc pipe",
  try_write = "returns the bytes written, or EAGAIN while earlier writes are queued",
  shutdown = "queued behind the writes: runs, and is called back, after every write before it; closing cancels it after them",
  stream_set_blocking = "writes then complete before `write` returns (callbacks still come from the loop)",
  new_tcp = "`flags`: a family name or number, as luv",
  tcp_bind = "`flags`: `{ipv6only = true, reuseport = true}` (reuseport: SO_REUSEPORT, libuv 1.49's UV_TCP_REUSEPORT; every socket on the port must set it, and the kernel spreads connections over them)",
  tcp_connect = "close while connecting: the callback gets ECANCELED once",
  tcp_close_reset = "closes with an RST (SO_LINGER 0)",
  socketpair = "`socktype` \"stream\"/\"dgram\", `flags` `{nonblock = true}` per end; returns `{fd1, fd2}`",
  pipe = "returns `{read = fd, write = fd}`; `flags` `{nonblock = true}` per end",
  pipe_bind = "a name starting with \"\\0\" is a Linux abstract socket; a bound path is removed on close",
  pipe_bind2 = "`flags` `{no_truncate = true}`: a name too long is ENAMETOOLONG instead of truncated",
  pipe_connect2 = "as `pipe_bind2`",
  pipe_pending_instances = "accepted for compatibility (a Windows notion); no effect",
  new_tty = "the terminal is reopened so that non-blocking mode does not leak to the shell sharing it; readable and writable follow the descriptor's open mode (F_GETFL), as libuv; the `readable` argument is accepted and not needed",
  tty_set_mode = "\"normal\", \"raw\", \"io\" (binary-safe), \"raw_vt\" or libuv's numbers",
  tty_reset_mode = "restores the mode saved at the first `set_mode`; also runs at exit",
  tty_set_vterm_state = "a Windows console notion: accepted, no effect (as libuv on unix)",
  tty_get_vterm_state = "ENOTSUP (as libuv on unix)",
  new_udp = "`flags`: a family, or `{family, mmsgs = N, recv_size = bytes}`; `mmsgs` > 1 receives with recvmmsg; `recv_size` (beyond luv) bounds the bytes read per datagram",
  udp_send = "host and port both nil sends to the connected peer; exactly one of them nil raises, as luv; replies sent from a receive callback leave together through sendmmsg after the batch; without a callback no request is allocated and a shared, finished request is returned",
  udp_try_send2 = "`messages`: `{{data = string or array, addr = {ip = ..., port = ...}}, ...}`; one sendmmsg; returns the number sent",
  udp_recv_start = "callback `(err, data, addr, flags)`; `flags` holds `partial` / `mmsg_chunk` only when set, as luv; with mmsgs, a `recv_stop` inside the callback keeps the rest of the batch already read and gives it first when receiving starts again (luv drops it)",
  udp_connect = "`udp:connect(nil)` disconnects",
  fs_event_start = "flags `{recursive = true}` works on Linux too (beyond luv and libuv): every directory below is watched, at any depth, new ones as they appear, names come as \"sub/dir/file\"; the walk runs inside `start` (about 10 µs per directory), so nothing that happens after `start` returns is missed; a tree that cannot be watched whole (out of memory, or of inotify watches: `fs.inotify.max_user_watches`) fails the start with ENOMEM or ENOSPC, and a new directory that cannot be watched comes with its event as `(\"ENOSPC\", \"sub/dir\", {rename = true})`; watch_entry and stat are accepted and ignored; callback `(err, filename, {rename = true} or {change = true})`; when the kernel's event queue overflows (events were lost) every started handle gets `(\"EOVERFLOW\", nil, {})` once, so it can look again (beyond luv, which drops the overflow)",
  fs_event_getpath = "the path as given; EINVAL when not started",
  fs_poll_start = "interval in ms (0 means 1); the first stat is only remembered; an error is reported once until it changes; callback `(err, prev, curr)` with stat tables (zeros where nothing was seen)",
  fs_poll_getpath = "the path as given; EINVAL when not started",
  new_thread = "entry: a Lua function (dumped: upvalues do not cross) or source/bytecode text (text that does not compile raises here; luv reports it from the thread), run in a new state with its own loop, which runs after the entry returns; arguments as for `queue_work`, plus semaphores, async handles and threads, which cross as shared objects; signals are blocked in the thread; a function that raises prints `loom: error in thread: ` and its traceback on stderr at once (as luv), and `join` returns false and the message",
  thread_join = "`true` and the entry's results (luv: only `true`), or `false` and the error message with a traceback; EINVAL after a join or detach and for `thread_self()` values",
  thread_detach = "an error in a detached thread (or one whose userdata is collected unjoined) is printed to stderr",
  thread_self = "a new value each call that prints as its pthread id (as luv: the same thread prints the same); `==` and `thread_equal` compare threads",
  thread_setname = "names the calling thread; the method form `t:setname(name)` names `t`; cut to 15 bytes",
  thread_getname = "ESRCH once the thread is joined or ended after a detach",
  thread_setpriority = "`uv.constants.THREAD_PRIORITY_*`, applied as nice = -2 × priority to the kernel thread (raising needs CAP_SYS_NICE); works for any thread made by `new_thread`, not only the caller",
  thread_getpriority = "the priority level back from the nice value (libuv returns the raw nice value)",
  thread_getcpu = "from 1, as the affinity tables",
  thread_setaffinity = "refuses a mask with no CPU (EINVAL)",
  new_sem = "a shared object: pass it to `new_thread` or `queue_work` and both sides hold the same semaphore",
  sem_wait = "blocks the calling thread, loop included",
  async_send = "values: nil, booleans, integers, floats, strings and (beyond luv) tables of those; sends coalesce, the callback gets the last send's values; works from other threads on the handle passed to them, and fails with EINVAL once the handle is closing",
  getaddrinfo = "with a callback: numeric hosts and hosts-file names answered by loom (the file is parsed once per loop and re-read when it changes; `CARES_HOSTS` names another file), everything else through c-ares on the loop (no thread); the request can be cancelled (EAI_CANCELED); without one: getaddrinfo(3); errors are EAI_* names; a node without a socket type comes as stream/tcp, dgram/udp and raw, as getaddrinfo(3) lists them; a service without a host resolves against loopback (or the wildcard with `passive`), IPv4 unless `family = \"inet6\"`",
  getnameinfo = "address `{ip, port}`; with a callback: c-ares (PTR, /etc/hosts, /etc/services), cancellable; without one: getnameinfo(3); returns `host, service`; as luv, `ip` may be left out (the unspecified address of `family`) and so may `port`; the async form answers as the sync one (the port number when no service is named, no zero scope)",
  new_poll = "any descriptor epoll accepts; regular files fail with EPERM",
  new_socket_poll = "as `new_poll`",
  poll_start = "events \"r\", \"w\", \"rw\", \"d\" (disconnect), \"p\" (prioritized) and their combinations",
  spawn = "`options`: args, env (numbers in them are taken as strings, as luv), cwd, uid, gid, detached, stdio (nil, an fd, or a stream; pipes not yet initialised are created; a closing stream gives EINVAL); strings with a zero byte raise (exec would cut them short); exit callback `(code, signal)`; children reaped through SIGCHLD, no zombies",
  guess_handle = "\"tcp\", \"udp\", \"pipe\", \"tty\", \"file\" or \"unknown\"",
  utf16_length_as_wtf8 = "UTF-16 is a string of 16-bit units in the machine's byte order; an odd number of bytes raises (luv drops the last byte)",
  utf16_to_wtf8 = "unpaired surrogates become three-byte sequences",
  wtf8_length_as_utf16 = "malformed WTF-8 (overlong, truncated, stray continuation bytes, above U+10FFFF) returns ECHARSET; a NUL byte counts as a unit (libuv's WTF-8 side stops at the first NUL)",
  wtf8_to_utf16 = "as `wtf8_length_as_utf16`; surrogate halves encoded one by one (CESU-8) become the pair, as in libuv",
}
io.write([[
# API reference

<!-- generated by docs/gen-api.lua; edit that file, not this one -->

`local uv = require "loom"` — the same API as luv (luv 1.52's function
list; `uv.version_string() == "1.52.0"`). Every function is also a method
where luv has one: `uv.timer_start(t, ...)` is `t:start(...)`. Handle
metatables are named `uv_<type>` and print as `uv_<type>_t: 0x…`; handles
support `<close>` (`local t <close> = uv.new_timer()`). An asynchronous
call returns its request (`uv_fs_t: 0x…`, with `cancel` and `get_type`);
the request runs to its callback whether or not that value is kept. An fs
request's memory is outside the Lua heap while it is in flight (the
collector never scans it; a memory limit counts it) and is freed as its
callback starts.

Failures return `nil, "ENAME: message", "ENAME"`; wrong argument types
raise. See [errors.md](errors.md) for the policy for errors inside
callbacks.

The **luv** column: ✓ = present, with luv's behaviour unless a note says
otherwise; — = not in loom yet (a later issue; see the README).

]])
local sections, order = {}, {}
for line in io.lines(list) do
  local sec, name = line:match("^(%S+)%s+(%S+)$")
  if sec and not line:match("^#") then
    if not sections[sec] then sections[sec] = {}; order[#order + 1] = sec end
    table.insert(sections[sec], name)
  end
end
for _, sec in ipairs(order) do
  io.write("## ", sec, "\n\n| function | luv | notes |\n| --- | :---: | --- |\n")
  for _, name in ipairs(sections[sec]) do
    local have = type(uv[name]) == "function"
    io.write("| `", name, "` | ", have and "✓" or "—", " | ",
             have and (notes[name] or "") or "not yet", " |\n")
  end
  io.write("\n")
end
io.write([==[
## Beyond luv

| name | notes |
| --- | --- |
| `on_error(fn)` | the handler for errors raised inside callbacks; returns the previous one; `nil` removes it |
| `set_memory_limit(bytes)` | caps the bytes the main Lua state may hold; past it Lua code gets `not enough memory` (in a callback: the error policy); returns the previous limit; `nil` removes it. See [errors.md](errors.md#memory-limit) |
| `strerror(err)`, `err_name(err)` | libuv's message and name for an error, given its negative code or its name (`uv.strerror("ECONNRESET")` is `"connection reset by peer"`); anything else raises |
| `fs_readfile(path, [max], [cb])` | the whole file as a string in one pool job (open, fstat, read to the end, close); files of unknown size (/proc, pipes) are read to their end; `max` > 0 refuses a larger file with EFBIG; a directory gives EISDIR |
| `new_http_parser(kind, [limits])` | the HTTP/1.x parser of `src/http` for loom.http: `p:head(s, [pos], [t], [request_method])` parses a whole head into t (or a new table); returns its length, the table, `true` if the head asks for an upgrade, CONNECT or 100-continue, then the body's kind (`"none"`, `"length"`, `"chunked"`, `"eof"`), its Content-Length and keep-alive; `false` while it is incomplete, `nil, "EPROTO: why", "EPROTO", status` when it is refused; `p:chunked(s, [pos])` decodes chunked body data; limits `max_head`, `max_fields`, `max_target`, `max_chunk_ext`, `raw_headers` (also `t.rawHeaders`), `lean` (the framing only as results, not as `t._body`/`_length`/`_keepAlive`), `metatable` (given to the tables head() makes). A parser reuses the strings of its last head's fields where the bytes repeat. `p:read_start(stream, cb)` reads a stream as `stream:read_start(cb)` would, except that while the parser is armed (`p:arm()`: its owner holds no unparsed bytes), a read that is exactly one whole head is parsed in C before any Lua string is made: `cb(nil, false, msg, unusual, kind, length, keep_alive)`, whose true answer arms the parser again; anything else disarms it and arrives as `cb(err, data)` |
| `http_respond(stream, status_line, fields, code, body_len, body, date_line, connection_line)` | loom.http's common answer written in one call: the head (status line, setHeader's flat `{lower, Name, value, ...}` list or `false`, Content-Length unless the code has no body, the Date and Connection lines) and the body, made in C memory and written at once when nothing is queued; `date_line` is a string, `true` for the current Date line (as `http_date`), or `false`/`nil` for none; returns the bytes written and, when the kernel did not take all, the rest as a string to queue |
| `http_date()` | the Date field's value for now (IMF-fixdate, `"Sun, 06 Dec 2026 02:07:00 GMT"`), English names whatever the locale, remade when the wall-clock second changes (a coarse clock read, a few nanoseconds) |
| `stream_sendfile(stream, fd, offset, length, [cb])`, `stream:sendfile(...)` | after the stream's queued writes, sends `length` bytes of the open regular file `fd` from `offset` with sendfile(2) (page cache to socket, no copy through Lua); returns a write request; `cb(err)` gets `"EOF"` if the file is shorter than `length`, `"ECANCELED"` if the stream closes first; a non-file fd is `EINVAL` at once. The loop thread does the sending: bytes not in the page cache are read from the disk there |
| `loom_version` | loom's own version string |
| `errno`, `constants` | as luv (`errno`: name → negative code) |
| `new_resolver([options])` | DNS queries of any record type through c-ares on the loop; see [dns.md](dns.md) |
| `new_buffer(size)` | a `loom_buffer`: `size` zeroed bytes that `fs_read` fills and `fs_write` sends without a Lua string (no allocation or copy per call, like a Node Buffer); `#buf` is its size |
| `buf:sub([i [, j]])`, `buf:byte([i [, j]])` | the bytes i..j as a string or as integers, indexed as `string.sub` and `string.byte` |
| `buf:set(i, s)` | copies string `s` in from position i (negative: from the end); returns the position after it; raises if it does not fit |
| `buf:fill(byte [, i [, j]])` | sets bytes i..j (default all) to `byte` (0–255); returns the buffer |
| `buf:slice([i [, j]])` | a `loom_buffer` over bytes i..j of `buf`, sharing them (no copy); it keeps `buf` alive |
|  | While an `fs_read` into a buffer (or any slice of it) is in flight, every use of its bytes raises; while an `fs_write` sends it, changing it or reading into it raises. A request keeps its buffer alive; the counts end when its callback is called, also for cancelled or failed requests. |

## Lua library

The `loom.*` modules (`task`, `emitter`, `class`, `stream`, `net`,
`dgram`, `dns`, `fs`, `child_process`, `cluster`, `http`, `timer`, `process`, and the
helpers `path`, `querystring`,
`url`, `json`, `os`, `inspect`) are described in [library.md](library.md), with a guide
to their two styles in [guide.md](guide.md).
]==])
