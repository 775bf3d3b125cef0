/* SPDX-License-Identifier: MIT */
/* lloom.h: what the binding's files share: the per-state context, handle
 * userdata helpers, the one callback entry point and result helpers.
 *
 * This is the only layer that includes lua.h. Each binding function checks
 * its arguments, calls one core function and translates the result.
 */
#ifndef LLOOM_H
#define LLOOM_H

#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>

#include "loom.h"

#define LOOM_LUA_EXPORT __attribute__((visibility("default")))

/* One per Lua state: the loop and the main thread that callbacks run on.
 * It is a userdata in the registry; its __gc tears the loop down when the
 * state closes, without calling Lua. */
typedef struct {
  loom_loop_t* loop;
  lua_State* L;   /* the main thread (LUA_RIDX_MAINTHREAD) */
  int closed;     /* loop_close succeeded or the state is closing */
  /* While the loop runs, the stack slot of ctx->L that holds the message
   * handler (0 otherwise): callbacks then need no push and no rotate to
   * put a handler below themselves. */
  int msgh_idx;
  /* Each handle type's metatable (also the context's user value number
   * `type`), so argument checks compare pointers instead of looking the
   * metatable up by name in the registry on every call. */
  const void* metatables[LOOM_HANDLE_TYPE_MAX];
  /* The same for the work context of new_work (checked by every
   * queue_work). */
  const void* work_ctx_mt;
  /* The same for the handles async fs calls return (lfs.h). */
  const void* fs_handle_mt;
  /* Anchors (lanchor.c): the registry reference of the table that holds
   * them, the slots free for reuse, and the highest slot handed out. */
  int anchors_ref;
  int* anchor_free;
  int anchor_nfree;
  int anchor_cap;
  int anchor_top;
  /* Per slot (from 1): the C request it anchors for, or NULL, and how
   * often it was freed. */
  void** anchor_owner;
  unsigned int* anchor_serial;
  /* The memory limit (lmemlimit.c): the allocator the state had, the
   * limit and the bytes in use. While exempt is positive the limit does
   * not hold: the loop's own work and a binding's bookkeeping after the
   * core started something must not be unwound by a memory error. */
  lua_Alloc mem_alloc;
  void* mem_alloc_ud;
  size_t mem_limit;
  size_t mem_in_use;
  int exempt;
} lctx;

/* The context's user values: each handle type's metatable at the type's
 * number, then each request type's shared finished request, then the
 * request metatable and the fs request handle's (lfs.h). */
#define LCTX_DONE_SLOT(req_type) (LOOM_HANDLE_TYPE_MAX + (int) (req_type))
#define LCTX_REQ_MT_SLOT (LOOM_HANDLE_TYPE_MAX + LOOM_REQ_TYPE_MAX)
#define LCTX_FS_HANDLE_MT_SLOT (LCTX_REQ_MT_SLOT + 1)
#define LCTX_NUVALUES LCTX_FS_HANDLE_MT_SLOT

/* The context, as the first upvalue of every binding function. */
#define LCTX(L) ((lctx*) lua_touserdata((L), lua_upvalueindex(1)))

/* ---- context and callbacks (ctx.c) ---- */
lctx* lctx_create(lua_State* L);
/* The context's loop; raises "loom: the loop is closed" after loop_close. */
loom_loop_t* lctx_loop(lua_State* L, lctx* ctx);
/* Calls the callable below nargs arguments on ctx->L under the error
 * policy: on an uncaught error, uv.on_error's handler or exit(1). The stack
 * is left as it was before the callable was pushed. */
void lctx_call(lctx* ctx, int nargs);
/* lctx_call for a callback whose answer matters: whether it returned a
 * true value (false if it raised). */
int lctx_call_bool(lctx* ctx, int nargs);
/* A completion whose values are made from C memory: push(L, ud) pushes
 * the callback and its arguments and returns how many arguments; then
 * done(ud) frees what they were made from, and the callback runs. All of
 * it under the error policy: a push that runs out of memory is reported
 * like an error in the callback, and done still runs (nothing leaks, and
 * no error unwinds through the loop's C code). */
