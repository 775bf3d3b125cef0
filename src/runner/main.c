/* SPDX-License-Identifier: MIT */
/* main.c: the `loom` runner. Shaped like the standalone `lua`: options,
 * the `arg` table, a script (or stdin), then the event loop until nothing
 * is left; the exit status is the script's. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "asan.h"
#include "loom.h"

#ifdef LOOM_FAILALLOC
/* The test build's allocation failure injector (tests/c/lfailalloc.c). */
int luaopen_failalloc(lua_State* L);
#endif

int luaopen_loom(lua_State* L);
int loom_lua_run_loop(lua_State* L);

static const char* progname = "loom";


static void usage(FILE* out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -i        enter the interactive prompt after the script\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  -h        show this help\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n"
          "Without a script: the interactive prompt on a terminal, else a "
          "script read from stdin.\n"
          "After the script, the event loop runs until nothing is left.\n",
          progname);
}


static void print_version(void) {
  printf("loom %s (libuv API %d.%d.%d) on %s\n", LOOM_VERSION_STRING,
         LOOM_UV_API_MAJOR, LOOM_UV_API_MINOR, LOOM_UV_API_PATCH,
         LUA_RELEASE);
  fflush(stdout);
}


/* Message handler: error message plus traceback, as lua.c makes it. */
static int msghandler(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}


static int report(lua_State* L, int status) {
  if (status != LUA_OK) {
    const char* msg = lua_tostring(L, -1);
    fprintf(stderr, "%s: %s\n", progname, msg != NULL ? msg : "(error)");
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}


static int docall(lua_State* L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  int status;

  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}


static int dochunk(lua_State* L, int status) {
  if (status == LUA_OK)
    status = docall(L, 0, 0);
  return report(L, status);
}


static int dostring(lua_State* L, const char* s, const char* name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}


/* -l mod or -l g=mod: global g (or mod) = require(mod). */
static int dolibrary(lua_State* L, char* spec) {
  char* eq = strchr(spec, '=');
  const char* global = spec;
  const char* mod = spec;
  int status;

  if (eq != NULL) {
    *eq = '\0';
    mod = eq + 1;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = docall(L, 1, 1);
  if (status == LUA_OK)
    lua_setglobal(L, global);
  return report(L, status);
}


static int require_loom(lua_State* L) {
  luaL_requiref(L, "loom", luaopen_loom, 0);
  return 1;
}


/* The loom.* Lua modules: the source tree when running from the build
 * tree, the install location otherwise. */
static void set_module_path(lua_State* L) {
  char exe[PATH_MAX];
  char* slash;
  const char* dir = LOOM_INSTALL_LUA_DIR;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

  if (n > 0) {
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
      *slash = '\0';
      if (strcmp(exe, LOOM_BUILD_DIR) == 0)
        dir = LOOM_SOURCE_LUA_DIR;
    }
  }
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir,
                  lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}


static void preload(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_loom);
  lua_setfield(L, -2, "loom");
  /* luv scripts run unchanged: "luv" is the same module. */
  lua_pushcfunction(L, require_loom);
  lua_setfield(L, -2, "luv");
#ifdef LOOM_FAILALLOC
  lua_pushcfunction(L, luaopen_failalloc);
  lua_setfield(L, -2, "failalloc");
#endif
  lua_pop(L, 1);
}


static void create_arg_table(lua_State* L, char** argv, int argc, int script) {
  int i;

  if (script == argc)
    script = 0;
  lua_createtable(L, argc - (script + 1), script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}


static int handle_luainit(lua_State* L) {
  const char* name = "=LUA_INIT_5_4";
  const char* init = getenv(name + 1);

  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL)
    return LUA_OK;
  if (init[0] == '@')
    return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}


enum { HAS_ERROR = 1, HAS_V = 2, HAS_E = 4, HAS_H = 8, HAS_BIG_E = 16, HAS_I = 32 };

/* Scans the options; returns the flags and sets *script to the index of
 * the script (argc if none). */
static int collect_args(char** argv, int argc, int* script) {
  int flags = 0;
  int i;

  for (i = 1; i < argc; i++) {
    const char* a = argv[i];
    *script = i;
    if (a[0] != '-')
      return flags;
    if (strcmp(a, "-") == 0)
      return flags;
    if (strcmp(a, "--") == 0) {
      *script = i + 1 < argc ? i + 1 : argc;
      return flags;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      flags |= HAS_V;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      flags |= HAS_H;
    } else if (strcmp(a, "-E") == 0) {
      flags |= HAS_BIG_E;
    } else if (strcmp(a, "-i") == 0) {
      flags |= HAS_I;
    } else if (strcmp(a, "-W") == 0) {
      continue;
    } else if (a[1] == 'e' || a[1] == 'l') {
      if (a[1] == 'e')
        flags |= HAS_E;
      if (a[2] == '\0') {
        i++;
        if (i >= argc || argv[i][0] == '-') {
          *script = i;
          return flags | HAS_ERROR;
        }
      }
    } else {
      *script = i;
      return flags | HAS_ERROR;
    }
  }
  *script = argc;
  return flags;
}


/* Runs -e, -l and -W in order. */
static int run_args(lua_State* L, char** argv, int script) {
  int i;

  for (i = 1; i < script; i++) {
    char* a = argv[i];
    if (strcmp(a, "-W") == 0) {
      lua_warning(L, "@on", 0);
    } else if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) {
      char* extra = a[2] != '\0' ? a + 2 : argv[++i];
      int status = a[1] == 'e' ? dostring(L, extra, "=(command line)")
                               : dolibrary(L, extra);
      if (status != LUA_OK)
        return 0;
    }
  }
  return 1;
}


