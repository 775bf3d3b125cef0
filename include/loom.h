/* SPDX-License-Identifier: MIT */
/* loom.h: the public C API of loom's event loop core.
 *
 * The core is a plain C library: it never includes lua.h. A loop runs on
 * one thread; every function here must be called on the loop's thread
 * except loom_async_send(), loom_hrtime() and the error helpers, which are
 * thread-safe.
 *
 * Conventions:
 * - Functions that can fail return 0 or a negative error code (LOOM_E*,
 *   see loom/errno.h); loom_err_name() and loom_strerror() describe it.
 * - Handles are allocated by the caller and initialised with *_init. They
 *   belong to the loop from init until their close callback has run;
 *   only then may the caller free their memory.
 * - Callbacks are never called from inside the function that scheduled
 *   them: a timer started with timeout 0 fires on the next loop pass.
 * - Misusing the API (closing a handle twice, starting a closed handle)
 *   is a programming error caught by assert in debug builds; the Lua
 *   binding checks for it before calling down.
 */
#ifndef LOOM_H
#define LOOM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loom/errno.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOOM_VERSION_MAJOR 0
#define LOOM_VERSION_MINOR 1
#define LOOM_VERSION_PATCH 0
#define LOOM_VERSION_STRING "0.1.0"

/* The libuv API level the core and the binding implement (luv reports it
 * as uv.version(), so version-gated luv code keeps working). */
#define LOOM_UV_API_MAJOR 1
#define LOOM_UV_API_MINOR 52
#define LOOM_UV_API_PATCH 0

typedef struct loom_loop_s loom_loop_t;
typedef struct loom_handle_s loom_handle_t;
typedef struct loom_timer_s loom_timer_t;
typedef struct loom_idle_s loom_idle_t;
typedef struct loom_prepare_s loom_prepare_t;
typedef struct loom_check_s loom_check_t;
typedef struct loom_async_s loom_async_t;
typedef struct loom_signal_s loom_signal_t;

/* Handle types, numbered as libuv numbers them (luv exposes the number). */
typedef enum {
  LOOM_UNKNOWN_HANDLE = 0,
  LOOM_ASYNC,
  LOOM_CHECK,
  LOOM_FS_EVENT,
  LOOM_FS_POLL,
  LOOM_HANDLE,
  LOOM_IDLE,
  LOOM_NAMED_PIPE,
  LOOM_POLL,
  LOOM_PREPARE,
  LOOM_PROCESS,
  LOOM_STREAM,
  LOOM_TCP,
  LOOM_TIMER,
  LOOM_TTY,
  LOOM_UDP,
  LOOM_SIGNAL,
  LOOM_FILE,
  LOOM_HANDLE_TYPE_MAX
} loom_handle_type;

typedef enum {
  LOOM_RUN_DEFAULT = 0,
  LOOM_RUN_ONCE,
  LOOM_RUN_NOWAIT
} loom_run_mode;

typedef void (*loom_close_cb)(loom_handle_t* handle);
typedef void (*loom_walk_cb)(loom_handle_t* handle, void* arg);
typedef void (*loom_timer_cb)(loom_timer_t* timer);
typedef void (*loom_idle_cb)(loom_idle_t* idle);
typedef void (*loom_prepare_cb)(loom_prepare_t* prepare);
typedef void (*loom_check_cb)(loom_check_t* check);
typedef void (*loom_async_cb)(loom_async_t* async);
typedef void (*loom_signal_cb)(loom_signal_t* signal, int signum);

/* An intrusive doubly linked circular list node (see src/core/queue.h). */
typedef struct loom_queue_s {
  struct loom_queue_s* next;
  struct loom_queue_s* prev;
} loom_queue_t;

/* An intrusive binary min-heap node (see src/core/heap.h). */
typedef struct loom_heap_node_s {
  struct loom_heap_node_s* left;
  struct loom_heap_node_s* right;
  struct loom_heap_node_s* parent;
} loom_heap_node_t;

/* An I/O watcher: interest in one fd, owned by a handle (private to the
 * core; public only so handles that embed one can be declared here).
 * Every connection embeds one, so it is kept to 16 bytes: the callback is
 * a kind byte that io.c dispatches on, the event sets are packed into a
 * byte each, and the list of fds whose interest changed lives in the
 * loop, keyed by fd. */
typedef struct loom__io_s loom__io_t;
struct loom__io_s {
  loom__io_t* pending_next; /* next in the loop's pending list, if fed */
  int fd;
  uint8_t pevents; /* events wanted (packed, see io.c) */
  uint8_t events;  /* events the kernel was last told (packed) */
  uint8_t kind;    /* whose callback runs: a loom__io_kind */
  uint8_t state;   /* fed for the pending phase; closed while fed */
};

