/* SPDX-License-Identifier: MIT */
/* loom/fswatch.h: watching the file system: fs_event (inotify) and
 * fs_poll (stat polling). Included by loom.h.
 *
 * An fs_event handle reports changes as the kernel sees them, through one
 * inotify descriptor per loop. An fs_poll handle stats a path on the
 * thread pool at an interval and reports when the result differs; it
 * works where inotify cannot (network file systems, /proc).
 */
#ifndef LOOM_FSWATCH_H
#define LOOM_FSWATCH_H

typedef struct loom_fs_event_s loom_fs_event_t;
typedef struct loom_fs_poll_s loom_fs_poll_t;

/* What happened (libuv's values). RENAME covers creation, deletion and
 * moves of an entry; CHANGE covers contents and attributes. */
enum {
  LOOM_FS_EVENT_RENAME = 1,
  LOOM_FS_EVENT_CHANGE = 2
};

/* Start flags (libuv's values). WATCH_ENTRY and STAT are accepted and have
 * no effect on Linux. RECURSIVE watches every directory below the path,
 * including ones created later, and reports names relative to the path
 * ("sub/file.txt"), which inotify alone cannot do. */
enum {
  LOOM_FS_EVENT_WATCH_ENTRY = 1,
  LOOM_FS_EVENT_STAT = 2,
  LOOM_FS_EVENT_RECURSIVE = 4
};

/* filename is the entry that changed, relative to the watched directory,
 * or the watched file's own name; it is valid during the call only.
 * status is 0, LOOM_EOVERFLOW (events were lost; filename is NULL), or,
 * for a recursive handle, LOOM_ENOMEM or LOOM_ENOSPC with the event of a
 * new directory that could not (wholly) be watched. */
typedef void (*loom_fs_event_cb)(loom_fs_event_t* handle, const char* filename,
                                 int events, int status);
/* prev and curr are the stats before and after; after an error (status
 * < 0) curr is all zeros, and prev is zero when nothing was seen yet. */
typedef void (*loom_fs_poll_cb)(loom_fs_poll_t* handle, int status,
                                const loom_stat_t* prev,
                                const loom_stat_t* curr);

struct loom_fs_event_s {
  LOOM_HANDLE_FIELDS
  loom_fs_event_cb cb;
  char* path;          /* the path as given to start, while active */
  unsigned int watch_flags; /* LOOM_FS_EVENT_* start flags */
  loom_queue_t subs;   /* the handle's inotify watches (fs_event.c) */
};

struct loom_fs_poll_s {
  LOOM_HANDLE_FIELDS
  loom_fs_poll_cb cb;
  struct loom__fs_poll_ctx_s* ctx; /* private: the polling state */
};

int loom_fs_event_init(loom_loop_t* loop, loom_fs_event_t* handle);
/* Watches a file or a directory. EINVAL if already started. A recursive
 * start that cannot watch the whole tree (out of memory or of inotify
 * watches) fails with that error and watches nothing. */
int loom_fs_event_start(loom_fs_event_t* handle, loom_fs_event_cb cb,
                        const char* path, unsigned int flags);
int loom_fs_event_stop(loom_fs_event_t* handle);
/* The watched path, or NULL when the handle is not started. */
const char* loom_fs_event_getpath(const loom_fs_event_t* handle);

int loom_fs_poll_init(loom_loop_t* loop, loom_fs_poll_t* handle);
/* Stats path now and then every interval ms (at least 1); the first
 * result is only remembered, unless it is an error. EINVAL if started. */
int loom_fs_poll_start(loom_fs_poll_t* handle, loom_fs_poll_cb cb,
                       const char* path, unsigned int interval);
int loom_fs_poll_stop(loom_fs_poll_t* handle);
const char* loom_fs_poll_getpath(const loom_fs_poll_t* handle);

#endif /* LOOM_FSWATCH_H */