static int run_script(lua_State* L, char** argv, int argc, int script) {
  const char* fname = argv[script];
  int status;
  int n;
  int i;

  if (strcmp(fname, "-") == 0 && (script == 0 || strcmp(argv[script - 1], "--") != 0))
    fname = NULL; /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
      lua_pushstring(L, argv[script + i]);
    status = docall(L, n, 0);
  }
  return report(L, status) == LUA_OK;
}


static int pmain(lua_State* L) {
  int argc = (int) lua_tointeger(L, 1);
  char** argv = lua_touserdata(L, 2);
  int script = argc;
  int flags = collect_args(argv, argc, &script);

  if (flags & HAS_ERROR) {
    fprintf(stderr, "%s: unrecognized or incomplete option '%s'\n", progname,
            script < argc ? argv[script] : argv[argc - 1]);
    usage(stderr);
    return 0;
  }
  if (flags & HAS_H) {
    usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (flags & HAS_V)
    print_version();

  if (flags & HAS_BIG_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  preload(L);
  set_module_path(L);
  create_arg_table(L, argv, argc, script);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(flags & HAS_BIG_E) && handle_luainit(L) != LUA_OK)
    return 0;
  if (!run_args(L, argv, script))
    return 0;

  if (script < argc) {
    if (!run_script(L, argv, argc, script))
      return 0;
  } else if (!(flags & (HAS_E | HAS_V | HAS_I))) {
    if (isatty(STDIN_FILENO))
      flags |= HAS_I;
    else if (report(L, luaL_loadfile(L, NULL) == LUA_OK ? docall(L, 0, 0)
                                                        : LUA_ERRSYNTAX) != LUA_OK)
      return 0;
  }
  /* The prompt (lua/loom/repl.lua) reads the terminal through the loop,
   * so it runs while the loop below serves everything else. */
  if ((flags & HAS_I) &&
      dostring(L, "require('loom.repl').start()", "=(prompt)") != LUA_OK)
    return 0;

  /* The script has set things up; now the loop runs until nothing is
   * left. Errors inside callbacks follow the binding's policy. */
  loom_lua_run_loop(L);
  lua_pushboolean(L, 1);
  return 1;
}


/* Warnings (`warn` and -W), printed as lua.c's default handler does. */
static int warnings_on;
static void warnf(void* ud, const char* msg, int tocont) {
  static int continuing;
  (void) ud;
  if (!continuing && msg[0] == '@') {
    if (strcmp(msg, "@on") == 0)
      warnings_on = 1;
    else if (strcmp(msg, "@off") == 0)
      warnings_on = 0;
    return;
  }
  if (warnings_on) {
    if (!continuing)
      fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont)
      fputs("\n", stderr);
  }
  continuing = tocont;
}


static int panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  fprintf(stderr, "%s: PANIC: unprotected error in call to Lua API (%s)\n",
          progname, msg != NULL ? msg : "error object is not a string");
  return 0;
}



static int system_malloc_wanted(void) {
  const char* choice = getenv("LOOM_MALLOC");

#ifdef LOOM_ASAN
  return choice == NULL || strcmp(choice, "system") == 0;
#else
  return choice != NULL && strcmp(choice, "system") == 0;
#endif
}


/* Started with descriptor 0, 1 or 2 closed, the next descriptors opened
 * (epoll, the eventfd, the first socket) would take their numbers, and
 * a traceback written to "stderr" would go to a network peer. Like Node,
 * put /dev/null there first. */
static void reserve_stdio(void) {
  int fd;

  /* In order: open() returns the lowest free descriptor, which is fd. */
  for (fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
        open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
      abort(); /* nothing safe to write to, and nowhere to write it */
  }
}


static void on_sigpipe(int sig) {
  (void) sig;
}


/* Like Node: a write to a pipe or socket whose reader has gone returns
 * EPIPE instead of killing the process (exit 141). A handler that does
 * nothing, not SIG_IGN: exec resets a handler to the default, so the
 * children of os.execute and io.popen get the usual SIGPIPE (an ignored
 * signal would stay ignored in them). The loom module loaded into
 * another program leaves that program's choice alone. */
static void ignore_sigpipe(void) {
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigpipe;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
}


int main(int argc, char** argv) {
  loom_lua_allocator_t* allocator;
  lua_State* L;
  int status;
  int ok;

  reserve_stdio();
  ignore_sigpipe();
  if (argv[0] != NULL && argv[0][0] != '\0')
    progname = argv[0];
  /* LOOM_MALLOC=system uses the C library's allocator instead (for tools
   * such as valgrind that track malloc'ed blocks one by one). Under
   * AddressSanitizer it is the default: blocks recycled by the size-class
   * allocator would hide a use after free of a handle's memory. */
  allocator = system_malloc_wanted() ? NULL : loom_lua_allocator_new();
  L = allocator != NULL ? lua_newstate(loom_lua_alloc, allocator)
                        : luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return EXIT_FAILURE;
  }
  if (allocator != NULL) {
    lua_atpanic(L, panic);
    lua_setwarnf(L, warnf, NULL);
  }
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  ok = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  loom_lua_allocator_free(allocator);
  return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
