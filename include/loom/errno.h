/* SPDX-License-Identifier: MIT */
/* loom/errno.h: the one table of error names, codes and messages.
 *
 * Every error the core can return is listed here once. The table generates
 * the LOOM_E* constants, loom_err_name(), loom_strerror() and the Lua
 * `errno` table, so the four can never disagree. Names and messages are
 * libuv's, because luv code compares them as strings. POSIX errors are the
 * negated errno value; the few errors that have no errno (end of file,
 * getaddrinfo failures, ...) use libuv's reserved negative ranges.
 */
#ifndef LOOM_ERRNO_H
#define LOOM_ERRNO_H

#include <errno.h>

#define LOOM__EOF (-4095)
#define LOOM__UNKNOWN (-4094)
#define LOOM__ECHARSET (-4080)
#define LOOM__EFTYPE (-4028)
#define LOOM__EAI_ADDRFAMILY (-3000)
#define LOOM__EAI_AGAIN (-3001)
#define LOOM__EAI_BADFLAGS (-3002)
#define LOOM__EAI_CANCELED (-3003)
#define LOOM__EAI_FAIL (-3004)
#define LOOM__EAI_FAMILY (-3005)
#define LOOM__EAI_MEMORY (-3006)
#define LOOM__EAI_NODATA (-3007)
#define LOOM__EAI_NONAME (-3008)
#define LOOM__EAI_OVERFLOW (-3009)
#define LOOM__EAI_SERVICE (-3010)
#define LOOM__EAI_SOCKTYPE (-3011)
#define LOOM__EAI_BADHINTS (-3013)
#define LOOM__EAI_PROTOCOL (-3014)
#define LOOM__ENOTFOUND (-3100)
#define LOOM__ESERVFAIL (-3101)
#define LOOM__EREFUSED (-3102)
#define LOOM__EFORMERR (-3103)
#define LOOM__ENOTIMP (-3104)
#define LOOM__EBADRESP (-3105)
#define LOOM__EBADNAME (-3106)
#define LOOM__EBADQUERY (-3107)

