/* SPDX-License-Identifier: MIT */
/* lmisc.c: luv's miscellaneous utilities over loom/os.h. */
#include "lloom.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* Calls fn(buf, &size) for the loom/os.h string getters, growing the
 * buffer when asked to. Pushes the string or the fail triple. */
static int push_string_result(lua_State* L,
                              int (*fn)(char* buf, size_t* size)) {
  char stack_buf[PATH_MAX];
  size_t size = sizeof(stack_buf);
  char* buf = stack_buf;
  int err = fn(buf, &size);

  if (err == LOOM_ENOBUFS) {
    buf = lua_newuserdatauv(L, size, 0); /* freed by the GC */
    err = fn(buf, &size);
  }
  if (err != 0)
    return lr_fail(L, err);
  lua_pushlstring(L, buf, size);
  return 1;
}


static int exepath(lua_State* L) { return push_string_result(L, loom_exepath); }
static int cwd(lua_State* L) { return push_string_result(L, loom_cwd); }
static int os_homedir(lua_State* L) { return push_string_result(L, loom_os_homedir); }
static int os_tmpdir(lua_State* L) { return push_string_result(L, loom_os_tmpdir); }
static int os_gethostname(lua_State* L) { return push_string_result(L, loom_os_gethostname); }


static int chdir_(lua_State* L) {
  return lr_result(L, loom_chdir(lcheck_cstring(L, 1)));
}


static int get_process_title(lua_State* L) {
  char title[512];
  int err = loom_get_process_title(title, sizeof(title));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushstring(L, title);
  return 1;
}


static int set_process_title(lua_State* L) {
  return lr_result(L, loom_set_process_title(lcheck_cstring(L, 1)));
}


static int get_total_memory(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_get_total_memory());
  return 1;
}


static int get_free_memory(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_get_free_memory());
  return 1;
}


static int get_constrained_memory(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_get_constrained_memory());
  return 1;
}


static int get_available_memory(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_get_available_memory());
  return 1;
}


static int resident_set_memory(lua_State* L) {
  size_t rss;
  int err = loom_resident_set_memory(&rss);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, (lua_Integer) rss);
  return 1;
}


static void set_int(lua_State* L, const char* key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}


static void push_timeval(lua_State* L, const loom_timeval_t* tv) {
  lua_createtable(L, 0, 2);
  set_int(L, "sec", tv->sec);
  set_int(L, "usec", tv->usec);
}


static int push_rusage(lua_State* L, int err, const loom_rusage_t* u) {
  if (err != 0)
    return lr_fail(L, err);
  lua_createtable(L, 0, 16);
  push_timeval(L, &u->utime);
  lua_setfield(L, -2, "utime");
  push_timeval(L, &u->stime);
  lua_setfield(L, -2, "stime");
  set_int(L, "maxrss", (lua_Integer) u->maxrss);
  set_int(L, "ixrss", (lua_Integer) u->ixrss);
  set_int(L, "idrss", (lua_Integer) u->idrss);
  set_int(L, "isrss", (lua_Integer) u->isrss);
  set_int(L, "minflt", (lua_Integer) u->minflt);
  set_int(L, "majflt", (lua_Integer) u->majflt);
  set_int(L, "nswap", (lua_Integer) u->nswap);
  set_int(L, "inblock", (lua_Integer) u->inblock);
  set_int(L, "oublock", (lua_Integer) u->oublock);
  set_int(L, "msgsnd", (lua_Integer) u->msgsnd);
  set_int(L, "msgrcv", (lua_Integer) u->msgrcv);
  set_int(L, "nsignals", (lua_Integer) u->nsignals);
  set_int(L, "nvcsw", (lua_Integer) u->nvcsw);
  set_int(L, "nivcsw", (lua_Integer) u->nivcsw);
  return 1;
}


static int getrusage_(lua_State* L) {
  loom_rusage_t u;
  int err = loom_getrusage(&u);
  return push_rusage(L, err, &u);
}


static int getrusage_thread(lua_State* L) {
  loom_rusage_t u;
  int err = loom_getrusage_thread(&u);
  return push_rusage(L, err, &u);
}


static int available_parallelism(lua_State* L) {
  lua_pushinteger(L, loom_available_parallelism());
  return 1;
}


