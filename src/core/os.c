/* SPDX-License-Identifier: MIT */
/* os.c: the process and its user: paths, title, environment, identity,
 * priority, random bytes. */
#include "internal.h"

#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char** environ;

static char process_title[256];


/* Copies s (of length len) into the caller's buffer, following the
 * ENOBUFS convention of loom/os.h. */
static int copy_out(const char* s, size_t len, char* buf, size_t* size) {
  if (len + 1 > *size) {
    *size = len + 1;
    return LOOM_ENOBUFS;
  }
  memcpy(buf, s, len);
  buf[len] = '\0';
  *size = len;
  return 0;
}


int loom_exepath(char* buf, size_t* size) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n < 0)
    return LOOM__ERR(errno);
  return copy_out(path, (size_t) n, buf, size);
}


int loom_cwd(char* buf, size_t* size) {
  char path[PATH_MAX];
  size_t len;

  if (getcwd(path, sizeof(path)) == NULL)
    return LOOM__ERR(errno);
  len = strlen(path);
  /* No trailing slash, except for the root itself (as libuv). */
  if (len > 1 && path[len - 1] == '/')
    path[--len] = '\0';
  return copy_out(path, len, buf, size);
}


int loom_chdir(const char* dir) {
  return chdir(dir) == 0 ? 0 : LOOM__ERR(errno);
}


int loom_get_process_title(char* buf, size_t size) {
  size_t len;

  if (buf == NULL || size == 0)
    return LOOM_EINVAL;
  if (process_title[0] == '\0') {
    /* Until it is set, the title is the kernel's name for us. */
    if (prctl(PR_GET_NAME, process_title) != 0)
      process_title[0] = '\0';
  }
  len = strlen(process_title);
  if (len + 1 > size)
    return LOOM_ENOBUFS;
  memcpy(buf, process_title, len + 1);
  return 0;
}


/* The full title is kept; the kernel's copy (what `ps -o comm` and `top`
 * show) holds its first 15 bytes. */