/* The fields every handle starts with, so any handle is a loom_handle_t.
 * `data` is the caller's; the rest is read-only outside the core. */
#define LOOM_HANDLE_FIELDS                                                    \
  void* data;                                                                 \
  loom_loop_t* loop;                                                          \
  loom_handle_type type;                                                      \
  unsigned int flags;                                                         \
  loom_close_cb close_cb;                                                     \
  loom_queue_t handle_queue; /* the loop's open or its closing handles */

struct loom_handle_s {
  LOOM_HANDLE_FIELDS
};

struct loom_timer_s {
  LOOM_HANDLE_FIELDS
  loom_timer_cb cb;
  loom_queue_t node; /* in the list of timers with its duration */
  uint64_t timeout;  /* absolute due time, loop milliseconds */
  uint64_t repeat;
  uint64_t start_id; /* breaks ties so equal due times fire in start order */
};

/* idle, prepare and check share one layout and one implementation. */
#define LOOM__LOOP_WATCHER_FIELDS(cbtype)                                     \
  LOOM_HANDLE_FIELDS                                                          \
  cbtype cb;                                                                  \
  loom_queue_t watcher_queue;

struct loom_idle_s { LOOM__LOOP_WATCHER_FIELDS(loom_idle_cb) };
struct loom_prepare_s { LOOM__LOOP_WATCHER_FIELDS(loom_prepare_cb) };
struct loom_check_s { LOOM__LOOP_WATCHER_FIELDS(loom_check_cb) };

struct loom_async_s {
  LOOM_HANDLE_FIELDS
  loom_async_cb cb;
  loom_queue_t async_queue;
  int pending; /* accessed atomically: 1 while a send awaits dispatch */
};

struct loom_signal_s {
  LOOM_HANDLE_FIELDS
  loom_signal_cb cb;
  int signum;
  int oneshot;
  loom_queue_t signal_queue;
};

#include "loom/net.h"
#include "loom/work.h"
#include "loom/fs.h"
#include "loom/fswatch.h"
#include "loom/thread.h"
#include "loom/dns.h"

/* ---- loop ---------------------------------------------------------- */

typedef struct {
  uint64_t loop_count;     /* completed loop passes */
  uint64_t events;         /* I/O events dispatched by the poller */
  uint64_t events_waiting; /* events that were ready when the last poll returned */
} loom_metrics_t;

/* Creates a loop. Returns 0 and sets *loop, or a negative error. */
int loom_loop_new(loom_loop_t** loop);
/* Frees the loop. Fails with LOOM_EBUSY (and changes nothing) while any
 * handle or request still belongs to it, closing ones included. */
int loom_loop_close(loom_loop_t* loop);
/* For a host that is shutting down: detaches every handle still open
 * without calling any callback, releases the kernel resources and frees
 * the loop. Handle memory is not touched after this returns. Thread pool
 * requests not yet reported are waited for (if running) and handed to
 * their after functions with LOOM_ECANCELED (see loom/work.h). */
void loom_loop_teardown(loom_loop_t* loop);

/* Runs the loop. DEFAULT: until nothing active and referenced is left or
 * loom_stop() is called. ONCE: one pass, blocking for I/O if needed.
 * NOWAIT: one pass without blocking. Returns non-zero if the loop is still
 * alive, or LOOM_EBUSY if the loop is already running (no re-entry). */
int loom_run(loom_loop_t* loop, loom_run_mode mode);
void loom_stop(loom_loop_t* loop);
int loom_loop_alive(const loom_loop_t* loop);
/* The mode of the run in progress, or -1 when the loop is not running. */
int loom_loop_mode(const loom_loop_t* loop);

uint64_t loom_now(const loom_loop_t* loop); /* cached, milliseconds */
void loom_update_time(loom_loop_t* loop);
uint64_t loom_hrtime(void); /* monotonic nanoseconds, thread-safe */

int loom_backend_fd(const loom_loop_t* loop);
int loom_backend_timeout(const loom_loop_t* loop); /* ms, -1 = infinite */

/* Calls cb for every handle of the loop (closing ones included, internal
 * ones excluded). cb may close handles or create new ones; new handles are
 * not visited. */
void loom_walk(loom_loop_t* loop, loom_walk_cb cb, void* arg);
/* Writes one line per handle: "[RAI] type address" (R = referenced,
 * A = active, I = internal), like libuv's uv_print_*_handles. */