static int cpu_info(lua_State* L) {
  loom_cpu_info_t* infos;
  int count;
  int i;
  int err = loom_cpu_info(&infos, &count);

  if (err != 0)
    return lr_fail(L, err);
  LMEM_EXEMPT(LCTX(L));  /* infos is C memory until it is freed below. */
  lua_createtable(L, count, 0);
  for (i = 0; i < count; i++) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, infos[i].model);
    lua_setfield(L, -2, "model");
    set_int(L, "speed", infos[i].speed);
    lua_createtable(L, 0, 5);
    set_int(L, "user", (lua_Integer) infos[i].times.user);
    set_int(L, "nice", (lua_Integer) infos[i].times.nice);
    set_int(L, "sys", (lua_Integer) infos[i].times.sys);
    set_int(L, "idle", (lua_Integer) infos[i].times.idle);
    set_int(L, "irq", (lua_Integer) infos[i].times.irq);
    lua_setfield(L, -2, "times");
    lua_rawseti(L, -2, i + 1);
  }
  loom_free_cpu_info(infos, count);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


static int cpumask_size(lua_State* L) {
  lua_pushinteger(L, loom_cpumask_size());
  return 1;
}


static int getpid_(lua_State* L) {
  lua_pushinteger(L, loom_os_getpid());
  return 1;
}


static int getuid_(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) getuid());
  return 1;
}


static int getgid_(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) getgid());
  return 1;
}


static lua_Integer check_id(lua_State* L, int idx) {
  lua_Integer id = luaL_checkinteger(L, idx);
  luaL_argcheck(L, id >= 0 && id <= (lua_Integer) UINT_MAX, idx,
                "not a valid id");
  return id;
}


static int setuid_(lua_State* L) {
  int err = loom_os_setuid((long) check_id(L, 1));
  return err != 0 ? lr_fail(L, err) : 0;
}


static int setgid_(lua_State* L) {
  int err = loom_os_setgid((long) check_id(L, 1));
  return err != 0 ? lr_fail(L, err) : 0;
}


static int hrtime(lua_State* L) {
  lua_pushinteger(L, (lua_Integer) loom_hrtime());
  return 1;
}


static int clock_gettime_(lua_State* L) {
  static const char* const clocks[] = {"monotonic", "realtime", NULL};
  int clock = luaL_checkoption(L, 1, NULL, clocks);
  int64_t sec;
  int32_t nsec;
  int err = loom_clock_gettime(clock, &sec, &nsec);

  if (err != 0)
    return lr_fail(L, err);
  lua_createtable(L, 0, 2);
  set_int(L, "sec", sec);
  set_int(L, "nsec", nsec);
  return 1;
}


static int uptime(lua_State* L) {
  double up;
  int err = loom_uptime(&up);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushnumber(L, up);
  return 1;
}


static int print_handles(lua_State* L, int only_active) {
  loom_print_handles(lctx_loop(L, LCTX(L)), only_active, stderr);
  return 0;
}

static int print_all_handles(lua_State* L) { return print_handles(L, 0); }
static int print_active_handles(lua_State* L) { return print_handles(L, 1); }


static int check_fd(lua_State* L, int idx) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, idx, "not a valid file descriptor");
  return (int) fd;
}


static int guess_handle(lua_State* L) {
  loom_handle_type type = loom_guess_handle(check_fd(L, 1));
  lua_pushstring(L, type == LOOM_UNKNOWN_HANDLE ? "unknown"
                                                : loom_handle_type_name(type));
  return 1;
}


static int gettimeofday_(lua_State* L) {
  loom_timeval_t tv;
  int err = loom_gettimeofday(&tv);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, tv.sec);
  lua_pushinteger(L, tv.usec);
  return 2;
}


static void push_ip(lua_State* L, const struct sockaddr_storage* ss) {
  char ip[INET6_ADDRSTRLEN];
  if (ss->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6*) ss)->sin6_addr, ip,
              sizeof(ip));
  else
    inet_ntop(AF_INET, &((const struct sockaddr_in*) ss)->sin_addr, ip,
              sizeof(ip));
  lua_pushstring(L, ip);
}


