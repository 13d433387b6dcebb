/* Reference peer: the kernel floor. A raw epoll server that parses nothing of WebSocket beyond
 * frame headers: it answers the upgrade with a 101 (Sec-WebSocket-Accept computed, nothing else
 * checked), then for every complete client frame it reads it writes back a ready-made unmasked
 * frame of the same opcode and payload size (the payload is zeros, never unmasked or copied).
 * One read and at most one write per readiness, so what it measures is the syscalls alone.
 *
 * Frame boundaries are tracked (header length plus payload length), so pipelined frames are
 * answered one for one. A ping is answered by a pong of its size, a close by an empty close and
 * the end of the connection; pongs are dropped. Level-triggered epoll; a connection with output
 * pending stops reading until it has written it. The connection's frame walking and owed output
 * are floor_echo_conn.h's, shared with the io_uring twin (floor_uring.c). */
#include "floor_echo_conn.h"

#define READ_BUFFER (512 * 1024)

struct conn {
  struct floor_echo_conn e; /* first: the epoll pointer is the connection */
};

static char read_buffer[READ_BUFFER];

static void conn_close(struct conn* c) {
  close(c->e.fd); /* also leaves the epoll set */
  floor_echo_free(&c->e);
  free(c);
}

/* One writev of as much owed output as fits in FLOOR_MAX_IOV pieces. Returns 1 when all is
 * written, 0 when some is left, -1 on error. */
static int flush(struct conn* c) {
  struct iovec iov[FLOOR_MAX_IOV];
  ssize_t written = writev(c->e.fd, iov, floor_echo_gather(&c->e, iov));
  if (written < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  return floor_echo_written(&c->e, (uint64_t)written);
}

static void watch(struct conn* c, uint32_t events) { floor_watch(c->e.fd, c, events, 0); }

/* Writes what is owed; a connection with output left waits for EPOLLOUT and reads nothing. */
static void after_output(struct conn* c, int was_waiting) {
  int rc = c->e.out_count ? flush(c) : 1;
  if (rc < 0 || (rc == 1 && c->e.phase == FLOOR_CLOSING)) {
    conn_close(c);
  } else if (rc == 0 && !was_waiting) {
    watch(c, EPOLLOUT);
  } else if (rc == 1 && was_waiting) {
    watch(c, EPOLLIN);
  }
}

static void on_readable(struct conn* c) {
  ssize_t n = read(c->e.fd, read_buffer, sizeof read_buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || floor_echo_input(&c->e, read_buffer, (size_t)n) != 0) {
    conn_close(c);
    return;
  }
  after_output(c, 0);
}

static void accepted(int fd) {
  struct conn* c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->e.fd = fd;
  if (floor_watch(fd, c, EPOLLIN, 1) != 0) conn_close(c);
}

static void on_event(void* p, uint32_t events) {
  if (events & EPOLLOUT) {
    after_output(p, 1);
  } else {
    on_readable(p); /* also on EPOLLHUP/EPOLLERR: the read reports it */
  }
}

int main(int argc, char** argv) {
  return floor_main(argc, argv, "floor_echo: listen", accepted, on_event, NULL);
}
