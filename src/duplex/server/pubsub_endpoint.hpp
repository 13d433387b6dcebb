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
#include "duplex/server/http_exchange.hpp"

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

/// Publishing over plain HTTP (the "separate Ajax request" that goes with Server-Sent Events):
/// `POST <route>?topic=news` with the body as the data (one JSON value is sent as it is, any
/// other text as a JSON string) reaches every subscriber of the topic, as a /pubsub publish
/// does; answered 204. A missing, empty or too long topic, a body that is not UTF-8 or is nested
/// too deep is answered 400 with the reason, another method 405, a page of an origin that is
/// neither the server's own nor granted by the route's CORS policy 403 (HttpExchange::
/// origin_may_act: a form's cross-origin POST needs no preflight).
HttpHandler pubsub_publish_handler(Server& server, PubSubOptions options = {});

}  // namespace duplex