static int interface_addresses(lua_State* L) {
  loom_interface_address_t* list;
  const unsigned char* m;
  char mac[18];
  int count;
  int i;
  int err = loom_interface_addresses(&list, &count);

  if (err != 0)
    return lr_fail(L, err);
  LMEM_EXEMPT(LCTX(L));  /* list is C memory until it is freed below. */
  lua_newtable(L);                                      /* result */
  for (i = 0; i < count; i++) {
    if (lua_getfield(L, -1, list[i].name) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);                                  /* result list */
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, list[i].name);
    }
    lua_createtable(L, 0, 5);                           /* result list entry */
    push_ip(L, &list[i].address);
    lua_setfield(L, -2, "ip");
    push_ip(L, &list[i].netmask);
    lua_setfield(L, -2, "netmask");
    lua_pushstring(L, list[i].address.ss_family == AF_INET6 ? "inet6" : "inet");
    lua_setfield(L, -2, "family");
    lua_pushboolean(L, list[i].is_internal);
    lua_setfield(L, -2, "internal");
    m = list[i].phys_addr;
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
             m[2], m[3], m[4], m[5]);
    lua_pushstring(L, mac);
    lua_setfield(L, -2, "mac");
    lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1); /* result list */
    lua_pop(L, 1);                                      /* result */
  }
  loom_free_interface_addresses(list, count);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


static int if_indextoname_(lua_State* L) {
  char name[64];
  size_t size = sizeof(name);
  lua_Integer idx = luaL_checkinteger(L, 1);
  int err;

  luaL_argcheck(L, idx >= 0 && idx <= (lua_Integer) UINT_MAX, 1,
                "not a valid interface index");
  err = loom_if_indextoname((unsigned int) idx, name, &size);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushlstring(L, name, size);
  return 1;
}


static int loadavg(lua_State* L) {
  double avg[3];
  loom_loadavg(avg);
  lua_pushnumber(L, avg[0]);
  lua_pushnumber(L, avg[1]);
  lua_pushnumber(L, avg[2]);
  return 3;
}


static int os_uname(lua_State* L) {
  loom_utsname_t u;
  int err = loom_os_uname(&u);
  if (err != 0)
    return lr_fail(L, err);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, u.sysname);
  lua_setfield(L, -2, "sysname");
  lua_pushstring(L, u.release);
  lua_setfield(L, -2, "release");
  lua_pushstring(L, u.version);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, u.machine);
  lua_setfield(L, -2, "machine");
  return 1;
}


static int os_getenv(lua_State* L) {
  const char* name = lcheck_cstring(L, 1);
  int explicit_size = !lua_isnoneornil(L, 2);
  size_t size;
  char* buf;
  int err;

  /* An optional second argument is luv's buffer size; a too small one
   * reports ENOBUFS as luv does. */
  size = (size_t) luaL_optinteger(L, 2, LUAL_BUFFERSIZE);
  luaL_argcheck(L, size > 0 && size <= (1u << 30), 2, "invalid buffer size");
  buf = lua_newuserdatauv(L, size, 0);
  err = loom_os_getenv(name, buf, &size);
  if (err == LOOM_ENOBUFS && !explicit_size) {
    buf = lua_newuserdatauv(L, size, 0);
    err = loom_os_getenv(name, buf, &size);
  }
  if (err != 0)
    return lr_fail(L, err);
  lua_pushlstring(L, buf, size);
  return 1;
}


