/* An echo-floor connection without its I/O, shared by the epoll floor (floor_echo.c) and its
 * io_uring twin (floor_uring.c), so both answer exactly alike: the upgrade is answered once the
 * request head is complete, then client frames are walked by their headers (payloads skipped,
 * never looked at) and each complete frame is owed a ready-made unmasked frame of the same
 * opcode and payload size whose payload is zeros. A ping is owed a pong of its size, a close an
 * empty close (and the phase becomes CLOSING); pongs are dropped. The owed frames are handed
 * out as iovecs over their headers and one shared block of zeros, or copied (a TLS record's
 * plaintext). */
#ifndef DUPLEX_BENCH_FLOOR_ECHO_CONN_H
#define DUPLEX_BENCH_FLOOR_ECHO_CONN_H

#include "floor_common.h"

#define FLOOR_ZEROS (1024 * 1024)
#define FLOOR_MAX_IOV 64

static char floor_zeros[FLOOR_ZEROS]; /* never written: the payload of every ready-made frame */

enum floor_phase { FLOOR_HANDSHAKE, FLOOR_OPEN, FLOOR_CLOSING };

/* A frame owed to the client: its header, then `len` payload bytes taken from floor_zeros. */
struct floor_owed {
  uint64_t len;
  uint8_t hdr[10];
  uint8_t hdr_len;
};

struct floor_echo_conn {
  int fd;
  enum floor_phase phase;
  char* hs; /* the request head while the handshake is under way */
  size_t hs_len;
  uint8_t hdr[14]; /* the current client frame header, possibly split across reads */
  uint8_t hdr_len;
  uint8_t op;         /* first byte of the frame whose payload is being skipped */
  int in_payload;     /* its header is complete */
  uint64_t frame_len; /* its payload length */
  uint64_t skip;      /* its payload bytes still to read */
  struct floor_owed* out;
  size_t out_head, out_count, out_cap;
  uint64_t out_offset; /* bytes of out[out_head] already written */
};

/* Frees what the connection holds (not the socket). */
static inline void floor_echo_free(struct floor_echo_conn* c) {
  free(c->hs);
  free(c->out);
}

static inline int floor_echo_owe(struct floor_echo_conn* c, uint8_t first, uint64_t len) {
  if (c->out_head + c->out_count == c->out_cap) {
    if (c->out_head > 0) {
      memmove(c->out, c->out + c->out_head, c->out_count * sizeof *c->out);
      c->out_head = 0;
    } else {
      size_t cap = c->out_cap ? c->out_cap * 2 : 8;
      struct floor_owed* out = realloc(c->out, cap * sizeof *out);
      if (!out) return -1;
      c->out = out;
      c->out_cap = cap;
    }
  }
  struct floor_owed* o = &c->out[c->out_head + c->out_count++];
  o->len = len;
  o->hdr_len = floor_frame_header(o->hdr, first, len);
  return 0;
}

/* A client frame has been read whole: owe the answer. */
static inline int floor_echo_frame_done(struct floor_echo_conn* c) {
  c->in_payload = 0;
  uint8_t opcode = c->op & 0x0F;
  if (opcode == 0x8) { /* close: an empty close, then the end */
    c->phase = FLOOR_CLOSING;
    return floor_echo_owe(c, 0x88, 0);
  }
  if (opcode == 0xA) return 0;                                     /* pong: nothing */
  if (opcode == 0x9) return floor_echo_owe(c, 0x8A, c->frame_len); /* ping: a pong of its size */
  return floor_echo_owe(c, c->op & 0x8F, c->frame_len);            /* data: FIN, opcode kept */
}

