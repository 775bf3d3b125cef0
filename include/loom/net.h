/* SPDX-License-Identifier: MIT */
/* loom/net.h: requests, streams (tcp, pipe, tty), udp, poll and processes.
 * Included by loom.h; the conventions stated there hold here too.
 *
 * Requests: the caller allocates a request, passes it to the function that
 * starts the operation and keeps it (and any buffers it names) alive until
 * its callback has run. Callbacks of requests are never called from inside
 * the function that started them.
 */
#ifndef LOOM_NET_H
#define LOOM_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <sys/uio.h>

/* Request types, numbered as libuv numbers them. */
typedef enum {
  LOOM_UNKNOWN_REQ = 0,
  LOOM_REQ,
  LOOM_CONNECT,
  LOOM_WRITE,
  LOOM_SHUTDOWN,
  LOOM_UDP_SEND,
  LOOM_FS,
  LOOM_WORK,
  LOOM_GETADDRINFO,
  LOOM_GETNAMEINFO,
  LOOM_RANDOM,
  LOOM_DNS_QUERY, /* beyond libuv: a resolver's query (loom/dns.h) */
  LOOM_REQ_TYPE_MAX
} loom_req_type;

const char* loom_req_type_name(loom_req_type type);

/* A buffer: the same layout as struct iovec, so arrays of them go to
 * writev and sendmsg as they are. */
typedef struct {
  void* base;
  size_t len;
} loom_buf_t;

typedef struct loom_stream_s loom_stream_t;
typedef struct loom_tcp_s loom_tcp_t;
typedef struct loom_pipe_s loom_pipe_t;
typedef struct loom_tty_s loom_tty_t;
typedef struct loom_udp_s loom_udp_t;
typedef struct loom_poll_s loom_poll_t;
typedef struct loom_process_s loom_process_t;
typedef struct loom_write_s loom_write_t;
typedef struct loom_connect_s loom_connect_t;
typedef struct loom_shutdown_s loom_shutdown_t;
typedef struct loom_udp_send_s loom_udp_send_t;

/* nread > 0: bytes in buf (valid only during the call); nread < 0: an
 * error, LOOM_EOF at end of stream. */
typedef void (*loom_read_cb)(loom_stream_t* stream, ssize_t nread,
                             const loom_buf_t* buf);
typedef void (*loom_write_cb)(loom_write_t* req, int status);
typedef void (*loom_connect_cb)(loom_connect_t* req, int status);
typedef void (*loom_shutdown_cb)(loom_shutdown_t* req, int status);
typedef void (*loom_connection_cb)(loom_stream_t* server, int status);
typedef void (*loom_udp_send_cb)(loom_udp_send_t* req, int status);
/* nread >= 0 with addr: a datagram (possibly empty); flags has
 * LOOM_UDP_PARTIAL when it was truncated. nread < 0: an error. */
typedef void (*loom_udp_recv_cb)(loom_udp_t* udp, ssize_t nread,
                                 const loom_buf_t* buf,
                                 const struct sockaddr* addr,
                                 unsigned int flags);
typedef void (*loom_poll_cb)(loom_poll_t* poll, int status, int events);
typedef void (*loom_exit_cb)(loom_process_t* process, int64_t exit_status,
                             int term_signal);

#define LOOM_REQ_FIELDS                                                       \
  void* data;                                                                 \
  loom_req_type type;

typedef struct {
  LOOM_REQ_FIELDS
} loom_req_t;

struct loom_write_s {
  LOOM_REQ_FIELDS
  loom_write_cb cb;
  loom_stream_t* handle;
  loom_queue_t queue;
  loom_buf_t* bufs;   /* the caller's array; advanced as data is written */
  unsigned int nbufs; /* buffers not yet fully written */
  int error;
  int send_fd;        /* write2: the fd passed with the first byte, or -1 */
  int file_fd;        /* sendfile: the file sent after bufs, or -1 */
  int64_t file_offset; /* sendfile: where the file's unsent part starts */
  uint64_t file_left;  /* sendfile: bytes of the file not yet sent */
};

