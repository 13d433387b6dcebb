// SockJS (protocol 0.3) on the server, wire-compatible with sockjs-client 1.x: a WebSocket-like
// session that works where WebSocket is blocked, carried over whichever transport the client
// manages (websocket, xhr-streaming, eventsource, htmlfile, xhr-polling, jsonp-polling), with
// the reference server's (Node's sockjs 0.3) frames, headers, errors and timings. The browser's
// `new SockJS('/echo')` reaches it as is:
//
//   duplex::Server server({.port = 3000});
//   duplex::sockjs::Service echo(server, {
//       .prefix = "/echo",
//       .on_message = [](duplex::sockjs::Session& s, std::string_view m) { s.send(m); }});
//   server.listen();
//   server.run();
//
// A session is a recipient of publish/subscribe as a WebSocket is: it subscribes to topics
// (rooms), publishes, and may be bound to a user id, so a message published through any
// protocol of the server reaches it.
//
// A session lives on the loop that answered its first request: its handlers run on that loop's
// thread, and a request for it that reaches another loop is passed to it there. Build the
// service before the server runs and keep the duplex::Server alive longer than it.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/io/socket.hpp"

namespace duplex {

class Server;
namespace io {
class EventLoop;
}

namespace sockjs {

namespace detail {
class SessionImpl;
struct Shared;
}  // namespace detail

class Session;

/// Where duplex serve serves the sockjs-client bundle; the iframe page loads it from there.
inline constexpr std::string_view kDefaultClientUrl = "/sockjs/sockjs.min.js";

struct Options {
  /// Where the service answers ("/echo"): every path under it. It must start with '/' and not
  /// end with one.
  std::string prefix;
  /// Whether the websocket transports (SockJS-framed and raw at <prefix>/websocket) are offered.
  bool websocket = true;
  /// Bytes a streaming response carries before it ends and the client opens the next.
  size_t response_limit = 128 * 1024;
  /// A receiving request sent nothing for this long gets a heartbeat frame.
  std::chrono::milliseconds heartbeat_delay{25'000};
  /// How long a session whose receiving request is gone waits for the next one.
  std::chrono::milliseconds disconnect_delay{5'000};
  /// Set a JSESSIONID cookie (for load balancers with sticky sessions), and say so in /info.
  bool jsessionid = false;
  /// The sockjs-client the iframe page loads.
  std::string sockjs_url = std::string(kDefaultClientUrl);
  /// Largest body a client may send (xhr_send, jsonp_send: its messages as a JSON array) and
  /// largest WebSocket message; larger ones are refused (413, or the WebSocket closed with
  /// 1009). A message of 1 MiB fits with room for its JSON escapes.
  size_t max_message = 4 << 20;

  std::function<void(Session&)> on_open;
  /// A message from the client (UTF-8); the view is valid during the call.
  std::function<void(Session&, std::string_view message)> on_message;
  /// Once, when the session ends: the code and reason of the application's close(), 3000
  /// "Broken framing." for a WebSocket message that is not SockJS JSON, or 1006 "client went
  /// away" when its client stopped coming back (its WebSocket closed, or no request came
  /// within the disconnect delay).
  std::function<void(Session&, uint16_t code, std::string_view reason)> on_close;
};

/// One SockJS session, as handed to the handlers. Valid until on_close has returned; use it on
/// its loop's thread only.
class Session {
 public:
  /// Queues a message (UTF-8 text). False when the session is closing or closed.
  bool send(std::string_view message);
  /// Closes the session: its client gets the close frame with `code` (1000 or 3000-4999) and
  /// `reason`, and every request for it until the disconnect delay has passed.
  void close(uint16_t code = 1000, std::string_view reason = "Normal closure");
  bool is_open() const;
  /// The transport now carrying it: "websocket", "xhr_streaming", "xhr", "eventsource",
  /// "htmlfile", "jsonp", or "raw_websocket" (a plain WebSocket at <prefix>/websocket).
  std::string_view transport() const;
  /// The request that opened the session: its path and query, and its headers.
  std::string_view url() const;
  std::string_view header(std::string_view name) const;
  const io::PeerAddress& remote_address() const;
  io::EventLoop& loop() const;

  // Publish/subscribe, as for a WebSocket (see Server::publish).
  bool subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool is_subscribed(std::string_view topic) const;
  std::vector<std::string> topics() const;
  /// Sends to every subscriber of `topic` but this session, on every loop.
  void publish(std::string_view topic, std::string_view message);
  bool join(std::string_view room) { return subscribe(room); }
  bool leave(std::string_view room) { return unsubscribe(room); }
  /// Binds the session to a user (once; Server::send_to_users reaches it then).
  void set_user_id(std::string user);
  std::string_view user_id() const;

  std::any& user_data();
  template <class T>
  T& data() {
    return std::any_cast<T&>(user_data());
  }

 protected:
  Session() = default;
  ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

class Service {
 public:
  /// Mounts the service on `server` at options.prefix.
  Service(duplex::Server& server, Options options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Sessions not yet ended, on every loop.
  size_t sessions_count() const;
  const Options& options() const;

 private:
  std::shared_ptr<detail::Shared> shared_;
};

}  // namespace sockjs
}  // namespace duplex
