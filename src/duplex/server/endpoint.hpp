// A WebSocket endpoint: the path it answers on, its limits and handlers (EndpointConfig), and the
// connections it holds, with broadcast to all of them (like iterating Node's `wss.clients`).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/permessage_deflate.hpp"
#include "duplex/server/upgrade_request.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex {

using core::DeflateMode;
using core::DeflateOptions;

namespace detail {
class Connection;
class EndpointDeflate;
class ServerCore;
}  // namespace detail

struct EndpointConfig {
  /// Largest message accepted, all fragments together; a larger one closes with 1009.
  uint64_t max_payload = 16 * 1024 * 1024;
  /// A connection silent this long is closed with 1001; zero disables.
  std::chrono::milliseconds idle_timeout{120'000};
  /// A ping is sent after this much silence, so live peers answer before idle_timeout; zero
  /// disables.
  std::chrono::milliseconds ping_interval{0};
  /// Bytes a connection may have queued for sending (not yet taken by the kernel) before it is
  /// closed as a slow reader; a single larger message is still sent when the queue is empty.
  size_t max_backpressure = 16 * 1024 * 1024;
  /// Origins allowed to connect (exact match, e.g. "https://example.com"); empty allows every
  /// origin, as browsers expect from a public endpoint. Others are refused with 403.
  std::vector<std::string> allowed_origins;
  /// Subprotocols this endpoint speaks. The first one the client offers (in the client's order)
  /// is chosen; if none matches, the upgrade proceeds without a subprotocol.
  std::vector<std::string> protocols;
  /// permessage-deflate (RFC 7692), off unless `enabled`. Offers are accepted in the client's
  /// order; messages of at least `threshold` bytes are sent compressed, received ones are
  /// inflated up to max_payload (more closes with 1009, corrupt data with 1007). DeflateMode
  /// picks memory against ratio: `dedicated` codecs per connection keep context between messages,
  /// `shared` ones (negotiating no context takeover both ways) cost nothing per connection.
  DeflateOptions per_message_deflate;

  /// Before accepting: inspect the request, reject it, pick the subprotocol, attach data.
  std::function<void(UpgradeRequest&)> on_upgrade;
  std::function<void(WebSocket&)> on_open;
  /// A complete message. The view is valid during the call only (it points into the receive
  /// buffer); copy what must outlive it.
  std::function<void(WebSocket&, std::string_view message, MessageType type)> on_message;
  /// Pings are answered automatically; this only observes them.
  std::function<void(WebSocket&, std::string_view payload)> on_ping;
  std::function<void(WebSocket&, std::string_view payload)> on_pong;
  /// The send queue emptied after the kernel had pushed back.
  std::function<void(WebSocket&)> on_drain;
  /// Called once per opened connection: the peer's close code and reason, the code we failed
  /// the connection with (1002, 1007, 1009), or 1006 when it ended without a close frame.
  std::function<void(WebSocket&, uint16_t code, std::string_view reason)> on_close;
};

class Endpoint {
 public:
  Endpoint(std::string path, EndpointConfig config);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const std::string& path() const { return path_; }
  const EndpointConfig& config() const { return config_; }
  size_t connection_count() const { return count_; }
  /// Calls `fn` for every open connection.
  void for_each(const std::function<void(WebSocket&)>& fn);
  /// Sends one message to every open connection, framed once; `except` (the sender, say) is
  /// skipped. With permessage-deflate, connections without context takeover share one
  /// compressed copy (one per window size); those with takeover compress it with their own
  /// context. Returns how many connections it was queued to.
  size_t broadcast(std::string_view message, MessageType type = MessageType::text,
                   const WebSocket* except = nullptr);

 private:
  friend class detail::Connection;
  friend class detail::ServerCore;
  std::string path_;
  EndpointConfig config_;
  std::unique_ptr<detail::EndpointDeflate> deflate_;  // when per_message_deflate is enabled
  detail::Connection* head_ = nullptr;                // intrusive list of open connections
  size_t count_ = 0;
};

}  // namespace duplex
