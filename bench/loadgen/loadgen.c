/* A lean WebSocket echo load generator: plain C, one thread, level-triggered epoll, libc only.
 * It is the reference cost on the client side, so it does as little as a correct client can:
 *
 *   loadgen --host 127.0.0.1 --port P --connections N --size BYTES --inflight K --seconds S
 *           [--warmup S] [--binary]
 *
 * opens N connections (a random Sec-WebSocket-Key each; only the 101 status is checked), then
 * keeps K masked messages of BYTES in flight on each (K = 1 is non-pipelined: send, wait for the
 * echo, send again). Every message is the same frame, masked once at start with a random key:
 * the server must unmask it all the same, and the client's cost stays out of the measurement.
 * Echoes are counted by frame: the reply header must be exactly the expected unmasked header of
 * the right opcode and length; the payload is skipped unread (a floor server answers zeros).
 * After the warm-up, echoes are counted for S seconds, and one JSON line is printed:
 *   {"messages":M,"seconds":T,"msg_per_s":R,"errors":E}
 * where errors counts connections that failed to open, failed the handshake, closed, or sent
 * anything but the expected frames. Exit status: 0, 1 when no connection opened, 2 on usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUFFER (256 * 1024)
#define MAX_PENDING_CONNECTS 256 /* connects under way at once, to spare the listen backlog */
#define CONNECT_TIMEOUT_S 30.0
#define MAX_RESPONSE_HEAD 4096

static const uint64_t kMaxBurst = 64u << 20; /* bytes of message copies to send from */

enum state { CONNECTING, HANDSHAKING, OPEN, DEAD };

struct conn {
  int fd;
  enum state state;
  uint32_t events;   /* what epoll watches now */
  char* head;        /* the 101 response head while the handshake is under way */
  size_t head_len;   /* its bytes so far, or the handshake request's bytes sent */
  uint32_t to_send;  /* messages queued and not yet written whole */
  uint32_t inflight; /* messages queued or written, echo not yet seen: K once started */
  uint64_t send_off; /* bytes of the first queued message already written */
  uint64_t rx_pos;   /* position inside the echo frame being read */
};

struct options {
  const char* host;
  int port;
  long connections;
  uint64_t size;
  long inflight;
  double seconds;
  double warmup;
  int binary;
};

static struct options opt = {.host = "127.0.0.1", .inflight = 1, .warmup = 1.0};
static struct conn* conns;
static int epfd;
static char read_buffer[READ_BUFFER];

static char* burst; /* copies of the masked message frame, written from in one send */
static uint64_t burst_frames;
static uint64_t frame_len;
static uint8_t reply_hdr[10];
static uint64_t reply_hdr_len, reply_len;

static long opened, failed, live_connects;
static long errors;
static int counting;
static uint64_t messages;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --host ADDR --port P --connections N --size BYTES --inflight K "
          "--seconds S [--warmup S] [--binary]\n");
  exit(2);
}

static void parse_args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "--binary") == 0) {
      opt.binary = 1;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    char* end = NULL;
    if (strcmp(a, "--host") == 0) {
      opt.host = v;
      continue;
    } else if (strcmp(a, "--port") == 0) {
      opt.port = (int)strtol(v, &end, 10);
    } else if (strcmp(a, "--connections") == 0) {
      opt.connections = strtol(v, &end, 10);
    } else if (strcmp(a, "--size") == 0) {
      opt.size = strtoull(v, &end, 10);
    } else if (strcmp(a, "--inflight") == 0) {
      opt.inflight = strtol(v, &end, 10);
    } else if (strcmp(a, "--seconds") == 0) {
      opt.seconds = strtod(v, &end);
    } else if (strcmp(a, "--warmup") == 0) {
      opt.warmup = strtod(v, &end);
    } else {
      usage();
    }
    if (*end != '\0') usage();
  }
  if (opt.port < 1 || opt.port > 65535 || opt.connections < 1 || opt.inflight < 1 ||
      opt.inflight > 4096 || opt.seconds <= 0 || opt.warmup < 0 || opt.size > (1ull << 30))
    usage();
}

static size_t write_header(uint8_t* out, uint8_t first, uint64_t len, int masked) {
  uint8_t mask_bit = masked ? 0x80 : 0;
  out[0] = first;
  if (len < 126) {
    out[1] = mask_bit | (uint8_t)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
  }
  out[1] = mask_bit | 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
  return 10;
}