struct loom_connect_s {
  LOOM_REQ_FIELDS
  loom_connect_cb cb;
  loom_stream_t* handle;
  int error; /* a failure known at once, reported from the pending phase */
};

/* A shutdown waits in the stream's write queue behind the writes before
 * it, as a write of the end of the stream (`eof`, private). */
struct loom_shutdown_s {
  LOOM_REQ_FIELDS
  loom_shutdown_cb cb;
  loom_stream_t* handle;
  loom_write_t eof;
};

struct loom_udp_send_s {
  LOOM_REQ_FIELDS
  loom_udp_send_cb cb;
  loom_udp_t* handle;
  loom_queue_t queue;
  loom_buf_t* bufs;
  unsigned int nbufs;
  int error;
  struct sockaddr_storage addr; /* ss_family AF_UNSPEC when connected */
};

/* The fields tcp, pipe and tty share. Every connection holds them, so
 * they are kept few: a stream that listens never reads or writes, so the
 * connection callback shares the read callback's slot and the accepted
 * descriptor shares the written byte count's; a shutdown is queued with
 * the writes; a connect's early failure is kept in its request. */
#define LOOM_STREAM_FIELDS                                                    \
  LOOM_HANDLE_FIELDS                                                          \
  union {                                                                     \
    loom_read_cb read_cb;                                                     \
    loom_connection_cb connection_cb;                                         \
  } u;                                                                        \
  loom__io_t io;                                                              \
  /* Finished writes waiting for their callbacks, then unfinished ones,    \
   * in order. */                                                          \
  loom_queue_t write_queue;                                                   \
  union {                                                                     \
    size_t write_queue_size; /* bytes not yet written */                      \
    int accepted_fd; /* listening: a connection not yet accepted, or -1 */   \
  };                                                                          \
  loom_connect_t* connect_req;

struct loom_stream_s {
  LOOM_STREAM_FIELDS
};

struct loom_tcp_s {
  LOOM_STREAM_FIELDS
};

struct loom_pipe_s {
  LOOM_STREAM_FIELDS
  int ipc;
  int* pending_fds; /* fds received over an ipc pipe, not yet accepted */
  unsigned int npending;
  unsigned int pending_cap;
  char* pipe_fname; /* bound path to unlink on close (not abstract) */
};

struct loom_tty_s {
  LOOM_STREAM_FIELDS
  int orig_fd; /* the fd given to init (we may have reopened the tty) */
};

struct loom_udp_s {
  LOOM_HANDLE_FIELDS
  loom_udp_recv_cb recv_cb;
  loom__io_t io;
  loom_queue_t send_queue;
  loom_queue_t send_completed;
  size_t send_queue_size;
  size_t send_queue_count;
  unsigned int mmsgs; /* datagrams per recvmmsg, 1 = plain recvmsg */
  unsigned int recv_size; /* bytes read per datagram; more is truncated */
  void* held; /* private: datagrams a recv_stop left undelivered */
};

struct loom_poll_s {
  LOOM_HANDLE_FIELDS
  loom_poll_cb poll_cb;
  loom__io_t io;
};

struct loom_process_s {
  LOOM_HANDLE_FIELDS
  loom_exit_cb exit_cb;
  int pid;
  int status;
  loom_queue_t process_queue;
};

/* ---- streams ------------------------------------------------------- */

enum {
  LOOM_UDP_IPV6ONLY = 1,
  LOOM_UDP_PARTIAL = 2,
  LOOM_UDP_REUSEADDR = 4,
  LOOM_UDP_MMSG_CHUNK = 8,
  LOOM_UDP_REUSEPORT = 16,
  LOOM_TCP_IPV6ONLY = 1,
  /* SO_REUSEPORT: processes (or handles) that all set it can bind the
   * same address and port; the kernel spreads connections over them. */
  LOOM_TCP_REUSEPORT = 2,
  LOOM_PIPE_NO_TRUNCATE = 1
};

