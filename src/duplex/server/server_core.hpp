// Internal: the state behind duplex::Server, shared with its connections: the loop, listening
// socket, routes, the per-iteration write (cork) list and deferred frees.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/output_buffer.hpp"
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

  /// Connections not open in an endpoint are listed by the server: adopt() takes one back from
  /// its endpoint's list (it is closing), release() hands one over to its endpoint (upgraded).
  void adopt(Connection* conn);
  void release(Connection* conn);

  /// The connection is finished; it is freed at the end of this iteration (events for it may
  /// still be queued in this iteration).
  void retire(Connection* conn);

  /// Output buffers are lent to connections while they have something to send, so an idle
  /// connection holds none.
  io::OutputPool& output_pool() { return output_pool_; }

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

  // Out of descriptors: the listening socket stays readable, so accepting pauses for a moment
  // instead of spinning, and resumes when this fires.
  class AcceptPause final : public io::Timer {
   public:
    explicit AcceptPause(ServerCore& server) : server_(server) {}
    void on_timer() override;

   private:
    ServerCore& server_;
  };

  ServerOptions options_;
  io::EventLoop loop_;
  // Over TLS, every second: sessions quiet for a second give their buffers back, so busy
  // connections keep theirs (no allocation per record) and idle ones stay small.
  class TlsIdleSweep final : public io::Timer {
   public:
    explicit TlsIdleSweep(ServerCore& server) : server_(server) {}
    void on_timer() override;

   private:
    ServerCore& server_;
  };

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  AcceptPause accept_pause_{*this};
  TlsIdleSweep tls_idle_sweep_{*this};
  bool shutting_down_ = false;
  size_t live_connections_ = 0;
  std::map<std::string, std::unique_ptr<Endpoint>, std::less<>> endpoints_;
  std::map<std::string, Page, std::less<>> pages_;
  std::optional<StaticFiles> static_files_;
  std::shared_ptr<const io::TlsServerContext> tls_;
  Connection* connections_ = nullptr;  // live connections not open in an endpoint
  void for_each_connection(const std::function<void(Connection*)>& fn);
  std::vector<Connection*> retired_;
  io::OutputPool output_pool_;
};

}  // namespace duplex::detail
