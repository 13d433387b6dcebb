// Internal: the state behind duplex::Server, shared with its connections: the loop, listening
// socket, routes, the per-iteration write (cork) list and deferred frees.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/tls.hpp"
#include "duplex/server/static_files.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::core {
struct HttpRequest;
}

namespace duplex::detail {

class Connection;

/// What a connection does after a plain HTTP request was answered.
enum class AfterRequest { keep_alive, close, upgraded };

class ServerCore final : public io::IoHandler, public io::Timer {
 public:
  explicit ServerCore(ServerOptions options);
  ~ServerCore();

  const ServerOptions& options() const { return options_; }
  io::EventLoop& loop() { return loop_; }

  Endpoint& add_endpoint(std::string path, EndpointConfig config);
  void add_page(std::string path, std::string content, std::string content_type);
  uint16_t listen();
  uint16_t port() const { return port_; }
  void run();
  void shutdown();
  size_t connection_count() const { return live_connections_; }
  bool shutting_down() const { return shutting_down_; }

  /// Null without TLS. Connections keep the context they started with across reloads.
  const std::shared_ptr<const io::TlsServerContext>& tls() const { return tls_; }
  void reload_certificates();
  void tls_handshake_failed(const io::PeerAddress& peer, std::string_view reason);

  /// Answers one complete request head; writes the response into `out`. On an upgrade the
  /// connection has become a WebSocket when this returns.
  AfterRequest handle_request(Connection& conn, const core::HttpRequest& request, std::string& out);

  /// The connection is finished; it is freed at the end of this iteration (events for it may
  /// still be queued in this iteration).
  void retire(Connection* conn);

  /// Output buffers are lent to connections while they have something to send, so an idle
  /// connection holds none.
  std::string* acquire_buffer();
  void release_buffer(std::string* buffer);

 private:
  void on_io(uint32_t events) override;  // the listening socket
  void on_timer() override;              // the shutdown deadline
  void end_iteration();
  void stop_listening();
  bool serve_plain(const core::HttpRequest& request, std::string& out);
  AfterRequest upgrade(Connection& conn, const core::HttpRequest& request, std::string& out);

  struct Page {
    std::string content;
    std::string content_type;
  };

  ServerOptions options_;
  io::EventLoop loop_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool shutting_down_ = false;
  size_t live_connections_ = 0;
  std::map<std::string, std::unique_ptr<Endpoint>, std::less<>> endpoints_;
  std::map<std::string, Page, std::less<>> pages_;
  std::optional<StaticFiles> static_files_;
  std::shared_ptr<const io::TlsServerContext> tls_;
  Connection* connections_ = nullptr;  // every live connection (intrusive list)
  std::vector<Connection*> retired_;
  std::vector<std::unique_ptr<std::string>> spare_buffers_;
};

}  // namespace duplex::detail
