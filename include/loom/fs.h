/* SPDX-License-Identifier: MIT */
/* loom/fs.h: file system requests. Included by loom.h.
 *
 * Every operation has one code path: with cb == NULL it runs at once on
 * the calling thread and returns its result (>= 0) or a negative error;
 * with a callback it is queued on the thread pool, returns 0, and the
 * callback runs later on the loop's thread with req->result set.
 *
 * The caller keeps the request, the paths and the buffers it names alive
 * until the callback has run (as for socket requests: nothing is copied).
 * Results that need memory (readlink, realpath, mkdtemp, mkstemp, scandir,
 * readdir names) are allocated by the request and released by
 * loom_fs_req_cleanup, which must be called once the result was used.
 */
#ifndef LOOM_FS_H
#define LOOM_FS_H

#include <dirent.h>
#include <stdint.h>

/* Operation types, numbered as libuv numbers them. */
typedef enum {
  LOOM_FS_UNKNOWN = -1,
  LOOM_FS_CUSTOM,
  LOOM_FS_OPEN,
  LOOM_FS_CLOSE,
  LOOM_FS_READ,
  LOOM_FS_WRITE,
  LOOM_FS_SENDFILE,
  LOOM_FS_STAT,
  LOOM_FS_LSTAT,
  LOOM_FS_FSTAT,
  LOOM_FS_FTRUNCATE,
  LOOM_FS_UTIME,
  LOOM_FS_FUTIME,
  LOOM_FS_ACCESS,
  LOOM_FS_CHMOD,
  LOOM_FS_FCHMOD,
  LOOM_FS_FSYNC,
  LOOM_FS_FDATASYNC,
  LOOM_FS_UNLINK,
  LOOM_FS_RMDIR,
  LOOM_FS_MKDIR,
  LOOM_FS_MKDTEMP,
  LOOM_FS_RENAME,
  LOOM_FS_SCANDIR,
  LOOM_FS_LINK,
  LOOM_FS_SYMLINK,
  LOOM_FS_READLINK,
  LOOM_FS_CHOWN,
  LOOM_FS_FCHOWN,
  LOOM_FS_REALPATH,
  LOOM_FS_COPYFILE,
  LOOM_FS_LCHOWN,
  LOOM_FS_OPENDIR,
  LOOM_FS_READDIR,
  LOOM_FS_CLOSEDIR,
  LOOM_FS_STATFS,
  LOOM_FS_MKSTEMP,
  LOOM_FS_LUTIME,
  LOOM_FS_READFILE, /* beyond libuv: open, fstat, read to the end, close */
  LOOM_FS_TYPE_MAX
} loom_fs_type;

/* Directory entry kinds, numbered as libuv numbers them. */
typedef enum {
  LOOM_DIRENT_UNKNOWN,
  LOOM_DIRENT_FILE,
  LOOM_DIRENT_DIR,
  LOOM_DIRENT_LINK,
  LOOM_DIRENT_FIFO,
  LOOM_DIRENT_SOCKET,
  LOOM_DIRENT_CHAR,
  LOOM_DIRENT_BLOCK
} loom_dirent_type;

typedef struct {
  int64_t sec;
  int64_t nsec;
} loom_timespec_t;

typedef struct {
  uint64_t dev;
  uint64_t mode;
  uint64_t nlink;
  uint64_t uid;
  uint64_t gid;
  uint64_t rdev;
  uint64_t ino;
  uint64_t size;
  uint64_t blksize;
  uint64_t blocks;
  uint64_t flags;
  uint64_t gen;
  loom_timespec_t atime;
  loom_timespec_t mtime;
  loom_timespec_t ctime;
  loom_timespec_t birthtime; /* zero where the file system has none */
} loom_stat_t;

typedef struct {
  uint64_t type;
  uint64_t bsize;
  uint64_t blocks;
  uint64_t bfree;
  uint64_t bavail;
  uint64_t files;
  uint64_t ffree;
  uint64_t frsize;  /* the fragment size (libuv 1.49's f_frsize) */
} loom_statfs_t;

typedef struct {
  const char* name;
  loom_dirent_type type;
} loom_dirent_t;

