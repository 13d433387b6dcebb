#include "duplex/server/endpoint.hpp"

#include "duplex/core/sender.hpp"
#include "duplex/server/connection.hpp"

namespace duplex {

Endpoint::Endpoint(std::string path, EndpointConfig config)
    : path_(std::move(path)), config_(std::move(config)) {}

Endpoint::~Endpoint() = default;

void Endpoint::for_each(const std::function<void(WebSocket&)>& fn) {
  for (detail::Connection* c = head_; c;) {
    detail::Connection* next = c->next;  // fn may close c
    fn(*c);
    c = next;
  }
}

size_t Endpoint::broadcast(std::string_view message, MessageType type, const WebSocket* except) {
  std::string frame;
  core::append_frame(frame, static_cast<core::Opcode>(type), message);
  size_t sent = 0;
  for (detail::Connection* c = head_; c;) {
    detail::Connection* next = c->next;  // a slow reader may be closed on the way
    if (c != except && c->send_frame(frame)) ++sent;
    c = next;
  }
  return sent;
}

}  // namespace duplex
