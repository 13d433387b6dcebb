// The WebSocket server: one port, several endpoints by path, plain HTTP for everything else
// (in-memory pages and a static folder), graceful shutdown. As simple to start as Node's
// `new WebSocket.Server({ port: 8080 })`:
//
//   duplex::Server server({.port = 8080});
//   server.endpoint("/", {.on_message = [](duplex::WebSocket& ws, std::string_view msg,
//                                          duplex::MessageType type) { ws.send(msg, type); }});
//   server.listen();
//   server.run();
//
// Connections are spread over `threads` event loops; publish/subscribe (topics, rooms, users)
// and broadcast reach connections on every loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/io/io_backend.hpp"
#include "duplex/io/tls.hpp"
#include "duplex/server/endpoint.hpp"
#include "duplex/server/history_options.hpp"
#include "duplex/server/http_exchange.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex {

namespace io {
class EventLoop;
}
namespace detail {
struct ServerAccess;
}

/// HTTPS and wss:// on the server's port: set cert_file and key_file. TLS 1.2 and 1.3 only,
/// ALPN http/1.1; plain HTTP sent to the port is answered 400 and closed.
struct TlsOptions {
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key
  /// Further certificates, chosen by the host name the client asks for (SNI).
  std::vector<io::TlsCertificate> sni;
  /// When set, clients must present a certificate signed by a CA in this PEM file (mutual TLS).
  std::string client_ca_file;
  /// A failed handshake: the peer and OpenSSL's reason. Unset: not reported.
  std::function<void(const io::PeerAddress& peer, std::string_view reason)> on_handshake_error;
  /// After a reload triggered by SIGHUP: empty on success, else why the old certificates stay.
  std::function<void(std::string_view error)> on_reload;

  bool enabled() const { return !cert_file.empty(); }
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port; listen() returns it
  /// Event loops, each on its own thread (run() uses the calling thread for the first). They
  /// share the port (SO_REUSEPORT: the kernel spreads new connections); 0 means one per core.
  /// A connection's handlers always run on its loop's thread.
  size_t threads = 1;
  /// How the loops reach the kernel: epoll (the default) or io_uring, where plain-TCP
  /// connections receive through a multishot receive into provided buffers and each iteration
  /// costs one system call besides the writes (see io/io_backend.hpp). With io_uring
  /// unavailable the Server constructor throws std::system_error; there is no silent fallback.
  io::IoBackend io = io::IoBackend::epoll;
  /// Plain HTTP GET/HEAD requests are served from this folder (empty: no files).
  std::string static_dir;
  /// Largest request head; a larger one is answered 431.
  size_t max_header_bytes = 8192;
  /// Time allowed for a request head to arrive; also how long an idle plain HTTP keep-alive
  /// connection is kept.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// Time the peer gets to answer our close frame (or to close TCP after it) before the
  /// connection is dropped.
  std::chrono::milliseconds close_timeout{5'000};
  /// From listen() on, SIGINT and SIGTERM become a graceful shutdown() (run() returns when it
  /// completes; one that comes before run() takes effect as soon as run() starts), and SIGHUP
  /// reload_certificates() when TLS is on. Call listen() and run() on the same thread.
  bool handle_signals = true;
  TlsOptions tls;
  /// Recent messages kept per topic for clients that come back (SSE resume, long polls).
  HistoryOptions history;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Adds a WebSocket endpoint at an exact path ("/chat"). Upgrades to other paths get 404.
  Endpoint& endpoint(std::string path, EndpointConfig config = {});
  /// Adds a WebSocket endpoint for every path under `prefix` ("/echo/", which must end with
  /// '/'), for protocols whose URLs carry ids (SockJS's /echo/000/a1b2/websocket); its
  /// on_upgrade sees the path and may reject it. An endpoint at the exact path wins.
  Endpoint& endpoint_under(std::string prefix, EndpointConfig config = {});
  /// Adds an HTTP route: `handler` answers requests of any method for `path` (every path under
  /// it with options.prefix), bodies included (http_exchange.hpp). A WebSocket upgrade to a
  /// path that has an endpoint goes to the endpoint; everything else there goes to the route.
  /// Routes come before pages and the static folder; the first one added that matches wins.
  void http(std::string path, HttpHandler handler, HttpRouteOptions options = {});
  /// Serves `content` for plain GET/HEAD of `path` (ahead of the static folder).
  void page(std::string path, std::string content,
            std::string content_type = "text/html; charset=utf-8");

  /// Binds and listens; throws std::system_error naming the address. Returns the bound port.
  uint16_t listen();
  uint16_t port() const;
  /// Re-reads the TLS certificate and key files: new connections get the new ones, existing
  /// connections go on with theirs. Throws std::runtime_error (keeping the old ones) if a file
  /// cannot be loaded. Call it on a loop's thread, or before run().
  void reload_certificates();
  /// Runs the event loops until shutdown completes (the first on the calling thread).
  void run();
  /// Stops accepting, closes every WebSocket with 1001, waits for them (at most the close
  /// timeout), then makes run() return. Callable from any thread.
  void shutdown();

  // Publish/subscribe. A topic is any name connections subscribe to (WebSocket::subscribe);
  // a room is the same thing seen through its members' user ids. All of these are callable
  // from any thread. A message is framed once (and compressed once per loop and window size)
  // and shared by every recipient's send queue; on the calling loop it is queued at once, other
  // loops queue it when they wake. Messages from one thread to one topic keep their order.

  /// Sends to every subscriber of `topic`, on every loop, except `except`.
  void publish(std::string_view topic, std::string_view message,
               MessageType type = MessageType::text, const WebSocket* except = nullptr);
  size_t subscriber_count(std::string_view topic) const;
  /// The user ids (UpgradeRequest::set_user_id) of the topic's subscribers, sorted, each once;
  /// subscribers without one are not listed.
  std::vector<std::string> members(std::string_view topic) const;
  /// Sends to every connection of these users (a user may have several; one listed twice gets
  /// it once), whatever their endpoint: only the recipients' loops are woken.
  void send_to_users(const std::vector<std::string>& user_ids, std::string_view message,
                     MessageType type = MessageType::text);
  size_t user_connection_count(std::string_view user_id) const;
  /// Sends to every open WebSocket of every endpoint.
  void broadcast(std::string_view message, MessageType type = MessageType::text);

  size_t connection_count() const;
  size_t thread_count() const;
  /// The first loop (the one run() runs on the calling thread).
  io::EventLoop& loop();

 private:
  friend struct detail::ServerAccess;  // protocols built into the library reach the hub
  std::unique_ptr<detail::ServerShared> shared_;
  std::vector<std::unique_ptr<detail::ServerCore>> cores_;
  void install_signal_handlers();  // ServerOptions::handle_signals, once
  std::atomic<bool> running_{false};
  bool signals_handled_ = false;
};

}  // namespace duplex
