/* What every reference echo server shares: the `<binary> PORT [--tls CERT KEY]` command line, a
 * file-descriptor limit raised for 12,000+ connections, and the `ready PORT` line the benchmark
 * driver waits for. Plain C so the C and C++ peers can both include it. */
#ifndef DUPLEX_BENCH_PEER_COMMON_H
#define DUPLEX_BENCH_PEER_COMMON_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Listen backlog for every peer: connection storms of the memory scenario must not overflow it. */
#define PEER_BACKLOG 4096

/* A peer's `--tls CERT KEY` (PEM files): both NULL when it serves cleartext. */
struct peer_tls {
  const char* cert;
  const char* key;
};

/* Returns the port from argv[1] (1..65535); when `tls` is not NULL, `--tls CERT KEY` may follow
 * and is stored there. Prints usage and exits with 2 otherwise. */
static inline int peer_port(int argc, char** argv, struct peer_tls* tls) {
  char* end = NULL;
  long port = argc >= 2 ? strtol(argv[1], &end, 10) : 0;
  int ok = argc >= 2 && *end == '\0' && port >= 1 && port <= 65535;
  if (tls) tls->cert = tls->key = NULL;
  if (ok && argc == 5 && tls && strcmp(argv[2], "--tls") == 0) {
    tls->cert = argv[3];
    tls->key = argv[4];
  } else if (argc != 2) {
    ok = 0;
  }
  if (!ok) {
    fprintf(stderr, "usage: %s PORT%s\n", argc > 0 ? argv[0] : "peer",
            tls ? " [--tls CERT KEY]" : "");
    exit(2);
  }
  return (int)port;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the limit now in force. */
static inline long peer_raise_fd_limit(void) {
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)lim.rlim_cur;
}

/* Parses the port (and `--tls CERT KEY` into *tls, for a peer that can serve TLS), raises the fd
 * limit (stored in *fd_limit when not NULL) and ignores SIGPIPE, so a write to a connection the
 * client has dropped fails with EPIPE instead of killing us. */
static inline int peer_init(int argc, char** argv, long* fd_limit, struct peer_tls* tls) {
  int port = peer_port(argc, argv, tls);
  long limit = peer_raise_fd_limit();
  if (fd_limit) *fd_limit = limit;
  signal(SIGPIPE, SIG_IGN);
  return port;
}

/* Tells the driver the server is listening. */
static inline void peer_announce_ready(int port) {
  printf("ready %d\n", port);
  fflush(stdout);
}

#endif
