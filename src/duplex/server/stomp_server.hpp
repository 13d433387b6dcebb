// A STOMP 1.2 broker (with 1.0 and 1.1 clients accepted), reached over WebSocket with the
// subprotocols v12.stomp, v11.stomp and v10.stomp, as @stomp/stompjs and every STOMP-over-
// WebSocket client speaks it, and over SockJS (Spring's `withSockJS()` endpoints, stompjs with
// a sockjs-client factory) when Options::sockjs is set:
//
//   duplex::Server server({.port = 8080});
//   duplex::stomp::Broker broker(server, {.path = "/stomp"});
//   server.listen();
//   server.run();
//
// Destinations:
// - `/topic/<name>` is publish/subscribe: every subscriber gets every message. It is the
//   server's topic `topic_prefix + name`, so a message published to that topic through any
//   protocol (Server::publish, /pubsub, SSE's publishers, Socket.IO, SockJS) reaches STOMP
//   subscribers, and a STOMP SEND reaches that topic's subscribers of every protocol.
// - `/queue/<name>` is point-to-point: each message goes to one subscriber (in turns over those
//   with room under their prefetch-count), and is kept, up to the queue's bounds, while nobody
//   is subscribed. A message that was not acknowledged (NACK, or its subscriber left) goes to
//   the next subscriber with `redelivered:true`.
// - `/user/<user>/<name>` reaches the subscribers of `/user/<name>` that are connections of
//   <user> (the user id on_connect bound, else the connection's session id).
// Any other destination is refused with an ERROR frame.
//
// A connection lives on the loop that accepted it: its handlers run on that loop's thread. A
// queue lives on one loop (chosen by its name) and reaches subscribers on the others through
// their loops. Build the broker before the server runs and keep the Server alive longer.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/io/socket.hpp"
#include "duplex/server/sockjs_server.hpp"

namespace duplex {

class Server;

namespace stomp {

namespace detail {
struct Shared;
class ConnectionImpl;
}  // namespace detail

class Connection;

/// A CONNECT (or STOMP) frame's credentials, handed to Options::on_connect.
struct ConnectRequest {
  std::optional<std::string_view> login;
  std::optional<std::string_view> passcode;
  std::optional<std::string_view> host;
  /// Binds the connection to a user (Server::send_to_users reaches it).
  std::string user_id;
};

/// What a client asks to do with a destination, for Options::authorize.
enum class Access : uint8_t { subscribe, send };

struct Options {
  /// The WebSocket path the broker answers on.
  std::string path = "/stomp";
  /// Also over SockJS: a sockjs::Service with these options (its prefix, delays and limits; the
  /// handlers are the broker's). SockJS carries text only: a MESSAGE whose body is not UTF-8
  /// does not reach a SockJS client (a queue's is settled as delivered).
  std::optional<sockjs::Options> sockjs;
  /// Put before a /topic/ destination's name to make the server topic it is.
  std::string topic_prefix;
  /// Publish a SEND to /topic/<name> to the server's topic as a /pubsub delivery
  /// ({"type":"message","topic":"<name>","data":<the body as one JSON value>}), so /pubsub, SSE
  /// and long-poll clients of the same topics read it as their own. STOMP subscribers always get
  /// the body and headers as sent, and a /pubsub delivery's data as a message's body.
  bool publish_as_pubsub = false;
  /// The heart-beats the broker offers (CONNECTED's heart-beat is negotiated from these and the
  /// client's): it sends at most this often and wants to hear from the client this often.
  std::chrono::milliseconds heart_beat_send{10'000};
  std::chrono::milliseconds heart_beat_receive{10'000};
  /// Added to the negotiated receive interval before a silent client is dropped.
  std::chrono::milliseconds heart_beat_grace{5'000};
  /// Largest frame a client may send (command, headers and body); larger is an ERROR.
  size_t max_frame = (1u << 20) + (64u << 10);
  /// What each queue keeps while no subscriber has room; a SEND past them is an ERROR.
  /// queue_max_messages also bounds a /topic/ subscription's unacknowledged messages (in a
  /// client ack mode; a topic keeps nothing, so prefetch-count holds nothing back there): the
  /// message past it ends the connection with ERROR "Too many unacknowledged messages".
  size_t queue_max_messages = 10'000;
  size_t queue_max_bytes = 16u << 20;
  /// The CONNECTED frame's server header.
  std::string server_name = "Duplex";

  /// Checks a CONNECT: false refuses it (ERROR "Authentication failed", then the close). Unset lets
  /// every client in. May set request.user_id.
  std::function<bool(ConnectRequest& request)> on_connect;
  /// Checks each SUBSCRIBE and SEND: false refuses it (ERROR "Access refused", then the close).
  /// Unset allows every destination.
  std::function<bool(Connection&, Access, std::string_view destination)> authorize;
  std::function<void(Connection&)> on_open;
  /// Once per connection that opened: why it ended ("DISCONNECT", the ERROR's message, or
  /// "connection lost").
  std::function<void(Connection&, std::string_view reason)> on_close;
};

/// One STOMP connection, as handed to the handlers. Valid until on_close has returned; use it on
/// its loop's thread only.
class Connection {
 public:
  /// The CONNECTED frame's session id.
  std::string_view session_id() const;
  /// The negotiated version: "1.0", "1.1" or "1.2".
  std::string_view version() const;
  std::string_view user_id() const;
  const io::PeerAddress& remote_address() const;
  /// Sends an ERROR frame with `message` and closes the connection.
  void close(std::string_view message = "Closed by the server");

  std::any& user_data();
  template <class T>
  T& data() {
    return std::any_cast<T&>(user_data());
  }

 protected:
  Connection() = default;
  ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

class Broker {
 public:
  /// Mounts the broker on `server` at options.path.
  Broker(duplex::Server& server, Options options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  /// Sends a message to a destination (/topic/..., /queue/..., /user/<user>/...) as a client's
  /// SEND would,
  /// from any thread; false for a destination that is neither, or a queue that is full.
  bool send(std::string_view destination, std::string_view body,
            std::vector<std::pair<std::string, std::string>> headers = {},
            std::string_view content_type = {});
  /// Connections open, on every loop.
  size_t connection_count() const;
  const Options& options() const;

 private:
  std::shared_ptr<detail::Shared> shared_;
  std::unique_ptr<sockjs::Service> sockjs_;
};

}  // namespace stomp
}  // namespace duplex
