/* SPDX-License-Identifier: MIT */
/* udp.c: datagram sockets: bind, connect, the send queue, receiving with
 * recvmsg or (with mmsgs > 1) recvmmsg, sendmmsg batches, multicast and
 * socket options. */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Receive calls per readiness event (fairness, as for streams). */
#define RECVS_PER_EVENT 32
/* The largest datagram: each recvmmsg slot gets this much buffer. */
#define DGRAM_MAX 65536
#define MMSGS_MAX 256



static int udp_fd(const loom_udp_t* u) {
  return u->io.fd;
}


int loom_udp_init_ex(loom_loop_t* loop, loom_udp_t* u, int family,
                     unsigned int mmsgs) {
  int fd = -1;

  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
    return LOOM_EINVAL;
  if (mmsgs > MMSGS_MAX)
    mmsgs = MMSGS_MAX;
  if (family != AF_UNSPEC) {
    fd = loom__socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
      return fd;
  }
  loom__handle_init(loop, (loom_handle_t*) u, LOOM_UDP);
  u->recv_cb = NULL;
  loom__io_init(&u->io, LOOM__IO_UDP, fd);
  loom__queue_init(&u->send_queue);
  loom__queue_init(&u->send_completed);
  u->send_queue_size = 0;
  u->send_queue_count = 0;
  u->mmsgs = mmsgs > 1 ? mmsgs : 1;
  u->recv_size = DGRAM_MAX;
  u->held = NULL;
  return 0;
}


int loom_udp_set_recv_size(loom_udp_t* u, unsigned int size) {
  if (size == 0 || size > DGRAM_MAX)
    return LOOM_EINVAL;
  u->recv_size = size;
  return 0;
}


int loom_udp_open(loom_udp_t* u, int fd) {
  int err;

  /* A closing or closed handle is never started again (its owner may
   * still hold it and call anything: the binding lets it through). */
  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (udp_fd(u) >= 0)
    return LOOM_EBUSY;
  err = loom__check_socket_fd(u->loop, fd, SOCK_DGRAM);
  if (err != 0)
    return err;
  err = loom__nonblock(fd, 1);
  if (err != 0)
    return err;
  u->io.fd = fd;
  return 0;
}


static int ensure_socket(loom_udp_t* u, int family) {
  int fd;

  if (udp_fd(u) >= 0)
    return 0;
  fd = loom__socket(family, SOCK_DGRAM, 0);
  if (fd < 0)
    return fd;
  u->io.fd = fd;
  return 0;
}


static int setopt(loom_udp_t* u, int level, int name, int value) {
  if (udp_fd(u) < 0)
    return LOOM_EBADF;
  if (setsockopt(udp_fd(u), level, name, &value, sizeof(value)) != 0)
    return LOOM__ERR(errno);
  return 0;
}


