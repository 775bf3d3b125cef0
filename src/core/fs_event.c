/* SPDX-License-Identifier: MIT */
/* fs_event.c: fs_event handles on inotify.
 *
 * A loop has one inotify descriptor, made on the first start and watched
 * like any other fd. The kernel gives one watch descriptor (wd) per inode,
 * however often it is added, so a watch is shared: each wd has a watch
 * record in a small hash table, and each (handle, wd) pair a subscription
 * linked into both. A recursive handle subscribes to every directory
 * below its path, each subscription knowing its directory's path relative
 * to the root, so names come out as "sub/dir/file".
 *
 * Callbacks may stop or close any handle, this one included, while a
 * watch's subscriptions are being dispatched: the watch is then freed only
 * when the dispatch is over.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK                                                            \
  (IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF |           \
   IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO)
#define CHANGE_MASK (IN_ATTRIB | IN_MODIFY)
#define RENAME_MASK (WATCH_MASK & ~CHANGE_MASK)

typedef struct watch_s {
  struct watch_s* next; /* in its hash bucket */
  int wd;
  int dispatching;      /* inside dispatch_watch: do not free yet */
  loom_queue_t subs;
} watch_t;

typedef struct {
  loom_queue_t in_watch;
  loom_queue_t in_handle;
  watch_t* watch;
  loom_fs_event_t* handle;
  size_t prefix_len;
  /* The directory's path relative to the handle's path, with a trailing
   * slash ("sub/"), or "" for the path itself. */
  char prefix[];
} sub_t;

struct loom__inotify_s {
  int fd;
  loom__io_t io;
  watch_t** buckets;
  unsigned int nbuckets; /* a power of two */
  unsigned int nwatches;
};



static int inotify_open(loom_loop_t* loop) {
  struct loom__inotify_s* in;
  int err;

  if (loop->inotify != NULL)
    return 0;
  in = calloc(1, sizeof(*in));
  if (in == NULL)
    return LOOM_ENOMEM;
  in->nbuckets = 16;
  in->buckets = calloc(in->nbuckets, sizeof(*in->buckets));
  in->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in->buckets == NULL || in->fd < 0) {
    err = in->buckets == NULL ? LOOM_ENOMEM : LOOM__ERR(errno);
    if (in->fd >= 0)
      loom__close(in->fd);
    free(in->buckets);
    free(in);
    return err;
  }
  loom__io_init(&in->io, LOOM__IO_INOTIFY, in->fd);
  err = loom__io_start(loop, &in->io, POLLIN);
  if (err != 0) {
    loom__close(in->fd);
    free(in->buckets);
    free(in);
    return err;
  }
  loop->inotify = in;
  return 0;
}


void loom__fs_event_loop_free(loom_loop_t* loop) {
  struct loom__inotify_s* in = loop->inotify;
  watch_t* w;
  unsigned int i;

  if (in == NULL)
    return;
  /* Every handle has been stopped, so no watch has a subscriber left. A
   * watch can remain only when the loop was torn down from inside one of
   * its callbacks (os.exit): that dispatch never ends to free it. Closing
   * the descriptor drops the kernel's side. */
  for (i = 0; i < in->nbuckets; i++) {
    while ((w = in->buckets[i]) != NULL) {
      assert(loom__queue_empty(&w->subs) && w->dispatching > 0);
      in->buckets[i] = w->next;
      in->nwatches--;
      free(w);
    }
  }
  assert(in->nwatches == 0);
  loom__io_close(loop, &in->io);
  loom__close(in->fd);
  free(in->buckets);
  free(in);
  loop->inotify = NULL;
}


static watch_t** bucket_of(struct loom__inotify_s* in, int wd) {
  return &in->buckets[(unsigned int) wd & (in->nbuckets - 1)];
}


static watch_t* watch_find(struct loom__inotify_s* in, int wd) {
  watch_t* w;

  for (w = *bucket_of(in, wd); w != NULL; w = w->next)
    if (w->wd == wd)
      return w;
  return NULL;
}


