#include "duplex/server/stomp_server.hpp"

#include <stdexcept>

#include "duplex/server/protocols/stomp/stomp_connection.hpp"
#include "duplex/server/server_access.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::stomp {

namespace {
using Held = std::shared_ptr<detail::ConnectionImpl>;
}  // namespace

Broker::Broker(duplex::Server& server, Options options)
    : shared_(std::make_shared<detail::Shared>(std::move(options))) {
  if (shared_->options.path.empty() || shared_->options.path.front() != '/') {
    throw std::invalid_argument("stomp: the path must start with '/'");
  }
  shared_->hub = &::duplex::detail::ServerAccess::hub(server);
  EndpointConfig config;
  config.protocols = {"v12.stomp", "v11.stomp", "v10.stomp"};
  // Several frames of max_frame may come in one message.
  config.max_payload = std::max<uint64_t>(config.max_payload, 2 * shared_->options.max_frame);
  config.idle_timeout = std::chrono::milliseconds(0);  // STOMP's heart-beats judge silence
  config.on_open = [shared = shared_](WebSocket& ws) {
    ws.user_data() = std::make_shared<detail::ConnectionImpl>(*shared, ws);
  };
  config.on_message = [](WebSocket& ws, std::string_view message, MessageType) {
    Held connection = ws.data<Held>();  // kept alive through what the frames do
    connection->receive(message);
  };
  config.on_close = [](WebSocket& ws, uint16_t, std::string_view) {
    Held connection = std::move(ws.data<Held>());
    if (connection) connection->transport_closed();
  };
  server.endpoint(shared_->options.path, std::move(config));
  if (shared_->options.sockjs) {
    sockjs::Options o = *shared_->options.sockjs;
    o.on_open = [shared = shared_](sockjs::Session& session) {
      session.user_data() = std::make_shared<detail::ConnectionImpl>(*shared, session);
    };
    o.on_message = [](sockjs::Session& session, std::string_view message) {
      Held connection = session.data<Held>();
      connection->receive(message);
    };
    o.on_close = [](sockjs::Session& session, uint16_t, std::string_view) {
      Held connection = std::move(session.data<Held>());
      if (connection) connection->transport_closed();
    };
    sockjs_ = std::make_unique<sockjs::Service>(server, std::move(o));
  }
}

Broker::~Broker() = default;

bool Broker::send(std::string_view destination, std::string_view body,
                  std::vector<std::pair<std::string, std::string>> headers,
                  std::string_view content_type) {
  return shared_->send(destination, body, std::move(headers), content_type) ==
         detail::SendResult::sent;
}

size_t Broker::connection_count() const { return shared_->live.load(std::memory_order_relaxed); }

const Options& Broker::options() const { return shared_->options; }

}  // namespace duplex::stomp
