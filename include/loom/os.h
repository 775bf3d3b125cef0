/* SPDX-License-Identifier: MIT */
/* loom/os.h: process, user, system and network-interface information
 * (luv's "misc" section, as plain C). Included by loom.h.
 *
 * Functions that fill a caller's buffer take its size in *size; on
 * success *size is the length written (without the terminating NUL); if
 * the buffer is too small they return LOOM_ENOBUFS and set *size to the
 * size needed (including the NUL).
 */
#ifndef LOOM_OS_H
#define LOOM_OS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
  int64_t sec;
  int64_t usec;
} loom_timeval_t;

typedef struct {
  loom_timeval_t utime;
  loom_timeval_t stime;
  uint64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock,
      oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
} loom_rusage_t;

typedef struct {
  char* model;
  int speed; /* MHz */
  struct {
    uint64_t user, nice, sys, idle, irq; /* milliseconds */
  } times;
} loom_cpu_info_t;

typedef struct {
  char* name;
  unsigned char phys_addr[6];
  int is_internal;
  struct sockaddr_storage address;
  struct sockaddr_storage netmask;
} loom_interface_address_t;

typedef struct {
  char sysname[256];
  char release[256];
  char version[256];
  char machine[256];
} loom_utsname_t;

typedef struct {
  char* username;
  long uid;
  long gid;
  char* shell;
  char* homedir;
} loom_passwd_t;

int loom_exepath(char* buf, size_t* size);
int loom_cwd(char* buf, size_t* size);
int loom_chdir(const char* dir);
int loom_get_process_title(char* buf, size_t size);
int loom_set_process_title(const char* title);

uint64_t loom_get_total_memory(void);
uint64_t loom_get_free_memory(void);
/* The cgroup memory limit, or 0 when there is none. */
uint64_t loom_get_constrained_memory(void);
uint64_t loom_get_available_memory(void);
int loom_resident_set_memory(size_t* rss);
int loom_getrusage(loom_rusage_t* usage);
int loom_getrusage_thread(loom_rusage_t* usage);
unsigned int loom_available_parallelism(void);
int loom_cpu_info(loom_cpu_info_t** infos, int* count);
void loom_free_cpu_info(loom_cpu_info_t* infos, int count);
int loom_cpumask_size(void);
int loom_uptime(double* seconds);
void loom_loadavg(double avg[3]);
int loom_gettimeofday(loom_timeval_t* tv);
/* clock: 0 = monotonic, 1 = realtime. */
int loom_clock_gettime(int clock, int64_t* sec, int32_t* nsec);
/* What kind of handle suits the fd: LOOM_FILE, LOOM_TTY, LOOM_NAMED_PIPE,
 * LOOM_TCP, LOOM_UDP or LOOM_UNKNOWN_HANDLE. */
loom_handle_type loom_guess_handle(int fd);

int loom_interface_addresses(loom_interface_address_t** addresses, int* count);
void loom_free_interface_addresses(loom_interface_address_t* addresses,
                                   int count);
int loom_if_indextoname(unsigned int index, char* buf, size_t* size);

int loom_os_uname(loom_utsname_t* name);
int loom_os_gethostname(char* buf, size_t* size);
int loom_os_getenv(const char* name, char* buf, size_t* size);
int loom_os_setenv(const char* name, const char* value);
int loom_os_unsetenv(const char* name);
/* The environment as "NAME=value" strings, NULL-terminated (not a copy). */
char** loom_os_environ(void);
int loom_os_homedir(char* buf, size_t* size);
int loom_os_tmpdir(char* buf, size_t* size);
int loom_os_get_passwd(loom_passwd_t* pwd);
void loom_os_free_passwd(loom_passwd_t* pwd);
int loom_os_getpid(void);
int loom_os_getppid(void);
int loom_os_getpriority(int pid, int* priority);
int loom_os_setpriority(int pid, int priority);
int loom_os_setuid(long uid);
int loom_os_setgid(long gid);
/* Fills buf with cryptographically strong random bytes (blocking). */
int loom_random_fill(void* buf, size_t len);

#endif /* LOOM_OS_H */
