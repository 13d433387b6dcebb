#include "duplex/cluster/redis_url.hpp"

namespace duplex::cluster::detail {

namespace {

// A decimal of digits only, at most `max`.
template <class T>
bool read_decimal(std::string_view text, T max, T& out) {
  if (text.empty() || text.size() > 10) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > max) return false;
  out = static_cast<T>(value);
  return true;
}

std::optional<RedisAddress> refuse(std::string& error, std::string reason) {
  error = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::string RedisAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "redis://";
  if (url.starts_with("rediss://")) return refuse(error, "TLS (rediss://) is not supported");
  if (url.starts_with("unix://")) return refuse(error, "Unix sockets are not supported");
  if (!url.starts_with(kScheme)) return refuse(error, "the URL must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  const size_t path_at = rest.find('/');
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at + 1);
  if (authority.find('@') != std::string_view::npos) {
    return refuse(error, "user names and passwords are not supported");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return refuse(error, "query strings and fragments are not supported");
  }
  RedisAddress address;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return refuse(error, "an IPv6 address lacks its ']'");
    address.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) {
      return refuse(error, "only :PORT may follow the host");
    }
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    if (address.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return refuse(error, "not an IPv6 address between [ and ]");
    }
  } else {
    const size_t colon = authority.find(':');
    address.host = std::string(authority.substr(0, colon));
    has_port = colon != std::string_view::npos;
    if (has_port) port = authority.substr(colon + 1);
  }
  if (address.host.empty()) return refuse(error, "the URL names no host");
  if (address.host.find_first_of(" \t\r\n%") != std::string::npos) {
    return refuse(error, "the host holds characters a host name cannot");
  }
  if (has_port && !read_decimal<uint16_t>(port, 65535, address.port)) {
    return refuse(error, "the port must be a number from 1 to 65535");
  }
  if (address.port == 0) return refuse(error, "the port must be a number from 1 to 65535");
  if (!path.empty() && !read_decimal<uint32_t>(path, 2147483647u, address.db)) {
    return refuse(error, "the database (after the host's '/') must be a number");
  }
  return address;
}

}  // namespace duplex::cluster::detail
