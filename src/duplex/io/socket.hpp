// TCP sockets: listening, accepting, addresses. Thin wrappers that turn errors into exceptions
// carrying the address, so a failed listen says which host and port and why.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace duplex::io {

/// A peer's IPv4 or IPv6 address, kept compact (one per connection).
struct PeerAddress {
  uint8_t family = 0;  // AF_INET or AF_INET6; 0 if unknown
  uint16_t port = 0;
  uint8_t ip[16] = {};

  static PeerAddress from(const sockaddr* sa);
  /// "1.2.3.4" or "::1" (an IPv4-mapped IPv6 address prints as IPv4).
  std::string ip_string() const;
  /// "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
};

/// A non-blocking listening socket bound to host:port (port 0 picks a free one). Host names are
/// resolved here, once, at start-up. Throws std::system_error naming the address.
int listen_tcp(const std::string& host, uint16_t port, int backlog = 1024, bool reuse_port = false);

/// The local port a socket is bound to.
uint16_t local_port(int fd);

/// An address to connect to, as getaddrinfo gives it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string to_string() const { return PeerAddress::from(get()).to_string(); }
};

/// Resolves a host name or literal for a TCP connection. Blocks for names (run it through
/// EventLoop::offload); numeric hosts return at once. On failure returns nothing and sets `error`.
std::vector<SocketAddress> resolve_tcp(const std::string& host, uint16_t port, std::string& error);

/// True when `host` is an IPv4 or IPv6 literal (resolving it cannot block).
bool is_numeric_host(const std::string& host);

/// Starts a non-blocking connect with TCP_NODELAY, from `source` when given (its port is
/// ignored: the kernel picks one); returns the socket, or -1 with errno set. Completion shows as
/// writability; connect_error() then tells the outcome.
int connect_tcp(const SocketAddress& address, const SocketAddress* source = nullptr);

/// 0 when a non-blocking connect succeeded, else its errno.
int connect_error(int fd);

/// Accepts one connection as a non-blocking socket with TCP_NODELAY; -1 when none is pending
/// (errno tells why).
int accept_tcp(int listen_fd, PeerAddress& peer);

}  // namespace duplex::io