int loom_udp_bind(loom_udp_t* u, const struct sockaddr* addr,
                  unsigned int flags) {
  int err;

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  if ((flags & LOOM_UDP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  if (u->flags & LOOM__UDP_BOUND)
    return LOOM_EINVAL;
  err = ensure_socket(u, addr->sa_family);
  if (err != 0)
    return err;
  if ((flags & LOOM_UDP_REUSEADDR) &&
      (err = setopt(u, SOL_SOCKET, SO_REUSEADDR, 1)) != 0)
    return err;
  if ((flags & LOOM_UDP_REUSEPORT) &&
      (err = setopt(u, SOL_SOCKET, SO_REUSEPORT, 1)) != 0)
    return err;
  if (addr->sa_family == AF_INET6 &&
      (err = setopt(u, IPPROTO_IPV6, IPV6_V6ONLY,
                    (flags & LOOM_UDP_IPV6ONLY) != 0)) != 0)
    return err;
  if (bind(udp_fd(u), addr, (socklen_t) loom__sockaddr_len(addr)) != 0)
    return LOOM__ERR(errno);
  u->flags |= LOOM__UDP_BOUND;
  return 0;
}


/* Sending or receiving on a socket that was never bound binds it to the
 * wildcard address of the family, as the kernel would on send. */
static int ensure_bound(loom_udp_t* u, int family) {
  struct sockaddr_storage any;

  if (udp_fd(u) >= 0)
    return 0;
  memset(&any, 0, sizeof(any));
  any.ss_family = (sa_family_t) family;
  return loom_udp_bind(u, (struct sockaddr*) &any, 0);
}


int loom_udp_connect(loom_udp_t* u, const struct sockaddr* addr) {
  struct sockaddr unspec;
  int err;

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (addr == NULL) {
    if (!(u->flags & LOOM__UDP_CONNECTED))
      return LOOM_ENOTCONN;
    memset(&unspec, 0, sizeof(unspec));
    unspec.sa_family = AF_UNSPEC;
    if (connect(udp_fd(u), &unspec, sizeof(unspec)) != 0 &&
        errno != EAFNOSUPPORT)
      return LOOM__ERR(errno);
    u->flags &= ~LOOM__UDP_CONNECTED;
    return 0;
  }
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  if (u->flags & LOOM__UDP_CONNECTED)
    return LOOM_EISCONN;
  err = ensure_bound(u, addr->sa_family);
  if (err != 0)
    return err;
  if (connect(udp_fd(u), addr, (socklen_t) loom__sockaddr_len(addr)) != 0)
    return LOOM__ERR(errno);
  u->flags |= LOOM__UDP_CONNECTED;
  return 0;
}


static int name_of(const loom_udp_t* u, struct sockaddr* name, int* namelen,
                   int peer) {
  socklen_t len = (socklen_t) *namelen;
  int rc;

  if (udp_fd(u) < 0)
    return peer ? LOOM_ENOTCONN : LOOM_EBADF;
  rc = peer ? getpeername(udp_fd(u), name, &len)
            : getsockname(udp_fd(u), name, &len);
  if (rc != 0)
    return LOOM__ERR(errno);
  *namelen = (int) len;
  return 0;
}


int loom_udp_getsockname(const loom_udp_t* u, struct sockaddr* name,
                         int* namelen) {
  return name_of(u, name, namelen, 0);
}


int loom_udp_getpeername(const loom_udp_t* u, struct sockaddr* name,
                         int* namelen) {
  return name_of(u, name, namelen, 1);
}


/* ---- sending ---------------------------------------------------------- */

/* A destination is required exactly when the socket is not connected. */
static int check_dest(loom_udp_t* u, const struct sockaddr* addr) {
  if (addr != NULL && (u->flags & LOOM__UDP_CONNECTED))
    return LOOM_EISCONN;
  if (addr == NULL && !(u->flags & LOOM__UDP_CONNECTED))
    return LOOM_EDESTADDRREQ;
  if (addr != NULL && addr->sa_family != AF_INET &&
      addr->sa_family != AF_INET6)
    return LOOM_EINVAL;
  return addr != NULL ? ensure_bound(u, addr->sa_family) : 0;
}


static ssize_t send_one(loom_udp_t* u, const loom_buf_t* bufs,
                        unsigned int nbufs, const struct sockaddr* addr) {
  struct msghdr msg;
  ssize_t n;

  memset(&msg, 0, sizeof(msg));
  if (addr != NULL && addr->sa_family != AF_UNSPEC) {
    msg.msg_name = (void*) addr;
    msg.msg_namelen = (socklen_t) loom__sockaddr_len(addr);
  }
  msg.msg_iov = (struct iovec*) bufs;
  msg.msg_iovlen = nbufs;
  do
    n = sendmsg(udp_fd(u), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? LOOM_EAGAIN : LOOM__ERR(errno);
  return n;
}


static size_t total_len(const loom_buf_t* bufs, unsigned int nbufs) {
  size_t total = 0;
  unsigned int i;
  for (i = 0; i < nbufs; i++)
    total += bufs[i].len;
  return total;
}


static void finish_send(loom_udp_t* u, loom_udp_send_t* req, int error) {
  req->error = error;
  u->send_queue_size -= total_len(req->bufs, req->nbufs);
  u->send_queue_count--;
  loom__queue_remove(&req->queue);
  loom__queue_insert_tail(&u->send_completed, &req->queue);
}


/* Datagrams per sendmmsg when the queue is drained. */
#define SEND_BATCH 64

/* Sends queued datagrams, up to SEND_BATCH per sendmmsg, until the kernel
 * pushes back; returns 1 when the queue is empty. A datagram the kernel
 * refuses with an error other than EAGAIN completes with that error and
 * the rest go on. */
static int drain_send_queue(loom_udp_t* u) {
  struct mmsghdr msgs[SEND_BATCH];
  loom_udp_send_t* batch[SEND_BATCH];
  loom_queue_t* q;
  loom_udp_send_t* req;
  unsigned int count;
  unsigned int i;
  int n;

  while (!loom__queue_empty(&u->send_queue)) {
    count = 0;
    for (q = loom__queue_head(&u->send_queue);
         q != &u->send_queue && count < SEND_BATCH; q = q->next) {
      req = loom__queue_data(q, loom_udp_send_t, queue);
      memset(&msgs[count], 0, sizeof(msgs[count]));
      if (req->addr.ss_family != AF_UNSPEC) {
        msgs[count].msg_hdr.msg_name = &req->addr;
        msgs[count].msg_hdr.msg_namelen =
            (socklen_t) loom__sockaddr_len((struct sockaddr*) &req->addr);
      }
      msgs[count].msg_hdr.msg_iov = (struct iovec*) req->bufs;
      msgs[count].msg_hdr.msg_iovlen = req->nbufs;
      batch[count++] = req;
    }
    if (count == 1) {
      /* One datagram: plain sendmsg is the cheaper call. */
      ssize_t r = send_one(u, batch[0]->bufs, batch[0]->nbufs,
                           (struct sockaddr*) &batch[0]->addr);
      if (r == LOOM_EAGAIN)
        return 0;
      finish_send(u, batch[0], r < 0 ? (int) r : 0);
      continue;
    }
    do
      n = sendmmsg(udp_fd(u), msgs, count, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
      /* The first datagram failed: it alone carries the error. */
      finish_send(u, batch[0], LOOM__ERR(errno));
      continue;
    }
    for (i = 0; i < (unsigned int) n; i++)
      finish_send(u, batch[i], 0);
  }
  return 1;
}


/* Calls back the sends completed so far; those a callback completes wait
 * for the next pass. The batch stays on the handle's list while it is
 * called back, so a state closed from one of its callbacks (os.exit)
 * still finds the rest there at teardown. */
static void run_send_callbacks(loom_udp_t* u) {
  loom_udp_send_t* req;
  size_t batch = loom__queue_count(&u->send_completed);

  while (batch-- > 0) {
    req = loom__queue_data(loom__queue_head(&u->send_completed),
                           loom_udp_send_t, queue);
    loom__queue_remove(&req->queue);
    u->loop->active_reqs--;
    if (req->cb != NULL)
      req->cb(req, req->error);
  }
}


int loom_udp_send(loom_udp_send_t* req, loom_udp_t* u, loom_buf_t* bufs,
                  unsigned int nbufs, const struct sockaddr* addr,
                  loom_udp_send_cb cb) {
  int err = check_dest(u, addr);
  int was_empty;

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (err != 0)
    return err;
  req->type = LOOM_UDP_SEND;
  req->cb = cb;
  req->handle = u;
  req->bufs = bufs;
  req->nbufs = nbufs;
  req->error = 0;
  memset(&req->addr, 0, sizeof(req->addr));
  if (addr != NULL)
    memcpy(&req->addr, addr, (size_t) loom__sockaddr_len(addr));
  u->send_queue_size += total_len(bufs, nbufs);
  u->send_queue_count++;
  u->loop->active_reqs++;
  was_empty = loom__queue_empty(&u->send_queue);
  loom__queue_insert_tail(&u->send_queue, &req->queue);
  if (!was_empty || (u->flags & LOOM__UDP_CORKED))
    return 0;
  if (!drain_send_queue(u))
    loom__io_start(u->loop, &u->io, POLLOUT);
  /* Callbacks always come later, from the pending phase. */
  if (!loom__queue_empty(&u->send_completed))
    loom__io_feed(u->loop, &u->io);
  return 0;
}


/* A datagram loom_udp_send_copy had to queue: the request, its buffer
 * and the bytes in one allocation, released when the send completes.
 * Small ones (the common case: a server's replies queued during a receive
 * batch) come from a per-loop free list, so the reply path does not call
 * malloc once warm. */
#define COPY_SMALL 512 /* payload bytes of a recyclable block */
#define COPY_CACHE 256 /* recyclable blocks a loop keeps */

typedef struct copied_send_s {
  loom_udp_send_t req;
  loom_buf_t buf;
  struct copied_send_s* next_free;
  size_t cap;
  char data[];
} copied_send_t;


static copied_send_t* get_copy(loom_loop_t* loop, size_t len) {
  copied_send_t* c = loop->udp_copy_free;

  if (len <= COPY_SMALL && c != NULL) {
    loop->udp_copy_free = c->next_free;
    loop->udp_copy_nfree--;
    return c;
  }
  if (len < COPY_SMALL)
    len = COPY_SMALL;
  c = malloc(sizeof(*c) + len);
  if (c != NULL)
    c->cap = len;
  return c;
}


static void put_copy(loom_loop_t* loop, copied_send_t* c) {
  if (c->cap == COPY_SMALL && loop->udp_copy_nfree < COPY_CACHE) {
    c->next_free = loop->udp_copy_free;
    loop->udp_copy_free = c;
    loop->udp_copy_nfree++;
    return;
  }
  free(c);
}


static void free_copied_send(loom_udp_send_t* req, int status) {
  (void) status;
  put_copy(req->handle->loop, loom__queue_data(req, copied_send_t, req));
}


void loom__udp_loop_free(loom_loop_t* loop) {
  copied_send_t* c;

  while ((c = loop->udp_copy_free) != NULL) {
    loop->udp_copy_free = c->next_free;
    free(c);
  }
  loop->udp_copy_nfree = 0;
}


int loom_udp_send_copy(loom_udp_t* u, const loom_buf_t* bufs,
                       unsigned int nbufs, const struct sockaddr* addr) {
  copied_send_t* c;
  size_t len;
  size_t off;
  unsigned int i;
  ssize_t n;
  int err = check_dest(u, addr);

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (err != 0)
    return err;
  if (loom__queue_empty(&u->send_queue) && !(u->flags & LOOM__UDP_CORKED)) {
    n = send_one(u, bufs, nbufs, addr);
    if (n != LOOM_EAGAIN)
      return n < 0 ? (int) n : 0;
  }
  len = total_len(bufs, nbufs);
  c = get_copy(u->loop, len);
  if (c == NULL)
    return LOOM_ENOMEM;
  for (off = 0, i = 0; i < nbufs; i++) {
    if (bufs[i].len > 0)
      memcpy(c->data + off, bufs[i].base, bufs[i].len);
    off += bufs[i].len;
  }
  c->buf.base = c->data;
  c->buf.len = len;
  err = loom_udp_send(&c->req, u, &c->buf, 1, addr, free_copied_send);
  if (err != 0)
    put_copy(u->loop, c);
  return err;
}


/* Teardown runs no callbacks: the copies the core owns are freed here. */
static void free_held(loom_udp_t* u);

void loom__udp_detach(loom_udp_t* u) {
  loom_queue_t* q;
  loom_queue_t* next;
  loom_udp_send_t* req;

  free_held(u);
  for (q = loom__queue_head(&u->send_completed); q != &u->send_completed;
       q = next) {
    next = q->next;
    req = loom__queue_data(q, loom_udp_send_t, queue);
    if (req->cb == free_copied_send) {
      loom__queue_remove(q);
      u->loop->active_reqs--;
      free_copied_send(req, LOOM_ECANCELED);
    }
  }
}


int loom_udp_try_send(loom_udp_t* u, const loom_buf_t* bufs,
                      unsigned int nbufs, const struct sockaddr* addr) {
  int err = check_dest(u, addr);
  ssize_t n;

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (err != 0)
    return err;
  if (!loom__queue_empty(&u->send_queue))
    return LOOM_EAGAIN;
  n = send_one(u, bufs, nbufs, addr);
  return n > INT32_MAX ? INT32_MAX : (int) n;
}


int loom_udp_try_send2(loom_udp_t* u, unsigned int count, loom_buf_t* bufs[],
                       unsigned int nbufs[], struct sockaddr* addrs[]) {
  struct mmsghdr msgs[64];
  unsigned int sent = 0;
  unsigned int batch;
  unsigned int i;
  int err;
  int n;

  if (loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;

  if (count == 0)
    return 0;
  for (i = 0; i < count; i++)
    if ((err = check_dest(u, addrs != NULL ? addrs[i] : NULL)) != 0)
      return err;
  if (!loom__queue_empty(&u->send_queue))
    return LOOM_EAGAIN;
  while (sent < count) {
    batch = count - sent;
    if (batch > sizeof(msgs) / sizeof(msgs[0]))
      batch = sizeof(msgs) / sizeof(msgs[0]);
    memset(msgs, 0, batch * sizeof(msgs[0]));
    for (i = 0; i < batch; i++) {
      struct sockaddr* a = addrs != NULL ? addrs[sent + i] : NULL;
      if (a != NULL) {
        msgs[i].msg_hdr.msg_name = a;
        msgs[i].msg_hdr.msg_namelen = (socklen_t) loom__sockaddr_len(a);
      }
      msgs[i].msg_hdr.msg_iov = (struct iovec*) bufs[sent + i];
      msgs[i].msg_hdr.msg_iovlen = nbufs[sent + i];
    }
    do
      n = sendmmsg(udp_fd(u), msgs, batch, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (sent > 0)
        break;
      return errno == EWOULDBLOCK ? LOOM_EAGAIN : LOOM__ERR(errno);
    }
    sent += (unsigned int) n;
    if ((unsigned int) n < batch)
      break;
  }
  return (int) sent;
}


/* ---- receiving -------------------------------------------------------- */

int loom_udp_recv_start(loom_udp_t* u, loom_udp_recv_cb cb) {
  int err;

  if (cb == NULL || loom__is_closing((loom_handle_t*) u))
    return LOOM_EINVAL;
  if (u->flags & LOOM__UDP_RECEIVING)
    return LOOM_EALREADY;
  err = ensure_bound(u, AF_INET);
  if (err != 0)
    return err;
  err = loom__io_start(u->loop, &u->io, POLLIN);
  if (err != 0)
    return err;
  u->recv_cb = cb;
  u->flags |= LOOM__UDP_RECEIVING;
  loom__handle_start((loom_handle_t*) u);
  /* Datagrams a stop left undelivered come first, on the next pass. */
  if (u->held != NULL)
    loom__io_feed(u->loop, &u->io);
  return 0;
}


int loom_udp_recv_stop(loom_udp_t* u) {
  if (!(u->flags & LOOM__UDP_RECEIVING))
    return 0;
  u->flags &= ~LOOM__UDP_RECEIVING;
  loom__io_stop(u->loop, &u->io, POLLIN);
  loom__handle_stop((loom_handle_t*) u);
  return 0;
}


static int receiving(const loom_udp_t* u) {
  return (u->flags & LOOM__UDP_RECEIVING) &&
         !loom__is_closing((const loom_handle_t*) u);
}


/* Datagrams of a batch that recv_stop, called from the receive callback,
 * left undelivered: copied out of the loop's buffer and given to the
 * callback first when receiving starts again, so a stop loses nothing. */
typedef struct {
  size_t len;
  unsigned int flags;
  struct sockaddr_storage addr;
  char* data;
} held_dgram_t;

typedef struct {
  unsigned int count;
  unsigned int next;
  held_dgram_t d[];
} held_batch_t;


static void free_held(loom_udp_t* u) {
  held_batch_t* h = u->held;
  if (h == NULL)
    return;
  for (unsigned int i = 0; i < h->count; i++)
    free(h->d[i].data);
  free(h);
  u->held = NULL;
}


/* Keeps datagrams first..n-1 of a batch. Out of memory, they are lost
 * as they were before this existed. */
static void hold_rest(loom_udp_t* u, struct mmsghdr* msgs, struct iovec* iovs,
                      struct sockaddr_storage* addrs, int first, int n) {
  held_batch_t* h = malloc(sizeof(*h) + (size_t) (n - first) * sizeof(held_dgram_t));
  int i;
  if (h == NULL)
    return;
  h->count = 0;
  h->next = 0;
  for (i = first; i < n; i++) {
    held_dgram_t* d = &h->d[h->count];
    d->len = msgs[i].msg_len;
    d->flags = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? LOOM_UDP_PARTIAL : 0;
    d->addr = addrs[i];
    d->data = malloc(d->len > 0 ? d->len : 1);
    if (d->data == NULL)
      break;
    memcpy(d->data, iovs[i].iov_base, d->len);
    h->count++;
  }
  u->held = h;
}


/* Gives the held datagrams to the callback while it keeps receiving. */
static void deliver_held(loom_udp_t* u) {
  held_batch_t* h;
  while ((h = u->held) != NULL && h->next < h->count && receiving(u)) {
    held_dgram_t* d = &h->d[h->next++];
    loom_buf_t buf;
    buf.base = d->data;
    buf.len = d->len;
    u->recv_cb(u, (ssize_t) d->len, &buf, (const struct sockaddr*) &d->addr, d->flags);
  }
  h = u->held;
  if (h != NULL && h->next >= h->count)
    free_held(u);
}


/* One recvmmsg: up to u->mmsgs datagrams, each in its own slot of
 * the loop's buffer. Returns datagrams delivered, 0 when none waited. */
static int recv_batch(loom_udp_t* u) {
  struct mmsghdr msgs[MMSGS_MAX];
  struct sockaddr_storage addrs[MMSGS_MAX];
  struct iovec iovs[MMSGS_MAX];
  unsigned int want = u->mmsgs;
  loom_buf_t buf;
  char* base;
  int n;
  int i;

  base = loom__read_buf(u->loop, (size_t) want * u->recv_size);
  if (base == NULL) {
    u->recv_cb(u, LOOM_ENOBUFS, NULL, NULL, 0);
    return 0;
  }
  for (i = 0; i < (int) want; i++) {
    iovs[i].iov_base = base + (size_t) i * u->recv_size;
    iovs[i].iov_len = u->recv_size;
    memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
  }
  do
    n = recvmmsg(udp_fd(u), msgs, want, 0, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    u->recv_cb(u, LOOM__ERR(errno), NULL, NULL, 0);
    return 0;
  }
  for (i = 0; i < n && receiving(u); i++) {
    buf.base = iovs[i].iov_base;
    buf.len = msgs[i].msg_len;
    u->recv_cb(u, (ssize_t) msgs[i].msg_len, &buf,
               (const struct sockaddr*) &addrs[i],
               (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? LOOM_UDP_PARTIAL
                                                      : 0);
  }
  if (i < n && !loom__is_closing((loom_handle_t*) u) && u->held == NULL) {
    hold_rest(u, msgs, iovs, addrs, i, n);
    return 0;
  }
  return n == (int) want ? n : 0; /* a short batch drained the socket */
}


static int recv_one(loom_udp_t* u) {
  struct sockaddr_storage addr;
  struct msghdr msg;
  struct iovec iov;
  loom_buf_t buf;
  ssize_t n;

  iov.iov_base = loom__read_buf(u->loop, DGRAM_MAX);
  if (iov.iov_base == NULL) {
    u->recv_cb(u, LOOM_ENOBUFS, NULL, NULL, 0);
    return 0;
  }
  iov.iov_len = u->recv_size;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof(addr);
  do
    n = recvmsg(udp_fd(u), &msg, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    u->recv_cb(u, LOOM__ERR(errno), NULL, NULL, 0);
    return 0;
  }
  buf.base = iov.iov_base;
  buf.len = (size_t) n;
  u->recv_cb(u, n, &buf, (const struct sockaddr*) &addr,
             (msg.msg_flags & MSG_TRUNC) ? LOOM_UDP_PARTIAL : 0);
  return 1;
}


void loom__udp_io(loom_loop_t* loop, loom__io_t* w, unsigned int events) {
  loom_udp_t* u = loom__queue_data(w, loom_udp_t, io);
  int count;
  (void) loop;

  if (u->held != NULL) {
    deliver_held(u);
    if (loom__is_closing((loom_handle_t*) u))
      return;
    if (u->held != NULL)
      events &= ~(unsigned int) POLLIN; /* stopped again: read nothing new */
  }

  if (events & (POLLIN | POLLERR)) {
    /* Replies sent from the receive callbacks (the echo and game-server
     * pattern) are queued while the batch is dispatched and leave together
     * through sendmmsg: one system call instead of one per datagram. Their
     * callbacks still come from the pending phase, as always. */
    u->flags |= LOOM__UDP_CORKED;
    for (count = 0; count < RECVS_PER_EVENT && receiving(u); count++)
      if ((u->mmsgs > 1 ? recv_batch(u) : recv_one(u)) == 0)
        break;
    u->flags &= ~LOOM__UDP_CORKED;
    if (loom__is_closing((loom_handle_t*) u))
      return;
    if (!loom__queue_empty(&u->send_queue) &&
        !(loom__io_wanted(&u->io) & POLLOUT)) {
      if (!drain_send_queue(u))
        loom__io_start(u->loop, &u->io, POLLOUT);
    }
    if (!loom__queue_empty(&u->send_completed))
      loom__io_feed(u->loop, &u->io);
  }
  if (loom__is_closing((loom_handle_t*) u))
    return;
  if (events & (POLLOUT | POLLERR | LOOM__IO_PENDING)) {
    if (drain_send_queue(u))
      loom__io_stop(u->loop, &u->io, POLLOUT);
    run_send_callbacks(u);
  }
}


/* ---- options ---------------------------------------------------------- */

static int family_of(loom_udp_t* u) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);

  if (getsockname(udp_fd(u), (struct sockaddr*) &ss, &len) != 0)
    return AF_INET;
  return ss.ss_family;
}


int loom_udp_set_membership(loom_udp_t* u, const char* multicast_addr,
                            const char* interface_addr,
                            loom_membership membership) {
  return loom_udp_set_source_membership(u, multicast_addr, interface_addr,
                                        NULL, membership);
}


int loom_udp_set_source_membership(loom_udp_t* u, const char* multicast_addr,
                                   const char* interface_addr,
                                   const char* source_addr,
                                   loom_membership membership) {
  struct sockaddr_storage group;
  struct sockaddr_storage source;
  int join = membership == LOOM_JOIN_GROUP;
  int err;

  if (membership != LOOM_JOIN_GROUP && membership != LOOM_LEAVE_GROUP)
    return LOOM_EINVAL;
  if (loom_ip_addr(multicast_addr, 0, &group) != 0)
    return LOOM_EINVAL;
  err = ensure_bound(u, group.ss_family);
  if (err != 0)
    return err;

  if (source_addr != NULL) {
    struct group_source_req gsr;
    if (loom_ip_addr(source_addr, 0, &source) != 0 ||
        source.ss_family != group.ss_family)
      return LOOM_EINVAL;
    memset(&gsr, 0, sizeof(gsr));
    gsr.gsr_interface = interface_addr != NULL && group.ss_family ==
                            AF_INET6 ? if_nametoindex(interface_addr) : 0;
    memcpy(&gsr.gsr_group, &group, sizeof(group));
    memcpy(&gsr.gsr_source, &source, sizeof(source));
    if (setsockopt(udp_fd(u), group.ss_family == AF_INET ? IPPROTO_IP
                                                         : IPPROTO_IPV6,
                   join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP,
                   &gsr, sizeof(gsr)) != 0)
      return LOOM__ERR(errno);
    return 0;
  }

  if (group.ss_family == AF_INET) {
    struct ip_mreq mreq;
    memset(&mreq, 0, sizeof(mreq));
    mreq.imr_multiaddr = ((struct sockaddr_in*) &group)->sin_addr;
    if (interface_addr != NULL &&
        inet_pton(AF_INET, interface_addr, &mreq.imr_interface) != 1)
      return LOOM_EINVAL;
    if (setsockopt(udp_fd(u), IPPROTO_IP,
                   join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq,
                   sizeof(mreq)) != 0)
      return LOOM__ERR(errno);
  } else {
    struct ipv6_mreq mreq;
    memset(&mreq, 0, sizeof(mreq));
    mreq.ipv6mr_multiaddr = ((struct sockaddr_in6*) &group)->sin6_addr;
    if (interface_addr != NULL)
      mreq.ipv6mr_interface = if_nametoindex(interface_addr);
    if (setsockopt(udp_fd(u), IPPROTO_IPV6,
                   join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &mreq,
                   sizeof(mreq)) != 0)
      return LOOM__ERR(errno);
  }
  return 0;
}


/* IPv4 and IPv6 name the same option differently. */
static int set_ip_option(loom_udp_t* u, int opt4, int opt6, int value) {
  int err = ensure_bound(u, AF_INET);

  if (err != 0)
    return err;
  if (family_of(u) == AF_INET6)
    return setopt(u, IPPROTO_IPV6, opt6, value);
  if (opt4 == IP_MULTICAST_LOOP || opt4 == IP_MULTICAST_TTL) {
    unsigned char v = (unsigned char) value;
    if (setsockopt(udp_fd(u), IPPROTO_IP, opt4, &v, sizeof(v)) != 0)
      return LOOM__ERR(errno);
    return 0;
  }
  return setopt(u, IPPROTO_IP, opt4, value);
}


int loom_udp_set_multicast_loop(loom_udp_t* u, int on) {
  return set_ip_option(u, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, on != 0);
}


int loom_udp_set_multicast_ttl(loom_udp_t* u, int ttl) {
  if (ttl < 0 || ttl > 255)
    return LOOM_EINVAL;
  return set_ip_option(u, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, ttl);
}


int loom_udp_set_ttl(loom_udp_t* u, int ttl) {
  if (ttl < 1 || ttl > 255)
    return LOOM_EINVAL;
  return set_ip_option(u, IP_TTL, IPV6_UNICAST_HOPS, ttl);
}


int loom_udp_set_broadcast(loom_udp_t* u, int on) {
  int err = ensure_bound(u, AF_INET);
  if (err != 0)
    return err;
  return setopt(u, SOL_SOCKET, SO_BROADCAST, on != 0);
}


int loom_udp_set_multicast_interface(loom_udp_t* u,
                                     const char* interface_addr) {
  struct sockaddr_storage addr;
  int err = ensure_bound(u, AF_INET);

  if (err != 0)
    return err;
  if (family_of(u) == AF_INET) {
    struct in_addr ifa;
    ifa.s_addr = htonl(INADDR_ANY);
    if (interface_addr != NULL) {
      if (loom_ip_addr(interface_addr, 0, &addr) != 0 ||
          addr.ss_family != AF_INET)
        return LOOM_EINVAL;
      ifa = ((struct sockaddr_in*) &addr)->sin_addr;
    }
    if (setsockopt(udp_fd(u), IPPROTO_IP, IP_MULTICAST_IF, &ifa,
                   sizeof(ifa)) != 0)
      return LOOM__ERR(errno);
    return 0;
  }
  {
    unsigned int index = 0;
    if (interface_addr != NULL) {
      if (loom_ip_addr(interface_addr, 0, &addr) != 0 ||
          addr.ss_family != AF_INET6)
        return LOOM_EINVAL;
      index = ((struct sockaddr_in6*) &addr)->sin6_scope_id;
    }
    if (setsockopt(udp_fd(u), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
                   sizeof(index)) != 0)
      return LOOM__ERR(errno);
  }
  return 0;
}


/* ---- closing ---------------------------------------------------------- */

void loom__udp_close(loom_udp_t* u) {
  loom_udp_send_t* req;

  /* Replies queued by the receive callback that now closes the handle were
   * never tried: give them the one attempt an uncorked send would have had. */
  if (u->flags & LOOM__UDP_CORKED) {
    u->flags &= ~LOOM__UDP_CORKED;
    if (udp_fd(u) >= 0)
      drain_send_queue(u);
  }
  loom_udp_recv_stop(u);
  free_held(u);
  loom__io_close(u->loop, &u->io);
  if (udp_fd(u) >= 0) {
    loom__close(udp_fd(u));
    u->io.fd = -1;
  }
  while (!loom__queue_empty(&u->send_queue)) {
    req = loom__queue_data(loom__queue_head(&u->send_queue), loom_udp_send_t,
                           queue);
    finish_send(u, req, LOOM_ECANCELED);
  }
}


void loom__udp_finish_close(loom_udp_t* u) {
  run_send_callbacks(u);
}
