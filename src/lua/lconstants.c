/* SPDX-License-Identifier: MIT */
/* lconstants.c: uv.constants, with luv's keys and libuv's values. */
#include "lloom.h"

#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct {
  const char* name;
  lua_Integer value;
} integer_constants[] = {
  {"O_RDONLY", O_RDONLY}, {"O_WRONLY", O_WRONLY}, {"O_RDWR", O_RDWR},
  {"O_APPEND", O_APPEND}, {"O_CREAT", O_CREAT}, {"O_DSYNC", O_DSYNC},
  {"O_EXCL", O_EXCL}, {"O_NOCTTY", O_NOCTTY}, {"O_NONBLOCK", O_NONBLOCK},
  {"O_RSYNC", O_RSYNC}, {"O_SYNC", O_SYNC}, {"O_TRUNC", O_TRUNC},
  {"O_DIRECTORY", O_DIRECTORY}, {"O_NOFOLLOW", O_NOFOLLOW},
  {"O_NOATIME", O_NOATIME}, {"O_DIRECT", O_DIRECT},
  {"R_OK", R_OK}, {"W_OK", W_OK}, {"X_OK", X_OK}, {"F_OK", F_OK},
  {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM},
  {"SOCK_SEQPACKET", SOCK_SEQPACKET}, {"SOCK_RAW", SOCK_RAW},
  {"SOCK_RDM", SOCK_RDM},
  {"AF_UNIX", AF_UNIX}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6},
  {"AF_IPX", AF_IPX}, {"AF_NETLINK", AF_NETLINK}, {"AF_X25", AF_X25},
  {"AF_AX25", AF_AX25}, {"AF_ATMPVC", AF_ATMPVC},
  {"AF_APPLETALK", AF_APPLETALK}, {"AF_PACKET", AF_PACKET},
  {"AI_ADDRCONFIG", AI_ADDRCONFIG}, {"AI_V4MAPPED", AI_V4MAPPED},
  {"AI_ALL", AI_ALL}, {"AI_NUMERICHOST", AI_NUMERICHOST},
  {"AI_PASSIVE", AI_PASSIVE}, {"AI_NUMERICSERV", AI_NUMERICSERV},
  {"SIGHUP", SIGHUP}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT},
  {"SIGILL", SIGILL}, {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},
  {"SIGIOT", SIGIOT}, {"SIGBUS", SIGBUS}, {"SIGFPE", SIGFPE},
  {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV},
  {"SIGUSR2", SIGUSR2}, {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},
  {"SIGTERM", SIGTERM}, {"SIGCHLD", SIGCHLD}, {"SIGSTKFLT", SIGSTKFLT},
  {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP}, {"SIGTSTP", SIGTSTP},
  {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU}, {"SIGURG", SIGURG},
  {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM},
  {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH}, {"SIGIO", SIGIO},
  {"SIGPOLL", SIGPOLL}, {"SIGPWR", SIGPWR}, {"SIGSYS", SIGSYS},
  /* libuv's flag values, which luv exposes unchanged. */
  {"UDP_IPV6ONLY", 1}, {"UDP_PARTIAL", 2}, {"UDP_REUSEADDR", 4},
  {"UDP_MMSG_CHUNK", 8}, {"UDP_MMSG_FREE", 16}, {"UDP_LINUX_RECVERR", 32},
  {"UDP_REUSEPORT", 64}, {"UDP_RECVMMSG", 256},
  {"TCP_IPV6ONLY", 1}, {"TCP_REUSEPORT", 2}, {"PIPE_NO_TRUNCATE", 1},
  {"TTY_MODE_NORMAL", 0}, {"TTY_MODE_RAW", 1}, {"TTY_MODE_IO", 2},
  {"TTY_MODE_RAW_VT", 3},
  {"THREAD_PRIORITY_HIGHEST", 2}, {"THREAD_PRIORITY_ABOVE_NORMAL", 1},
  {"THREAD_PRIORITY_NORMAL", 0}, {"THREAD_PRIORITY_BELOW_NORMAL", -1},
  {"THREAD_PRIORITY_LOWEST", -2},
};


void lconstants_push(lua_State* L) {
  size_t i;
  size_t n = sizeof(integer_constants) / sizeof(integer_constants[0]);

  lua_createtable(L, 0, (int) n + 2);
  for (i = 0; i < n; i++) {
    lua_pushinteger(L, integer_constants[i].value);
    lua_setfield(L, -2, integer_constants[i].name);
  }
  /* fs_utime's special times, as luv spells them. */
  lua_pushnumber(L, HUGE_VAL);
  lua_setfield(L, -2, "FS_UTIME_NOW");
  lua_pushnumber(L, NAN);
  lua_setfield(L, -2, "FS_UTIME_OMIT");
}