/* Doubles the table when it holds two watches per bucket on average. */
static void watch_table_grow(struct loom__inotify_s* in) {
  unsigned int n = in->nbuckets * 2;
  watch_t** buckets = calloc(n, sizeof(*buckets));
  watch_t** old = in->buckets;
  unsigned int old_n = in->nbuckets;
  unsigned int i;
  watch_t* w;

  if (buckets == NULL)
    return; /* Longer chains; still correct. */
  in->buckets = buckets;
  in->nbuckets = n;
  for (i = 0; i < old_n; i++) {
    while ((w = old[i]) != NULL) {
      old[i] = w->next;
      w->next = *bucket_of(in, w->wd);
      *bucket_of(in, w->wd) = w;
    }
  }
  free(old);
}


static watch_t* watch_get(struct loom__inotify_s* in, int wd) {
  watch_t* w = watch_find(in, wd);

  if (w != NULL)
    return w;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return NULL;
  w->wd = wd;
  loom__queue_init(&w->subs);
  if (in->nwatches >= in->nbuckets * 2)
    watch_table_grow(in);
  w->next = *bucket_of(in, wd);
  *bucket_of(in, wd) = w;
  in->nwatches++;
  return w;
}


/* Frees the watch once nothing subscribes to it. `removed` says the
 * kernel already dropped the wd (IN_IGNORED). */
static void watch_release(struct loom__inotify_s* in, watch_t* w,
                          int removed) {
  watch_t** p;

  if (!loom__queue_empty(&w->subs) || w->dispatching)
    return;
  for (p = bucket_of(in, w->wd); *p != w; p = &(*p)->next)
    ;
  *p = w->next;
  in->nwatches--;
  if (!removed)
    inotify_rm_watch(in->fd, w->wd);
  free(w);
}


static void sub_free(struct loom__inotify_s* in, sub_t* s, int removed) {
  watch_t* w = s->watch;

  loom__queue_remove(&s->in_watch);
  loom__queue_remove(&s->in_handle);
  free(s);
  watch_release(in, w, removed);
}


/* Adds a watch on path for the handle, its names prefixed by prefix. A
 * second subscription of the same handle to the same inode (a directory
 * reached twice through bind mounts) is not added. */
static int subscribe(loom_fs_event_t* h, const char* path, const char* prefix,
                     size_t prefix_len, uint32_t extra_mask) {
  struct loom__inotify_s* in = h->loop->inotify;
  loom_queue_t* q;
  watch_t* w;
  sub_t* s;
  int wd;

  wd = inotify_add_watch(in->fd, path, WATCH_MASK | extra_mask);
  if (wd < 0)
    return LOOM__ERR(errno);
  w = watch_get(in, wd);
  if (w == NULL) {
    if (watch_find(in, wd) == NULL)
      inotify_rm_watch(in->fd, wd);
    return LOOM_ENOMEM;
  }
  for (q = w->subs.next; q != &w->subs; q = q->next)
    if (loom__queue_data(q, sub_t, in_watch)->handle == h)
      return 0;
  s = malloc(sizeof(*s) + prefix_len + 1);
  if (s == NULL) {
    watch_release(in, w, 0);
    return LOOM_ENOMEM;
  }
  s->watch = w;
  s->handle = h;
  s->prefix_len = prefix_len;
  memcpy(s->prefix, prefix, prefix_len);
  s->prefix[prefix_len] = '\0';
  loom__queue_insert_tail(&w->subs, &s->in_watch);
  loom__queue_insert_tail(&h->subs, &s->in_handle);
  return 0;
}


static int is_dir_entry(const char* dir, const struct dirent* d) {
  struct stat st;
  char path[PATH_MAX];

  if (d->d_type == DT_DIR)
    return 1;
  if (d->d_type != DT_UNKNOWN)
    return 0;
  if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >=
      sizeof(path))
    return 0;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}


