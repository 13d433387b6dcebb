/* Reference peer: the kernel floor. A raw epoll server that parses nothing of WebSocket beyond
 * frame headers: it answers the upgrade with a 101 (Sec-WebSocket-Accept computed, nothing else
 * checked), then for every complete client frame it reads it writes back a ready-made unmasked
 * frame of the same opcode and payload size (the payload is zeros, never unmasked or copied).
 * One read and at most one write per readiness, so what it measures is the syscalls alone.
 *
 * Frame boundaries are tracked (header length plus payload length), so pipelined frames are
 * answered one for one. A ping is answered by a pong of its size, a close by an empty close and
 * the end of the connection; pongs are dropped. Level-triggered epoll; a connection with output
 * pending stops reading until it has written it.
 *
 * With --tls CERT KEY it is the TLS floor: the same server over OpenSSL (TLS 1.2 and 1.3,
 * OpenSSL's defaults otherwise) on the socket itself (a socket BIO, non-blocking SSL_accept,
 * SSL_read, SSL_write). Read-ahead lets one SSL_read's recv take every record the socket holds;
 * the answers to one read are copied into one record's plaintext (a frame's header and payload
 * must lie together to share a record) and sent with one SSL_write, one record and one send per
 * 16 KiB. What it costs is the syscalls and the records' cryptography. */
#define _GNU_SOURCE /* accept4, in floor_common.h: before any system header */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/uio.h>

#include "floor_common.h"

#define READ_BUFFER (512 * 1024)
#define ZEROS (1024 * 1024)
#define MAX_IOV 64
#define MAX_RECORD 16384 /* TLS's largest record plaintext */

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
  SSL* ssl;            /* NULL for cleartext */
  int tls_open;        /* the TLS handshake is done */
  int tls_waits_out;   /* the TLS handshake waits for EPOLLOUT */
};

static char read_buffer[READ_BUFFER];
static char zeros[ZEROS];          /* never written: the payload of every ready-made frame */
static SSL_CTX* tls_context;       /* NULL: cleartext */
static uint8_t record[MAX_RECORD]; /* the plaintext of one outgoing TLS record */

static void conn_close(struct conn* c) {
  if (c->ssl) {
    if (c->phase == CLOSING) SSL_shutdown(c->ssl); /* close_notify, after the close frame */
    SSL_free(c->ssl);
  }
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
  char response[160];
  int n = 0;
  long head = floor_request_head(&c->hs, &c->hs_len, data, len, response, &n);
  if (head <= 0) return (int)head;
  /* A fresh connection's send buffer always takes these few bytes whole. */
  int sent = c->ssl ? SSL_write(c->ssl, response, n) : (int)write(c->fd, response, (size_t)n);
  if (sent != n) return -1;
  c->phase = OPEN;
  int rc = consume_frames(c, (const uint8_t*)c->hs + head, c->hs_len - (size_t)head);
  free(c->hs);
  c->hs = NULL;
  return rc;
}

/* Drops `written` bytes from the front of the owed output. Returns 1 when none is left, 0
 * otherwise. */
static int wrote(struct conn* c, uint64_t written) {
  uint64_t done = c->out_offset + written;
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
  return wrote(c, (uint64_t)written);
}

/* Over TLS: owed output copied a record at a time into `record` and written with one SSL_write
 * each, until all is written (1), the socket is full (0) or it fails (-1). */
static int flush_tls(struct conn* c) {
  while (c->out_count > 0) {
    size_t n = 0;
    uint64_t skip = c->out_offset;
    for (size_t i = c->out_head; i < c->out_head + c->out_count && n < MAX_RECORD; ++i) {
      struct owed* o = &c->out[i];
      if (skip < o->hdr_len) {
        size_t take = o->hdr_len - skip < MAX_RECORD - n ? o->hdr_len - skip : MAX_RECORD - n;
        memcpy(record + n, o->hdr + skip, take);
        n += take;
        skip = 0;
      } else {
        skip -= o->hdr_len;
      }
      uint64_t left = o->len - skip;
      skip = 0;
      size_t take = left < MAX_RECORD - n ? (size_t)left : MAX_RECORD - n;
      memcpy(record + n, zeros, take);
      n += take;
    }
    /* A retry after WANT_WRITE copies the same bytes again, as OpenSSL requires. */
    int written = SSL_write(c->ssl, record, (int)n);
    if (written <= 0) return SSL_get_error(c->ssl, written) == SSL_ERROR_WANT_WRITE ? 0 : -1;
    wrote(c, (uint64_t)written);
  }
  return 1;
}

