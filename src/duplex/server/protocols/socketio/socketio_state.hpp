// Internal: what the Socket.IO layer shares across loops: the server's options and namespaces,
// and each namespace's middleware, handlers and connected sockets (for queries and emits to a
// socket id from any thread). Sockets and clients themselves live on their loop
// (socketio_socket.hpp, socketio_client.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/server/protocols/random_id.hpp"
#include "duplex/server/protocols/socketio/recovery_log.hpp"
#include "duplex/server/socketio_server.hpp"

namespace duplex::detail {
class PubSubHub;
}

namespace duplex::socketio::detail {

class SocketImpl;
struct ServerState;

/// The topic of room `room` of namespace `nsp`: Options::pubsub_prefix + the room's name in the
/// default namespace (shared with /pubsub and SSE), "socket.io:<nsp>#<room>" in others.
std::string room_topic(const ServerState& server, std::string_view nsp, std::string_view room);
/// The topic every socket of the namespace follows (emits to the whole namespace).
std::string namespace_topic(std::string_view nsp);

class NamespaceImpl : public std::enable_shared_from_this<NamespaceImpl> {
 public:
  NamespaceImpl(ServerState& server, std::string name);

  ServerState& server() const { return server_; }
  const std::string& name() const { return name_; }

  // Set before the server runs (or by a dynamic namespace's setup, before its first socket).
  std::vector<Middleware> middlewares;
  std::vector<std::function<void(Socket&)>> connection_handlers;

  /// Ack ids for emits with an acknowledgement, counted per namespace as the reference does.
  uint64_t next_ack_id() { return ack_ids_.fetch_add(1, std::memory_order_relaxed); }

  void add(const std::shared_ptr<SocketImpl>& socket);
  void remove(const std::string& id);
  std::shared_ptr<SocketImpl> find(std::string_view id) const;
  std::vector<std::shared_ptr<SocketImpl>> sockets() const;
  size_t socket_count() const;

  /// Connection state recovery's log and saved sessions (Options::connection_state_recovery).
  RecoveryLog recovery;

 private:
  ServerState& server_;
  std::string name_;
  std::atomic<uint64_t> ack_ids_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<SocketImpl>> sockets_;
};

struct ServerState {
  Options options;
  ::duplex::detail::PubSubHub* hub = nullptr;
  std::unique_ptr<engineio::Server> engine;

  std::mutex mutex;  // guards the namespaces
  std::unordered_map<std::string, std::shared_ptr<NamespaceImpl>> namespaces;
  struct Dynamic {
    std::function<bool(std::string_view, const Json&)> match;
    std::function<void(Namespace)> setup;
  };
  std::vector<Dynamic> dynamic;

  // Emits' ids (SocketIoPacket::id), from a random start so that ids of different servers do not
  // meet: a server sharing rooms through Redis gets other servers' emits with their ids.
  std::atomic<uint64_t> packet_ids{::duplex::detail::random_number() | 1};

  std::shared_ptr<NamespaceImpl> of(std::string_view name);
  /// The namespace a client asks for: an existing one, or one a dynamic match makes; null when
  /// none exists (the client gets "Invalid namespace").
  std::shared_ptr<NamespaceImpl> lookup(std::string_view name, const Json& auth);
};

}  // namespace duplex::socketio::detail
