/* Reference peer: the kernel floor on io_uring, the twin of floor_echo.c (the epoll floor). It
 * answers exactly as that one does (floor_echo_conn.h: the 101, then one ready-made frame of
 * zeros per client frame, a pong per ping, an empty close per close), so `duplex bench` and
 * bench/run count it the same way; only the way to the kernel differs:
 *   - one multishot accept on the listening socket, one multishot recv per connection taking
 *     buffers from a ring of provided buffers, given back as soon as a completion is walked;
 *   - each loop iteration walks every completion of a batch, then queues one sendmsg per
 *     connection that became owed output in it (corked, as Duplex's loop does) and submits them
 *     together with the wait for the next batch: one io_uring_enter per iteration, no
 *     readiness calls, no read or write calls per message;
 *   - a connection has at most one send in flight, so its frames leave in order; a short send
 *     queues the rest at the end of the iteration.
 * A multishot recv or accept that ends (no IORING_CQE_F_MORE: -ENOBUFS when the buffer ring ran
 * dry, or the kernel's choice) is re-armed at the end of the iteration, when every buffer of the
 * batch is back. A connection ends on EOF, an error or an answered close: its recv is cancelled,
 * and the socket is closed and the connection freed once nothing of it is in flight.
 * Unlike the epoll floor it keeps reading while output is owed (the owed list holds 24 bytes per
 * frame, no payload). The request head's 101 is written with one plain write, as there. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* before any system header, as floor_common.h wants it */
#endif
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>

#include "floor_echo_conn.h"

/* Room for 1,000 connections x 8 in flight: a batch holds at most one send per connection plus
 * re-arms; completions are at most a recv per buffer plus a send per connection. */
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
/* Provided receive buffers (a power of two), overridable. 16 KiB holds a 16 KiB message's frame
 * in two buffers; 4,096 of them outlast a batch of 1,000 connections' input. Measured against
 * 16 KiB: 4 KiB buffers cost 0.83 (16 KiB echo) and 0.87 (pipelined) of the msg per server
 * CPU-second, 32 KiB and 64 KiB no better. */
#ifndef BUF_COUNT
#define BUF_COUNT 4096
#define BUF_SIZE (16 * 1024)
#endif
#define BUF_GROUP 0

/* Ring setup (overridable for trying others). Measured on the project's 2-core VM (kernel 6.18,
 * msg per server CPU-second, 2 x 3 s interleaved): SINGLE_ISSUER | DEFER_TASKRUN and
 * COOP_TASKRUN (with or without TASKRUN_FLAG or SINGLE_ISSUER) came out within the noise of each
 * other (about 10 %), no flags 0.8 of them on echo 500 x 512 B and 100 x 20 B. DEFER_TASKRUN is
 * kept: completions are then run only inside io_uring_enter, in the loop's own context and
 * time, so nothing interrupts the walk of a batch. */
#ifndef FLOOR_URING_SETUP
#define FLOOR_URING_SETUP (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)
#endif

/* What a completion is for: a connection's address with the operation in its low bits (malloc
 * aligns to 16), or one of the fixed tags. */
enum op { OP_RECV = 0, OP_SEND = 1, OP_OTHER = 2 };
#define OP_MASK 3
#define TAG_ACCEPT ((uint64_t)4 << 2 | OP_OTHER)
#define TAG_SIGNAL ((uint64_t)8 << 2 | OP_OTHER)
#define TAG_CANCEL ((uint64_t)12 << 2 | OP_OTHER)

struct conn {
  struct floor_echo_conn e;
  int recv_armed;    /* a multishot recv is in flight */
  int sending;       /* a sendmsg is in flight */
  int dead;          /* closing: freed once nothing is in flight */
  int queued;        /* on the list of connections to visit at the end of the iteration */
  struct conn* next; /* in that list */
  struct iovec* iov; /* the in-flight send's pieces (FLOOR_MAX_IOV), made on first send */
  struct msghdr msg;
};

static struct io_uring ring;
static struct io_uring_buf_ring* bufs;
static char* buf_memory;
static int buf_returned;  /* buffers given back since the last advance */
static struct conn* todo; /* connections to visit at the end of the iteration */
static int listen_fd, accept_armed;

static struct io_uring_sqe* sqe_for(uint64_t tag) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (!sqe) { /* the submission queue is full: hand it over and take a fresh one */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  io_uring_sqe_set_data64(sqe, tag);
  return sqe;
}

static uint64_t tag_of(struct conn* c, enum op op) { return (uint64_t)(uintptr_t)c | op; }

static void arm_accept(void) {
  io_uring_prep_multishot_accept(sqe_for(TAG_ACCEPT), listen_fd, NULL, NULL,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
  accept_armed = 1;
}

static void arm_recv(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_for(tag_of(c, OP_RECV));
  io_uring_prep_recv_multishot(sqe, c->e.fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUF_GROUP;
  c->recv_armed = 1;
}

/* Visits `c` at the end of the iteration (to send, re-arm or free it). */
static void visit_later(struct conn* c) {
  if (c->queued) return;
  c->queued = 1;
  c->next = todo;
  todo = c;
}

/* Ends the connection: its multishot recv is cancelled; it is freed once nothing is in flight. */
static void conn_end(struct conn* c) {
  if (c->dead) return;
  c->dead = 1;
  if (c->recv_armed) {
    struct io_uring_sqe* sqe = sqe_for(TAG_CANCEL);
    io_uring_prep_cancel64(sqe, tag_of(c, OP_RECV), 0);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  }
  visit_later(c);
}

static void give_back(unsigned bid) {
  io_uring_buf_ring_add(bufs, buf_memory + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                        io_uring_buf_ring_mask(BUF_COUNT), buf_returned++);
}

static void on_recv(struct conn* c, const struct io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) c->recv_armed = 0;
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    if (cqe->res > 0 && !c->dead &&
        floor_echo_input(&c->e, buf_memory + (size_t)bid * BUF_SIZE, (size_t)cqe->res) != 0) {
      conn_end(c);
    }
    give_back(bid);
  }
  if (c->dead) {
    visit_later(c);
  } else if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS)) {
    conn_end(c); /* EOF or an error */
  } else if (c->e.out_count > 0 || !c->recv_armed) {
    visit_later(c); /* to send, or to re-arm once the buffers are back */
  }
}

