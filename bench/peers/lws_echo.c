/* Reference peer: a minimal libwebsockets echo server, one service thread, logging off. Each
 * message is gathered (fragments and reads alike) and written back whole as one frame of the
 * same kind, text or binary. Complete messages wait in a queue, oldest first, and are written
 * one per writeable callback, so pipelined messages are answered in order. (Holding input with
 * rx flow control while a reply is pending, as this peer once did, makes lws 4.1 spin over TLS:
 * it drains the input it cached in the same service call, caches it again, and so on.)
 * With --tls CERT KEY it serves wss:// through lws's OpenSSL backend (TLS 1.2 and 1.3,
 * OpenSSL's defaults otherwise). */
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

#define MAX_MESSAGE (64u * 1024 * 1024)
#define KEEP_SPARE (64u * 1024) /* a written message's buffer up to this size is kept for reuse */

struct message {
  struct message* next;
  size_t len; /* payload bytes */
  size_t cap; /* room for payload bytes */
  int binary;
  unsigned char buf[]; /* LWS_PRE bytes of headroom, then the payload */
};

struct session {
  struct message* gathering; /* the message being received */
  struct message* head;      /* complete messages to write back, oldest first */
  struct message* tail;
  struct message* spare; /* a written message's buffer, for the next one */
};

static struct lws_context* context;
static volatile sig_atomic_t interrupted;

static struct message* grow(struct message* m, size_t cap) {
  struct message* bigger = realloc(m, sizeof *m + LWS_PRE + cap);
  if (bigger) bigger->cap = cap;
  return bigger;
}

static int append(struct session* s, const void* in, size_t len) {
  struct message* m = s->gathering;
  if (m->len + len > MAX_MESSAGE) return -1;
  if (m->len + len > m->cap) {
    size_t cap = m->cap * 2;
    while (cap < m->len + len) cap *= 2;
    if (!(m = grow(m, cap))) return -1;
    s->gathering = m;
  }
  memcpy(m->buf + LWS_PRE + m->len, in, len);
  m->len += len;
  return 0;
}

static int start_message(struct session* s, int binary) {
  struct message* m = s->spare ? s->spare : grow(NULL, 1024);
  if (!m) return -1;
  s->spare = NULL;
  m->next = NULL;
  m->len = 0;
  m->binary = binary;
  s->gathering = m;
  return 0;
}

static void free_session(struct session* s) {
  free(s->gathering);
  free(s->spare);
  while (s->head) {
    struct message* next = s->head->next;
    free(s->head);
    s->head = next;
  }
  memset(s, 0, sizeof *s);
}

static int callback_echo(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                         size_t len) {
  struct session* s = user;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      memset(s, 0, sizeof *s);
      return 0;
    case LWS_CALLBACK_RECEIVE:
      if (lws_is_first_fragment(wsi) && start_message(s, lws_frame_is_binary(wsi)) != 0) return -1;
      if (append(s, in, len) != 0) return -1;
      if (lws_is_final_fragment(wsi)) {
        if (s->tail) {
          s->tail->next = s->gathering;
        } else {
          s->head = s->gathering;
        }
        s->tail = s->gathering;
        s->gathering = NULL;
        lws_callback_on_writable(wsi);
      }
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      struct message* m = s->head;
      if (!m) return 0;
      int n =
          lws_write(wsi, m->buf + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
      if (n < (int)m->len) return -1;
      s->head = m->next;
      if (!s->head) s->tail = NULL;
      if (!s->spare && m->cap <= KEEP_SPARE) {
        s->spare = m;
      } else {
        free(m);
      }
      if (s->head) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_CLOSED:
      free_session(s);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static const struct lws_protocols protocols[] = {
    /* The first protocol serves requests that name none, on any path. */
    {"echo", callback_echo, sizeof(struct session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
  lws_cancel_service(context); /* wakes the poll wait */
}

int main(int argc, char** argv) {
  long fd_limit = 0;
  struct peer_tls tls;
  const int port = peer_init(argc, argv, &fd_limit, &tls);
  lws_set_log_level(0, NULL);

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = "127.0.0.1";
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6; /* else it binds an IPv6 wildcard instead */
  info.protocols = protocols;
  info.count_threads = 1;
  info.fd_limit_per_thread = (unsigned int)fd_limit;
  if (tls.cert) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = tls.cert;
    info.ssl_private_key_filepath = tls.key;
    info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    /* lws prefers its own (OpenSSL's) suite order, AES-256 first; OpenSSL alone follows the
     * client's, as the other servers here do. */
    info.ssl_options_clear = SSL_OP_CIPHER_SERVER_PREFERENCE;
  }
  context = lws_create_context(&info);
  if (!context) {
    fprintf(stderr, "lws_echo: cannot create the context (port %d in use?)\n", port);
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  peer_announce_ready(port);
  while (!interrupted && lws_service(context, 0) >= 0) {
  }
  lws_context_destroy(context);
  return 0;
}
