/* What every reference echo server shares: the `<binary> PORT` command line, a file-descriptor
 * limit raised for 12,000+ connections, and the `ready PORT` line the benchmark driver waits
 * for. Plain C so the C and C++ peers can both include it. */
#ifndef DUPLEX_BENCH_PEER_COMMON_H
#define DUPLEX_BENCH_PEER_COMMON_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Listen backlog for every peer: connection storms of the memory scenario must not overflow it. */
#define PEER_BACKLOG 4096

/* Returns the port from argv[1] (1..65535); prints usage and exits with 2 otherwise. */
static inline int peer_port(int argc, char** argv) {
  char* end = NULL;
  long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;
  if (argc != 2 || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "usage: %s PORT\n", argc > 0 ? argv[0] : "peer");
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

/* Parses the port, raises the fd limit (stored in *fd_limit when not NULL) and ignores SIGPIPE,
 * so a write to a connection the client has dropped fails with EPIPE instead of killing us. */
static inline int peer_init(int argc, char** argv, long* fd_limit) {
  int port = peer_port(argc, argv);
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
