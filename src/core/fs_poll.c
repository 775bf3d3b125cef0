/* SPDX-License-Identifier: MIT */
/* fs_poll.c: fs_poll handles: stat a path on the thread pool every
 * interval and report when the result changes.
 *
 * The polling state lives in a context of its own, with an internal timer
 * and the stat request, because a stat may still be on a worker when the
 * handle is stopped or closed: the context then outlives the handle and
 * frees itself when the stat comes back. Stopping and restarting at once
 * makes a new context; the old one finishes on its own. At teardown the
 * pool calls no fs callback, so the loop frees what is left of them.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct loom__fs_poll_ctx_s {
  loom_fs_poll_t* parent; /* NULL once the handle let go of it */
  loom_queue_t node;      /* in loop->fs_poll_ctxs */
  loom_timer_t timer;
  loom_fs_t req;
  int stat_pending;       /* req is on the pool */
  int last;               /* 0 before the first result, 1 after a good one,
                             else the last error */
  uint64_t start_time;    /* when the current stat was issued */
  unsigned int interval;
  loom_stat_t statbuf;    /* the last good result */
  char path[];
} ctx_t;

static const loom_stat_t zero_stat;

static void poll_stat(ctx_t* c);


static void ctx_free(ctx_t* c) {
  loom__queue_remove(&c->node);
  free(c);
}


static void ctx_free_on_close(loom_handle_t* timer) {
  ctx_free(loom__queue_data(timer, ctx_t, timer));
}


/* The context is done with: free it now or once its timer has closed.
 * During teardown no close callback runs, so the timer is detached. */
static void ctx_dispose(ctx_t* c) {
  loom_handle_t* t = (loom_handle_t*) &c->timer;

  if (c->timer.loop->tearing_down) {
    loom__handle_detach(t);
    if (!c->stat_pending)
      ctx_free(c);
  } else if (!loom__is_closing(t)) {
    loom_close(t, ctx_free_on_close);
  }
}


static void on_timer(loom_timer_t* timer) {
  poll_stat(loom__queue_data(timer, ctx_t, timer));
}


/* The fields whose change counts, as libuv compares them (atime is left
 * out: reading the file must not look like a change). */
static int stat_equal(const loom_stat_t* a, const loom_stat_t* b) {
  return a->ctime.sec == b->ctime.sec && a->ctime.nsec == b->ctime.nsec &&
         a->mtime.sec == b->mtime.sec && a->mtime.nsec == b->mtime.nsec &&
         a->birthtime.sec == b->birthtime.sec &&
         a->birthtime.nsec == b->birthtime.nsec && a->size == b->size &&
         a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
         a->ino == b->ino && a->dev == b->dev && a->flags == b->flags &&
         a->gen == b->gen;
}


static void on_stat(loom_fs_t* req) {
  ctx_t* c = loom__queue_data(req, ctx_t, req);
  loom_fs_poll_t* h = c->parent;
  int status = (int) req->result;
  loom_stat_t curr = req->statbuf;
  uint64_t elapsed;

  c->stat_pending = 0;
  loom_fs_req_cleanup(req);
  if (h == NULL) {
    ctx_dispose(c);
    return;
  }
  if (status < 0) {
    /* An error is reported when it is new, not on every poll. */
    if (c->last != status) {
      c->last = status;
      h->cb(h, status, &c->statbuf, &zero_stat);
    }
  } else {
    if (c->last != 0 && (c->last < 0 || !stat_equal(&c->statbuf, &curr)))
      h->cb(h, 0, c->last < 0 ? &zero_stat : &c->statbuf, &curr);
    c->statbuf = curr;
    c->last = 1;
  }
  /* The callback may have stopped the handle (and released c). */
  if (c->parent == NULL)
    return;
  /* The interval counts from when the stat was issued, so slow stats do
   * not stretch it. */
  loom_update_time(c->timer.loop);
  elapsed = (loom_now(c->timer.loop) - c->start_time) % c->interval;
  loom_timer_start(&c->timer, on_timer, c->interval - elapsed, 0);
}


static void poll_stat(ctx_t* c) {
  int err;

  c->start_time = loom_now(c->timer.loop);
  err = loom_fs_stat(c->timer.loop, &c->req, c->path, on_stat);
  if (err == 0) {
    c->stat_pending = 1;
    return;
  }
  /* The pool refused the request (out of memory): try again later. */
  loom_timer_start(&c->timer, on_timer, c->interval, 0);
}


int loom_fs_poll_init(loom_loop_t* loop, loom_fs_poll_t* h) {
  loom__handle_init(loop, (loom_handle_t*) h, LOOM_FS_POLL);
  h->cb = NULL;
  h->ctx = NULL;
  return 0;
}


int loom_fs_poll_start(loom_fs_poll_t* h, loom_fs_poll_cb cb,
                       const char* path, unsigned int interval) {
  size_t len;
  ctx_t* c;

  if (cb == NULL || path == NULL || loom__is_closing((loom_handle_t*) h) ||
      loom__is_active((loom_handle_t*) h))
    return LOOM_EINVAL;
  len = strlen(path);
  c = calloc(1, sizeof(*c) + len + 1);
  if (c == NULL)
    return LOOM_ENOMEM;
  memcpy(c->path, path, len + 1);
  c->parent = h;
  loom__queue_insert_tail(&h->loop->fs_poll_ctxs, &c->node);
  c->interval = interval > 0 ? interval : 1;
  loom_timer_init(h->loop, &c->timer);
  /* The timer is the handle's machinery: it keeps no loop alive (the
   * handle does) and walk does not show it. */
  c->timer.flags |= LOOM__HANDLE_INTERNAL;
  loom_unref((loom_handle_t*) &c->timer);
  h->cb = cb;
  h->ctx = c;
  loom__handle_start((loom_handle_t*) h);
  poll_stat(c);
  return 0;
}


int loom_fs_poll_stop(loom_fs_poll_t* h) {
  ctx_t* c = h->ctx;

  if (c == NULL)
    return 0;
  h->ctx = NULL;
  c->parent = NULL;
  loom_timer_stop(&c->timer);
  if (!c->stat_pending || h->loop->tearing_down)
    ctx_dispose(c);
  loom__handle_stop((loom_handle_t*) h);
  return 0;
}


const char* loom_fs_poll_getpath(const loom_fs_poll_t* h) {
  return h->ctx != NULL ? h->ctx->path : NULL;
}


void loom__fs_poll_close(loom_fs_poll_t* h) {
  loom_fs_poll_stop(h);
}


/* After the pool's teardown: the contexts whose stat never came back. */
void loom__fs_poll_loop_free(loom_loop_t* loop) {
  while (!loom__queue_empty(&loop->fs_poll_ctxs))
    ctx_free(loom__queue_data(loom__queue_head(&loop->fs_poll_ctxs), ctx_t,
                              node));
}