int loom_listen(loom_stream_t* stream, int backlog, loom_connection_cb cb);
/* Takes the connection the connection callback announced. */
int loom_accept(loom_stream_t* server, loom_stream_t* client);
int loom_read_start(loom_stream_t* stream, loom_read_cb cb);
int loom_read_stop(loom_stream_t* stream);
/* Writes the buffers in order after anything already queued. The caller
 * keeps bufs (the array and the bytes) until cb. With cb NULL, a write
 * the kernel takes completely at once makes this return 1: the request
 * is already forgotten. Otherwise it returns 0 and the callback comes
 * later; a caller that passed NULL may still set req->cb before it
 * returns to the loop (the binding does, to release what it anchored). */
int loom_write(loom_write_t* req, loom_stream_t* stream, loom_buf_t* bufs,
               unsigned int nbufs, loom_write_cb cb);
/* Like loom_write, and sends send_handle's fd along (ipc pipes only). */
int loom_write2(loom_write_t* req, loom_stream_t* stream, loom_buf_t* bufs,
                unsigned int nbufs, loom_stream_t* send_handle,
                loom_write_cb cb);
/* Like loom_write, then sends length bytes of the file fd from offset
 * with sendfile(2): the bytes go from the page cache to the socket
 * without a copy through user space. fd is a regular file (or a block
 * device) the caller keeps open until cb; a file shorter than asked ends
 * the write with LOOM_EOF. The loop thread sends: bytes not in the page
 * cache are read from the disk there. */
int loom_sendfile(loom_write_t* req, loom_stream_t* stream, loom_buf_t* bufs,
                  unsigned int nbufs, int fd, int64_t offset, uint64_t length,
                  loom_write_cb cb);
/* Writes what the kernel takes now: bytes written, or LOOM_EAGAIN if
 * writes are queued or the kernel took nothing. */
int loom_try_write(loom_stream_t* stream, const loom_buf_t* bufs,
                   unsigned int nbufs);
int loom_try_write2(loom_stream_t* stream, const loom_buf_t* bufs,
                    unsigned int nbufs, loom_stream_t* send_handle);
/* Shuts the write side down once every queued write is written. */
int loom_shutdown(loom_shutdown_t* req, loom_stream_t* stream,
                  loom_shutdown_cb cb);
int loom_is_readable(const loom_stream_t* stream);
int loom_is_writable(const loom_stream_t* stream);
int loom_stream_set_blocking(loom_stream_t* stream, int blocking);
size_t loom_stream_get_write_queue_size(const loom_stream_t* stream);
/* The handle's fd (streams, udp, poll), or LOOM_EBADF. */
int loom_fileno(const loom_handle_t* handle, int* fd);
/* SO_SNDBUF / SO_RCVBUF: *value 0 reads it, otherwise sets it. */
int loom_send_buffer_size(loom_handle_t* handle, int* value);
int loom_recv_buffer_size(loom_handle_t* handle, int* value);

/* ---- tcp ----------------------------------------------------------- */

/* family AF_UNSPEC creates the socket lazily (on bind or connect). */
int loom_tcp_init_ex(loom_loop_t* loop, loom_tcp_t* tcp, int family);
int loom_tcp_open(loom_tcp_t* tcp, int fd);
int loom_tcp_bind(loom_tcp_t* tcp, const struct sockaddr* addr,
                  unsigned int flags);
int loom_tcp_connect(loom_connect_t* req, loom_tcp_t* tcp,
                     const struct sockaddr* addr, loom_connect_cb cb);
int loom_tcp_nodelay(loom_tcp_t* tcp, int enable);
int loom_tcp_keepalive(loom_tcp_t* tcp, int enable, unsigned int delay);
int loom_tcp_simultaneous_accepts(loom_tcp_t* tcp, int enable);
int loom_tcp_getsockname(const loom_tcp_t* tcp, struct sockaddr* name,
                         int* namelen);
int loom_tcp_getpeername(const loom_tcp_t* tcp, struct sockaddr* name,
                         int* namelen);
