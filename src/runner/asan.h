/* SPDX-License-Identifier: MIT */
/* asan.h: LOOM_ASAN is defined when the runner is built with
 * AddressSanitizer (gcc says so with a macro, clang with a feature). */
#ifndef LOOM_RUNNER_ASAN_H
#define LOOM_RUNNER_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define LOOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOOM_ASAN 1
#endif
#endif

#endif
