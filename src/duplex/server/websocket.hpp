// A server-side WebSocket connection, as handed to an endpoint's handlers. Mirrors the parts of
// Node's `ws` WebSocket that a server uses: send, ping, close, terminate, bufferedAmount.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/ws/close_handshake.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/io/socket.hpp"

namespace duplex {

using core::MessageType;
using core::ReadyState;
class Endpoint;

class WebSocket {
 public:
  /// Queues a message; queued data goes out in one write at the end of the loop iteration.
  /// Text must be UTF-8. Returns false, sending nothing, when the connection is not open.
  /// A message always fits an empty queue; one that would take a non-empty queue past the
  /// endpoint's max_backpressure meets its slow_consumer policy instead (the connection closed
  /// with 1008, or the message dropped and reported to on_dropped), so one slow reader cannot
  /// grow memory without bound.
  bool send(std::string_view message, MessageType type = MessageType::text);
  bool send_binary(std::string_view message) { return send(message, MessageType::binary); }
  /// Sends a ping (payload at most 125 bytes, else std::invalid_argument).
  bool ping(std::string_view payload = {});
  /// Starts the closing handshake. `code` must be one a peer may receive (1000-1003,
  /// 1007-1014, 3000-4999) and `reason` at most 123 bytes of UTF-8, else std::invalid_argument.
  /// The connection closes when the peer answers, or after the server's close timeout.
  void close(uint16_t code = 1000, std::string_view reason = {});
  /// Drops the connection at once, without a closing handshake.
  void terminate();

  /// Bytes queued but not yet accepted by the kernel.
  size_t buffered_amount() const;
  ReadyState ready_state() const;
  /// The subprotocol chosen at upgrade, or empty.
  std::string_view protocol() const;
  const io::PeerAddress& remote_address() const;
  Endpoint& endpoint() const;

  // Publish/subscribe (see Server::publish). Subscriptions end when the connection closes.

  /// Subscribes to `topic` (any non-empty name); false if it already was, if the name is
  /// empty, or if the connection is not open (closing included).
  bool subscribe(std::string_view topic);
  /// False if it was not subscribed.
  bool unsubscribe(std::string_view topic);
  bool is_subscribed(std::string_view topic) const;
  /// The topics subscribed, in the order they were subscribed.
  std::vector<std::string> topics() const;
  /// How many topics are subscribed (without copying their names).
  size_t topic_count() const;
  /// Sends to every subscriber of `topic` but this connection, on every loop.
  void publish(std::string_view topic, std::string_view message,
               MessageType type = MessageType::text);
  /// Rooms read like Socket.IO's: joining a room is subscribing to it.
  bool join(std::string_view room) { return subscribe(room); }
  bool leave(std::string_view room) { return unsubscribe(room); }
  /// The user id bound at upgrade (UpgradeRequest::set_user_id), or empty.
  std::string_view user_id() const;

  /// Per-connection data set at upgrade (UpgradeRequest::set_user_data) or later.
  std::any& user_data();
  template <class T>
  T& data() {
    return std::any_cast<T&>(user_data());
  }

 protected:
  WebSocket() = default;
  ~WebSocket() = default;
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;
};

}  // namespace duplex
