/* SPDX-License-Identifier: MIT */
/* internal.h: the loop's private state and the core's internal functions.
 *
 * Nothing outside src/core includes this file. Names with the loom__ prefix
 * are shared between core files and are not part of the public API.
 */
#ifndef LOOM_INTERNAL_H
#define LOOM_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "heap.h"
#include "loom.h"
#include "queue.h"

#define LOOM__NSIG 65

/* Asks the CPU to start fetching a line that will be needed soon. Loops
 * over a million scattered handles are bound by cache misses; a fetch
 * begun before a callback runs overlaps with it. */
#if defined(__GNUC__)
#define LOOM__PREFETCH(p) __builtin_prefetch((p), 1)
#else
#define LOOM__PREFETCH(p) ((void) (p))
#endif

/* Handle flags: the low bits are shared by all handle types. */
enum {
  LOOM__HANDLE_ACTIVE = 1u << 0,
  LOOM__HANDLE_REF = 1u << 1,
  LOOM__HANDLE_CLOSING = 1u << 2,
  LOOM__HANDLE_CLOSED = 1u << 3,
  LOOM__HANDLE_INTERNAL = 1u << 4
};

/* Stream flags (tcp, pipe, tty). */
enum {
  LOOM__STREAM_READABLE = 1u << 16,
  LOOM__STREAM_WRITABLE = 1u << 17,
  LOOM__STREAM_READING = 1u << 18,
  LOOM__STREAM_LISTENING = 1u << 19,
  LOOM__STREAM_SHUTTING = 1u << 20, /* shutdown requested */
  LOOM__STREAM_SHUT = 1u << 21,     /* write side shut down */
  LOOM__STREAM_EOF = 1u << 22,
  LOOM__STREAM_BLOCKING = 1u << 23,
  LOOM__STREAM_SOCKET = 1u << 24,   /* sendmsg with MSG_NOSIGNAL works */
  LOOM__STREAM_BOUND = 1u << 25,
  LOOM__STREAM_CLOSE_RESET = 1u << 26,
  /* bind found the address in use: listen and connect say so (libuv). */
  LOOM__STREAM_BIND_INUSE = 1u << 27
};

/* fs_event flags. */
enum {
  /* Still to be told that the kernel's event queue overflowed. */
  LOOM__FS_EVENT_OVERFLOW_DUE = 1u << 16
};

/* UDP flags. */
enum {
  LOOM__UDP_CONNECTED = 1u << 16,
  LOOM__UDP_RECEIVING = 1u << 17,
  LOOM__UDP_BOUND = 1u << 18,
  /* Set while received datagrams are dispatched: sends made by the
   * receive callbacks are queued and leave in one sendmmsg afterwards. */
  LOOM__UDP_CORKED = 1u << 19
};

/* The pending phase calls a watcher's callback with this event. */
#define LOOM__IO_PENDING (1u << 30)

/* The per-loop read buffer: reads of every stream land here. */
#define LOOM__READ_BUF_SIZE 65536

/* The timers started with one timeout, due in start order (timer.c). */
typedef struct loom__timer_list_s {
  loom_heap_node_t heap_node;
  loom_queue_t timers; /* sentinel */
  uint64_t duration;
  struct loom__timer_list_s* next; /* hash chain, or spare list */
} loom__timer_list_t;


struct loom_loop_s {
  void* data;
  unsigned int active_handles; /* active and referenced */
  unsigned int active_reqs;
  int tearing_down;            /* inside loom_loop_teardown */
  loom_queue_t handle_queue;   /* open handles */
  loom_queue_t closing_queue;  /* closing handles, FIFO, until the close phase */
  /* How many handles closing_queue holds: counting a batch of a million
   * by walking the list cost a cold cache miss per handle. */
  size_t nclosing;
  /* Open handles a loom_walk has yet to visit sit in a list on its stack;
   * the lists are linked here so that teardown from inside a walk
   * callback (os.exit) still finds those handles. */
  loom_queue_t walks;
  /* io watchers fed for the pending phase, FIFO, linked through the
   * watchers; pending_dead counts those closed while still linked. */
  loom__io_t* pending_head;
  loom__io_t* pending_tail;
  unsigned int pending_dead;
  loom_queue_t idle_handles;
  loom_queue_t prepare_handles;
  loom_queue_t check_handles;
  loom_queue_t async_handles;
  loom_queue_t signal_handles;
  loom__heap_t timer_heap;       /* of timer lists, by their first timer */
  loom__timer_list_t timer_overflow; /* sorted; see timer.c */
  struct loom__timer_list_s** timer_lists; /* hash: duration -> list */
  unsigned int timer_lists_size; /* buckets, a power of two (or 0) */
  unsigned int timer_lists_used;
  struct loom__timer_list_s* spare_lists; /* emptied lists kept for reuse */
  unsigned int nspare_lists;
  uint64_t timer_counter;
  uint64_t time; /* cached now, ms */
  int stop_flag;
  int run_mode; /* -1 when not running */

