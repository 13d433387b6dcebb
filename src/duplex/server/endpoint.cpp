#include "duplex/server/endpoint.hpp"

#include "duplex/server/connection.hpp"
#include "duplex/server/deflate_session.hpp"

namespace duplex {

Endpoint::Endpoint(std::string path, EndpointConfig config)
    : path_(std::move(path)), config_(std::move(config)) {
  core::validate_deflate_options(config_.per_message_deflate);
  if (config_.per_message_deflate.enabled) {
    deflate_ = std::make_unique<detail::EndpointDeflate>(config_.per_message_deflate);
  }
}

Endpoint::~Endpoint() = default;

void Endpoint::for_each(const std::function<void(WebSocket&)>& fn) {
  for (detail::Connection* c = head_; c;) {
    detail::Connection* next = c->next;  // fn may close c
    fn(*c);
    c = next;
  }
}

size_t Endpoint::broadcast(std::string_view message, MessageType type, const WebSocket* except) {
  detail::BroadcastFrames frames(message, type, deflate_.get());
  size_t sent = 0;
  for (detail::Connection* c = head_; c;) {
    detail::Connection* next = c->next;  // a slow reader may be closed on the way
    if (c != except && c->send_broadcast(frames)) ++sent;
    c = next;
  }
  return sent;
}

}  // namespace duplex
