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
 * are floor_echo_conn.h's, shared with the io_uring twin (floor_uring.c).
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

#include "floor_echo_conn.h"

#define READ_BUFFER (512 * 1024)
#define MAX_RECORD 16384 /* TLS's largest record plaintext */

struct conn {
  struct floor_echo_conn e; /* first: the epoll pointer is the connection */
  SSL* ssl;                 /* NULL for cleartext */
  int tls_open;             /* the TLS handshake is done */
  int tls_waits_out;        /* the TLS handshake waits for EPOLLOUT */
};

static char read_buffer[READ_BUFFER];
static SSL_CTX* tls_context;       /* NULL: cleartext */
static uint8_t record[MAX_RECORD]; /* the plaintext of one outgoing TLS record */

static void conn_close(struct conn* c) {
  if (c->ssl) {
    if (c->e.phase == FLOOR_CLOSING) SSL_shutdown(c->ssl); /* close_notify, after the close */
    SSL_free(c->ssl);
  }
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

/* Over TLS: owed output copied a record at a time into `record` and written with one SSL_write
 * each, until all is written (1), the socket is full (0) or it fails (-1). */
static int flush_tls(struct conn* c) {
  while (c->e.out_count > 0) {
    /* A retry after WANT_WRITE copies the same bytes again, as OpenSSL requires. */
    int n = (int)floor_echo_copy(&c->e, record, sizeof record);
    int written = SSL_write(c->ssl, record, n);
    if (written <= 0) return SSL_get_error(c->ssl, written) == SSL_ERROR_WANT_WRITE ? 0 : -1;
    floor_echo_written(&c->e, (uint64_t)written);
  }
  return 1;
}

static void watch(struct conn* c, uint32_t events) { floor_watch(c->e.fd, c, events, 0); }

/* Writes what is owed; a connection with output left waits for EPOLLOUT and reads nothing. */
static void after_output(struct conn* c, int was_waiting) {
  int rc = !c->e.out_count ? 1 : c->ssl ? flush_tls(c) : flush(c);
  if (rc < 0 || (rc == 1 && c->e.phase == FLOOR_CLOSING)) {
    conn_close(c);
  } else if (rc == 0 && !was_waiting) {
    watch(c, EPOLLOUT);
  } else if (rc == 1 && was_waiting) {
    watch(c, EPOLLIN);
  }
}

/* Takes `n` bytes decrypted into read_buffer: floor_echo_input over TLS. Returns -1 to drop the
 * connection. */
static int received_tls(struct conn* c, size_t n) {
  char response[FLOOR_UPGRADE_RESPONSE];
  int len = 0;
  if (floor_echo_take(&c->e, read_buffer, n, response, &len) != 0) return -1;
  /* A fresh connection's send buffer always takes these few bytes whole. */
  return len == 0 || SSL_write(c->ssl, response, len) == len ? 0 : -1;
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

/* Over TLS: SSL_read until the records that one recv brought in are used up. Anything but
 * WANT_READ ends the connection (the end of the stream, a failure, or a post-handshake message
 * whose answer cannot be written at once: the generator sends none). */
static void on_readable_tls(struct conn* c) {
  do {
    int n = SSL_read(c->ssl, read_buffer, sizeof read_buffer);
    if (n <= 0 && SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ) break;
    if (n <= 0 || received_tls(c, (size_t)n) != 0) {
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
  c->e.fd = fd;
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