/* Closes with an RST (SO_LINGER 0) instead of a FIN. */
int loom_tcp_close_reset(loom_tcp_t* tcp, loom_close_cb close_cb);
/* flags: LOOM_NONBLOCK_PIPE per end; fds are close-on-exec. */
int loom_socketpair(int type, int protocol, int fds[2], int flags0,
                    int flags1);
#define LOOM_NONBLOCK_PIPE 0x40

/* ---- pipe ---------------------------------------------------------- */

int loom_pipe_init(loom_loop_t* loop, loom_pipe_t* pipe, int ipc);
int loom_pipe_open(loom_pipe_t* pipe, int fd);
/* name may start with a NUL byte: a Linux abstract socket name. */
int loom_pipe_bind2(loom_pipe_t* pipe, const char* name, size_t namelen,
                    unsigned int flags);
int loom_pipe_connect2(loom_connect_t* req, loom_pipe_t* pipe,
                       const char* name, size_t namelen, unsigned int flags,
                       loom_connect_cb cb);
int loom_pipe_getsockname(const loom_pipe_t* pipe, char* buf, size_t* len);
int loom_pipe_getpeername(const loom_pipe_t* pipe, char* buf, size_t* len);
int loom_pipe_pending_count(const loom_pipe_t* pipe);
loom_handle_type loom_pipe_pending_type(const loom_pipe_t* pipe);
enum { LOOM_READABLE = 1, LOOM_WRITABLE = 2 };
int loom_pipe_chmod(loom_pipe_t* pipe, int flags);
int loom_pipe(int fds[2], int read_flags, int write_flags);

/* ---- tty ----------------------------------------------------------- */

typedef enum {
  LOOM_TTY_MODE_NORMAL = 0,
  LOOM_TTY_MODE_RAW,
  LOOM_TTY_MODE_IO,
  LOOM_TTY_MODE_RAW_VT
} loom_tty_mode_t;

int loom_tty_init(loom_loop_t* loop, loom_tty_t* tty, int fd, int readable);
int loom_tty_set_mode(loom_tty_t* tty, loom_tty_mode_t mode);
/* Restores the terminal mode saved before the first set_mode; safe to
 * call at exit (it is registered with atexit). */
int loom_tty_reset_mode(void);
int loom_tty_get_winsize(loom_tty_t* tty, int* width, int* height);

/* ---- udp ----------------------------------------------------------- */

/* mmsgs > 1 makes reads use recvmmsg with that many datagrams per call. */
int loom_udp_init_ex(loom_loop_t* loop, loom_udp_t* udp, int family,
                     unsigned int mmsgs);
int loom_udp_open(loom_udp_t* udp, int fd);
/* The most bytes read per datagram (default 65536, the largest UDP
 * payload); a longer datagram is delivered truncated with
 * LOOM_UDP_PARTIAL. Smaller sizes keep recvmmsg buffers small. */
int loom_udp_set_recv_size(loom_udp_t* udp, unsigned int size);
int loom_udp_bind(loom_udp_t* udp, const struct sockaddr* addr,
                  unsigned int flags);
/* addr NULL disconnects. */
int loom_udp_connect(loom_udp_t* udp, const struct sockaddr* addr);
int loom_udp_getsockname(const loom_udp_t* udp, struct sockaddr* name,
                         int* namelen);
int loom_udp_getpeername(const loom_udp_t* udp, struct sockaddr* name,
                         int* namelen);
/* addr NULL on a connected handle. */
int loom_udp_send(loom_udp_send_t* req, loom_udp_t* udp, loom_buf_t* bufs,
                  unsigned int nbufs, const struct sockaddr* addr,
                  loom_udp_send_cb cb);
/* Fire and forget: sends the datagram now if nothing is queued before it,
 * else copies it into memory the core owns and queues it (no request, no
 * callback; a queued datagram's failure is not reported, as a datagram
 * lost on the way would not be). Errors known at once are returned. */
int loom_udp_send_copy(loom_udp_t* udp, const loom_buf_t* bufs,
                       unsigned int nbufs, const struct sockaddr* addr);
int loom_udp_try_send(loom_udp_t* udp, const loom_buf_t* bufs,
                      unsigned int nbufs, const struct sockaddr* addr);
