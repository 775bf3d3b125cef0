/* SPDX-License-Identifier: MIT */
/* test-list.h: every C test, in the order the runner runs them. */
#define TEST_LIST(X)                                                          \
  X(heap_order)                                                               \
  X(loop_empty_run)                                                           \
  X(loop_close_busy)                                                          \
  X(loop_phase_order)                                                         \
  X(loop_run_once_fires_timer)                                                \
  X(loop_run_nowait)                                                          \
  X(loop_stop)                                                                \
  X(loop_reentry_refused)                                                     \
  X(loop_backend_timeout)                                                     \
  X(timer_order_equal_timeouts)                                               \
  X(timer_repeat_and_again)                                                   \
  X(timer_huge_timeout)                                                       \
  X(timer_stop_other_due_timer)                                               \
  X(timer_restart_in_callback)                                                \
  X(timer_due_in)                                                             \
  X(timer_many_random)                                                        \
  X(close_in_own_callback)                                                    \
  X(close_order_fifo)                                                         \
  X(ref_unref)                                                                \
  X(idle_keeps_polling_nonblocking)                                           \
  X(watcher_stop_others_in_callback)                                          \
  X(async_coalesce_threads)                                                   \
  X(async_close_pending)                                                      \
  X(signal_several_handles)                                                   \
  X(signal_oneshot)                                                           \
  X(signal_restores_disposition)                                              \
  X(signal_rejects_uncatchable)                                               \
  X(walk_and_close)                                                           \
  X(metrics)                                                                  \
  X(teardown_with_open_handles)                                               \
  X(errors_names_messages)                                                    \
  X(tty_modes_and_winsize)                                                    \
  X(tty_reads_and_writes)                                                     \
  X(tty_mode_restored_at_exit)                                                \
  X(ipaddr_ip4_parse_matches_inet_pton)                                       \
  X(ipaddr_format_matches_inet_ntop)                                          \
  X(ipaddr_ip6)                                                               \
  X(work_many_complete_on_loop_thread)                                        \
  X(work_fifo_with_one_thread)                                                \
  X(work_cancel_queued_only)                                                  \
  X(work_slow_io_leaves_room_for_quick_work)                                  \
  X(work_pool_size_from_environment)                                          \
  X(work_pool_size_capped)                                                    \
  X(work_teardown_in_flight)                                                  \
  X(work_after_only)