/* An open directory (opendir). Before each readdir the caller points
 * dirents at an array of nentries entries; readdir fills up to that many
 * and sets req->result to how many (0 at the end). */
typedef struct {
  loom_dirent_t* dirents;
  size_t nentries;
  DIR* dir;
} loom_dir_t;

/* copyfile flags (libuv's values). */
#define LOOM_FS_COPYFILE_EXCL 0x0001
#define LOOM_FS_COPYFILE_FICLONE 0x0002
#define LOOM_FS_COPYFILE_FICLONE_FORCE 0x0004
/* symlink flags: accepted for compatibility; Linux has no use for them. */
#define LOOM_FS_SYMLINK_DIR 0x0001
#define LOOM_FS_SYMLINK_JUNCTION 0x0002

/* utime values meaning "the current time" and "leave unchanged". */
#define LOOM_FS_UTIME_NOW (1.0 / 0.0)
#define LOOM_FS_UTIME_OMIT (0.0 / 0.0)

typedef struct loom_fs_s loom_fs_t;
typedef void (*loom_fs_cb)(loom_fs_t* req);

struct loom_fs_s {
  LOOM_REQ_FIELDS
  loom_fs_type fs_type;
  loom_loop_t* loop;
  loom_fs_cb cb;
  int64_t result;        /* >= 0, or a negative error */
  void* ptr;             /* the result's data (see each function); read
                            and write leave it to the caller once queued */
  const char* path;
  const char* new_path;
  int file;
  int flags;
  int mode;
  unsigned int nbufs;
  const loom_buf_t* bufs;
  int64_t off;           /* < 0: the file's current position */
  /* No operation uses both the stat buffer and the other arguments, so
   * they share memory: 100,000 stats in flight are 4 MB less heap. */
  union {
    loom_stat_t statbuf; /* stat, lstat, fstat */
    struct {
      uint64_t len;      /* ftruncate, sendfile; scandir's position */
      int64_t uid;       /* chown */
      int64_t gid;
      double atime;      /* utime */
      double mtime;
    };
  };
  void* mem;             /* private: what loom_fs_req_cleanup frees */
  loom_work_t work;
};

/* Each returns the result for a synchronous call, else 0 or an error
 * from queueing. Results: the new fd (open, mkstemp), bytes (read,
 * write, sendfile), the number of entries (scandir, readdir), else 0. */
int loom_fs_open(loom_loop_t* loop, loom_fs_t* req, const char* path,
                 int flags, int mode, loom_fs_cb cb);
int loom_fs_close(loom_loop_t* loop, loom_fs_t* req, int file,
                  loom_fs_cb cb);
/* off < 0 reads/writes at the current position. A write goes on until
 * every byte is written (or an error stops it after some were). */
int loom_fs_read(loom_loop_t* loop, loom_fs_t* req, int file,
                 const loom_buf_t bufs[], unsigned int nbufs, int64_t off,
                 loom_fs_cb cb);
int loom_fs_write(loom_loop_t* loop, loom_fs_t* req, int file,
                  const loom_buf_t bufs[], unsigned int nbufs, int64_t off,
                  loom_fs_cb cb);
int loom_fs_sendfile(loom_loop_t* loop, loom_fs_t* req, int out_fd,
                     int in_fd, int64_t in_offset, uint64_t length,
                     loom_fs_cb cb);
/* The stat result is in req->statbuf (and req->ptr points at it). */
int loom_fs_stat(loom_loop_t* loop, loom_fs_t* req, const char* path,
                 loom_fs_cb cb);
int loom_fs_lstat(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  loom_fs_cb cb);
int loom_fs_fstat(loom_loop_t* loop, loom_fs_t* req, int file,
                  loom_fs_cb cb);
/* req->ptr: a loom_statfs_t. */
int loom_fs_statfs(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   loom_fs_cb cb);
int loom_fs_ftruncate(loom_loop_t* loop, loom_fs_t* req, int file,
                      int64_t length, loom_fs_cb cb);
int loom_fs_fsync(loom_loop_t* loop, loom_fs_t* req, int file,
                  loom_fs_cb cb);
