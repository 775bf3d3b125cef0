/* SPDX-License-Identifier: MIT */
/* lsignal.c: uv_signal_t, and signal names for every function that takes
 * or reports a signal ("sigint" <-> SIGINT). */
#include "lloom.h"

#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

static const luaL_Reg signal_methods[];
const lh_type lsignal_type = {"uv_signal", LOOM_SIGNAL, signal_methods, NULL};

static const struct {
  const char* name;
  int signum;
} signals[] = {
  {"sighup", SIGHUP}, {"sigint", SIGINT}, {"sigquit", SIGQUIT},
  {"sigill", SIGILL}, {"sigtrap", SIGTRAP}, {"sigabrt", SIGABRT},
  {"sigiot", SIGIOT}, {"sigbus", SIGBUS}, {"sigfpe", SIGFPE},
  {"sigkill", SIGKILL}, {"sigusr1", SIGUSR1}, {"sigsegv", SIGSEGV},
  {"sigusr2", SIGUSR2}, {"sigpipe", SIGPIPE}, {"sigalrm", SIGALRM},
  {"sigterm", SIGTERM}, {"sigchld", SIGCHLD}, {"sigstkflt", SIGSTKFLT},
  {"sigcont", SIGCONT}, {"sigstop", SIGSTOP}, {"sigtstp", SIGTSTP},
  {"sigttin", SIGTTIN}, {"sigttou", SIGTTOU}, {"sigurg", SIGURG},
  {"sigxcpu", SIGXCPU}, {"sigxfsz", SIGXFSZ}, {"sigvtalrm", SIGVTALRM},
  {"sigprof", SIGPROF}, {"sigwinch", SIGWINCH}, {"sigio", SIGIO},
  {"sigpoll", SIGPOLL}, {"sigpwr", SIGPWR}, {"sigsys", SIGSYS},
};


const char* lsignal_name(int signum) {
  size_t i;
  for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
    if (signals[i].signum == signum)
      return signals[i].name;
  return NULL;
}


/* A signal argument: a name ("sigint", any case) or a number from 0
 * (kill's "is it there") to NSIG - 1. Unknown names, names with a zero
 * byte and numbers out of that range raise: cutting 2^32 + 9 to 32 bits
 * would send SIGKILL. */
int lsignal_parse(lua_State* L, int idx) {
  const char* name;
  size_t len, i;

  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer n = luaL_checkinteger(L, idx);
    luaL_argcheck(L, n >= 0 && n < NSIG, idx, "signal number out of range");
    return (int) n;
  }
  name = luaL_checklstring(L, idx, &len);
  if (strlen(name) == len) {
    for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
      if (strcasecmp(name, signals[i].name) == 0)
        return signals[i].signum;
  }
  return luaL_argerror(L, idx,
                       lua_pushfstring(L, "unknown signal '%s'", name));
}


/* The callback gets the signal's name, or its number for a real-time
 * signal that has none. */
static void on_signal(loom_signal_t* s, int signum) {
  lctx* ctx = loom_loop_get_data(s->loop);
  lua_State* L = ctx->L;
  const char* name = lsignal_name(signum);

  lh_push_callback(L, (loom_handle_t*) s);
  if (name != NULL)
    lua_pushstring(L, name);
  else
    lua_pushinteger(L, signum);
  lctx_call(ctx, 1);
}


static int new_signal(lua_State* L) {
  lctx* ctx = LCTX(L);
  loom_signal_t* s = lh_new(L, &lsignal_type, sizeof(*s));
  int pin = lh_pin(L, -1);

  loom_signal_init(lctx_loop(L, ctx), s);
  lh_anchor((loom_handle_t*) s, pin, LUA_NOREF);
  return 1;
}


static int start(lua_State* L, int oneshot) {
  loom_signal_t* s = (loom_signal_t*) lh_check(L, 1, &lsignal_type);
  int signum = lsignal_parse(L, 2);
  int ret;

  lh_check_callback(L, 1, 3);
  if (oneshot)
    ret = loom_signal_start_oneshot(s, on_signal, signum);
  else
    ret = loom_signal_start(s, on_signal, signum);
  if (ret == 0)
    lh_set_callback(L, 1, 3);
  return lr_result(L, ret);
}


static int signal_start(lua_State* L) {
  return start(L, 0);
}


static int signal_start_oneshot(lua_State* L) {
  return start(L, 1);
}


static int signal_stop(lua_State* L) {
  loom_signal_t* s = (loom_signal_t*) lh_check(L, 1, &lsignal_type);
  return lr_result(L, loom_signal_stop(s));
}


static const luaL_Reg signal_methods[] = {
  {"start", signal_start},
  {"start_oneshot", signal_start_oneshot},
  {"stop", signal_stop},
  {NULL, NULL}
};

const luaL_Reg lsignal_functions[] = {
  {"new_signal", new_signal},
  {"signal_start", signal_start},
  {"signal_start_oneshot", signal_start_oneshot},
  {"signal_stop", signal_stop},
  {NULL, NULL}
};
