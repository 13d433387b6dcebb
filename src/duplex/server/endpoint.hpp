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

#include "duplex/core/ws/permessage_deflate.hpp"
#include "duplex/server/upgrade_request.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex {

using core::DeflateMode;
using core::DeflateOptions;

namespace detail {
class Connection;
struct EndpointLocal;
class ServerCore;
struct ServerShared;
}  // namespace detail

/// What happens to a message that would take a connection's non-empty send queue past
/// max_backpressure (a slow reader).
enum class SlowConsumerPolicy {
  /// The connection is closed with 1008 "send queue over max_backpressure": on_close reports
  /// it at once, and the close frame goes out behind what is already queued.
  close,
  /// The message is not sent to that connection and is reported to on_dropped; the
  /// connection stays open and gets later messages once its queue has room.
  drop,
};

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
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::close;
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
  /// A message not sent to a slow reader (SlowConsumerPolicy::drop). A send from here to the
  /// same connection that does not fit is dropped without another report.
  std::function<void(WebSocket&, std::string_view message, MessageType type)> on_dropped;
  /// Called once per opened connection: the peer's close code and reason, the code we failed
  /// the connection with (1002, 1007, 1009), or 1006 when it ended without a close frame.
  std::function<void(WebSocket&, uint16_t code, std::string_view reason)> on_close;
};

class Endpoint {
 public:
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const std::string& path() const { return path_; }
  const EndpointConfig& config() const { return config_; }
  /// Open connections, on every thread.
  size_t connection_count() const;
  /// Calls `fn` for every open connection of the calling thread's loop (with one thread, the
  /// default, every open connection). Call it on a loop's thread.
  void for_each(const std::function<void(WebSocket&)>& fn);
  /// Sends one message to every open connection on every thread, framed once; `except` (the
  /// sender, say) is skipped. With permessage-deflate, connections without context takeover
  /// share one compressed copy per loop and window size; those with takeover compress it with
  /// their own context. Callable from any thread. Returns how many connections it was queued
  /// to on the calling loop; other loops queue it to theirs when they wake.
  size_t broadcast(std::string_view message, MessageType type = MessageType::text,
                   const WebSocket* except = nullptr);

 private:
  friend class Server;
  friend class detail::Connection;
  friend class detail::ServerCore;
  Endpoint(std::string path, EndpointConfig config, detail::ServerShared& shared, size_t loops);
  detail::EndpointLocal& local(size_t loop) { return *locals_[loop]; }

  std::string path_;
  EndpointConfig config_;
  detail::ServerShared& shared_;
  // Per loop: the open connections (an intrusive list), their count and the shared deflate
  // codecs; each is touched by its own loop only.
  std::vector<std::unique_ptr<detail::EndpointLocal>> locals_;
};

}  // namespace duplex