typedef int (*lctx_push_fn)(lua_State* L, void* ud);
typedef void (*lctx_done_fn)(void* ud);
void lctx_call_with(lctx* ctx, lctx_push_fn push, lctx_done_fn done, void* ud);
/* Runs the loop in `mode` with the message handler in place. */
int lctx_run(lctx* ctx, loom_run_mode mode);
int lctx_on_error(lua_State* L);

/* ---- anchors (lanchor.c) ---- */
/* Keeps the value at idx alive until lanchor_take and returns its slot
 * (> 0). Raises only when memory runs out. */
int lanchor_put(lctx* ctx, lua_State* L, int idx);
/* Pushes the value anchored at slot and frees the slot (with its owner);
 * never raises. */
void lanchor_take(lctx* ctx, lua_State* L, int slot);
/* Names the C memory a slot anchors for (a request outside the Lua heap);
 * lanchor_owner finds it while the slot is taken and has freed `serial`
 * times (lanchor_serial right after lanchor_put), else returns NULL. */
void lanchor_own(lctx* ctx, int slot, void* owner);
unsigned int lanchor_serial(lctx* ctx, int slot);
void* lanchor_owner(lctx* ctx, int slot, unsigned int serial);
void lanchor_init(lctx* ctx, lua_State* L);
/* Frees the C side, and each owner still named through free_owner; the
 * table goes with the state. */
void lanchor_free(lctx* ctx, void (*free_owner)(lctx* ctx, void* owner));

/* ---- memory limit (lmemlimit.c) ---- */
/* Bracket binding work that a memory error must not interrupt: pushing
 * results that live in C memory until they are pushed, and bookkeeping
 * for something the core has already started. Only from a binding
 * function (the context is its first upvalue) or with the context. */
#define LMEM_EXEMPT(ctx) ((ctx)->exempt++)
#define LMEM_UNEXEMPT(ctx) ((ctx)->exempt--)
int lmemlimit_set(lua_State* L);
/* LOOM_MEMORY_LIMIT in bytes (0: unset); raises if it is not a size. */
size_t lmemlimit_env(lua_State* L);
/* Caps the state at `bytes` above what it holds now (0: no cap). */
void lmemlimit_apply(lua_State* L, lctx* ctx, size_t bytes);
/* The state is closing: gives it back the allocator it had. */
void lmemlimit_release(lctx* ctx, lua_State* L);

/* C memory from the state's own allocator, for what the loop holds while
 * a request is in flight: a memory limit counts it, the collector never
 * scans it, and it is freed the moment it is done with. A block
 * remembers the allocator it came from, so one made before a limit was
 * set goes back where it came from. */
typedef struct {
  lua_Alloc alloc;
  void* alloc_ud;
  size_t size;
} lblock;
/* The block at *b (b may point into the new memory only after this
 * returns); NULL when memory runs out even after a full collection. */
void* lblock_alloc(lua_State* L, lblock* b, size_t size);
/* Frees p, a block described by b (read before the free). */
void lblock_free(const lblock* b, void* p);

/* ---- handles (lhandle.c) ---- */
typedef struct {
  const char* mtname;     /* "uv_timer" */
  loom_handle_type type;
  const luaL_Reg* methods; /* type-specific methods (without prefix) */
  const luaL_Reg* shared;  /* methods shared with a family (streams) */
} lh_type;

/* Creates a handle userdata of `size` bytes with the type's metatable.
 * Leaves the userdata on the stack. It is anchored in the registry until
 * its close callback has run, in three steps: lh_pin takes the registry
 * reference before the core knows the handle (it may raise a memory
 * error, and then nothing has started); the core initialises the handle
 * (its first member); lh_anchor, which allocates nothing, hands it the
 * pin (and a callback's pin, or LUA_NOREF), or lh_unpin gives a pin back
 * if the core refused. */
