// Internal: the state behind duplex::Server. ServerShared is what every loop shares (options,
// routes, pub/sub); a ServerCore is one loop on its thread with its listening socket (the loops
// share the port through SO_REUSEPORT), its connections, their pub/sub tables and deferred frees.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/output_buffer.hpp"
#include "duplex/io/tls.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"
#include "duplex/server/static_files.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::core {
struct HttpRequest;
}

namespace duplex::detail {

class Connection;
class OutgoingMessage;
class ServerCore;

struct HttpRoute;
struct ExchangeState;

/// What a connection does after a plain HTTP request was answered.
enum class AfterRequest { keep_alive, close, upgraded, route };

struct ServerShared {
  explicit ServerShared(ServerOptions server_options);

  struct Page {
    std::string content;
    std::string content_type;
  };

  ServerOptions options;
  std::map<std::string, std::unique_ptr<Endpoint>, std::less<>> endpoints;
  /// Keys of `endpoints` added with Server::endpoint_under: each takes every path under it.
  std::vector<std::string> endpoint_prefixes;
  std::map<std::string, Page, std::less<>> pages;
  std::vector<std::unique_ptr<HttpRoute>> routes;  // in the order added; the first match wins
  std::optional<StaticFiles> static_files;
  PubSubHub hub;
  std::vector<ServerCore*> cores;  // indexed like ServerCore::index()

  /// The endpoint for upgrades to `path`: the one at exactly that path, else the first one under
  /// a prefix of it; null when there is none.
  Endpoint* find_endpoint(std::string_view path) const;

  /// Sends to every open WebSocket of `endpoint` (of every endpoint when null) on every loop but
  /// `except`; returns how many it was queued to on the calling loop.
  size_t broadcast(Endpoint* endpoint, std::string_view message, core::MessageType type,
                   Skip except);
};

class ServerCore final : public io::IoHandler, public io::Timer {
 public:
  ServerCore(ServerShared& shared, size_t index);
  ~ServerCore();
  /// Aborts every connection of the core (the server is being destroyed; the loop has stopped).
  void abort_connections();

  const ServerOptions& options() const { return shared_.options; }
  io::EventLoop& loop() { return loop_; }
  /// This loop's place among the server's loops (0 runs on the thread that calls run()).
  size_t index() const { return index_; }
  /// The loop running on the calling thread, or null.
  static ServerCore* current();
  PubSubHub& hub() { return shared_.hub; }

  /// Binds `port` (0: a free one), shared with the other loops when `reuse_port`.
  uint16_t listen(uint16_t port, bool reuse_port);
  uint16_t port() const { return port_; }
  /// Runs the loop on the calling thread until shutdown completes.
  void run();
  void shutdown();
  size_t connection_count() const { return live_connections_.load(std::memory_order_relaxed); }
  bool shutting_down() const { return shutting_down_; }

  /// Null without TLS. Connections keep the context they started with across reloads.
  const std::shared_ptr<const io::TlsServerContext>& tls() const { return tls_; }
  /// Call on this loop's thread, or before it runs.
  void set_tls(std::shared_ptr<const io::TlsServerContext> context) {
    tls_ = std::move(context);
    pubsub_.set_batching(tls_ == nullptr);
  }
  void tls_handshake_failed(const io::PeerAddress& peer, std::string_view reason);

  /// Pub/sub on this loop: topics and users of its sessions, kept in step with the hub.
  LoopPubSub& pubsub() { return pubsub_; }
  /// Sends to this loop's open WebSockets of `endpoint` (of every endpoint when null) but the
  /// connection `except`; returns how many it was queued to.
  size_t deliver_endpoint(Endpoint* endpoint, const OutgoingMessage& message, const void* except);

  /// Answers one complete request head; writes the response into `out`. On an upgrade the
  /// connection has become a WebSocket when this returns; for a route, `route` is set and the
  /// connection takes the exchange over (nothing is written).
  AfterRequest handle_request(Connection& conn, const core::HttpRequest& request, std::string& out,
                              const HttpRoute*& route);
  /// An exchange that ended; freed at the end of this iteration (its methods may be running).
  void retire_exchange(std::unique_ptr<ExchangeState> exchange);

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

  // Out of descriptors: the listening socket stays readable, so accepting pauses for a moment
  // instead of spinning, and resumes when this fires.
  class AcceptPause final : public io::Timer {
   public:
    explicit AcceptPause(ServerCore& server) : server_(server) {}
    void on_timer() override;

   private:
    ServerCore& server_;
  };

  ServerShared& shared_;
  const size_t index_;
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
  std::atomic<size_t> live_connections_{0};
  std::shared_ptr<const io::TlsServerContext> tls_;
  LoopPubSub pubsub_;
  Connection* connections_ = nullptr;  // live connections not open in an endpoint
  void for_each_connection(const std::function<void(Connection*)>& fn);
  std::vector<Connection*> retired_;
  std::vector<std::unique_ptr<ExchangeState>> retired_exchanges_;
  io::OutputPool output_pool_;
};

}  // namespace duplex::detail