static void random_bytes(void* out, size_t len) {
  if (getrandom(out, len, 0) != (ssize_t)len) {
    perror("loadgen: getrandom");
    exit(1);
  }
}

/* The message: printable ASCII (valid UTF-8 for text), masked with one random key. */
static void build_frames(void) {
  uint8_t first = 0x80 | (opt.binary ? 0x2 : 0x1);
  uint8_t hdr[14];
  size_t hdr_len = write_header(hdr, first, opt.size, 1);
  random_bytes(hdr + hdr_len, 4);
  const uint8_t* key = hdr + hdr_len;
  hdr_len += 4;
  frame_len = hdr_len + opt.size;
  burst_frames = (uint64_t)opt.inflight;
  if (burst_frames * frame_len > kMaxBurst)
    burst_frames = frame_len >= kMaxBurst ? 1 : kMaxBurst / frame_len;
  burst = malloc(frame_len * burst_frames);
  if (!burst) {
    perror("loadgen: malloc");
    exit(1);
  }
  memcpy(burst, hdr, hdr_len);
  for (uint64_t i = 0; i < opt.size; ++i) burst[hdr_len + i] = (char)(('a' + i % 26) ^ key[i % 4]);
  for (uint64_t k = 1; k < burst_frames; ++k) memcpy(burst + k * frame_len, burst, frame_len);
  reply_hdr_len = write_header(reply_hdr, first, opt.size, 0);
  reply_len = reply_hdr_len + opt.size;
}

static void watch(struct conn* c, uint32_t events) {
  if (c->events == events) return;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->events = events;
}

static void fail(struct conn* c) {
  if (c->state == DEAD) return;
  if (c->state == OPEN) {
    --opened;
  } else {
    --live_connects;
    ++failed;
  }
  ++errors;
  c->state = DEAD;
  close(c->fd);
  free(c->head);
  c->head = NULL;
}

static void start_connect(struct conn* c) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ++live_connects;
  c->state = CONNECTING;
  if (c->fd < 0 || inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) {
    if (c->fd >= 0) close(c->fd);
    c->state = DEAD;
    --live_connects;
    ++failed;
    ++errors;
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->events = EPOLLOUT;
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) != 0 && errno != EINPROGRESS) fail(c);
}

static void send_handshake(struct conn* c) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t nonce[18] = {0}; /* 16 random bytes; two zero bytes make the groups of three even */
  random_bytes(nonce, 16);
  char key[25];
  for (int i = 0, o = 0; i < 18; i += 3) {
    uint32_t v = (uint32_t)nonce[i] << 16 | (uint32_t)nonce[i + 1] << 8 | nonce[i + 2];
    key[o++] = kAlphabet[v >> 18 & 63];
    key[o++] = kAlphabet[v >> 12 & 63];
    key[o++] = kAlphabet[v >> 6 & 63];
    key[o++] = kAlphabet[v & 63];
  }
  key[22] = key[23] = '=';
  key[24] = '\0';
  char request[256];
  int n = snprintf(request, sizeof request,
                   "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   opt.host, opt.port, key);
  /* A fresh socket's send buffer always takes these few bytes whole. */
  if (send(c->fd, request, (size_t)n, MSG_NOSIGNAL) != n) {
    fail(c);
    return;
  }
  c->state = HANDSHAKING;
  c->head = malloc(MAX_RESPONSE_HEAD + 1);
  c->head_len = 0;
  if (!c->head) fail(c);
  watch(c, EPOLLIN);
}

