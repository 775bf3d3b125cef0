/* SPDX-License-Identifier: MIT */
/* sysinfo.c: what the system has and what the process uses: memory, CPUs,
 * resource usage, load, uptime, clocks, and guessing an fd's kind. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


/* Reads a "Key:   123 kB" line of /proc/meminfo, in bytes; 0 if absent. */
static uint64_t meminfo(const char* key) {
  char line[256];
  size_t keylen = strlen(key);
  unsigned long long kb = 0;
  FILE* f = fopen("/proc/meminfo", "re");

  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
      if (sscanf(line + keylen + 1, "%llu", &kb) != 1)
        kb = 0;
      break;
    }
  }
  fclose(f);
  return (uint64_t) kb * 1024;
}


uint64_t loom_get_total_memory(void) {
  struct sysinfo si;
  uint64_t total = meminfo("MemTotal");
  if (total == 0 && sysinfo(&si) == 0)
    total = (uint64_t) si.totalram * si.mem_unit;
  return total;
}


uint64_t loom_get_free_memory(void) {
  struct sysinfo si;
  uint64_t avail = meminfo("MemAvailable");
  if (avail == 0 && sysinfo(&si) == 0)
    avail = (uint64_t) si.freeram * si.mem_unit;
  return avail;
}


/* Reads one number from a cgroup file; "max" (no limit) reads as 0. */
static uint64_t read_cgroup_value(const char* path) {
  char buf[64] = {0};
  unsigned long long v;
  FILE* f = fopen(path, "re");

  if (f == NULL)
    return 0;
  if (fgets(buf, sizeof(buf), f) == NULL || strncmp(buf, "max", 3) == 0 ||
      sscanf(buf, "%llu", &v) != 1)
    v = 0;
  fclose(f);
  return (uint64_t) v;
}


/* The path of this process's cgroup v2 directory, or "" for cgroup v1. */
static void cgroup_dir(char* dir, size_t size) {
  char line[512];
  FILE* f = fopen("/proc/self/cgroup", "re");

  snprintf(dir, size, "/sys/fs/cgroup");
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(dir, size, "/sys/fs/cgroup%s", line + 3);
      break;
    }
  }
  fclose(f);
}


static uint64_t cgroup_read(const char* v2_file, const char* v1_path) {
  char dir[600];
  char path[700];
  uint64_t v;

  cgroup_dir(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/%s", dir, v2_file);
  v = read_cgroup_value(path);
  if (v == 0)
    v = read_cgroup_value(v1_path);
  return v;
}


uint64_t loom_get_constrained_memory(void) {
  uint64_t limit = cgroup_read("memory.max",
                               "/sys/fs/cgroup/memory/memory.limit_in_bytes");
  uint64_t total = loom_get_total_memory();
  /* cgroup v1 spells "no limit" as a huge number. */
  if (limit == 0 || (total != 0 && limit >= total))
    return 0;
  return limit;
}


uint64_t loom_get_available_memory(void) {
  uint64_t limit = loom_get_constrained_memory();
  uint64_t free_mem = loom_get_free_memory();
  uint64_t used;

  if (limit == 0)
    return free_mem;
  used = cgroup_read("memory.current",
                     "/sys/fs/cgroup/memory/memory.usage_in_bytes");
  if (used >= limit)
    return 0;
  return limit - used < free_mem ? limit - used : free_mem;
}


int loom_resident_set_memory(size_t* rss) {
  unsigned long pages = 0;
  unsigned long size = 0;
  FILE* f = fopen("/proc/self/statm", "re");

  if (f == NULL)
    return LOOM__ERR(errno);
  if (fscanf(f, "%lu %lu", &size, &pages) != 2) {
    fclose(f);
    return LOOM_EIO;
  }
  fclose(f);
  *rss = (size_t) pages * (size_t) sysconf(_SC_PAGESIZE);
  return 0;
}


static int fill_rusage(int who, loom_rusage_t* u) {
  struct rusage r;

  if (getrusage(who, &r) != 0)
    return LOOM__ERR(errno);
  u->utime.sec = r.ru_utime.tv_sec;
  u->utime.usec = r.ru_utime.tv_usec;
  u->stime.sec = r.ru_stime.tv_sec;
  u->stime.usec = r.ru_stime.tv_usec;
  u->maxrss = (uint64_t) r.ru_maxrss;
  u->ixrss = (uint64_t) r.ru_ixrss;
  u->idrss = (uint64_t) r.ru_idrss;
  u->isrss = (uint64_t) r.ru_isrss;
  u->minflt = (uint64_t) r.ru_minflt;
  u->majflt = (uint64_t) r.ru_majflt;
  u->nswap = (uint64_t) r.ru_nswap;
  u->inblock = (uint64_t) r.ru_inblock;
  u->oublock = (uint64_t) r.ru_oublock;
  u->msgsnd = (uint64_t) r.ru_msgsnd;
  u->msgrcv = (uint64_t) r.ru_msgrcv;
  u->nsignals = (uint64_t) r.ru_nsignals;
  u->nvcsw = (uint64_t) r.ru_nvcsw;
  u->nivcsw = (uint64_t) r.ru_nivcsw;
  return 0;
}


int loom_getrusage(loom_rusage_t* usage) {
  return fill_rusage(RUSAGE_SELF, usage);
}


int loom_getrusage_thread(loom_rusage_t* usage) {
  return fill_rusage(RUSAGE_THREAD, usage);
}


unsigned int loom_available_parallelism(void) {
  cpu_set_t set;
  long n;

  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    n = CPU_COUNT(&set);
    if (n > 0)
      return (unsigned int) n;
  }
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned int) n : 1;
}