int loom_fs_fdatasync(loom_loop_t* loop, loom_fs_t* req, int file,
                      loom_fs_cb cb);
int loom_fs_access(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   int mode, loom_fs_cb cb);
int loom_fs_chmod(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int mode, loom_fs_cb cb);
int loom_fs_fchmod(loom_loop_t* loop, loom_fs_t* req, int file, int mode,
                   loom_fs_cb cb);
/* Times in seconds since the epoch, or LOOM_FS_UTIME_NOW/_OMIT. */
int loom_fs_utime(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  double atime, double mtime, loom_fs_cb cb);
int loom_fs_futime(loom_loop_t* loop, loom_fs_t* req, int file,
                   double atime, double mtime, loom_fs_cb cb);
int loom_fs_lutime(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   double atime, double mtime, loom_fs_cb cb);
int loom_fs_unlink(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   loom_fs_cb cb);
int loom_fs_rmdir(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  loom_fs_cb cb);
int loom_fs_mkdir(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int mode, loom_fs_cb cb);
/* req->ptr: the created path (tpl ends in "XXXXXX"). */
int loom_fs_mkdtemp(loom_loop_t* loop, loom_fs_t* req, const char* tpl,
                    loom_fs_cb cb);
int loom_fs_mkstemp(loom_loop_t* loop, loom_fs_t* req, const char* tpl,
                    loom_fs_cb cb);
int loom_fs_rename(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   const char* new_path, loom_fs_cb cb);
int loom_fs_link(loom_loop_t* loop, loom_fs_t* req, const char* path,
                 const char* new_path, loom_fs_cb cb);
int loom_fs_symlink(loom_loop_t* loop, loom_fs_t* req, const char* path,
                    const char* new_path, int flags, loom_fs_cb cb);
/* req->ptr: the link's target or the resolved path. */
int loom_fs_readlink(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     loom_fs_cb cb);
int loom_fs_realpath(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     loom_fs_cb cb);
/* The whole file at path in one request (beyond libuv): req->ptr holds
 * the bytes and the result is their count. max > 0 limits the size
 * (EFBIG past it); a directory gives EISDIR. */
int loom_fs_readfile(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     uint64_t max, loom_fs_cb cb);
int loom_fs_chown(loom_loop_t* loop, loom_fs_t* req, const char* path,
                  int64_t uid, int64_t gid, loom_fs_cb cb);
int loom_fs_fchown(loom_loop_t* loop, loom_fs_t* req, int file, int64_t uid,
                   int64_t gid, loom_fs_cb cb);
int loom_fs_lchown(loom_loop_t* loop, loom_fs_t* req, const char* path,
                   int64_t uid, int64_t gid, loom_fs_cb cb);
int loom_fs_copyfile(loom_loop_t* loop, loom_fs_t* req, const char* path,
                     const char* new_path, int flags, loom_fs_cb cb);
/* The entries (without "." and "..") sorted by name; read them with
 * loom_fs_scandir_next, which returns LOOM_EOF after the last. */
int loom_fs_scandir(loom_loop_t* loop, loom_fs_t* req, const char* path,
                    loom_fs_cb cb);
int loom_fs_scandir_next(loom_fs_t* req, loom_dirent_t* ent);
/* req->ptr: a new loom_dir_t, freed by closedir. */
int loom_fs_opendir(loom_loop_t* loop, loom_fs_t* req, const char* path,
                    loom_fs_cb cb);
int loom_fs_readdir(loom_loop_t* loop, loom_fs_t* req, loom_dir_t* dir,
                    loom_fs_cb cb);
int loom_fs_closedir(loom_loop_t* loop, loom_fs_t* req, loom_dir_t* dir,
                     loom_fs_cb cb);

/* Cancels a request still waiting for a thread: its callback gets
 * result LOOM_ECANCELED. LOOM_EBUSY once it started. */
int loom_fs_cancel(loom_fs_t* req);
/* Frees what the request allocated for its result. */
void loom_fs_req_cleanup(loom_fs_t* req);
const char* loom_fs_type_name(loom_fs_type type);

#endif /* LOOM_FS_H */