/* Sends count datagrams with one sendmmsg: messages sent, or an error if
 * not even the first could be. */
int loom_udp_try_send2(loom_udp_t* udp, unsigned int count,
                       loom_buf_t* bufs[], unsigned int nbufs[],
                       struct sockaddr* addrs[]);
int loom_udp_recv_start(loom_udp_t* udp, loom_udp_recv_cb cb);
int loom_udp_recv_stop(loom_udp_t* udp);
typedef enum { LOOM_LEAVE_GROUP = 0, LOOM_JOIN_GROUP } loom_membership;
int loom_udp_set_membership(loom_udp_t* udp, const char* multicast_addr,
                            const char* interface_addr,
                            loom_membership membership);
int loom_udp_set_source_membership(loom_udp_t* udp,
                                   const char* multicast_addr,
                                   const char* interface_addr,
                                   const char* source_addr,
                                   loom_membership membership);
int loom_udp_set_multicast_loop(loom_udp_t* udp, int on);
int loom_udp_set_multicast_ttl(loom_udp_t* udp, int ttl);
int loom_udp_set_multicast_interface(loom_udp_t* udp,
                                     const char* interface_addr);
int loom_udp_set_broadcast(loom_udp_t* udp, int on);
int loom_udp_set_ttl(loom_udp_t* udp, int ttl);

/* ---- poll ---------------------------------------------------------- */

enum {
  LOOM_POLL_READABLE = 1,
  LOOM_POLL_WRITABLE = 2,
  LOOM_POLL_DISCONNECT = 4,
  LOOM_POLL_PRIORITIZED = 8
};

int loom_poll_init(loom_loop_t* loop, loom_poll_t* poll, int fd);
int loom_poll_start(loom_poll_t* poll, int events, loom_poll_cb cb);
int loom_poll_stop(loom_poll_t* poll);

/* ---- process ------------------------------------------------------- */

enum {
  LOOM_IGNORE = 0x00,
  LOOM_CREATE_PIPE = 0x01,
  LOOM_INHERIT_FD = 0x02,
  LOOM_INHERIT_STREAM = 0x04
};

typedef struct {
  int flags;            /* LOOM_IGNORE, LOOM_CREATE_PIPE, LOOM_INHERIT_* */
  int fd;               /* LOOM_INHERIT_FD */
  loom_stream_t* stream; /* LOOM_CREATE_PIPE (an unopened pipe) or
                            LOOM_INHERIT_STREAM */
} loom_stdio_container_t;

enum {
  LOOM_PROCESS_SETUID = 1,
  LOOM_PROCESS_SETGID = 2,
  LOOM_PROCESS_DETACHED = 8,
  LOOM_PROCESS_WINDOWS_VERBATIM_ARGUMENTS = 4,
  LOOM_PROCESS_WINDOWS_HIDE = 16
};

typedef struct {
  loom_exit_cb exit_cb;
  const char* file;
  char** args;  /* NULL-terminated; args[0] is the program name */
  char** env;   /* NULL: the parent's environment */
  const char* cwd;
  unsigned int flags;
  int stdio_count;
  loom_stdio_container_t* stdio;
  unsigned int uid;
  unsigned int gid;
} loom_process_options_t;

/* On failure (ENOENT, EACCES, ...) the handle is still initialised and
 * must be closed; no child is left behind. */
int loom_spawn(loom_loop_t* loop, loom_process_t* process,
               const loom_process_options_t* options);
int loom_process_kill(loom_process_t* process, int signum);
int loom_kill(int pid, int signum);
void loom_disable_stdio_inheritance(void);

/* ---- addresses ----------------------------------------------------- */

int loom_ip4_addr(const char* ip, int port, struct sockaddr_in* addr);
int loom_ip6_addr(const char* ip, int port, struct sockaddr_in6* addr);
/* Either family, chosen by the text. */
int loom_ip_addr(const char* ip, int port, struct sockaddr_storage* addr);
int loom_ip_name(const struct sockaddr* addr, char* dst, size_t size);

#endif /* LOOM_NET_H */
