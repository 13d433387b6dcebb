/* Reference peer: the kernel floor. A raw epoll server that parses nothing of WebSocket beyond
 * frame headers: it answers the upgrade with a 101 (Sec-WebSocket-Accept computed, nothing else
 * checked), then for every complete client frame it reads it writes back a ready-made unmasked
 * frame of the same opcode and payload size (the payload is zeros, never unmasked or copied).
 * One read and at most one write per readiness, so what it measures is the syscalls alone.
 *
 * Frame boundaries are tracked (header length plus payload length), so pipelined frames are
 * answered one for one. A ping is answered by a pong of its size, a close by an empty close and
 * the end of the connection; pongs are dropped. Level-triggered epoll; a connection with output
 * pending stops reading until it has written it. */
#include "floor_common.h"

#include <sys/uio.h>

#define READ_BUFFER (512 * 1024)
#define ZEROS (1024 * 1024)
#define MAX_IOV 64

enum phase { HANDSHAKE, OPEN, CLOSING };

/* A frame owed to the client: its header, then `len` payload bytes taken from `zeros`. */
struct owed {
  uint64_t len;
  uint8_t hdr[10];
  uint8_t hdr_len;
};

struct conn {
  int fd;
  enum phase phase;
  char* hs; /* the request head while the handshake is under way */
  size_t hs_len;
  uint8_t hdr[14]; /* the current client frame header, possibly split across reads */
  uint8_t hdr_len;
  uint8_t op;         /* first byte of the frame whose payload is being skipped */
  int in_payload;     /* its header is complete */
  uint64_t frame_len; /* its payload length */
  uint64_t skip;      /* its payload bytes still to read */
  struct owed* out;
  size_t out_head, out_count, out_cap;
  uint64_t out_offset; /* bytes of out[out_head] already written */
};

static char read_buffer[READ_BUFFER];
static char zeros[ZEROS]; /* never written: the payload of every ready-made frame */

static void conn_close(struct conn* c) {
  close(c->fd); /* also leaves the epoll set */
  free(c->hs);
  free(c->out);
  free(c);
}

static int owe(struct conn* c, uint8_t first, uint64_t len) {
  if (c->out_head + c->out_count == c->out_cap) {
    if (c->out_head > 0) {
      memmove(c->out, c->out + c->out_head, c->out_count * sizeof *c->out);
      c->out_head = 0;
    } else {
      size_t cap = c->out_cap ? c->out_cap * 2 : 8;
      struct owed* out = realloc(c->out, cap * sizeof *out);
      if (!out) return -1;
      c->out = out;
      c->out_cap = cap;
    }
  }
  struct owed* o = &c->out[c->out_head + c->out_count++];
  o->len = len;
  o->hdr_len = floor_frame_header(o->hdr, first, len);
  return 0;
}

/* A client frame has been read whole: owe the answer. */
static int frame_done(struct conn* c) {
  c->in_payload = 0;
  uint8_t opcode = c->op & 0x0F;
  if (opcode == 0x8) { /* close: an empty close, then the end */
    c->phase = CLOSING;
    return owe(c, 0x88, 0);
  }
  if (opcode == 0xA) return 0;                          /* pong: nothing */
  if (opcode == 0x9) return owe(c, 0x8A, c->frame_len); /* ping: a pong of its size */
  return owe(c, c->op & 0x8F, c->frame_len);            /* data: FIN and opcode kept */
}

/* Walks frame boundaries in `data`; payload bytes are skipped, never looked at. */
static int consume_frames(struct conn* c, const uint8_t* data, size_t len) {
  while (len > 0 && c->phase == OPEN) {
    if (c->in_payload) {
      uint64_t take = c->skip < len ? c->skip : len;
      c->skip -= take;
      data += take;
      len -= take;
      if (c->skip == 0 && frame_done(c) != 0) return -1;
      continue;
    }
    c->hdr[c->hdr_len++] = *data++;
    --len;
    if (c->hdr_len < 2 || c->hdr_len < floor_header_size(c->hdr)) continue;
    uint64_t payload = floor_payload_length(c->hdr);
    c->op = c->hdr[0];
    c->hdr_len = 0;
    c->frame_len = c->skip = payload;
    c->in_payload = 1;
    if (payload == 0 && frame_done(c) != 0) return -1;
  }
  return 0;
}

/* Answers the upgrade once the head is complete; returns -1 to drop the connection. */
static int handshake(struct conn* c, const char* data, size_t len) {
  long head = floor_handshake(c->fd, &c->hs, &c->hs_len, data, len);
  if (head <= 0) return (int)head;
  c->phase = OPEN;
  int rc = consume_frames(c, (const uint8_t*)c->hs + head, c->hs_len - (size_t)head);
  free(c->hs);
  c->hs = NULL;
  return rc;
}

/* One writev of as much owed output as fits in MAX_IOV pieces. Returns 1 when all is written,
 * 0 when some is left, -1 on error. */
static int flush(struct conn* c) {
  struct iovec iov[MAX_IOV];
  int n = 0;
  uint64_t skip = c->out_offset;
  for (size_t i = c->out_head; i < c->out_head + c->out_count && n + 2 <= MAX_IOV; ++i) {
    struct owed* o = &c->out[i];
    if (skip < o->hdr_len) {
      iov[n].iov_base = o->hdr + skip;
      iov[n++].iov_len = o->hdr_len - skip;
      skip = 0;
    } else {
      skip -= o->hdr_len;
    }
    uint64_t left = o->len - skip;
    skip = 0;
    while (left > 0 && n < MAX_IOV) {
      size_t piece = left < ZEROS ? (size_t)left : ZEROS;
      iov[n].iov_base = zeros;
      iov[n++].iov_len = piece;
      left -= piece;
    }
    if (left > 0) break;
  }
  ssize_t written = writev(c->fd, iov, n);
  if (written < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  uint64_t done = c->out_offset + (uint64_t)written;
  while (c->out_count > 0) {
    struct owed* o = &c->out[c->out_head];
    uint64_t size = o->hdr_len + o->len;
    if (done < size) break;
    done -= size;
    ++c->out_head;
    --c->out_count;
  }
  c->out_offset = done;
  if (c->out_count == 0) c->out_head = 0;
  return c->out_count == 0;
}

static void watch(struct conn* c, uint32_t events) { floor_watch(c->fd, c, events, 0); }

/* Writes what is owed; a connection with output left waits for EPOLLOUT and reads nothing. */
static void after_output(struct conn* c, int was_waiting) {
  int rc = c->out_count ? flush(c) : 1;
  if (rc < 0 || (rc == 1 && c->phase == CLOSING)) {
    conn_close(c);
  } else if (rc == 0 && !was_waiting) {
    watch(c, EPOLLOUT);
  } else if (rc == 1 && was_waiting) {
    watch(c, EPOLLIN);
  }
}

static void on_readable(struct conn* c) {
  ssize_t n = read(c->fd, read_buffer, sizeof read_buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    conn_close(c);
    return;
  }
  int rc = c->phase == HANDSHAKE ? handshake(c, read_buffer, (size_t)n)
                                 : consume_frames(c, (const uint8_t*)read_buffer, (size_t)n);
  if (rc != 0) {
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
  c->fd = fd;
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