void* lh_new(lua_State* L, const lh_type* type, size_t size);
int lh_pin(lua_State* L, int idx);
void lh_unpin(lua_State* L, int pin);
/* Pins the values at idx and cb_idx (LUA_NOREF for a nil there) both or
 * neither: a memory error raised by the second releases the first. */
void lh_pin2(lua_State* L, int idx, int cb_idx, int* pin, int* cb_pin);
void lh_anchor(loom_handle_t* h, int pin, int cb_pin);
/* The handle at idx (open, closing or closed), or NULL if it is none. */
loom_handle_t* lh_test(lua_State* L, int idx);
/* Checks that argument idx is an open handle of the given type (or of any
 * type when type is NULL). Raises a Lua error otherwise. */
loom_handle_t* lh_check(lua_State* L, int idx, const lh_type* type);
/* Stores the callable at stack index idx as the handle's callback. A
 * start calls lh_check_callback before the core starts the handle and
 * this after: the slot then exists, and storing needs no memory, so a
 * memory error cannot leave a running handle without its callback. */
void lh_set_callback(lua_State* L, int handle_idx, int cb_idx);
/* Checks that cb_idx is callable and gives the handle at handle_idx a
 * callback slot if it has none. */
void lh_check_callback(lua_State* L, int handle_idx, int cb_idx);
/* Pushes the handle's callback (nil if none) onto ctx->L. */
void lh_push_callback(lua_State* L, loom_handle_t* h);
void lh_push_handle(lua_State* L, loom_handle_t* h);
/* Whether the value at idx is a function or has __call; the check
 * raises unless it is. */
int lh_is_callable(lua_State* L, int idx);
void lh_check_callable(lua_State* L, int idx);
void lh_register_type(lua_State* L, const lh_type* type);
/* close() with a different core closing function (tcp close_reset). */
typedef int (*lh_closer)(loom_handle_t* h, loom_close_cb cb);
int lh_close_with(lua_State* L, int idx, int cb_idx, lh_closer closer);
/* The close callback every handle gets (releases the anchor, calls Lua). */
void lh_on_close(loom_handle_t* h);
extern const luaL_Reg lh_handle_functions[];
/* The userdata at idx if its metatable is mt (a pointer the context
 * keeps, so that a check compares pointers instead of looking the
 * metatable up by name), else NULL. */
void* lmeta_test(lua_State* L, int idx, const void* mt);
/* Registers the metatable of a non-handle userdata type. */
void lmeta_register(lua_State* L, int ctx_idx, const char* name,
                    lua_CFunction tostring, lua_CFunction gc,
                    const luaL_Reg* methods);
/* The state is closing: release what the binding attached to handles. */
void lh_release_all(lctx* ctx);

/* ---- requests (lreq.c) ---- */
/* A request userdata. Only as much of the union is allocated as the
 * request's type needs, followed by the buffer array and then any extra
 * bytes the caller asked for (fs keeps its paths and read buffer there). */
typedef struct {
  int ref;         /* anchor slot while the core owns the request */
  loom_buf_t* bufs; /* the request's buffers (point into Lua strings) */
  union {
    loom_req_t req;
    loom_write_t write;
    loom_connect_t connect;
    loom_shutdown_t shutdown;
    loom_udp_send_t send;
    loom_fs_t fs;
    loom_getaddrinfo_t getaddrinfo;
    loom_getnameinfo_t getnameinfo;
    loom_dns_query_t dns_query;
  } u;
} lreq_t;

#define LREQ_OF(ptr) ((lreq_t*) (ptr)->data)

/* Pushes a new request userdata (metatable uv_req) with room for nbufs
 * buffers and `extra` bytes, which start at (char*) (r->bufs + nbufs).
 * It has user values for the callback and for the value its bytes live
 * in (see lreq_anchor). Async fs calls other than the directory ones use
 * lfs_req instead (lfs.h). */
lreq_t* lreq_new_extra(lua_State* L, loom_req_type type, unsigned int nbufs,
                       size_t extra);
