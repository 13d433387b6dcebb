// The byte transport under a connection: the socket itself, or a TLS session over it. Callers
// hold a TlsSession pointer that is null for plain TCP, so the cleartext path costs one branch.
#pragma once

#include <sys/socket.h>

#include <cstring>
#include <string>

#include "duplex/io/tls.hpp"

namespace duplex::io {

/// recv() semantics: > 0 bytes, 0 at EOF, -1 with errno.
inline ssize_t transport_read(int fd, TlsSession* tls, char* buffer, size_t size) {
  return tls ? tls->read(buffer, size) : ::recv(fd, buffer, size, 0);
}

/// send() semantics, never raising SIGPIPE.
inline ssize_t transport_write(int fd, TlsSession* tls, const char* data, size_t size) {
  return tls ? tls->write(data, size) : ::send(fd, data, size, MSG_NOSIGNAL);
}

/// Our side is done writing: close_notify on TLS, then the FIN.
inline void transport_shutdown_write(int fd, TlsSession* tls) {
  if (tls) {
    tls->shutdown_write();
  } else {
    ::shutdown(fd, SHUT_WR);
  }
}

/// More input is decoded and waiting inside the transport (TLS records read ahead).
inline bool transport_pending(const TlsSession* tls) { return tls && tls->pending(); }

/// What a failed read or write left in `error` (errno), as text: OpenSSL's reason on TLS.
inline std::string transport_error(const TlsSession* tls, int error) {
  if (tls && !tls->error().empty()) return tls->error();
  return std::strerror(error);
}

}  // namespace duplex::io