/* A directory a recursive walk has still to visit, relative to the
 * handle's path ("sub/dir/"). */
typedef struct pending_dir_s {
  struct pending_dir_s* next;
  size_t len;
  char prefix[];
} pending_dir_t;


static int push_dir(pending_dir_t** walk, const char* prefix, size_t len) {
  pending_dir_t* p = malloc(sizeof(*p) + len + 1);

  if (p == NULL)
    return LOOM_ENOMEM;
  p->len = len;
  memcpy(p->prefix, prefix, len + 1);
  p->next = *walk;
  *walk = p;
  return 0;
}


/* Watches one directory of a recursive handle and puts its
 * subdirectories on the walk. Symbolic links are not followed. */
static int visit_dir(loom_fs_event_t* h, const pending_dir_t* p,
                     pending_dir_t** walk) {
  char dir[PATH_MAX];
  char sub[PATH_MAX];
  struct dirent* d;
  DIR* dp;
  size_t n;
  int err;

  if ((size_t) snprintf(dir, sizeof(dir), "%s/%s", h->path, p->prefix) >=
      sizeof(dir))
    return LOOM_ENAMETOOLONG;
  err = subscribe(h, dir, p->prefix, p->len, IN_ONLYDIR | IN_DONT_FOLLOW);
  if (err != 0)
    return err;
  dp = opendir(dir);
  if (dp == NULL)
    return 0;
  while ((d = readdir(dp)) != NULL) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
      continue;
    if (!is_dir_entry(dir, d))
      continue;
    n = (size_t) snprintf(sub, sizeof(sub), "%s%s/", p->prefix, d->d_name);
    if (n >= sizeof(sub))
      continue;
    err = push_dir(walk, sub, n);
    if (err != 0)
      break;
  }
  closedir(dp);
  return err;
}


/* Subscribes to the directory root/prefix and every directory below it.
 * The walk keeps its directories to visit in a list on the heap, not in
 * recursive calls: a tree can be a thousand levels deep, and a stack
 * frame per level would overflow the thread's stack. Below the first
 * directory, one that vanishes, cannot be read or has too long a path is
 * skipped: a tree changes while it is walked. Returns the first
 * directory's error, or LOOM_ENOMEM or LOOM_ENOSPC (out of inotify
 * watches) when the walk had to stop below it: part of the tree is then
 * not watched, and the caller must say so. */
static int subscribe_tree(loom_fs_event_t* h, const char* prefix,
                          size_t prefix_len) {
  pending_dir_t* walk = NULL;
  pending_dir_t* p;
  int stopped;
  int below;
  int err;

  err = push_dir(&walk, prefix, prefix_len);
  if (err != 0)
    return err;
  p = walk;
  walk = NULL;
  err = visit_dir(h, p, &walk);
  free(p);
  stopped = err != 0;
  while ((p = walk) != NULL) {
    walk = p->next;
    if (!stopped) {
      below = visit_dir(h, p, &walk);
      if (below == LOOM_ENOMEM || below == LOOM_ENOSPC) {
        stopped = 1;
        err = below;
      }
    }
    free(p);
  }
  return err;
}


int loom_fs_event_init(loom_loop_t* loop, loom_fs_event_t* h) {
  loom__handle_init(loop, (loom_handle_t*) h, LOOM_FS_EVENT);
  h->cb = NULL;
  h->path = NULL;
  h->watch_flags = 0;
  loom__queue_init(&h->subs);
  return 0;
}


int loom_fs_event_start(loom_fs_event_t* h, loom_fs_event_cb cb,
                        const char* path, unsigned int flags) {
  struct stat st;
  int recursive;
  int err;

  if (cb == NULL || path == NULL || loom__is_closing((loom_handle_t*) h) ||
      loom__is_active((loom_handle_t*) h))
    return LOOM_EINVAL;
  err = inotify_open(h->loop);
  if (err != 0)
    return err;
  h->path = strdup(path);
  if (h->path == NULL)
    return LOOM_ENOMEM;
  h->cb = cb;
  h->watch_flags = flags;
  recursive = (flags & LOOM_FS_EVENT_RECURSIVE) && stat(path, &st) == 0 &&
              S_ISDIR(st.st_mode);
  if (recursive)
    err = subscribe_tree(h, "", 0);
  else
    err = subscribe(h, path, "", 0, 0);
  if (err != 0) {
    loom_fs_event_stop(h);
    return err;
  }
  loom__handle_start((loom_handle_t*) h);
  return 0;
}


