/* Reference peer: a minimal libwebsockets echo server, one service thread, logging off. Each
 * message is gathered (fragments and reads alike) and written back whole as one frame of the
 * same kind, text or binary. While a reply is pending, rx flow control holds further input, so
 * pipelined messages are answered in order without a queue. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

#define MAX_MESSAGE (64u * 1024 * 1024)

struct session {
  unsigned char* buf; /* LWS_PRE bytes of headroom, then the message */
  size_t len;
  size_t cap;
  int binary;
  int complete; /* a whole message waits to be written */
};

static struct lws_context* context;
static volatile sig_atomic_t interrupted;

static int append(struct session* s, const void* in, size_t len) {
  if (s->len + len > MAX_MESSAGE) return -1;
  if (LWS_PRE + s->len + len > s->cap) {
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < LWS_PRE + s->len + len) cap *= 2;
    unsigned char* buf = realloc(s->buf, cap);
    if (!buf) return -1;
    s->buf = buf;
    s->cap = cap;
  }
  memcpy(s->buf + LWS_PRE + s->len, in, len);
  s->len += len;
  return 0;
}

static int callback_echo(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                         size_t len) {
  struct session* s = user;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      memset(s, 0, sizeof *s);
      return 0;
    case LWS_CALLBACK_RECEIVE:
      if (lws_is_first_fragment(wsi)) {
        s->len = 0;
        s->binary = lws_frame_is_binary(wsi);
      }
      if (append(s, in, len) != 0) return -1;
      if (lws_is_final_fragment(wsi)) {
        s->complete = 1;
        lws_rx_flow_control(wsi, 0);
        lws_callback_on_writable(wsi);
      }
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      if (!s->complete) return 0;
      /* The buffer always exists here: append() allocates even for an empty message. */
      int n =
          lws_write(wsi, s->buf + LWS_PRE, s->len, s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
      if (n < (int)s->len) return -1;
      s->complete = 0;
      s->len = 0;
      if (s->cap > 64 * 1024) { /* do not keep a large message's buffer on an idle connection */
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
      }
      lws_rx_flow_control(wsi, 1);
      return 0;
    }
    case LWS_CALLBACK_CLOSED:
      free(s->buf);
      s->buf = NULL;
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
  const int port = peer_init(argc, argv, &fd_limit);
  lws_set_log_level(0, NULL);

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = "127.0.0.1";
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6; /* else it binds an IPv6 wildcard instead */
  info.protocols = protocols;
  info.count_threads = 1;
  info.fd_limit_per_thread = (unsigned int)fd_limit;
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
