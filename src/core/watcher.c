/* SPDX-License-Identifier: MIT */
/* watcher.c: idle, prepare and check handles, which differ only in the
 * loop phase that runs them, so they share one implementation. */
#include "internal.h"

/* The three types have the same layout; this is that layout. */
typedef void (*any_cb)(void*);
typedef struct {
  LOOM__LOOP_WATCHER_FIELDS(any_cb)
} loop_watcher_t;


static loom_queue_t* list_for(loom_loop_t* loop, loom_handle_type type) {
  switch (type) {
    case LOOM_IDLE:
      return &loop->idle_handles;
    case LOOM_PREPARE:
      return &loop->prepare_handles;
    default:
      return &loop->check_handles;
  }
}


static int watcher_init(loom_loop_t* loop, loop_watcher_t* w,
                        loom_handle_type type) {
  loom__handle_init(loop, (loom_handle_t*) w, type);
  w->cb = NULL;
  loom__queue_init(&w->watcher_queue);
  return 0;
}


static int watcher_start(loop_watcher_t* w, void (*cb)(void*)) {
  if (cb == NULL || loom__is_closing((loom_handle_t*) w))
    return LOOM_EINVAL;
  w->cb = cb;
  if (loom__is_active((loom_handle_t*) w))
    return 0;
  loom__queue_insert_tail(list_for(w->loop, w->type), &w->watcher_queue);
  loom__handle_start((loom_handle_t*) w);
  return 0;
}


static int watcher_stop(loop_watcher_t* w) {
  if (!loom__is_active((loom_handle_t*) w))
    return 0;
  loom__queue_remove(&w->watcher_queue);
  loom__handle_stop((loom_handle_t*) w);
  return 0;
}


void loom__watcher_close(loom_handle_t* h) {
  watcher_stop((loop_watcher_t*) h);
}


/* Calls the callback through its real type (it was stored converted). */
static void invoke(loop_watcher_t* w) {
  switch (w->type) {
    case LOOM_IDLE:
      ((loom_idle_cb) w->cb)((loom_idle_t*) w);
      break;
    case LOOM_PREPARE:
      ((loom_prepare_cb) w->cb)((loom_prepare_t*) w);
      break;
    default:
      ((loom_check_cb) w->cb)((loom_check_t*) w);
      break;
  }
}


/* Runs the watchers that were active when the phase began. Each goes back
 * to the loop's list before its callback, so the callback may stop or
 * close it (or any other), and watchers started meanwhile wait for the
 * next pass. */
static void run_list(loom_queue_t* list) {
  loom_queue_t snapshot;
  loom_queue_t* q;
  loop_watcher_t* w;

  loom__queue_move(list, &snapshot);
  while (!loom__queue_empty(&snapshot)) {
    q = loom__queue_head(&snapshot);
    w = loom__queue_data(q, loop_watcher_t, watcher_queue);
    loom__queue_remove(q);
    loom__queue_insert_tail(list, q);
    invoke(w);
  }
}


void loom__run_idle(loom_loop_t* loop) {
  run_list(&loop->idle_handles);
}


void loom__run_prepare(loom_loop_t* loop) {
  run_list(&loop->prepare_handles);
}


void loom__run_check(loom_loop_t* loop) {
  run_list(&loop->check_handles);
}


/* The typed public API: thin casts over the shared implementation. */
#define DEFINE_WATCHER_API(name, TYPE)                                        \
  int loom_##name##_init(loom_loop_t* loop, loom_##name##_t* w) {             \
    return watcher_init(loop, (loop_watcher_t*) w, TYPE);                     \
  }                                                                           \
  int loom_##name##_start(loom_##name##_t* w, loom_##name##_cb cb) {          \
    return watcher_start((loop_watcher_t*) w, (void (*)(void*)) cb);          \
  }                                                                           \
  int loom_##name##_stop(loom_##name##_t* w) {                                \
    return watcher_stop((loop_watcher_t*) w);                                 \
  }

DEFINE_WATCHER_API(idle, LOOM_IDLE)
DEFINE_WATCHER_API(prepare, LOOM_PREPARE)
DEFINE_WATCHER_API(check, LOOM_CHECK)

#undef DEFINE_WATCHER_API
