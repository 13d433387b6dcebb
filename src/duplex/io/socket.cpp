#include "duplex/io/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace duplex::io {

PeerAddress PeerAddress::from(const sockaddr* sa) {
  PeerAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    a.family = AF_INET;
    a.port = ntohs(in->sin_port);
    std::memcpy(a.ip, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    a.family = AF_INET6;
    a.port = ntohs(in6->sin6_port);
    std::memcpy(a.ip, &in6->sin6_addr, 16);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      a.family = AF_INET;
      std::memmove(a.ip, a.ip + 12, 4);
    }
  }
  return a;
}

std::string PeerAddress::ip_string() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (family == AF_INET || family == AF_INET6) inet_ntop(family, ip, text, sizeof text);
  return text;
}

std::string PeerAddress::to_string() const {
  // Appended piece by piece: GCC 12 warns (-Wrestrict) on the chained operator+ form.
  std::string text;
  if (family == AF_INET6) text += '[';
  text += ip_string();
  if (family == AF_INET6) text += ']';
  text += ':';
  text += std::to_string(port);
  return text;
}

int listen_tcp(const std::string& host, uint16_t port, int backlog, bool reuse_port) {
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list)) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "cannot resolve " + host + ": " + gai_strerror(rc));
  }
  int last_errno = EADDRNOTAVAIL;
  int fd = -1;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) break;
    last_errno = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  if (fd < 0)
    throw std::system_error(last_errno, std::generic_category(), "cannot listen on " + where);
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  return PeerAddress::from(reinterpret_cast<sockaddr*>(&ss)).port;
}

bool is_numeric_host(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::vector<SocketAddress> resolve_tcp(const std::string& host, uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (is_numeric_host(host) ? AI_NUMERICHOST : AI_ADDRCONFIG);
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  std::vector<SocketAddress> out;
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list)) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(list);
  if (out.empty()) error = "no address for " + host;
  return out;
}

int connect_tcp(const SocketAddress& address, const SocketAddress* source) {
  const int fd = socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source) {
    // The port is picked at connect time, so one source address serves many destinations.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  }
  if ((source && bind(fd, source->get(), source->length) < 0) ||
      (connect(fd, address.get(), address.length) < 0 && errno != EINPROGRESS)) {
    const int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int connect_error(int fd) {
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) return errno;
  return error;
}

int accept_tcp(int listen_fd, PeerAddress& peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int fd =
      accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  peer = PeerAddress::from(reinterpret_cast<sockaddr*>(&ss));
  return fd;
}

}  // namespace duplex::io
