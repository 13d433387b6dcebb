/* What the kernel-floor servers (floor_echo, floor_pubsub) share: the main loop (listening
 * socket, epoll, the signalfd that ends them), the fixed 101 answer to an upgrade, and frame
 * headers. Nothing here parses more of WebSocket than a floor must. Needs OpenSSL's libcrypto
 * (SHA-1, base64). */
#ifndef DUPLEX_BENCH_FLOOR_COMMON_H
#define DUPLEX_BENCH_FLOOR_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "peer_common.h"

/* A non-blocking socket listening on 127.0.0.1:port; exits with status 1 when it cannot. */
static inline int floor_listen(int port, const char* who) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, PEER_BACKLOG) != 0) {
    perror(who);
    exit(1);
  }
  return fd;
}

static int floor_epfd; /* the one epoll set of a floor server */

/* Watches `fd` for `events`, which then carry `ptr`; adds it to the set when `add`. */
static inline int floor_watch(int fd, void* ptr, uint32_t events, int add) {
  struct epoll_event ev = {.events = events, .data.ptr = ptr};
  return epoll_ctl(floor_epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

/* SIGINT and SIGTERM blocked and delivered to a non-blocking signalfd instead. */
static inline int floor_signal_fd(void) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, NULL);
  return signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
}

#define FLOOR_UPGRADE_RESPONSE 160 /* room for the 101 answer */

/* The 101 answer to the request head in [head, end) (end at its blank line), written into
 * `out` (FLOOR_UPGRADE_RESPONSE bytes): Sec-WebSocket-Accept computed from the key, nothing else
 * checked. Returns its length, or -1 when the head has no usable key. */
static inline int floor_upgrade_response(char* head, const char* end, char* out) {
  static const char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  static const char kName[] = "sec-websocket-key:";
  const char* key = NULL;
  size_t key_len = 0;
  for (char* line = strstr(head, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, kName, sizeof kName - 1) != 0) continue;
    key = line + 2 + sizeof kName - 1;
    while (*key == ' ' || *key == '\t') ++key;
    const char* stop = strstr(key, "\r\n");
    while (stop > key && (stop[-1] == ' ' || stop[-1] == '\t')) --stop;
    key_len = (size_t)(stop - key);
    break;
  }
  if (!key || key_len == 0 || key_len > 64) return -1;

  char concat[64 + sizeof kGuid];
  memcpy(concat, key, key_len);
  memcpy(concat + key_len, kGuid, sizeof kGuid - 1);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char*)concat, key_len + sizeof kGuid - 1, digest);
  char accept[32];
  EVP_EncodeBlock((unsigned char*)accept, digest, SHA_DIGEST_LENGTH);
  return snprintf(out, FLOOR_UPGRADE_RESPONSE,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                  accept);
}

#define FLOOR_MAX_HANDSHAKE 8192

/* Gathers a request head into *hs (allocated on first use, `*hs_len` bytes so far). Once it is
 * complete, writes the 101 answer into `response` (FLOOR_UPGRADE_RESPONSE bytes, its length in
 * *response_len) and returns the size of the head (bytes past it in *hs are the first frames);
 * returns 0 while it is incomplete, -1 to drop the connection. */
static inline long floor_request_head(char** hs, size_t* hs_len, const char* data, size_t len,
                                      char* response, int* response_len) {
  if (*hs_len + len > FLOOR_MAX_HANDSHAKE) return -1;
  if (!*hs && !(*hs = malloc(FLOOR_MAX_HANDSHAKE + 1))) return -1;
  memcpy(*hs + *hs_len, data, len);
  *hs_len += len;
  (*hs)[*hs_len] = '\0';
  char* end = strstr(*hs, "\r\n\r\n");
  if (!end) return 0;
  *response_len = floor_upgrade_response(*hs, end, response);
  return *response_len < 0 ? -1 : end + 4 - *hs;
}

/* floor_request_head on a plain socket: once the head is complete, writes the 101 to `fd`. */
static inline long floor_handshake(int fd, char** hs, size_t* hs_len, const char* data,
                                   size_t len) {
  char response[FLOOR_UPGRADE_RESPONSE];
  int n = 0;
  long head = floor_request_head(hs, hs_len, data, len, response, &n);
  /* A fresh socket's send buffer always takes these few bytes whole. */
  if (head > 0 && write(fd, response, (size_t)n) != n) return -1;
  return head;
}

/* Writes an unmasked frame header with first byte `first` (FIN, opcode) for `len` payload bytes
 * into `out` (room for 10 bytes); returns its size. */
static inline uint8_t floor_frame_header(uint8_t* out, uint8_t first, uint64_t len) {
  out[0] = first;
  if (len < 126) {
    out[1] = (uint8_t)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    out[1] = 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
  return 10;
}

/* The size of a client frame header from its first two bytes (mask bit and 7-bit length). */
static inline size_t floor_header_size(const uint8_t* hdr) {
  uint8_t len7 = hdr[1] & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((hdr[1] & 0x80) ? 4 : 0);
}

/* The payload length of a complete frame header. */
static inline uint64_t floor_payload_length(const uint8_t* hdr) {
  uint8_t len7 = hdr[1] & 0x7F;
  if (len7 == 126) return (uint64_t)hdr[2] << 8 | hdr[3];
  if (len7 < 126) return len7;
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len = len << 8 | hdr[2 + i];
  return len;
}

/* The floors' main loop. Listens on 127.0.0.1:port, prints `ready PORT` and runs until SIGINT or
 * SIGTERM, then returns 0. Every accepted socket (non-blocking, TCP_NODELAY) goes
 * to `accepted`, which watches it (floor_watch) with its connection as the pointer; every other
 * event goes to `event`; `batch_done` (or NULL) runs after each batch of events. */
static inline int floor_main(int port, const char* who, void (*accepted)(int fd),
                             void (*event)(void* conn, uint32_t events), void (*batch_done)(void)) {
  static int listen_tag, signal_tag; /* their addresses tell listener and signal events apart */
  int listen_fd = floor_listen(port, who);
  int sig_fd = floor_signal_fd();
  floor_epfd = epoll_create1(EPOLL_CLOEXEC);
  floor_watch(listen_fd, &listen_tag, EPOLLIN, 1);
  floor_watch(sig_fd, &signal_tag, EPOLLIN, 1);
  peer_announce_ready(port);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(floor_epfd, events, 256, -1);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == &signal_tag) return 0;
      if (p != &listen_tag) {
        event(p, events[i].events);
        continue;
      }
      for (int k = 0; k < 64; ++k) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        accepted(fd);
      }
    }
    if (batch_done) batch_done();
  }
  return 1;
}

#endif