int loom_set_process_title(const char* title) {
  size_t len = strlen(title);

  if (len >= sizeof(process_title))
    len = sizeof(process_title) - 1;
  memcpy(process_title, title, len);
  process_title[len] = '\0';
  if (prctl(PR_SET_NAME, process_title) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_os_uname(loom_utsname_t* name) {
  struct utsname u;

  if (uname(&u) != 0)
    return LOOM__ERR(errno);
  snprintf(name->sysname, sizeof(name->sysname), "%s", u.sysname);
  snprintf(name->release, sizeof(name->release), "%s", u.release);
  snprintf(name->version, sizeof(name->version), "%s", u.version);
  snprintf(name->machine, sizeof(name->machine), "%s", u.machine);
  return 0;
}


int loom_os_gethostname(char* buf, size_t* size) {
  char host[HOST_NAME_MAX + 1];

  if (gethostname(host, sizeof(host)) != 0)
    return LOOM__ERR(errno);
  host[sizeof(host) - 1] = '\0';
  return copy_out(host, strlen(host), buf, size);
}


int loom_os_getenv(const char* name, char* buf, size_t* size) {
  const char* value = getenv(name);
  if (value == NULL)
    return LOOM_ENOENT;
  return copy_out(value, strlen(value), buf, size);
}


int loom_os_setenv(const char* name, const char* value) {
  if (name[0] == '\0' || strchr(name, '=') != NULL)
    return LOOM_EINVAL;
  return setenv(name, value, 1) == 0 ? 0 : LOOM__ERR(errno);
}


int loom_os_unsetenv(const char* name) {
  if (name[0] == '\0' || strchr(name, '=') != NULL)
    return LOOM_EINVAL;
  return unsetenv(name) == 0 ? 0 : LOOM__ERR(errno);
}


char** loom_os_environ(void) {
  return environ;
}


static int passwd_for(uid_t uid, struct passwd* pw, char** storage) {
  struct passwd* result = NULL;
  long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t size = bufsize > 0 ? (size_t) bufsize : 4096;
  int r;

  for (;;) {
    *storage = malloc(size);
    if (*storage == NULL)
      return LOOM_ENOMEM;
    do
      r = getpwuid_r(uid, pw, *storage, size, &result);
    while (r == EINTR);
    if (r != ERANGE)
      break;
    free(*storage);
    size *= 2;
  }
  if (r != 0) {
    free(*storage);
    return LOOM__ERR(r);
  }
  if (result == NULL) {
    free(*storage);
    return LOOM_ENOENT;
  }
  return 0;
}


int loom_os_homedir(char* buf, size_t* size) {
  const char* home = getenv("HOME");
  struct passwd pw;
  char* storage;
  int err;

  if (home != NULL && home[0] != '\0')
    return copy_out(home, strlen(home), buf, size);
  err = passwd_for(geteuid(), &pw, &storage);
  if (err != 0)
    return err;
  err = copy_out(pw.pw_dir, strlen(pw.pw_dir), buf, size);
  free(storage);
  return err;
}


int loom_os_tmpdir(char* buf, size_t* size) {
  static const char* const vars[] = {"TMPDIR", "TMP", "TEMP", "TEMPDIR"};
  const char* dir = NULL;
  size_t len;
  size_t i;

  for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && dir == NULL; i++) {
    dir = getenv(vars[i]);
    if (dir != NULL && dir[0] == '\0')
      dir = NULL;
  }
  if (dir == NULL)
    dir = "/tmp";
  len = strlen(dir);
  if (len > 1 && dir[len - 1] == '/')
    len--;
  return copy_out(dir, len, buf, size);
}


int loom_os_get_passwd(loom_passwd_t* pwd) {
  struct passwd pw;
  char* storage;
  int err = passwd_for(geteuid(), &pw, &storage);

  if (err != 0)
    return err;
  pwd->username = strdup(pw.pw_name);
  pwd->shell = strdup(pw.pw_shell != NULL ? pw.pw_shell : "");
  pwd->homedir = strdup(pw.pw_dir != NULL ? pw.pw_dir : "");
  pwd->uid = (long) pw.pw_uid;
  pwd->gid = (long) pw.pw_gid;
  free(storage);
  if (pwd->username == NULL || pwd->shell == NULL || pwd->homedir == NULL) {
    loom_os_free_passwd(pwd);
    return LOOM_ENOMEM;
  }
  return 0;
}


void loom_os_free_passwd(loom_passwd_t* pwd) {
  free(pwd->username);
  free(pwd->shell);
  free(pwd->homedir);
  pwd->username = pwd->shell = pwd->homedir = NULL;
}


int loom_os_getpid(void) {
  return (int) getpid();
}


int loom_os_getppid(void) {
  return (int) getppid();
}


int loom_os_getpriority(int pid, int* priority) {
  int r;

  errno = 0;
  r = getpriority(PRIO_PROCESS, (id_t) pid);
  if (r == -1 && errno != 0)
    return LOOM__ERR(errno);
  *priority = r;
  return 0;
}


int loom_os_setpriority(int pid, int priority) {
  if (priority < -20 || priority > 19)
    return LOOM_EINVAL;
  if (setpriority(PRIO_PROCESS, (id_t) pid, priority) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_os_setuid(long uid) {
  return setuid((uid_t) uid) == 0 ? 0 : LOOM__ERR(errno);
}


int loom_os_setgid(long gid) {
  return setgid((gid_t) gid) == 0 ? 0 : LOOM__ERR(errno);
}


int loom_random_fill(void* buf, size_t len) {
  char* p = buf;
  ssize_t n;

  while (len > 0) {
    n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return LOOM__ERR(errno);
    }
    p += n;
    len -= (size_t) n;
  }
  return 0;
}
