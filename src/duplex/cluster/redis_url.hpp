// Internal: where the Redis server is, read from a URL in the form redis-cli and most Redis
// clients take: redis://HOST[:PORT][/DB], HOST a name, an IPv4 address or [an IPv6 one], PORT
// 6379 and DB 0 unless given. Passwords, TLS (rediss://) and Unix sockets are not taken yet, and
// are refused with a reason rather than ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::cluster::detail {

struct RedisAddress {
  std::string host;  // as written, without an IPv6 address's brackets
  uint16_t port = 6379;
  uint32_t db = 0;

  /// HOST:PORT ([HOST]:PORT for an IPv6 address), as the log lines name the server.
  std::string to_string() const;
};

/// The address, or nullopt with `error` saying what is wrong.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error);

}  // namespace duplex::cluster::detail
