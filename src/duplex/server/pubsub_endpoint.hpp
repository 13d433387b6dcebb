// The /pubsub JSON protocol (docs/pubsub-protocol.md) as a ready endpoint: clients subscribe,
// unsubscribe and publish with small JSON messages, across every loop of the server.
//
//   duplex::Server server({.port = 8080, .threads = 0});
//   server.endpoint("/pubsub", duplex::pubsub_endpoint(server));
//
// Server code reaches the same subscribers with Server::publish(prefix + topic,
// core::pubsub::delivery(topic, json)) (duplex/core/pubsub/pubsub_protocol.hpp).
#pragma once

#include <string>

#include "duplex/server/endpoint.hpp"

namespace duplex {

class Server;

struct PubSubOptions {
  /// Put before every topic a client names, so that the protocol's topics live apart from the
  /// ones the application uses for itself (a client can reach no topic outside the prefix).
  std::string topic_prefix;
};

/// `base` with its on_message replaced by the protocol; its limits and other handlers stay
/// (per-message-deflate, origins, on_upgrade, on_close...). Binary messages and messages that
/// break the protocol are answered with {"type":"error","reason":...} and the connection stays
/// open. `server` must outlive the endpoint.
EndpointConfig pubsub_endpoint(Server& server, EndpointConfig base = {},
                               PubSubOptions options = {});

}  // namespace duplex