static void on_send(struct conn* c, const struct io_uring_cqe* cqe) {
  c->sending = 0;
  if (cqe->res < 0) {
    conn_end(c);
  } else if (floor_echo_written(&c->e, (uint64_t)cqe->res) && c->e.phase == FLOOR_CLOSING) {
    conn_end(c); /* the close answer has left */
  } else {
    visit_later(c);
  }
}

/* Queues one sendmsg of as much owed output as fits in FLOOR_MAX_IOV pieces. */
static void send_owed(struct conn* c) {
  if (!c->iov && !(c->iov = malloc(FLOOR_MAX_IOV * sizeof *c->iov))) {
    conn_end(c);
    return;
  }
  c->msg.msg_iov = c->iov;
  c->msg.msg_iovlen = (size_t)floor_echo_gather(&c->e, c->iov);
  io_uring_prep_sendmsg(sqe_for(tag_of(c, OP_SEND)), c->e.fd, &c->msg, MSG_NOSIGNAL);
  c->sending = 1;
}

/* After a batch: buffers go back to the kernel, then every connection visited sends what it
 * owes, re-arms its recv, or (once nothing of it is in flight) is closed and freed. */
static void end_of_batch(void) {
  if (buf_returned) {
    io_uring_buf_ring_advance(bufs, buf_returned);
    buf_returned = 0;
  }
  if (!accept_armed) arm_accept();
  while (todo) {
    struct conn* c = todo;
    todo = c->next;
    c->queued = 0;
    if (c->dead) {
      if (c->recv_armed || c->sending) continue; /* its last completion visits it again */
      close(c->e.fd);
      floor_echo_free(&c->e);
      free(c->iov);
      free(c);
      continue;
    }
    if (!c->sending && c->e.out_count > 0) send_owed(c);
    if (!c->recv_armed && c->e.phase != FLOOR_CLOSING) arm_recv(c);
  }
}

static void on_accept(const struct io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) accept_armed = 0;
  if (cqe->res < 0) return;
  int fd = cqe->res;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn* c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->e.fd = fd;
  arm_recv(c);
}

/* The ring of provided buffers (liburing 2.3 has no io_uring_setup_buf_ring): the ring's
 * entries and the buffers are mapped, the ring is registered, and every buffer is given. */
static int setup_buffers(void) {
  size_t ring_size = BUF_COUNT * sizeof(struct io_uring_buf);
  void* mem = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  buf_memory = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE,
                    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED || buf_memory == MAP_FAILED) return -1;
  bufs = mem;
  io_uring_buf_ring_init(bufs);
  struct io_uring_buf_reg reg = {
      .ring_addr = (uint64_t)(uintptr_t)bufs, .ring_entries = BUF_COUNT, .bgid = BUF_GROUP};
  int rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc != 0) return rc;
  for (unsigned bid = 0; bid < BUF_COUNT; ++bid) give_back(bid);
  io_uring_buf_ring_advance(bufs, buf_returned);
  buf_returned = 0;
  return 0;
}

int main(int argc, char** argv) {
  const int port = peer_init(argc, argv, NULL, NULL);
  listen_fd = floor_listen(port, "floor_uring: listen");
  int sig_fd = floor_signal_fd();
  struct io_uring_params params = {.flags = FLOOR_URING_SETUP | IORING_SETUP_CQSIZE,
                                   .cq_entries = CQ_ENTRIES};
  int rc = io_uring_queue_init_params(SQ_ENTRIES, &ring, &params);
  if (rc == 0) rc = setup_buffers();
  if (rc != 0) {
    fprintf(stderr, "floor_uring: io_uring: %s\n", strerror(rc < 0 ? -rc : errno));
    return 1;
  }
  io_uring_register_ring_fd(&ring); /* spares the fd lookup per io_uring_enter where it works */
  arm_accept();
  io_uring_prep_poll_add(sqe_for(TAG_SIGNAL), sig_fd, POLLIN);
  peer_announce_ready(port);

  for (;;) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) break;
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      uint64_t tag = io_uring_cqe_get_data64(cqe);
      if (tag == TAG_SIGNAL) return 0;
      if (tag == TAG_ACCEPT) {
        on_accept(cqe);
        continue;
      }
      struct conn* c = (struct conn*)(uintptr_t)(tag & ~(uint64_t)OP_MASK);
      switch (tag & OP_MASK) {
        case OP_RECV:
          on_recv(c, cqe);
          break;
        case OP_SEND:
          on_send(c, cqe);
          break;
        default: /* a cancel that failed: its target had already ended */
          break;
      }
    }
    io_uring_cq_advance(&ring, seen);
    end_of_batch();
  }
  fprintf(stderr, "floor_uring: io_uring_submit_and_wait: %s\n", strerror(-rc));
  return 1;
}
