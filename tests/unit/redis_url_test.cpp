// redis://HOST[:PORT][/DB] as `duplex serve --redis` and RedisOptions::url take it: defaults,
// IPv6 in brackets, and every refusal with its reason.
#include "duplex/cluster/redis_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duplex::cluster::detail {
namespace {

struct Parsed {
  std::string host;
  uint16_t port;
  uint32_t db;
  bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Parsed& p) {
  return out << p.host << " " << p.port << " " << p.db;
}

Parsed parsed(std::string_view url) {
  std::string error;
  const auto address = parse_redis_url(url, error);
  EXPECT_TRUE(address.has_value()) << url << ": " << error;
  if (!address) return {};
  EXPECT_EQ(error, "");
  return {address->host, address->port, address->db};
}

std::string refusal(std::string_view url) {
  std::string error;
  EXPECT_FALSE(parse_redis_url(url, error).has_value()) << url;
  return error;
}

TEST(RedisUrl, HostPortAndDatabase) {
  EXPECT_EQ(parsed("redis://127.0.0.1:6380/3"), (Parsed{"127.0.0.1", 6380, 3}));
  EXPECT_EQ(parsed("redis://localhost"), (Parsed{"localhost", 6379, 0}));
  EXPECT_EQ(parsed("redis://localhost/"), (Parsed{"localhost", 6379, 0}));
  EXPECT_EQ(parsed("redis://redis.internal:1/15"), (Parsed{"redis.internal", 1, 15}));
  EXPECT_EQ(parsed("redis://10.0.0.5:65535"), (Parsed{"10.0.0.5", 65535, 0}));
  EXPECT_EQ(parsed("redis://[::1]:7000/2"), (Parsed{"::1", 7000, 2}));
  EXPECT_EQ(parsed("redis://[::1]"), (Parsed{"::1", 6379, 0}));
  EXPECT_EQ(parsed("redis://h/2147483647"), (Parsed{"h", 6379, 2147483647}));
}

TEST(RedisUrl, NamesTheServerForLogs) {
  std::string error;
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:6380/3", error)->to_string(), "127.0.0.1:6380");
  EXPECT_EQ(parse_redis_url("redis://[fe80::1]", error)->to_string(), "[fe80::1]:6379");
}

TEST(RedisUrl, RefusesWithAReason) {
  EXPECT_EQ(refusal("localhost:6379"), "the URL must start with redis://");
  EXPECT_EQ(refusal("http://localhost"), "the URL must start with redis://");
  EXPECT_EQ(refusal("rediss://localhost"), "TLS (rediss://) is not supported");
  EXPECT_EQ(refusal("unix:///tmp/redis.sock"), "Unix sockets are not supported");
  EXPECT_EQ(refusal("redis://:secret@localhost"), "user names and passwords are not supported");
  EXPECT_EQ(refusal("redis://localhost?db=1"), "query strings and fragments are not supported");
  EXPECT_EQ(refusal("redis://"), "the URL names no host");
  EXPECT_EQ(refusal("redis://:6379"), "the URL names no host");
  EXPECT_EQ(refusal("redis://[]:6379"), "the URL names no host");
  EXPECT_EQ(refusal("redis://[::1"), "an IPv6 address lacks its ']'");
  EXPECT_EQ(refusal("redis://[::1]x"), "only :PORT may follow the host");
  EXPECT_EQ(refusal("redis://[host]"), "not an IPv6 address between [ and ]");
  EXPECT_EQ(refusal("redis://a b"), "the host holds characters a host name cannot");
  for (const char* port : {"", "0", "65536", "99999999999", "-1", "+1", "1x", " 1"}) {
    EXPECT_EQ(refusal(std::string("redis://localhost:") + port),
              "the port must be a number from 1 to 65535")
        << port;
  }
  for (const char* db : {"x", "-1", "2147483648", "1/2", "01x"}) {
    EXPECT_EQ(refusal(std::string("redis://localhost/") + db),
              "the database (after the host's '/') must be a number")
        << db;
  }
}

}  // namespace
}  // namespace duplex::cluster::detail
