/* SPDX-License-Identifier: MIT */
/* fs_readfile.c: a whole file in one pool job. open, fstat, read until
 * the end and close run on one thread, so reading a small file costs one
 * round trip to the pool instead of four (open, fstat, read, close). */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files whose size the kernel does not know (/proc, pipes, character
 * devices) are read in steps that start here and double. */
#define UNKNOWN_SIZE_START 65536
/* Blocks this big ask for transparent huge pages before they are first
 * touched: a 1 GiB read then faults 512 pages instead of 262,144. */
#define HUGE_BLOCK (8u << 20)

static char* grow(char* buf, size_t cap) {
  char* bigger = realloc(buf, cap);
  if (bigger != NULL && cap >= HUGE_BLOCK) {
    uintptr_t page = 2u << 20;
    uintptr_t start = ((uintptr_t) bigger + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t) bigger + cap) & ~(page - 1);
    if (end > start)
      madvise((void*) start, end - start, MADV_HUGEPAGE);
  }
  return bigger;
}


/* Reads fd to its end into a buffer of its own; size_hint is the size
 * fstat reported (0 if none). A file that grows while being read is read
 * to its new end; max (0: no limit) bounds the result with EFBIG. */
static int64_t read_to_end(loom_fs_t* req, int fd, size_t size_hint) {
  /* One byte past the size: the read that returns 0 there proves the
   * end without a second buffer. */
  size_t cap = size_hint > 0 ? size_hint + 1 : UNKNOWN_SIZE_START;
  size_t len = 0;
  char* buf = grow(NULL, cap);
  if (buf == NULL)
    return LOOM_ENOMEM;
  for (;;) {
    long n = RETRY(read(fd, buf + len, cap - len));
    if (n < 0) {
      int err = errno;
      free(buf);
      return LOOM__ERR(err);
    }
    if (n == 0)
      break;
    len += (size_t) n;
    if (req->len > 0 && len > req->len) {
      free(buf);
      return LOOM_EFBIG;
    }
    if (len == cap) {
      char* bigger = grow(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        return LOOM_ENOMEM;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  req->ptr = req->mem = buf;
  return (int64_t) len;
}


int64_t loom__fs_readfile(loom_fs_t* req) {
  struct stat st;
  int64_t result;
  long fd = RETRY(open(req->path, O_RDONLY | O_CLOEXEC));
  if (fd < 0)
    return LOOM__ERR(errno);
  if (fstat((int) fd, &st) < 0) {
    result = LOOM__ERR(errno);
  } else if (S_ISDIR(st.st_mode)) {
    result = LOOM_EISDIR;
  } else if (req->len > 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size > req->len) {
    result = LOOM_EFBIG;
  } else {
    result = read_to_end(req, (int) fd, S_ISREG(st.st_mode) ? (size_t) st.st_size : 0);
  }
  close((int) fd);
  return result;
}