  /* The poller (poll_epoll.c). */
  int backend_fd;
  /* Indexed by fd. The low bit of an entry marks an fd that is in the
   * change list, so an fd is listed at most once, whoever watches it. */
  uintptr_t* watchers;
  unsigned int nwatchers;
  unsigned int nfds; /* watchers in the table */
  int* changes;      /* fds whose watcher's interest changed */
  unsigned int nchanges;
  unsigned int changes_cap;
  void* poll_batch;           /* the batch being dispatched, or NULL */
  int poll_batch_len;

  /* Cross-thread wake-up: one eventfd shared by async handles, signals and
   * the thread pool's completions. */
  int wakeup_fd;
  loom__io_t wakeup_watcher;

  /* Signals: the handler only touches these atomics and the eventfd. */
  atomic_uint sig_caught[LOOM__NSIG];
  atomic_int sig_any;
  unsigned int sig_watching[LOOM__NSIG]; /* changed under the signal lock */
  loom_loop_t* sig_next;                 /* in the global list of loops */
  int sig_registered;

  /* Reads land in this buffer (grown for recvmmsg), never in a malloc per
   * read; the read callback consumes it before the next read. */
  char* read_buf;
  size_t read_buf_size;

  /* Recycled copies of queued callback-less datagrams (udp.c). */
  void* udp_copy_free;
  unsigned int udp_copy_nfree;

  /* The inotify descriptor and its watches (fs_event.c), made on the
   * first fs_event start. */
  struct loom__inotify_s* inotify;
  /* The c-ares channel for getaddrinfo/getnameinfo (dns.c), made on first
   * use, and every resolver's channel, open or closing. */
  struct loom__dns_s* dns;
  loom_queue_t dns_resolvers;
  /* The parsed hosts file (dns_hosts.c), made on first use. */
  struct loom__hosts_s* hosts;
  /* Bytes read on the loop thread from the page cache in this pass of
   * the loop (fs.c): past a budget, reads go to the pool again. */
  uint64_t inline_read_pass;
  size_t inline_read_bytes;
  /* Every fs_poll context (fs_poll.c): teardown frees the ones whose stat
   * was still on the pool, which are called back no more. */
  loom_queue_t fs_poll_ctxs;

  /* Child processes (process.c), reaped on SIGCHLD. */
  loom_queue_t process_handles;
  int child_watching;

  /* Thread pool completions (threadpool.c): workers append finished
   * requests under the lock, then wake the loop through its eventfd. */
  pthread_mutex_t work_lock;
  pthread_cond_t work_idle;  /* signalled when work_running drops to 0 */
  loom_queue_t work_done;
  /* The batch being called back (loop thread only): teardown from inside
   * one of its callbacks (os.exit) must still find the rest. */
  loom_queue_t work_dispatching;
  /* This loop's requests on a worker now: raised under the pool's lock,
   * lowered (and work_idle signalled at 0) under work_lock. */
  atomic_uint work_running;

  /* Configuration and metrics. */
  int block_sigprof;
  int idle_metrics;
  uint64_t idle_time;
  loom_metrics_t metrics;
};

/* Handle bookkeeping (handle.c). */
void loom__handle_init(loom_loop_t* loop, loom_handle_t* h,
                       loom_handle_type type);
void loom__handle_start(loom_handle_t* h);
void loom__handle_stop(loom_handle_t* h);
void loom__walk_teardown(loom_loop_t* loop);
int loom__run_closing_handles(loom_loop_t* loop);
void loom__handle_detach(loom_handle_t* h); /* teardown: no callbacks */

static inline int loom__is_active(const loom_handle_t* h) {
  return (h->flags & LOOM__HANDLE_ACTIVE) != 0;
}

static inline int loom__is_closing(const loom_handle_t* h) {
  return (h->flags & (LOOM__HANDLE_CLOSING | LOOM__HANDLE_CLOSED)) != 0;
}

/* Type-specific close and teardown steps. */
void loom__timer_close(loom_timer_t* t);
void loom__watcher_close(loom_handle_t* h);
void loom__async_close(loom_async_t* a);
void loom__signal_close(loom_signal_t* s);

/* Streams, udp, poll, processes. */
void loom__stream_init(loom_loop_t* loop, loom_stream_t* s,
                       loom_handle_type type);
int loom__stream_open(loom_stream_t* s, int fd, unsigned int flags);
void loom__stream_close(loom_stream_t* s);
void loom__stream_finish_close(loom_stream_t* s);
void loom__pipe_close(loom_pipe_t* p);
int loom__pipe_recv_fds(loom_pipe_t* p, const void* msg);
void loom__udp_close(loom_udp_t* u);
void loom__udp_finish_close(loom_udp_t* u);
void loom__udp_detach(loom_udp_t* u);
void loom__udp_loop_free(loom_loop_t* loop);
void loom__poll_close(loom_poll_t* p);
void loom__process_close(loom_process_t* p);
void loom__fs_event_close(loom_fs_event_t* h);
void loom__fs_event_loop_free(loom_loop_t* loop);
void loom__fs_poll_close(loom_fs_poll_t* h);
void loom__fs_poll_loop_free(loom_loop_t* loop);
void loom__dns_loop_free(loom_loop_t* loop);
void loom__work_post_finished(loom_loop_t* loop, loom_work_t* req,
                              loom_after_work_cb after_work_cb);