#define lreq_new(L, type, nbufs) lreq_new_extra((L), (type), (nbufs), 0)
void lreq_anchor(lua_State* L, lreq_t* r, int idx, int cb_idx, int data_idx);
void lreq_unanchor(lua_State* L, lreq_t* r);
/* Points the n buffers of the request at idx into the data it anchored
 * (lreq_anchor's private copy), not into the caller's value: a finalizer
 * run by an allocation in between may change the caller's table, but
 * never the copy, so every buffer points into a string the request
 * holds. */
void lreq_fill_anchored(lua_State* L, lreq_t* r, int idx, unsigned int n);
/* Pushes the shared, already finished request of the type; only from a
 * binding function (the context is its first upvalue). */
void lreq_push_done(lua_State* L, loom_req_type type);
/* Releases the anchor; pushes the callback onto ctx->L and returns 1, or
 * returns 0 (nothing pushed) when there is none. */
int lreq_finish(lctx* ctx, lreq_t* r);
/* The two steps of lreq_finish, for a completion that reads what lives
 * inside the request: take pushes the request and ends its anchor;
 * release pushes the callback of the request at idx (which stays there)
 * and returns 1, or returns 0 when it has none. */
void lreq_take(lctx* ctx, lreq_t* r);
int lreq_release(lua_State* L, int idx);
/* The common completion: callback(err) with err nil or the error name. */
void lreq_status_callback(lreq_t* r, loom_loop_t* loop, int status);
void lreq_register(lua_State* L, int ctx_idx);
extern const luaL_Reg lreq_functions[];

/* ---- byte buffers (lbuffer.c) ---- */
/* A loom_buffer userdata: `size` bytes at `base`. The owner is the
 * buffer that holds the bytes (itself, or what a slice was cut from);
 * its counts are of the fs requests in flight that fill (read) or send
 * (write) any part of it. */
typedef struct lbuffer_s {
  char* base;
  size_t size;
  struct lbuffer_s* owner;
  unsigned int filling;
  unsigned int sending;
} lbuffer;

/* The buffer at idx, or NULL when the value is not one. */
lbuffer* lbuffer_test(lua_State* L, int idx);
/* Raises (naming argument arg) unless the buffer may now be read from
 * (to_fill 0) or written into (to_fill 1) without racing a worker. */
void lbuffer_claim(lua_State* L, lbuffer* b, int arg, int to_fill);
/* A request that fills or sends the buffer was queued / has finished. */
void lbuffer_hold(lbuffer* b, int to_fill);
void lbuffer_release(lbuffer* b, int to_fill);
void lbuffer_register(lua_State* L);
extern const luaL_Reg lbuffer_functions[];

/* ---- sockets (lnet.c) ---- */
struct sockaddr;
struct sockaddr_storage;
unsigned int lbuf_count(lua_State* L, int idx);
void lbuf_fill(lua_State* L, int idx, loom_buf_t* bufs, unsigned int n);
/* The n buffers from the strings at [first], [first + 1]... of the table
 * at idx (which keeps them alive). */
void lbuf_fill_from(lua_State* L, int idx, lua_Integer first, loom_buf_t* bufs,
                    unsigned int n);
#define LBUF_SMALL 8
loom_buf_t* lbuf_scratch(lua_State* L, int idx, unsigned int n,
                         loom_buf_t* small);
int lnet_check_fd(lua_State* L, int idx);
int lnet_check_port(lua_State* L, int idx);
void laddr_check(lua_State* L, int host_idx, int port_idx,
                 struct sockaddr_storage* addr);
void laddr_push(lua_State* L, const struct sockaddr* addr);
const char* lfamily_name(int family);
int lfamily_check(lua_State* L, int idx);
/* A socket type by name ("stream", "dgram", ...) or number; nil: stream. */
int lsocktype_check(lua_State* L, int idx);
/* A protocol by name (getprotobyname) or number; nil: 0. */
int lprotocol_check(lua_State* L, int idx);
int lflag(lua_State* L, int idx, const char* name);
int lopt_callback(lua_State* L, int idx);
/* A string that goes to C as a C string: one with a zero byte raises
 * (C would see only what comes before it: "PATH\0x" would be "PATH"). */