static int os_setenv(lua_State* L) {
  int err = loom_os_setenv(lcheck_cstring(L, 1), lcheck_cstring(L, 2));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


static int os_unsetenv(lua_State* L) {
  int err = loom_os_unsetenv(lcheck_cstring(L, 1));
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


static int os_environ(lua_State* L) {
  char** env = loom_os_environ();
  const char* eq;

  lua_newtable(L);
  for (; env != NULL && *env != NULL; env++) {
    eq = strchr(*env, '=');
    if (eq == NULL || eq == *env)
      continue;
    lua_pushlstring(L, *env, (size_t) (eq - *env));
    lua_pushstring(L, eq + 1);
    lua_rawset(L, -3);
  }
  return 1;
}


static int os_get_passwd(lua_State* L) {
  loom_passwd_t pw;
  int err = loom_os_get_passwd(&pw);
  if (err != 0)
    return lr_fail(L, err);
  /* The strings in pw are C memory until they are freed below. */
  LMEM_EXEMPT(LCTX(L));
  lua_createtable(L, 0, 5);
  lua_pushstring(L, pw.username);
  lua_setfield(L, -2, "username");
  set_int(L, "uid", pw.uid);
  set_int(L, "gid", pw.gid);
  lua_pushstring(L, pw.shell);
  lua_setfield(L, -2, "shell");
  lua_pushstring(L, pw.homedir);
  lua_setfield(L, -2, "homedir");
  loom_os_free_passwd(&pw);
  LMEM_UNEXEMPT(LCTX(L));
  return 1;
}


static int os_getppid(lua_State* L) {
  lua_pushinteger(L, loom_os_getppid());
  return 1;
}


static int check_pid(lua_State* L, int idx) {
  lua_Integer pid = luaL_checkinteger(L, idx);
  luaL_argcheck(L, pid >= 0 && pid <= INT_MAX, idx, "not a valid pid");
  return (int) pid;
}


static int os_getpriority(lua_State* L) {
  int prio;
  int err = loom_os_getpriority(check_pid(L, 1), &prio);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushinteger(L, prio);
  return 1;
}


static int os_setpriority(lua_State* L) {
  int pid = check_pid(L, 1);
  lua_Integer prio = luaL_checkinteger(L, 2);
  int err;

  luaL_argcheck(L, prio >= INT_MIN && prio <= INT_MAX, 2, "out of range");
  err = loom_os_setpriority(pid, (int) prio);
  if (err != 0)
    return lr_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}


/* One asynchronous random(): the bytes are filled on the pool, straight
 * into the job's own memory. User value 1: the callback. */
typedef struct {
  loom_work_t work;
  int ref;   /* anchor slot until the callback */
  int err;
  size_t len;
  char buf[];
} lrandom_job;


static void random_work(loom_work_t* w) {
  lrandom_job* j = (lrandom_job*) w;
  if (j->err == 0)
    j->err = loom_random_fill(j->buf, j->len);
}


static void random_after(loom_work_t* w, int status) {
  lrandom_job* j = (lrandom_job*) w;
  lctx* ctx;
  lua_State* L;

  if (loom_loop_tearing_down(w->loop))
    return; /* The state is closing; the job is ordinary garbage. */
  ctx = loom_loop_get_data(w->loop);
  L = ctx->L;
  lanchor_take(ctx, L, j->ref);                         /* job */
  j->ref = LUA_NOREF;
  lua_getiuservalue(L, -1, 1);                          /* job cb */
  if (status == 0)
    status = j->err;
  lr_push_status(L, status);
  if (status < 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, j->buf, j->len);
  lua_remove(L, -4);                                    /* cb err bytes */
  lctx_call(ctx, 2);
}


/* random(len, flags[, callback]): flags is nil, 0 or a table (libuv
 * defines none). Without a callback the bytes are returned; with one they
 * are made on the thread pool, getrandom() may block until the kernel's
 * pool is seeded, and the callback gets (err, bytes). As in luv, other
 * integer flags are EINVAL and a negative length E2BIG: returned, or
 * given to the callback. */
static int random_(lua_State* L) {
  lua_Integer len = luaL_checkinteger(L, 1);
  lrandom_job* j;
  void* buf;
  int err = 0;

  luaL_argcheck(L, len <= (1 << 30), 1, "length out of range");
  if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2) && !lua_isinteger(L, 2))
    luaL_typeerror(L, 2, "nil, integer or table");
  if (lua_isinteger(L, 2) && lua_tointeger(L, 2) != 0)
    err = LOOM_EINVAL;
  else if (len < 0)
    err = LOOM_E2BIG;
  if (err != 0)
    len = 0;
  if (lua_isnoneornil(L, 3)) {
    if (err != 0)
      return lr_fail(L, err);
    buf = lua_newuserdatauv(L, len > 0 ? (size_t) len : 1, 0);
    err = loom_random_fill(buf, (size_t) len);
    if (err != 0)
      return lr_fail(L, err);
    lua_pushlstring(L, buf, (size_t) len);
    return 1;
  }
  lh_check_callable(L, 3);
  j = lua_newuserdatauv(L, sizeof(*j) + (size_t) len, 1); /* job */
  j->len = (size_t) len;
  j->err = err;
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, 1);
  j->ref = lanchor_put(LCTX(L), L, -1);
  err = loom_queue_work(lctx_loop(L, LCTX(L)), &j->work, random_work,
                        random_after);
  if (err != 0) {
    lanchor_take(LCTX(L), L, j->ref);
    return lr_fail(L, err);
  }
  lua_pushinteger(L, 0);
  return 1;
}


