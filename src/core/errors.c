/* SPDX-License-Identifier: MIT */
/* errors.c: names and messages for error codes, from the one table in
 * loom/errno.h. */
#include "internal.h"

#include <stdio.h>

static _Thread_local char unknown_buf[48];


static const char* unknown(int err) {
  snprintf(unknown_buf, sizeof(unknown_buf), "Unknown system error %d", err);
  return unknown_buf;
}


const char* loom_err_name(int err) {
  switch (err) {
#define NAME_CASE(name, code, msg)                                            \
  case code:                                                                  \
    return #name;
    LOOM_ERRNO_MAP(NAME_CASE)
#undef NAME_CASE
  }
  return unknown(err);
}


const char* loom_strerror(int err) {
  switch (err) {
#define MSG_CASE(name, code, msg)                                             \
  case code:                                                                  \
    return msg;
    LOOM_ERRNO_MAP(MSG_CASE)
#undef MSG_CASE
  }
  return unknown(err);
}


int loom_translate_sys_error(int sys_errno) {
  return sys_errno <= 0 ? sys_errno : -sys_errno;
}


static const char* const req_type_names[LOOM_REQ_TYPE_MAX] = {
  [LOOM_UNKNOWN_REQ] = "unknown",
  [LOOM_REQ] = "req",
  [LOOM_CONNECT] = "connect",
  [LOOM_WRITE] = "write",
  [LOOM_SHUTDOWN] = "shutdown",
  [LOOM_UDP_SEND] = "udp_send",
  [LOOM_FS] = "fs",
  [LOOM_WORK] = "work",
  [LOOM_GETADDRINFO] = "getaddrinfo",
  [LOOM_GETNAMEINFO] = "getnameinfo",
  [LOOM_RANDOM] = "random",
  [LOOM_DNS_QUERY] = "dns_query",
};


const char* loom_req_type_name(loom_req_type type) {
  if ((int) type < 0 || type >= LOOM_REQ_TYPE_MAX)
    return NULL;
  return req_type_names[type];
}
