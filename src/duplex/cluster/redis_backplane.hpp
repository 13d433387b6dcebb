// Several servers (nodes, behind a load balancer say) sharing topics and users through Redis
// pub/sub, so that a publish or a send to users on one node reaches recipients on every node:
//
//   duplex::Server server({.port = 8080});
//   duplex::cluster::RedisBackplane redis(server, {.url = "redis://10.0.0.5:6379"});
//   server.listen();
//   server.run();
//
// Each node publishes what is published on it (Server::publish, /pubsub, SSE's and long polls'
// topics, POST /publish, STOMP /topic SENDs, SockJS sessions) to the Redis channel
// <prefix>topic:<topic>, and a send to users to <prefix>user:<user> for each user; it
// subscribes to such a channel only while it has a recipient of that topic or user, and hands
// what other nodes publish there to its own recipients (and topic histories), never to Redis
// again. A node's own publishes come back from Redis and are skipped (each message carries its
// node's id: channel_envelope.hpp); its own recipients had them at once.
//
// Order: one node's messages go to Redis on one connection, in the order the node gave them
// their sequences (so one publisher's messages to one topic in the order it sent them), and
// Redis hands them to every subscribed node in that order.
//
// A subscription made on a node receives remote publishes once Redis has that node's SUBSCRIBE
// (a round trip), not at once. Socket.IO emits that only Socket.IO sockets take (room emits of
// events other than "message") and Server::broadcast stay on their node for now, and what
// crosses carries a message's payload, not STOMP's headers or content-type.
//
// Faults: while Redis cannot be reached, local delivery goes on, publishes meant for other
// nodes are dropped and counted (stats()), and the node tries again after 100 ms, doubling to
// 5 s, each delay shortened by a random part of up to a half (so that nodes do not come back in
// step); connected again, it subscribes to every channel it needs. Each change is logged once
// through on_log. Past max_buffered bytes waiting for a slow Redis, new publishes are dropped
// and counted too.
//
// The Redis connections (one to publish, one subscribed) live on the server's first loop. Build
// the backplane before Server::run() and destroy it after run() returned, before the Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace duplex {
class Server;
}

namespace duplex::cluster {

namespace detail {
class RedisBroker;
}

struct RedisOptions {
  /// redis://HOST[:PORT][/DB] (port 6379 and database 0 unless given; HOST a name, an IPv4
  /// address or [an IPv6 one]). Pub/sub channels are the same in every database: nodes of
  /// different deployments on one Redis need different channel prefixes.
  std::string url;
  /// Every channel's name starts with it: <prefix>topic:<topic>, <prefix>user:<user>, and
  /// <prefix>node:<id>, which each node subscribes to as long as it is connected.
  std::string channel_prefix = "duplex:";
  /// The first retry's delay after a failure, doubling up to reconnect_max_delay.
  std::chrono::milliseconds reconnect_delay{100};
  std::chrono::milliseconds reconnect_max_delay{5'000};
  /// From the start of an attempt to Redis's first answers on both connections.
  std::chrono::milliseconds connect_timeout{5'000};
  /// Bytes of commands waiting for Redis to take them (past what the kernel's socket buffers
  /// hold); a publish past it is dropped (counted), the newest first, so memory stays bounded
  /// however slow Redis is. on_log gets one line when dropping starts and one, with the count,
  /// once Redis answers again and less than half of it waits (looked at each second).
  size_t max_buffered = 64 * 1024 * 1024;
  /// Each change of the link to Redis, as one line: "redis: connected to 127.0.0.1:6379",
  /// "redis: connection lost (Server closed the connection); retrying", ... Called on the
  /// server's first loop; unset: not reported.
  std::function<void(std::string_view line)> on_log;
};

/// Counts since the backplane was made; readable from any thread.
struct RedisStats {
  bool connected = false;
  uint64_t connections = 0;  // times it connected (1 + reconnections)
  uint64_t published = 0;    // publishes sent to Redis (one per user of a send to users)
  uint64_t dropped = 0;      // publishes not sent: Redis unreachable, or max_buffered reached
  uint64_t unconfirmed = 0;  // sent, but the connection went before Redis acknowledged them
  uint64_t received = 0;     // messages of other nodes delivered here
};

class RedisBackplane {
 public:
  /// Throws std::invalid_argument, saying why, when the URL cannot be read. Connects on the
  /// server's first loop once it runs.
  RedisBackplane(Server& server, RedisOptions options);
  ~RedisBackplane();
  RedisBackplane(const RedisBackplane&) = delete;
  RedisBackplane& operator=(const RedisBackplane&) = delete;

  RedisStats stats() const;
  /// This node's id, as its messages carry it.
  uint64_t node_id() const;

 private:
  Server& server_;
  std::unique_ptr<detail::RedisBroker> broker_;
};

}  // namespace duplex::cluster
