// Internal: what protocols built into the library (Socket.IO) reach behind duplex::Server.
#pragma once

#include "duplex/server/server_core.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::detail {

struct ServerAccess {
  static PubSubHub& hub(Server& server) { return server.shared_->hub; }
};

}  // namespace duplex::detail