const char* lcheck_cstring(lua_State* L, int idx);
/* The same, or def when the argument is none or nil. */
const char* lopt_cstring(lua_State* L, int idx, const char* def);

/* ---- streams (lstream.c) ---- */
loom_stream_t* lstream_check(lua_State* L, int idx);
/* Pushes a read callback's arguments: nil and the bytes, nil and nil at
 * the end of the stream, or the error's name and nil. */
void lstream_push_read(lua_State* L, ssize_t nread, const loom_buf_t* buf);
/* The stream at idx (open, closing or closed), or NULL if it is none. */
loom_stream_t* lstream_test(lua_State* L, int idx);
extern const luaL_Reg lstream_methods[];

/* ---- results (lerrors.c) ---- */
/* Pushes nil, "ENAME: message", "ENAME" and returns 3. */
int lr_fail(lua_State* L, int err);
/* A callback's first value: nil, or the error's name ("ECONNREFUSED"),
 * as luv passes it to every callback but the fs ones. */
void lr_push_status(lua_State* L, int status);
/* 0 or positive: pushes the integer; negative: lr_fail. */
int lr_result(lua_State* L, int ret);
void lr_push_errno_table(lua_State* L);

/* ---- objects shared between states (lshared.c) ---- */
typedef struct lshared_s lshared_t;
typedef struct {
  const char* mtname;   /* its userdata's metatable, in every state */
  const char* display;  /* for tostring: "uv_sem_t" */
  const luaL_Reg* methods;
  lua_CFunction eq;     /* __eq, or NULL */
  void (*destroy)(lshared_t* s); /* the last reference is gone */
  /* The identity tostring shows, or NULL for the object's address. */
  const void* (*identity)(const lshared_t* s);
} lshared_kind;
struct lshared_s {
  atomic_int refs;
  const lshared_kind* kind;
};
/* Finds the shared object in a userdata of a marked metatable. */
typedef struct {
  lshared_t* (*get)(void* ud);
} lshared_getter;
void lshared_ref(lshared_t* s);
void lshared_unref(lshared_t* s);
/* The object the value at idx stands for, or NULL. */
lshared_t* lshared_test(lua_State* L, int idx);
/* Marks the metatable at mt_idx as holding shareable objects. */
void lshared_mark(lua_State* L, int mt_idx, const lshared_getter* getter);
/* Creates the kind's metatable in this state if it is not there yet and
 * leaves it on the stack. */
void lshared_metatable(lua_State* L, const lshared_kind* kind);
/* Pushes a new userdata holding a new reference to s. */
void lshared_push(lua_State* L, lshared_t* s);
/* The object of the kind at idx, or raises naming the argument. */
lshared_t* lshared_check(lua_State* L, int idx, const lshared_kind* kind);

/* ---- value transfer between states (xfer.c) ---- */
typedef struct {
  char* data;
  size_t len;
  int count;  /* number of values */
  int owned;  /* data was allocated by xfer_encode */
  int shared; /* references to shared objects held by data */
} xfer_t;
/* Copies the values at [first, first+count) into x. Raises a Lua error
 * naming the argument for values that cannot cross (functions, userdata
 * other than shared objects, threads, cyclic tables). A shared object
 * crosses as a reference: x holds one until xfer_free, and decoding makes
 * a new userdata with a reference of its own. */
void xfer_encode(lua_State* L, int first, int count, xfer_t* x);
/* The same into spare when the values fit its size bytes (x then does
 * not own its data), else into memory of x's own. */
void xfer_encode_into(lua_State* L, int first, int count, xfer_t* x,
                      char* spare, size_t spare_size);
/* The same in two steps, for a caller that provides the memory: the
 * encoded size (raises as xfer_encode does), then the bytes into buf. */
size_t xfer_size(lua_State* L, int first, int count);
/* Encodes the values from first to the top, popping them, without
 * raising: returns the lua_pcall status, the error message on top when
 * it is not LUA_OK (results of code run in another state). spare and
 * spare_size as for xfer_encode_into (NULL and 0: none). */