/* Walks frame boundaries in `data`; payload bytes are skipped, never looked at. */
static inline int floor_echo_frames(struct floor_echo_conn* c, const uint8_t* data, size_t len) {
  while (len > 0 && c->phase == FLOOR_OPEN) {
    if (c->in_payload) {
      uint64_t take = c->skip < len ? c->skip : len;
      c->skip -= take;
      data += take;
      len -= take;
      if (c->skip == 0 && floor_echo_frame_done(c) != 0) return -1;
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
    if (payload == 0 && floor_echo_frame_done(c) != 0) return -1;
  }
  return 0;
}

/* Takes `len` bytes read from the connection: the request head, then frames (any bytes past the
 * head are the first frames). Once the head is complete its 101 answer is written into
 * `response` (FLOOR_UPGRADE_RESPONSE bytes, its length in *response_len, else 0), which the
 * caller sends before any owed output. Returns -1 to drop the connection. */
static inline int floor_echo_take(struct floor_echo_conn* c, const char* data, size_t len,
                                  char* response, int* response_len) {
  *response_len = 0;
  if (c->phase != FLOOR_HANDSHAKE) return floor_echo_frames(c, (const uint8_t*)data, len);
  long head = floor_request_head(&c->hs, &c->hs_len, data, len, response, response_len);
  if (head <= 0) return (int)head;
  c->phase = FLOOR_OPEN;
  int rc = floor_echo_frames(c, (const uint8_t*)c->hs + head, c->hs_len - (size_t)head);
  free(c->hs);
  c->hs = NULL;
  return rc;
}

/* floor_echo_take on a plain socket: the 101 is written with one write. */
static inline int floor_echo_input(struct floor_echo_conn* c, const char* data, size_t len) {
  char response[FLOOR_UPGRADE_RESPONSE];
  int n = 0;
  if (floor_echo_take(c, data, len, response, &n) != 0) return -1;
  /* A fresh socket's send buffer always takes these few bytes whole. */
  return n == 0 || write(c->fd, response, (size_t)n) == n ? 0 : -1;
}

/* What is still to send of owed frame out[i] (of the first, less the out_offset bytes already
 * written): the rest of its header in *hdr and *hdr_len (0 once it has left) and, returned, how
 * many of its payload bytes. */
static inline uint64_t floor_echo_rest(const struct floor_echo_conn* c, size_t i,
                                       const uint8_t** hdr, size_t* hdr_len) {
  const struct floor_owed* o = &c->out[i];
  uint64_t skip = i == c->out_head ? c->out_offset : 0;
  size_t from = skip < o->hdr_len ? (size_t)skip : o->hdr_len;
  *hdr = o->hdr + from;
  *hdr_len = o->hdr_len - from;
  return o->len - (skip - from);
}

/* Points `iov` (room for FLOOR_MAX_IOV) at as much owed output as fits; returns how many. */
static inline int floor_echo_gather(const struct floor_echo_conn* c, struct iovec* iov) {
  int n = 0;
  for (size_t i = c->out_head; i < c->out_head + c->out_count && n + 2 <= FLOOR_MAX_IOV; ++i) {
    const uint8_t* hdr;
    size_t hdr_len;
    uint64_t left = floor_echo_rest(c, i, &hdr, &hdr_len);
    if (hdr_len > 0) {
      iov[n].iov_base = (void*)hdr;
      iov[n++].iov_len = hdr_len;
    }
    while (left > 0 && n < FLOOR_MAX_IOV) {
      size_t piece = left < FLOOR_ZEROS ? (size_t)left : FLOOR_ZEROS;
      iov[n].iov_base = floor_zeros;
      iov[n++].iov_len = piece;
      left -= piece;
    }
    if (left > 0) break;
  }
  return n;
}

/* Copies as much owed output as fits into `out` (`cap` bytes, at most FLOOR_ZEROS: a TLS
 * record's plaintext, where a frame's header and payload must lie together); returns how much. */
static inline size_t floor_echo_copy(const struct floor_echo_conn* c, uint8_t* out, size_t cap) {
  size_t n = 0;
  for (size_t i = c->out_head; i < c->out_head + c->out_count && n < cap; ++i) {
    const uint8_t* hdr;
    size_t hdr_len;
    uint64_t left = floor_echo_rest(c, i, &hdr, &hdr_len);
    size_t take = hdr_len < cap - n ? hdr_len : cap - n;
    memcpy(out + n, hdr, take);
    n += take;
    take = left < cap - n ? (size_t)left : cap - n;
    memcpy(out + n, floor_zeros, take);
    n += take;
  }
  return n;
}

/* `written` bytes of the owed output have left; returns 1 when none is owed any more. */
static inline int floor_echo_written(struct floor_echo_conn* c, uint64_t written) {
  uint64_t done = c->out_offset + written;
  while (c->out_count > 0) {
    struct floor_owed* o = &c->out[c->out_head];
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

#endif
