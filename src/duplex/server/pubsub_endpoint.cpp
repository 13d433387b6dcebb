#include "duplex/server/pubsub_endpoint.hpp"

#include <utility>
#include <variant>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {

namespace pubsub = core::pubsub;

namespace {

void run_command(Server& server, const std::string& prefix, WebSocket& ws,
                 const pubsub::Command& command) {
  const std::string topic = prefix + command.topic;
  switch (command.type) {
    case pubsub::CommandType::subscribe:
      // Subscribing again is answered the same; only a new topic counts against the limit.
      if (!ws.is_subscribed(topic) && ws.topic_count() >= pubsub::kMaxTopicsPerConnection) {
        ws.send(pubsub::error_message(pubsub::reason::kTooManyTopics));
        return;
      }
      ws.subscribe(topic);
      break;
    case pubsub::CommandType::unsubscribe:
      ws.unsubscribe(topic);
      break;
    case pubsub::CommandType::publish: {
      const std::string message = pubsub::delivery(command.topic, command.data);
      if (command.exclude_self) {
        ws.publish(topic, message);
      } else {
        server.publish(topic, message);
      }
      return;  // no answer
    }
  }
  ws.send(pubsub::answer(command.type, command.topic));
}

}  // namespace

EndpointConfig pubsub_endpoint(Server& server, EndpointConfig base, PubSubOptions options) {
  base.on_message = [&server, prefix = std::move(options.topic_prefix)](
                        WebSocket& ws, std::string_view message, MessageType type) {
    if (type == MessageType::binary) {
      ws.send(pubsub::error_message(pubsub::reason::kBinary));
      return;
    }
    const auto parsed = pubsub::parse_command(message);
    if (const auto* error = std::get_if<pubsub::Error>(&parsed)) {
      ws.send(pubsub::error_message(error->reason));
      return;
    }
    run_command(server, prefix, ws, std::get<pubsub::Command>(parsed));
  };
  return base;
}

HttpHandler pubsub_publish_handler(Server& server, PubSubOptions options) {
  return [&server, prefix = std::move(options.topic_prefix)](HttpExchange& ex) {
    const auto refuse = [&](std::string_view reason) {
      ex.respond(400, std::string(reason) + "\n");
    };
    if (ex.method() != "POST") {
      return ex.respond(405, "publish with POST\n", "text/plain; charset=utf-8",
                        {{"Allow", "POST"}});
    }
    if (!ex.origin_may_act()) return ex.respond(403, "origin not allowed\n");
    const auto topic = core::query_parameter(ex.query(), "topic");
    if (!topic) return refuse(pubsub::reason::kMissingTopic);
    if (const auto problem = pubsub::topic_problem(*topic); !problem.empty())
      return refuse(problem);
    if (!core::is_valid_utf8(ex.body())) return refuse("body is not UTF-8");
    auto data = pubsub::data_from_text(ex.body());
    if (const auto* error = std::get_if<pubsub::Error>(&data)) return refuse(error->reason);
    server.publish(prefix + *topic, pubsub::delivery(*topic, std::get<std::string>(data)));
    ex.respond(204);
  };
}

}  // namespace duplex