/* X(name, code, message) */
#define LOOM_ERRNO_MAP(X)                                                     \
  X(E2BIG, -E2BIG, "argument list too long")                                  \
  X(EACCES, -EACCES, "permission denied")                                     \
  X(EADDRINUSE, -EADDRINUSE, "address already in use")                        \
  X(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")                   \
  X(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")              \
  X(EAGAIN, -EAGAIN, "resource temporarily unavailable")                      \
  X(EAI_ADDRFAMILY, LOOM__EAI_ADDRFAMILY, "address family not supported")     \
  X(EAI_AGAIN, LOOM__EAI_AGAIN, "temporary failure")                          \
  X(EAI_BADFLAGS, LOOM__EAI_BADFLAGS, "bad ai_flags value")                   \
  X(EAI_BADHINTS, LOOM__EAI_BADHINTS, "invalid value for hints")              \
  X(EAI_CANCELED, LOOM__EAI_CANCELED, "request canceled")                     \
  X(EAI_FAIL, LOOM__EAI_FAIL, "permanent failure")                            \
  X(EAI_FAMILY, LOOM__EAI_FAMILY, "ai_family not supported")                  \
  X(EAI_MEMORY, LOOM__EAI_MEMORY, "out of memory")                            \
  X(EAI_NODATA, LOOM__EAI_NODATA, "no address")                               \
  X(EAI_NONAME, LOOM__EAI_NONAME, "unknown node or service")                  \
  X(EAI_OVERFLOW, LOOM__EAI_OVERFLOW, "argument buffer overflow")             \
  X(EAI_PROTOCOL, LOOM__EAI_PROTOCOL, "resolved protocol is unknown")         \
  X(EAI_SERVICE, LOOM__EAI_SERVICE, "service not available for socket type")  \
  X(EAI_SOCKTYPE, LOOM__EAI_SOCKTYPE, "socket type not supported")            \
  X(EALREADY, -EALREADY, "connection already in progress")                    \
  X(EBADF, -EBADF, "bad file descriptor")                                     \
  X(EBUSY, -EBUSY, "resource busy or locked")                                 \
  X(ECANCELED, -ECANCELED, "operation canceled")                              \
  X(ECHARSET, LOOM__ECHARSET, "invalid Unicode character")                    \
  X(ECONNABORTED, -ECONNABORTED, "software caused connection abort")          \
  X(ECONNREFUSED, -ECONNREFUSED, "connection refused")                        \
  X(ECONNRESET, -ECONNRESET, "connection reset by peer")                      \
  X(EDESTADDRREQ, -EDESTADDRREQ, "destination address required")              \
  X(EEXIST, -EEXIST, "file already exists")                                   \
  X(EFAULT, -EFAULT, "bad address in system call argument")                   \
  X(EFBIG, -EFBIG, "file too large")                                          \
  X(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")                       \
  X(EINTR, -EINTR, "interrupted system call")                                 \
  X(EINVAL, -EINVAL, "invalid argument")                                      \
  X(EIO, -EIO, "i/o error")                                                   \
  X(EISCONN, -EISCONN, "socket is already connected")                         \
  X(EISDIR, -EISDIR, "illegal operation on a directory")                      \
  X(ELOOP, -ELOOP, "too many symbolic links encountered")                     \
  X(EMFILE, -EMFILE, "too many open files")                                   \
  X(EMSGSIZE, -EMSGSIZE, "message too long")                                  \
  X(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                             \
  X(ENETDOWN, -ENETDOWN, "network is down")                                   \
  X(ENETUNREACH, -ENETUNREACH, "network is unreachable")                      \
  X(ENFILE, -ENFILE, "file table overflow")                                   \
  X(ENOBUFS, -ENOBUFS, "no buffer space available")                           \
  X(ENODEV, -ENODEV, "no such device")                                        \
  X(ENOENT, -ENOENT, "no such file or directory")                             \
  X(ENOMEM, -ENOMEM, "not enough memory")                                     \
  X(ENONET, -ENONET, "machine is not on the network")                         \
  X(ENOPROTOOPT, -ENOPROTOOPT, "protocol not available")                      \
  X(ENOSPC, -ENOSPC, "no space left on device")                               \
  X(ENOSYS, -ENOSYS, "function not implemented")                              \
  X(ENOTCONN, -ENOTCONN, "socket is not connected")                           \
  X(ENOTDIR, -ENOTDIR, "not a directory")                                     \
  X(ENOTEMPTY, -ENOTEMPTY, "directory not empty")                             \
  X(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")                    \
  X(ENOTSUP, -ENOTSUP, "operation not supported on socket")                   \
  X(EOVERFLOW, -EOVERFLOW, "value too large for defined data type")           \
  X(EPERM, -EPERM, "operation not permitted")                                 \
  X(EPIPE, -EPIPE, "broken pipe")                                             \
  X(EPROTO, -EPROTO, "protocol error")                                        \
  X(EPROTONOSUPPORT, -EPROTONOSUPPORT, "protocol not supported")              \
  X(EPROTOTYPE, -EPROTOTYPE, "protocol wrong type for socket")                \
  X(ERANGE, -ERANGE, "result too large")                                      \
  X(EROFS, -EROFS, "read-only file system")                                   \
  X(ESHUTDOWN, -ESHUTDOWN, "cannot send after transport endpoint shutdown")   \
  X(ESPIPE, -ESPIPE, "invalid seek")                                          \
  X(ESRCH, -ESRCH, "no such process")                                         \
  X(ETIMEDOUT, -ETIMEDOUT, "connection timed out")                            \
  X(ETXTBSY, -ETXTBSY, "text file is busy")                                   \
  X(EXDEV, -EXDEV, "cross-device link not permitted")                         \
  X(UNKNOWN, LOOM__UNKNOWN, "unknown error")                                  \
  X(EOF, LOOM__EOF, "end of file")                                            \
  X(ENXIO, -ENXIO, "no such device or address")                               \
  X(EMLINK, -EMLINK, "too many links")                                        \
  X(EHOSTDOWN, -EHOSTDOWN, "host is down")                                    \
  X(EREMOTEIO, -EREMOTEIO, "remote I/O error")                                \
  X(ENOTTY, -ENOTTY, "inappropriate ioctl for device")                        \
  X(EFTYPE, LOOM__EFTYPE, "inappropriate file type or format")                \
  X(EILSEQ, -EILSEQ, "illegal byte sequence")                                 \
  X(ESOCKTNOSUPPORT, -ESOCKTNOSUPPORT, "socket type not supported")           \
  X(ENODATA, -ENODATA, "no data available")                                   \
  X(EUNATCH, -EUNATCH, "protocol driver not attached")                        \
  X(ENOEXEC, -ENOEXEC, "exec format error")                                   \
  X(ENOTFOUND, LOOM__ENOTFOUND, "domain name not found")                      \
  X(ESERVFAIL, LOOM__ESERVFAIL, "server failed to answer")                    \
  X(EREFUSED, LOOM__EREFUSED, "server refused the query")                     \
  X(EFORMERR, LOOM__EFORMERR, "server found the query malformed")             \
  X(ENOTIMP, LOOM__ENOTIMP, "server does not implement the query")            \
  X(EBADRESP, LOOM__EBADRESP, "malformed DNS reply")                          \
  X(EBADNAME, LOOM__EBADNAME, "malformed domain name")                        \
  X(EBADQUERY, LOOM__EBADQUERY, "malformed DNS query")

typedef enum {
#define LOOM__ERR_ENUM(name, code, msg) LOOM_##name = code,
  LOOM_ERRNO_MAP(LOOM__ERR_ENUM)
#undef LOOM__ERR_ENUM
  LOOM_ERRNO_MAX = LOOM__EOF - 1
} loom_errno_t;

#endif /* LOOM_ERRNO_H */
