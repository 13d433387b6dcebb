// Engine.IO v4 on the server, usable alone as Node's `engine.io` package is (Socket.IO stands on
// it): sessions that carry messages over HTTP long polling, WebSocket, or polling upgraded to
// WebSocket, with the reference server's heartbeat, errors and timings. An unmodified
// engine.io-client 6 (or socket.io-client 4 underneath) talks to it.
//
//   duplex::Server server({.port = 3000});
//   duplex::engineio::Server engine(server, {.path = "/engine.io/"},
//                                   [](duplex::engineio::Socket& socket) {
//     socket.on_message([&socket](std::string_view data, duplex::MessageType type) {
//       socket.send(data, type);  // echo
//     });
//   });
//   server.listen();
//   server.run();
//
// A session lives on the loop that answered its handshake: its handlers run on that loop's
// thread, and a request or WebSocket for it that reaches another loop is passed to it there.
// Build it before the server runs and keep the duplex::Server alive longer than it.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/core/ws/frame.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/server/http_exchange.hpp"

namespace duplex {

class Server;
namespace io {
class EventLoop;
}

namespace engineio {

using core::MessageType;

namespace detail {
class Session;
struct Shared;
}  // namespace detail

enum class Transport : uint8_t { polling, websocket };

struct Options {
  /// Where the server answers: every request whose path starts with it (polling) and WebSocket
  /// upgrades to it exactly.
  std::string path = "/engine.io/";
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  /// Time a probing WebSocket gets to complete the upgrade before it is closed.
  std::chrono::milliseconds upgrade_timeout{10'000};
  /// Largest request body (a POST of packets) and largest WebSocket message; larger ones are
  /// refused (413, or the WebSocket closed with 1009).
  size_t max_payload = 1'000'000;
  bool allow_polling = true;
  bool allow_websocket = true;
  /// Whether polling sessions may move to WebSocket (the open packet's "upgrades").
  bool allow_upgrades = true;
  /// Cross-origin polling (browsers on another origin): allowed origins, credentials.
  CorsOptions cors;
  /// When set, the handshake sets this cookie to the session id ("io" in Node):
  /// `<name>=<sid>; Path=/; HttpOnly; SameSite=Lax`.
  std::string cookie;
};

/// One Engine.IO session, as handed to the connection handler. Valid until its on_close
/// handler has returned; use it on its loop's thread only.
class Socket {
 public:
  /// The session id (20 characters of base64url).
  const std::string& id() const;
  Transport transport() const;
  /// Queues a message: text (UTF-8) or binary. Over polling, what is queued in one loop
  /// iteration goes out in one response. False when the session is closing or closed.
  bool send(std::string_view data, MessageType type = MessageType::text);
  /// Closes the session once what is queued has gone out; on_close then reports "forced close".
  void close();
  bool is_open() const;
  /// Whether a message sent now goes out at once: over WebSocket, or over polling while a poll
  /// is held (what volatile emits ask).
  bool writable() const;
  /// Whose handshake opened the session.
  const io::PeerAddress& remote_address() const;
  io::EventLoop& loop() const;

  /// A message from the client. The view is valid during the call.
  void on_message(std::function<void(std::string_view data, MessageType type)> handler);
  /// Once, when the session ends: "transport close", "transport error", "ping timeout",
  /// "parse error" or "forced close", and a description of what happened.
  void on_close(std::function<void(std::string_view reason, std::string_view description)> handler);
  /// The session moved from polling to WebSocket.
  void on_upgrade(std::function<void()> handler);

  std::any& user_data();

 protected:
  Socket() = default;
  ~Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

class Server {
 public:
  using ConnectionHandler = std::function<void(Socket&)>;
  /// Mounts Engine.IO on `server` at options.path.
  Server(duplex::Server& server, Options options, ConnectionHandler on_connection);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Open sessions, on every loop.
  size_t clients_count() const;
  const Options& options() const;

 private:
  std::shared_ptr<detail::Shared> shared_;
};

}  // namespace engineio
}  // namespace duplex