int loom_cpumask_size(void) {
  return CPU_SETSIZE;
}


/* The model name and speed of each CPU from /proc/cpuinfo. */
static void read_models(loom_cpu_info_t* infos, int count) {
  char line[512];
  int model_i = 0;
  int speed_i = 0;
  char* colon;
  FILE* f = fopen("/proc/cpuinfo", "re");

  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    colon = strchr(line, ':');
    if (colon == NULL)
      continue;
    if (strncmp(line, "model name", 10) == 0 && model_i < count) {
      colon++;
      while (*colon == ' ' || *colon == '\t')
        colon++;
      colon[strcspn(colon, "\n")] = '\0';
      free(infos[model_i].model);
      infos[model_i++].model = strdup(colon);
    } else if (strncmp(line, "cpu MHz", 7) == 0 && speed_i < count) {
      infos[speed_i++].speed = atoi(colon + 1);
    }
  }
  fclose(f);
}


int loom_cpu_info(loom_cpu_info_t** out, int* count) {
  unsigned long long user, nice, sys, idle, iowait, irq;
  long ticks = sysconf(_SC_CLK_TCK);
  uint64_t ms_per_tick = ticks > 0 ? 1000u / (uint64_t) ticks : 10;
  loom_cpu_info_t* infos = NULL;
  loom_cpu_info_t* grown;
  char line[512];
  int n = 0;
  int i;
  FILE* f = fopen("/proc/stat", "re");

  if (f == NULL)
    return LOOM__ERR(errno);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
      continue;
    if (sscanf(line, "%*s %llu %llu %llu %llu %llu %llu", &user, &nice, &sys,
               &idle, &iowait, &irq) != 6)
      continue;
    grown = realloc(infos, (size_t) (n + 1) * sizeof(*infos));
    if (grown == NULL) {
      fclose(f);
      loom_free_cpu_info(infos, n);
      return LOOM_ENOMEM;
    }
    infos = grown;
    memset(&infos[n], 0, sizeof(infos[n]));
    infos[n].times.user = user * ms_per_tick;
    infos[n].times.nice = nice * ms_per_tick;
    infos[n].times.sys = sys * ms_per_tick;
    infos[n].times.idle = idle * ms_per_tick;
    infos[n].times.irq = irq * ms_per_tick;
    n++;
  }
  fclose(f);
  read_models(infos, n);
  for (i = 0; i < n; i++) {
    if (infos[i].model == NULL)
      infos[i].model = strdup("unknown");
    if (infos[i].model == NULL) {
      loom_free_cpu_info(infos, n);
      return LOOM_ENOMEM;
    }
  }
  *out = infos;
  *count = n;
  return 0;
}


void loom_free_cpu_info(loom_cpu_info_t* infos, int count) {
  int i;
  for (i = 0; i < count; i++)
    free(infos[i].model);
  free(infos);
}


int loom_uptime(double* seconds) {
  struct timespec ts;
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
    return LOOM__ERR(errno);
  *seconds = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
  return 0;
}


void loom_loadavg(double avg[3]) {
  if (getloadavg(avg, 3) != 3)
    avg[0] = avg[1] = avg[2] = 0;
}


int loom_gettimeofday(loom_timeval_t* tv) {
  struct timeval t;
  if (gettimeofday(&t, NULL) != 0)
    return LOOM__ERR(errno);
  tv->sec = t.tv_sec;
  tv->usec = t.tv_usec;
  return 0;
}


int loom_clock_gettime(int clock, int64_t* sec, int32_t* nsec) {
  struct timespec ts;
  if (clock != 0 && clock != 1)
    return LOOM_EINVAL;
  if (clock_gettime(clock == 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts) != 0)
    return LOOM__ERR(errno);
  *sec = ts.tv_sec;
  *nsec = (int32_t) ts.tv_nsec;
  return 0;
}


loom_handle_type loom_guess_handle(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  struct stat st;
  int type;
  socklen_t tlen = sizeof(type);

  if (fd < 0 || fstat(fd, &st) != 0)
    return LOOM_UNKNOWN_HANDLE;
  if (isatty(fd))
    return LOOM_TTY;
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    return LOOM_FILE;
  if (S_ISFIFO(st.st_mode))
    return LOOM_NAMED_PIPE;
  if (!S_ISSOCK(st.st_mode))
    return LOOM_UNKNOWN_HANDLE;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
      getsockname(fd, (struct sockaddr*) &ss, &len) != 0)
    return LOOM_UNKNOWN_HANDLE;
  if (ss.ss_family == AF_UNIX)
    return LOOM_NAMED_PIPE;
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    if (type == SOCK_STREAM)
      return LOOM_TCP;
    if (type == SOCK_DGRAM)
      return LOOM_UDP;
  }
  return LOOM_UNKNOWN_HANDLE;
}