int loom_fs_event_stop(loom_fs_event_t* h) {
  struct loom__inotify_s* in = h->loop->inotify;

  while (!loom__queue_empty(&h->subs))
    sub_free(in, loom__queue_data(loom__queue_head(&h->subs), sub_t,
                                  in_handle), 0);
  free(h->path);
  h->path = NULL;
  loom__handle_stop((loom_handle_t*) h);
  return 0;
}


const char* loom_fs_event_getpath(const loom_fs_event_t* h) {
  return h->path;
}


void loom__fs_event_close(loom_fs_event_t* h) {
  loom_fs_event_stop(h);
}


/* The last component of the handle's path: the name reported for events
 * on the watched object itself. */
static const char* base_name(const char* path) {
  size_t n = strlen(path);
  const char* p;

  while (n > 1 && path[n - 1] == '/')
    n--;
  for (p = path + n; p > path && p[-1] != '/'; p--)
    ;
  return p;
}


/* Stops watching the directories of a recursive handle whose relative
 * path starts with prefix (a directory moved out of the tree). */
static void unsubscribe_tree(loom_fs_event_t* h, const char* prefix,
                             size_t prefix_len) {
  struct loom__inotify_s* in = h->loop->inotify;
  loom_queue_t* q = h->subs.next;
  sub_t* s;

  while (q != &h->subs) {
    s = loom__queue_data(q, sub_t, in_handle);
    q = q->next;
    if (s->prefix_len >= prefix_len &&
        memcmp(s->prefix, prefix, prefix_len) == 0)
      sub_free(in, s, 0);
  }
}


/* Keeps a recursive handle's set of directories in step with the tree:
 * a directory that appears is watched before the callback runs, so what
 * is created in it next is seen; one that moves away is forgotten (if it
 * moved within the tree, its arrival re-adds it under the new name).
 * Returns LOOM_ENOMEM or LOOM_ENOSPC when the new directory, or part of
 * what it holds, could not be watched; one that vanished already is no
 * error. */
static int follow_directory(loom_fs_event_t* h, const char* name,
                            uint32_t mask) {
  char prefix[PATH_MAX];
  size_t n = (size_t) snprintf(prefix, sizeof(prefix), "%s/", name);
  int err;

  if (n >= sizeof(prefix))
    return 0;
  if (mask & (IN_CREATE | IN_MOVED_TO)) {
    err = subscribe_tree(h, prefix, n);
    if (err == LOOM_ENOMEM || err == LOOM_ENOSPC)
      return err;
  } else if (mask & IN_MOVED_FROM) {
    unsubscribe_tree(h, prefix, n);
  }
  return 0;
}


/* Calls one subscriber. Returns without calling when the event names
 * nothing this subscriber reports (see below). */
static void notify(sub_t* s, const struct inotify_event* e, int events) {
  loom_fs_event_t* h = s->handle;
  char name[PATH_MAX + NAME_MAX + 2];
  size_t len;
  int status = 0;

  if (e->len > 0) {
    len = strlen(e->name);
    if (s->prefix_len + len >= sizeof(name))
      return;
    memcpy(name, s->prefix, s->prefix_len);
    memcpy(name + s->prefix_len, e->name, len + 1);
    /* A directory that could not be watched is reported with its own
     * event, in the one callback, rather than missed in silence. */
    if ((h->watch_flags & LOOM_FS_EVENT_RECURSIVE) && (e->mask & IN_ISDIR))
      status = follow_directory(h, name, e->mask);
  } else if (s->prefix_len == 0) {
    const char* base = base_name(h->path);
    len = strlen(base);
    if (len >= sizeof(name))
      return;
    memcpy(name, base, len + 1);
  } else {
    /* A subdirectory of a recursive watch reporting on itself: its parent
     * reports the same change under the entry's name. */
    return;
  }
  h->cb(h, name, events, status);
}


