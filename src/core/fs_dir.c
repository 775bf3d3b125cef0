/* SPDX-License-Identifier: MIT */
/* fs_dir.c: reading directories, whole (scandir) or in slices (opendir,
 * readdir, closedir).
 *
 * Entry names are copied into one growing block per request, so a
 * directory of any size costs a handful of allocations, not one per name;
 * the pointers into the block are fixed up once it stops moving.
 */
#include "fs_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Names being collected: offsets into a growing block. */
typedef struct {
  char* names;
  size_t used;
  size_t cap;
} name_block;

/* What scandir keeps in req->mem: the sorted entries, then the names. */
typedef struct {
  size_t count;
  size_t next;
  loom_dirent_t ents[];
} scan_result;


static loom_dirent_type dirent_type(unsigned char d_type) {
  switch (d_type) {
    case DT_REG: return LOOM_DIRENT_FILE;
    case DT_DIR: return LOOM_DIRENT_DIR;
    case DT_LNK: return LOOM_DIRENT_LINK;
    case DT_FIFO: return LOOM_DIRENT_FIFO;
    case DT_SOCK: return LOOM_DIRENT_SOCKET;
    case DT_CHR: return LOOM_DIRENT_CHAR;
    case DT_BLK: return LOOM_DIRENT_BLOCK;
    default: return LOOM_DIRENT_UNKNOWN;
  }
}


/* Some file systems leave d_type unknown; lstat then tells. */
static loom_dirent_type entry_type(DIR* dir, const struct dirent* d) {
  struct stat st;

  if (d->d_type != DT_UNKNOWN)
    return dirent_type(d->d_type);
  if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return LOOM_DIRENT_UNKNOWN;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: return LOOM_DIRENT_FILE;
    case S_IFDIR: return LOOM_DIRENT_DIR;
    case S_IFLNK: return LOOM_DIRENT_LINK;
    case S_IFIFO: return LOOM_DIRENT_FIFO;
    case S_IFSOCK: return LOOM_DIRENT_SOCKET;
    case S_IFCHR: return LOOM_DIRENT_CHAR;
    case S_IFBLK: return LOOM_DIRENT_BLOCK;
    default: return LOOM_DIRENT_UNKNOWN;
  }
}


static int is_dot_or_dotdot(const char* name) {
  return name[0] == '.' &&
         (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}


/* Appends a name; returns its offset, or -1 when out of memory. */
static long add_name(name_block* b, const char* name) {
  size_t len = strlen(name) + 1;
  long off;

  if (b->used + len > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    char* grown;
    while (cap < b->used + len)
      cap *= 2;
    grown = realloc(b->names, cap);
    if (grown == NULL)
      return -1;
    b->names = grown;
    b->cap = cap;
  }
  memcpy(b->names + b->used, name, len);
  off = (long) b->used;
  b->used += len;
  return off;
}


/* The next entry other than "." and "..": 1, 0 at the end, or an error. */
static int next_entry(DIR* dir, struct dirent** out) {
  struct dirent* d;

  for (;;) {
    errno = 0;
    d = readdir(dir);
    if (d == NULL)
      return errno != 0 ? LOOM__ERR(errno) : 0;
    if (!is_dot_or_dotdot(d->d_name)) {
      *out = d;
      return 1;
    }
  }
}


static int by_name(const void* a, const void* b) {
  return strcmp(((const loom_dirent_t*) a)->name,
                ((const loom_dirent_t*) b)->name);
}


int64_t loom__fs_scandir(loom_fs_t* req) {
  name_block names = {NULL, 0, 0};
  loom_dirent_t* ents = NULL;
  size_t count = 0;
  size_t cap = 0;
  scan_result* res;
  struct dirent* d = NULL; /* set whenever next_entry returns 1 */
  DIR* dir;
  int64_t err = 0;
  size_t i;
  int r;

  dir = opendir(req->path);
  if (dir == NULL)
    return LOOM__ERR(errno);
  while ((r = next_entry(dir, &d)) == 1) {
    long off;
    if (count == cap) {
      loom_dirent_t* grown;
      cap = cap ? cap * 2 : 64;
      grown = realloc(ents, cap * sizeof(*ents));
      if (grown == NULL) {
        err = LOOM_ENOMEM;
        break;
      }
      ents = grown;
    }
    off = add_name(&names, d->d_name);
    if (off < 0) {
      err = LOOM_ENOMEM;
      break;
    }
    /* An offset for now: the block may still move. */
    ents[count].name = (const char*) (uintptr_t) off;
    ents[count].type = entry_type(dir, d);
    count++;
  }
  closedir(dir);
  if (err == 0 && r < 0)
    err = r;
  res = err == 0 ? malloc(sizeof(*res) + count * sizeof(*ents) + names.used)
                 : NULL;
  if (err == 0 && res == NULL)
    err = LOOM_ENOMEM;
  if (err == 0) {
    char* base = (char*) &res->ents[count];
    if (names.used > 0)
      memcpy(base, names.names, names.used);
    for (i = 0; i < count; i++) {
      res->ents[i].name = base + (uintptr_t) ents[i].name;
      res->ents[i].type = ents[i].type;
    }
    qsort(res->ents, count, sizeof(*ents), by_name);
    res->count = count;
    res->next = 0;
    req->mem = res;
  }
  free(ents);
  free(names.names);
  return err != 0 ? err : (int64_t) count;
}


int loom_fs_scandir_next(loom_fs_t* req, loom_dirent_t* ent) {
  scan_result* res = req->mem;

  if (req->fs_type != LOOM_FS_SCANDIR || req->result < 0)
    return req->result < 0 ? (int) req->result : LOOM_EINVAL;
  if (res == NULL || res->next >= res->count)
    return LOOM_EOF;
  *ent = res->ents[res->next++];
  return 0;
}


int64_t loom__fs_opendir(loom_fs_t* req) {
  loom_dir_t* dir = malloc(sizeof(*dir));

  if (dir == NULL)
    return LOOM_ENOMEM;
  dir->dir = opendir(req->path);
  if (dir->dir == NULL) {
    int err = errno;
    free(dir);
    return LOOM__ERR(err);
  }
  dir->dirents = NULL;
  dir->nentries = 0;
  req->ptr = dir;
  return 0;
}


int64_t loom__fs_readdir(loom_fs_t* req) {
  loom_dir_t* dir = req->ptr;
  name_block names = {NULL, 0, 0};
  struct dirent* d = NULL; /* set whenever next_entry returns 1 */
  size_t count = 0;
  size_t i;
  int r = 0;

  while (count < dir->nentries && (r = next_entry(dir->dir, &d)) == 1) {
    long off = add_name(&names, d->d_name);
    if (off < 0) {
      r = LOOM_ENOMEM;
      break;
    }
    dir->dirents[count].name = (const char*) (uintptr_t) off;
    dir->dirents[count].type = entry_type(dir->dir, d);
    count++;
  }
  /* An error after some entries: report the entries; the next call
   * meets the error again. */
  if (r < 0 && count == 0) {
    free(names.names);
    return r;
  }
  for (i = 0; i < count; i++)
    dir->dirents[i].name = names.names + (uintptr_t) dir->dirents[i].name;
  req->mem = names.names;
  return (int64_t) count;
}


int64_t loom__fs_closedir(loom_fs_t* req) {
  loom_dir_t* dir = req->ptr;

  if (dir->dir != NULL)
    closedir(dir->dir);
  free(dir);
  req->ptr = NULL;
  return 0;
}