int xfer_encode_rest(lua_State* L, int first, xfer_t* x, char* spare,
                     size_t spare_size);
void xfer_put(lua_State* L, int first, int count, char* buf, xfer_t* x);
/* Pushes the values; returns how many. */
int xfer_decode(lua_State* L, const xfer_t* x);
/* Drops the shared references and frees owned data; x becomes empty.
 * Every encoded x must be freed, decoded or not. */
void xfer_free(xfer_t* x);

/* ---- per-section registration ---- */
extern const luaL_Reg lloop_functions[];
extern const luaL_Reg ltimer_functions[];
extern const luaL_Reg lwatcher_functions[];
extern const luaL_Reg lasync_functions[];
extern const luaL_Reg lsignal_functions[];
extern const luaL_Reg lmisc_functions[];
extern const luaL_Reg lwtf8_functions[];
extern const luaL_Reg lstream_functions[];
extern const luaL_Reg ltcp_functions[];
extern const luaL_Reg lpipe_functions[];
extern const luaL_Reg ltty_functions[];
extern const luaL_Reg ludp_functions[];
extern const luaL_Reg lpoll_functions[];
extern const luaL_Reg lprocess_functions[];
extern const luaL_Reg lfs_functions[];
extern const luaL_Reg lfs_dir_functions[];
/* xfer.c's view of a finished scandir request: whether the value at idx
 * is one, and a shared copy of its entries not yet iterated (NULL when
 * memory runs out). */
int lfs_is_scan(lua_State* L, int idx);
lshared_t* lfs_scan_share(lua_State* L, int idx);
void lfs_dir_register(lua_State* L);
extern const luaL_Reg lwork_functions[];
extern const luaL_Reg lfswatch_functions[];
void lwork_register(lua_State* L);
extern const lh_type ltimer_type, lidle_type, lprepare_type, lcheck_type,
    lasync_type, lsignal_type, ltcp_type, lpipe_type, ltty_type, ludp_type,
    lpoll_type, lprocess_type, lfs_event_type, lfs_poll_type;
void lconstants_push(lua_State* L);
/* Signal names ("sigint") <-> numbers. */
int lsignal_parse(lua_State* L, int idx);
const char* lsignal_name(int signum);
void lasync_release(loom_handle_t* h);
void lasync_register(lua_State* L, int mt_idx);
extern const luaL_Reg lthread_functions[];
/* A fresh state for another thread: standard libraries, and require
 * "loom"/"luv" preloaded (lwork.c). */
void lstate_open(lua_State* L);
/* Replaces the Lua function at idx by its bytecode (upvalues do not
 * come along); raises for C functions (lwork.c). */
void lcode_from_function(lua_State* L, int idx);
/* The entry argument of new_thread and new_work at idx, made into code
 * another state can load: a Lua function is dumped (as above); a string
 * of source or bytecode must load here, so that a syntax error raises at
 * the call instead of later on the other thread; anything else raises.
 * chunkname is the one the other state loads it under. */
void lcode_arg(lua_State* L, int idx, const char* chunkname);
/* A message handler for lua_pcall: the message with a traceback. */
int ltraceback(lua_State* L);
extern const luaL_Reg lsem_functions[];

/* lhttp.c: the HTTP/1.x parser (beyond luv). */
extern const luaL_Reg lhttp_functions[];
void lhttp_register(lua_State* L);
/* lhttp_respond.c: loom.http's common answer written in one call. */
extern const luaL_Reg lhttp_respond_functions[];
extern const luaL_Reg ldns_functions[];

/* ---- resolvers (lresolver.c) ---- */
void lresolver_register(lua_State* L);
extern const luaL_Reg lresolver_functions[];

/* The runner's entry points (also used by luaopen_loom). */
LOOM_LUA_EXPORT int luaopen_loom(lua_State* L);
/* Runs the loop of L's loom module in default mode until nothing is left;
 * does nothing if the module was never loaded or its loop was closed. */
int loom_lua_run_loop(lua_State* L);

#endif /* LLOOM_H */