void loom__hosts_free(loom_loop_t* loop);
void loom__process_reap(loom_loop_t* loop);
int loom__signal_watch(loom_loop_t* loop, int signum);
void loom__signal_unwatch(loom_loop_t* loop, int signum);
char* loom__read_buf(loom_loop_t* loop, size_t size);

/* fd helpers (fd.c). */
int loom__nonblock(int fd, int set);
/* Whether a live stream or udp handle of the loop holds fd (stream.c). */
int loom__fd_owned(const loom_loop_t* loop, int fd);
/* Whether fd is one of the loop's own: the poller, the wake-up eventfd,
 * or one watched for the loop itself (c-ares, inotify) (stream.c). */
int loom__fd_internal(const loom_loop_t* loop, int fd);
/* 0 if fd is a socket of the given SOCK_ type, else ENOTSOCK, EINVAL or
 * EEXIST (a handle of the loop holds it already) (stream.c). */
int loom__check_socket_fd(const loom_loop_t* loop, int fd, int socktype);
int loom__cloexec(int fd, int set);
int loom__socket(int domain, int type, int protocol);
int loom__close(int fd);
int loom__sockaddr_len(const struct sockaddr* addr);

/* Timers (timer.c). */
void loom__timers_init(loom_loop_t* loop);
void loom__run_timers(loom_loop_t* loop);
void loom__timers_free(loom_loop_t* loop);
int loom__next_timeout(const loom_loop_t* loop);

/* idle, prepare, check (watcher.c). */
void loom__run_idle(loom_loop_t* loop);
void loom__run_prepare(loom_loop_t* loop);
void loom__run_check(loom_loop_t* loop);

/* I/O watchers (io.c). A watcher's kind names the callback io.c calls
 * for it, with POLL* events or LOOM__IO_PENDING. */
typedef enum {
  LOOM__IO_WAKEUP,
  LOOM__IO_STREAM,
  LOOM__IO_UDP,
  LOOM__IO_POLL,
  LOOM__IO_INOTIFY,
  LOOM__IO_DNS
} loom__io_kind;
void loom__wakeup_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__stream_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__udp_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__poll_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__inotify_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__dns_io(loom_loop_t* loop, loom__io_t* w, unsigned int events);

void loom__io_init(loom__io_t* w, loom__io_kind kind, int fd);
void loom__io_dispatch(loom_loop_t* loop, loom__io_t* w, unsigned int events);
/* The watcher at fd, or NULL. */
loom__io_t* loom__io_at(const loom_loop_t* loop, int fd);
/* The events w wants, as POLL* bits. */
unsigned int loom__io_wanted(const loom__io_t* w);
/* Called when the kernel has been told w's wish. */
void loom__io_registered_now(loom__io_t* w);
/* Takes the next fd from the change list (-1 when empty); its watcher, if
 * any, is left in *w. */
int loom__io_next_change(loom_loop_t* loop, loom__io_t** w);
/* The closing phase frees handles: watchers closed while fed leave the
 * pending list first. */
void loom__io_purge_closed(loom_loop_t* loop);
int loom__io_pending(const loom_loop_t* loop);
void loom__io_loop_free(loom_loop_t* loop);
int loom__io_start(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__io_stop(loom_loop_t* loop, loom__io_t* w, unsigned int events);
void loom__io_close(loom_loop_t* loop, loom__io_t* w);
void loom__io_feed(loom_loop_t* loop, loom__io_t* w);
int loom__run_pending(loom_loop_t* loop);

/* The poller (poll_epoll.c): the only code that knows about epoll. */
int loom__poller_init(loom_loop_t* loop);
void loom__poller_close(loom_loop_t* loop);
void loom__poll(loom_loop_t* loop, int timeout);
void loom__poller_invalidate_fd(loom_loop_t* loop, int fd);
void loom__poller_forget(loom_loop_t* loop, loom__io_t* w);
/* Tells the kernel w's wish at once (when the change list cannot grow). */
void loom__poller_update(loom_loop_t* loop, loom__io_t* w);

/* Wake-up, async and signals (async.c, signal.c). */
int loom__wakeup_init(loom_loop_t* loop);
void loom__wakeup_close(loom_loop_t* loop);
void loom__wakeup(loom_loop_t* loop);
void loom__async_dispatch(loom_loop_t* loop);
/* The thread pool's side of a loop (threadpool.c). */
int loom__work_loop_init(loom_loop_t* loop);
void loom__work_loop_free(loom_loop_t* loop);
void loom__work_dispatch(loom_loop_t* loop);
/* Teardown: drops the loop's queued requests and waits for its running
 * ones; no callback runs. */
void loom__work_loop_teardown(loom_loop_t* loop);
void loom__signal_dispatch(loom_loop_t* loop);
void loom__signal_loop_close(loom_loop_t* loop);

/* Time (loop.c). */
uint64_t loom__clock_ms(void);

/* A platform errno as a loom error code. */
#define LOOM__ERR(e) (-(e))

#endif /* LOOM_INTERNAL_H */
