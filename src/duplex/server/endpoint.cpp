#include "duplex/server/endpoint.hpp"

#include <vector>

#include "duplex/server/connection.hpp"
#include "duplex/server/endpoint_local.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex {

void detail::EndpointLocal::snapshot(std::vector<Connection*>& out) const {
  for (Connection* c = head; c; c = c->next) out.push_back(c);
}

Endpoint::Endpoint(std::string path, EndpointConfig config, detail::ServerShared& shared,
                   size_t loops)
    : path_(std::move(path)), config_(std::move(config)), shared_(shared) {
  core::validate_deflate_options(config_.per_message_deflate);
  for (size_t i = 0; i < loops; ++i) {
    auto local = std::make_unique<detail::EndpointLocal>();
    if (config_.per_message_deflate.enabled) {
      local->deflate = std::make_unique<detail::EndpointDeflate>(config_.per_message_deflate);
    }
    locals_.push_back(std::move(local));
  }
}

Endpoint::~Endpoint() = default;

size_t Endpoint::connection_count() const {
  size_t total = 0;
  for (const auto& local : locals_) total += local->count.load(std::memory_order_relaxed);
  return total;
}

void Endpoint::for_each(const std::function<void(WebSocket&)>& fn) {
  const detail::ServerCore* here = detail::ServerCore::current();
  // Those that left while fn ran are not visited.
  std::vector<detail::Connection*> open;
  local(here ? here->index() : 0).snapshot(open);
  for (detail::Connection* c : open) {
    if (c->listed()) fn(*c);
  }
}

size_t Endpoint::broadcast(std::string_view message, MessageType type, const WebSocket* except) {
  return shared_.broadcast(this, message, type, detail::Connection::skip_connection(except));
}

}  // namespace duplex