/* Writes the queued messages once; watches EPOLLOUT while some are left. */
static void flush(struct conn* c) {
  if (c->to_send > 0) {
    uint64_t frames = c->to_send < burst_frames ? c->to_send : burst_frames;
    uint64_t len = frames * frame_len - c->send_off;
    ssize_t n = send(c->fd, burst + c->send_off, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail(c);
      if (c->state == DEAD) return;
      n = 0;
    }
    uint64_t done = c->send_off + (uint64_t)n;
    c->to_send -= (uint32_t)(done / frame_len);
    c->send_off = done % frame_len;
  }
  watch(c, c->to_send > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Walks echo frames: the header is compared byte for byte, the payload skipped. */
static void on_echo_bytes(struct conn* c, const uint8_t* data, size_t len) {
  while (len > 0) {
    if (c->rx_pos < reply_hdr_len) {
      if (*data != reply_hdr[c->rx_pos]) {
        fail(c);
        return;
      }
      ++data;
      --len;
      ++c->rx_pos;
    } else {
      uint64_t take = reply_len - c->rx_pos;
      if (take > len) take = len;
      data += take;
      len -= take;
      c->rx_pos += take;
    }
    if (c->rx_pos == reply_len) {
      c->rx_pos = 0;
      if (c->inflight == 0) { /* an echo of nothing we sent */
        fail(c);
        return;
      }
      if (counting) ++messages;
      ++c->to_send; /* the next message takes the echoed one's place: inflight stays K */
    }
  }
}

static void on_handshake_bytes(struct conn* c, const char* data, size_t len) {
  if (c->head_len + len > MAX_RESPONSE_HEAD) {
    fail(c);
    return;
  }
  memcpy(c->head + c->head_len, data, len);
  c->head_len += len;
  c->head[c->head_len] = '\0';
  char* end = strstr(c->head, "\r\n\r\n");
  if (!end) return;
  if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) {
    fail(c);
    return;
  }
  c->state = OPEN;
  --live_connects;
  ++opened;
  size_t rest = c->head_len - (size_t)(end + 4 - c->head);
  char* head = c->head;
  c->head = NULL;
  if (rest > 0) on_echo_bytes(c, (const uint8_t*)end + 4, rest);
  free(head);
}

static void on_event(struct conn* c, uint32_t events) {
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      fail(c);
    } else {
      send_handshake(c);
    }
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    ssize_t n = recv(c->fd, read_buffer, sizeof read_buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      fail(c);
      return;
    }
    if (n > 0) {
      if (c->state == HANDSHAKING) {
        on_handshake_bytes(c, read_buffer, (size_t)n);
      } else {
        on_echo_bytes(c, (const uint8_t*)read_buffer, (size_t)n);
      }
    }
  }
  if (c->state == OPEN) flush(c);
}

/* Runs the loop until `deadline`; while `connecting`, also opens the connections and returns
 * early once none is left to open or under way. */
static void run_until(double deadline, int connecting) {
  static long next_connect;
  struct epoll_event events[512];
  for (;;) {
    if (connecting) {
      while (next_connect < opt.connections && live_connects < MAX_PENDING_CONNECTS)
        start_connect(&conns[next_connect++]);
      if (live_connects == 0 && next_connect == opt.connections) return;
    }
    double t = now();
    if (t >= deadline) return;
    int n = epoll_wait(epfd, events, 512, (int)((deadline - t) * 1000.0) + 1);
    if (n < 0 && errno != EINTR) {
      perror("loadgen: epoll_wait");
      exit(1);
    }
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c->state != DEAD) on_event(c, events[i].events);
    }
  }
}

int main(int argc, char** argv) {
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  build_frames();
  conns = calloc((size_t)opt.connections, sizeof *conns);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || epfd < 0) {
    perror("loadgen: setup");
    return 1;
  }

  run_until(now() + CONNECT_TIMEOUT_S, 1);
  for (long i = 0; i < opt.connections; ++i)
    if (conns[i].state == CONNECTING || conns[i].state == HANDSHAKING) fail(&conns[i]);
  if (opened == 0) {
    printf("{\"messages\":0,\"seconds\":0,\"msg_per_s\":0,\"errors\":%ld}\n", errors);
    return 1;
  }

  for (long i = 0; i < opt.connections; ++i) {
    struct conn* c = &conns[i];
    if (c->state != OPEN) continue;
    c->to_send += (uint32_t)opt.inflight;
    c->inflight += (uint32_t)opt.inflight;
    flush(c);
  }
  run_until(now() + opt.warmup, 0);
  counting = 1;
  double start = now();
  run_until(start + opt.seconds, 0);
  double elapsed = now() - start;
  counting = 0;

  printf("{\"messages\":%llu,\"seconds\":%.3f,\"msg_per_s\":%.0f,\"errors\":%ld}\n",
         (unsigned long long)messages, elapsed, (double)messages / elapsed, errors);
  fflush(stdout);
  return 0;
}