static void dispatch_watch(struct loom__inotify_s* in, watch_t* w,
                           const struct inotify_event* e) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  int events = 0;

  if (e->mask & IN_IGNORED) {
    /* The kernel dropped the wd (its inode is gone, or its file system
     * was unmounted): drop the subscriptions; the handles stay active,
     * as in libuv, and hear nothing more from it. */
    w->dispatching++;
    while (!loom__queue_empty(&w->subs))
      sub_free(in, loom__queue_data(loom__queue_head(&w->subs), sub_t,
                                    in_watch), 1);
    w->dispatching--;
    watch_release(in, w, 1);
    return;
  }
  if (e->mask & CHANGE_MASK)
    events |= LOOM_FS_EVENT_CHANGE;
  if (e->mask & RENAME_MASK)
    events |= LOOM_FS_EVENT_RENAME;
  if (events == 0)
    return;

  w->dispatching++;
  loom__queue_move(&w->subs, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    loom__queue_remove(q);
    loom__queue_insert_tail(&w->subs, q);
    notify(loom__queue_data(q, sub_t, in_watch), e, events);
  }
  w->dispatching--;
  watch_release(in, w, 0);
}


/* The next started fs_event handle still to hear of an overflow. */
static loom_fs_event_t* next_overflow_due(loom_loop_t* loop) {
  loom_queue_t* q;
  loom_handle_t* h;

  for (q = loop->handle_queue.next; q != &loop->handle_queue; q = q->next) {
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    if (h->type == LOOM_FS_EVENT && (h->flags & LOOM__FS_EVENT_OVERFLOW_DUE))
      return (loom_fs_event_t*) h;
  }
  return NULL;
}


/* The kernel's queue overflowed: events were lost, and which handles they
 * concerned is unknown. Every started handle is told once, with
 * EOVERFLOW, so it can look again for itself. The handles are marked
 * first and found again one by one, since a callback may stop or close
 * any of them. */
static void report_overflow(loom_loop_t* loop) {
  loom_queue_t* q;
  loom_handle_t* h;
  loom_fs_event_t* fe;

  for (q = loop->handle_queue.next; q != &loop->handle_queue; q = q->next) {
    h = loom__queue_data(q, loom_handle_t, handle_queue);
    if (h->type == LOOM_FS_EVENT && ((loom_fs_event_t*) h)->path != NULL)
      h->flags |= LOOM__FS_EVENT_OVERFLOW_DUE;
  }
  while ((fe = next_overflow_due(loop)) != NULL) {
    fe->flags &= ~LOOM__FS_EVENT_OVERFLOW_DUE;
    if (fe->path != NULL)
      fe->cb(fe, NULL, 0, LOOM_EOVERFLOW);
  }
}


void loom__inotify_io(loom_loop_t* loop, loom__io_t* io, unsigned int events) {
  struct loom__inotify_s* in = loom__queue_data(io, struct loom__inotify_s, io);
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  const struct inotify_event* e;
  ssize_t n;
  char* p;
  watch_t* w;

  if (events & LOOM__IO_PENDING)
    return;
  for (;;) {
    n = read(in->fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    for (p = buf; p < buf + n; p += sizeof(*e) + e->len) {
      e = (const struct inotify_event*) p;
      if (e->mask & IN_Q_OVERFLOW) {
        report_overflow(loop);
        continue;
      }
      /* The watch is looked up for every event: a callback may have
       * stopped the last handle on it. */
      w = watch_find(in, e->wd);
      if (w != NULL)
        dispatch_watch(in, w, e);
    }
  }
}