static int translate_sys_error(lua_State* L) {
  lua_Integer e = luaL_checkinteger(L, 1);
  int err;

  luaL_argcheck(L, e > INT_MIN && e < INT_MAX, 1, "out of range");
  err = loom_translate_sys_error((int) e);
  lua_pushfstring(L, "%s: %s", loom_err_name(err), loom_strerror(err));
  lua_pushstring(L, loom_err_name(err));
  return 2;
}


/* The error code an argument names: a negative code or a name such as
 * "ECONNRESET" (the form callbacks get). Names not in the table raise. */
static int check_err(lua_State* L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char* name = lua_tostring(L, idx);
#define MATCH_NAME(n, code, msg)                                              \
    if (strcmp(name, #n) == 0) return code;
    LOOM_ERRNO_MAP(MATCH_NAME)
#undef MATCH_NAME
    return luaL_argerror(L, idx, "not an error name");
  } else {
    lua_Integer e = luaL_checkinteger(L, idx);
    luaL_argcheck(L, e < 0 && e > INT_MIN, idx, "not a negative error code");
    return (int) e;
  }
}


/* uv.strerror(code | name) -> message (beyond luv; libuv's uv_strerror). */
static int strerror_(lua_State* L) {
  lua_pushstring(L, loom_strerror(check_err(L, 1)));
  return 1;
}


/* uv.err_name(code | name) -> "ENAME" (beyond luv; libuv's uv_err_name). */
static int err_name(lua_State* L) {
  lua_pushstring(L, loom_err_name(check_err(L, 1)));
  return 1;
}


const luaL_Reg lmisc_functions[] = {
  {"exepath", exepath},
  {"cwd", cwd},
  {"chdir", chdir_},
  {"get_process_title", get_process_title},
  {"set_process_title", set_process_title},
  {"get_total_memory", get_total_memory},
  {"get_free_memory", get_free_memory},
  {"get_constrained_memory", get_constrained_memory},
  {"get_available_memory", get_available_memory},
  {"resident_set_memory", resident_set_memory},
  {"getrusage", getrusage_},
  {"getrusage_thread", getrusage_thread},
  {"available_parallelism", available_parallelism},
  {"cpu_info", cpu_info},
  {"cpumask_size", cpumask_size},
  {"getpid", getpid_},
  {"getuid", getuid_},
  {"getgid", getgid_},
  {"setuid", setuid_},
  {"setgid", setgid_},
  {"hrtime", hrtime},
  {"clock_gettime", clock_gettime_},
  {"uptime", uptime},
  {"print_all_handles", print_all_handles},
  {"print_active_handles", print_active_handles},
  {"guess_handle", guess_handle},
  {"gettimeofday", gettimeofday_},
  {"interface_addresses", interface_addresses},
  {"if_indextoname", if_indextoname_},
  {"if_indextoiid", if_indextoname_},
  {"loadavg", loadavg},
  {"os_uname", os_uname},
  {"os_gethostname", os_gethostname},
  {"os_getenv", os_getenv},
  {"os_setenv", os_setenv},
  {"os_unsetenv", os_unsetenv},
  {"os_environ", os_environ},
  {"os_homedir", os_homedir},
  {"os_tmpdir", os_tmpdir},
  {"os_get_passwd", os_get_passwd},
  {"os_getpid", getpid_},
  {"os_getppid", os_getppid},
  {"os_getpriority", os_getpriority},
  {"os_setpriority", os_setpriority},
  {"random", random_},
  {"translate_sys_error", translate_sys_error},
  {"strerror", strerror_},
  {"err_name", err_name},
  {NULL, NULL}
};