void loom_print_handles(loom_loop_t* loop, int only_active, FILE* stream);

/* Blocks the signal while the loop waits for I/O. Only SIGPROF is
 * accepted (as in libuv: profilers interrupt the wait needlessly). */
int loom_loop_block_signal(loom_loop_t* loop, int signum);
/* Starts accumulating the time spent waiting for I/O. */
int loom_loop_enable_idle_metrics(loom_loop_t* loop);
uint64_t loom_metrics_idle_time(const loom_loop_t* loop); /* nanoseconds */
void loom_metrics_info(const loom_loop_t* loop, loom_metrics_t* metrics);

void loom_loop_set_data(loom_loop_t* loop, void* data);
void* loom_loop_get_data(const loom_loop_t* loop);

/* ---- handles ------------------------------------------------------- */

/* Marks the handle closing and stops it; close_cb (may be NULL) runs in
 * the closing phase of this or the next pass. */
void loom_close(loom_handle_t* handle, loom_close_cb close_cb);
int loom_is_active(const loom_handle_t* handle);
int loom_is_closing(const loom_handle_t* handle);
/* Closed: the close callback has run; the memory may be reused. */
int loom_is_closed(const loom_handle_t* handle);
void loom_ref(loom_handle_t* handle);
void loom_unref(loom_handle_t* handle);
int loom_has_ref(const loom_handle_t* handle);
const char* loom_handle_type_name(loom_handle_type type);

/* ---- timer --------------------------------------------------------- */

int loom_timer_init(loom_loop_t* loop, loom_timer_t* timer);
/* timeout and repeat are milliseconds; a due time that would overflow is
 * clamped to "never". Restarting an active timer moves it. */
int loom_timer_start(loom_timer_t* timer, loom_timer_cb cb, uint64_t timeout,
                     uint64_t repeat);
int loom_timer_stop(loom_timer_t* timer);
/* Restarts a repeating timer with its repeat as timeout; EINVAL if it was
 * never started. */
int loom_timer_again(loom_timer_t* timer);
void loom_timer_set_repeat(loom_timer_t* timer, uint64_t repeat);
uint64_t loom_timer_get_repeat(const loom_timer_t* timer);
uint64_t loom_timer_get_due_in(const loom_timer_t* timer);

/* ---- idle, prepare, check ------------------------------------------ */

int loom_idle_init(loom_loop_t* loop, loom_idle_t* idle);
int loom_idle_start(loom_idle_t* idle, loom_idle_cb cb);
int loom_idle_stop(loom_idle_t* idle);
int loom_prepare_init(loom_loop_t* loop, loom_prepare_t* prepare);
int loom_prepare_start(loom_prepare_t* prepare, loom_prepare_cb cb);
int loom_prepare_stop(loom_prepare_t* prepare);
int loom_check_init(loom_loop_t* loop, loom_check_t* check);
int loom_check_start(loom_check_t* check, loom_check_cb cb);
int loom_check_stop(loom_check_t* check);

/* ---- async --------------------------------------------------------- */

/* An async handle is active from init until close. */
int loom_async_init(loom_loop_t* loop, loom_async_t* async, loom_async_cb cb);
/* Thread-safe. Sends that arrive before the callback runs coalesce into
 * one call. */
int loom_async_send(loom_async_t* async);

/* ---- signal -------------------------------------------------------- */

int loom_signal_init(loom_loop_t* loop, loom_signal_t* signal);
/* Several handles, on one loop or several, may watch the same signal.
 * The disposition the process had is restored when the last one stops.
 * SIGKILL and SIGSTOP cannot be caught (EINVAL). */
int loom_signal_start(loom_signal_t* signal, loom_signal_cb cb, int signum);
/* Like start, but the handle stops itself after the first delivery. */
int loom_signal_start_oneshot(loom_signal_t* signal, loom_signal_cb cb,
                              int signum);
int loom_signal_stop(loom_signal_t* signal);

/* ---- errors -------------------------------------------------------- */

/* The name ("ENOENT") and message ("no such file or directory") of an
 * error code. Unknown codes get "Unknown system error -N" (thread-local
 * storage; valid until the thread's next call). */
const char* loom_err_name(int err);
const char* loom_strerror(int err);
/* Maps a positive platform errno to a loom error code. */
int loom_translate_sys_error(int sys_errno);

#include "loom/os.h"
#include "loom/wtf8.h"

#ifdef __cplusplus
}
#endif

#endif /* LOOM_H */