static void watch(struct conn* c, uint32_t events) { floor_watch(c->fd, c, events, 0); }

/* Writes what is owed; a connection with output left waits for EPOLLOUT and reads nothing. */
static void after_output(struct conn* c, int was_waiting) {
  int rc = !c->out_count ? 1 : c->ssl ? flush_tls(c) : flush(c);
  if (rc < 0 || (rc == 1 && c->phase == CLOSING)) {
    conn_close(c);
  } else if (rc == 0 && !was_waiting) {
    watch(c, EPOLLOUT);
  } else if (rc == 1 && was_waiting) {
    watch(c, EPOLLIN);
  }
}

/* Takes `n` bytes read; returns -1 to drop the connection. */
static int received(struct conn* c, size_t n) {
  return c->phase == HANDSHAKE ? handshake(c, read_buffer, n)
                               : consume_frames(c, (const uint8_t*)read_buffer, n);
}

static void on_readable(struct conn* c) {
  ssize_t n = read(c->fd, read_buffer, sizeof read_buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || received(c, (size_t)n) != 0) {
    conn_close(c);
    return;
  }
  after_output(c, 0);
}

/* Over TLS: SSL_read until the records that one recv brought in are used up. Anything but
 * WANT_READ ends the connection (the end of the stream, a failure, or a post-handshake message
 * whose answer cannot be written at once: the generator sends none). */
static void on_readable_tls(struct conn* c) {
  do {
    int n = SSL_read(c->ssl, read_buffer, sizeof read_buffer);
    if (n <= 0 && SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ) break;
    if (n <= 0 || received(c, (size_t)n) != 0) {
      conn_close(c);
      return;
    }
  } while (SSL_has_pending(c->ssl));
  after_output(c, 0);
}

/* Advances the TLS handshake, waiting for whichever readiness it needs; once it is done, reads
 * what came with its last flight. */
static void tls_accept(struct conn* c) {
  int rc = SSL_accept(c->ssl);
  int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
  int waits_out = error == SSL_ERROR_WANT_WRITE;
  if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && !waits_out) {
    conn_close(c);
    return;
  }
  if (waits_out != c->tls_waits_out) {
    watch(c, waits_out ? EPOLLOUT : EPOLLIN);
    c->tls_waits_out = waits_out;
  }
  if (error != SSL_ERROR_NONE) return;
  c->tls_open = 1;
  on_readable_tls(c);
}

static void accepted(int fd) {
  struct conn* c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->fd = fd;
  if (tls_context) {
    c->ssl = SSL_new(tls_context);
    if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
      conn_close(c);
      return;
    }
    SSL_set_accept_state(c->ssl);
  }
  if (floor_watch(fd, c, EPOLLIN, 1) != 0) conn_close(c);
}

static void on_event(void* p, uint32_t events) {
  struct conn* c = p;
  if (c->ssl && !c->tls_open) {
    tls_accept(c);
  } else if (events & EPOLLOUT) {
    after_output(c, 1);
  } else if (c->ssl) {
    on_readable_tls(c);
  } else {
    on_readable(c); /* also on EPOLLHUP/EPOLLERR: the read reports it */
  }
}

/* A server context for TLS 1.2 and 1.3 from PEM files; exits with status 1 when it cannot. */
static SSL_CTX* make_tls_context(const struct peer_tls* files) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx, files->cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, files->key, SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "floor_echo: cannot use %s and %s:\n", files->cert, files->key);
    ERR_print_errors_fp(stderr);
    exit(1);
  }
  /* SSL_write returns once a record has left, and a retry may pass the same bytes elsewhere;
   * read-ahead reads all the socket holds, not a record's header and then its body. */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

int main(int argc, char** argv) {
  struct peer_tls tls;
  const int port = peer_init(argc, argv, NULL, &tls);
  if (tls.cert) tls_context = make_tls_context(&tls);
  return floor_main(port, "floor_echo: listen", accepted, on_event, NULL);
}
