#include "duplex/server/websocket_server.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "duplex/core/handshake.hpp"
#include "duplex/core/http1_parser.hpp"
#include "duplex/core/http_response.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex::detail {

namespace {
// How long shutdown waits beyond the close timeout before dropping what is left.
constexpr uint64_t kShutdownGraceMs = 1000;
// How long accepting pauses when the process or system is out of descriptors or memory.
constexpr uint64_t kAcceptPauseMs = 100;
// TLS sessions quiet this long give their buffers back; the sweep runs as often.
constexpr uint64_t kTlsQuietMs = 1000;
}  // namespace

ServerCore::ServerCore(ServerOptions options) : options_(std::move(options)) {
  if (!options_.static_dir.empty()) static_files_.emplace(options_.static_dir);
  loop_.at_iteration_end([this] { end_iteration(); });
}

ServerCore::~ServerCore() {
  for_each_connection([](Connection* c) { c->abort("server destroyed"); });
  end_iteration();
  stop_listening();
  if (tls_idle_sweep_.armed()) loop_.cancel(tls_idle_sweep_);
}

Endpoint& ServerCore::add_endpoint(std::string path, EndpointConfig config) {
  if (path.empty() || path[0] != '/') {
    throw std::invalid_argument("endpoint path must start with '/': '" + path + "'");
  }
  auto endpoint = std::make_unique<Endpoint>(path, std::move(config));
  Endpoint& ref = *endpoint;
  if (!endpoints_.emplace(std::move(path), std::move(endpoint)).second) {
    throw std::invalid_argument("endpoint path already in use: '" + ref.path() + "'");
  }
  return ref;
}

void ServerCore::add_page(std::string path, std::string content, std::string content_type) {
  pages_[std::move(path)] = Page{std::move(content), std::move(content_type)};
}

uint16_t ServerCore::listen() {
  if (options_.tls.enabled() && !tls_) reload_certificates();
  if (tls_) loop_.schedule(tls_idle_sweep_, kTlsQuietMs);
  listen_fd_ = io::listen_tcp(options_.host, options_.port);
  port_ = io::local_port(listen_fd_);
  loop_.add(listen_fd_, this, EPOLLIN);
  // Writes use MSG_NOSIGNAL; this also covers anything else that writes to a dead peer.
  signal(SIGPIPE, SIG_IGN);
  return port_;
}

void ServerCore::run() {
  if (options_.handle_signals) {
    loop_.on_signal(SIGINT, [this] { shutdown(); });
    loop_.on_signal(SIGTERM, [this] { shutdown(); });
    if (tls_) {
      loop_.on_signal(SIGHUP, [this] {
        std::string error;
        try {
          reload_certificates();
        } catch (const std::exception& e) {
          error = e.what();
        }
        if (options_.tls.on_reload) options_.tls.on_reload(error);
      });
    }
  }
  loop_.run();
}

void ServerCore::TlsIdleSweep::on_timer() {
  const uint64_t now = server_.loop_.now_ms();
  for (auto& [path, endpoint] : server_.endpoints_) {
    for (Connection* c = endpoint->head_; c; c = c->next) c->release_idle_tls(now, kTlsQuietMs);
  }
  for (Connection* c = server_.connections_; c; c = c->next) c->release_idle_tls(now, kTlsQuietMs);
  server_.loop_.schedule(*this, kTlsQuietMs);
}

void ServerCore::AcceptPause::on_timer() {
  if (server_.listen_fd_ >= 0) server_.loop_.add(server_.listen_fd_, &server_, EPOLLIN);
}

void ServerCore::reload_certificates() {
  const TlsOptions& tls = options_.tls;
  if (!tls.enabled()) throw std::logic_error("TLS is not configured (no certificate file)");
  tls_ = io::TlsServerContext::load(tls.cert_file, tls.key_file, tls.sni, tls.client_ca_file);
}

void ServerCore::tls_handshake_failed(const io::PeerAddress& peer, std::string_view reason) {
  if (options_.tls.on_handshake_error) options_.tls.on_handshake_error(peer, reason);
}

void ServerCore::stop_listening() {
  if (listen_fd_ < 0) return;
  if (accept_pause_.armed()) {
    loop_.cancel(accept_pause_);  // the socket is out of the epoll set already
  } else {
    loop_.remove(listen_fd_);
  }
  close(listen_fd_);
  listen_fd_ = -1;
}

void ServerCore::on_io(uint32_t) {
  // Accept a bounded batch so a connection storm cannot starve established connections.
  for (int i = 0; i < 128 && listen_fd_ >= 0; ++i) {
    io::PeerAddress peer;
    const int fd = io::accept_tcp(listen_fd_, peer);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Pending connections wait in the backlog until descriptors are freed.
        loop_.remove(listen_fd_);
        loop_.schedule(accept_pause_, kAcceptPauseMs);
      }
      return;  // EAGAIN, ECONNABORTED...: retried on the next readiness
    }
    auto* conn = new Connection(*this, fd, peer);
    Connection::link(connections_, conn);
    ++live_connections_;
  }
}

void ServerCore::adopt(Connection* conn) { Connection::link(connections_, conn); }

void ServerCore::release(Connection* conn) { Connection::unlink(connections_, conn); }

void ServerCore::for_each_connection(const std::function<void(Connection*)>& fn) {
  // `fn` may close a connection, which moves it from its endpoint's list to ours or retires it:
  // walk a snapshot.
  std::vector<Connection*> all;
  all.reserve(live_connections_);
  for (auto& [path, endpoint] : endpoints_) {
    for (Connection* c = endpoint->head_; c; c = c->next) all.push_back(c);
  }
  for (Connection* c = connections_; c; c = c->next) all.push_back(c);
  for (Connection* c : all) {
    if (!c->retired()) fn(c);
  }
}

void ServerCore::retire(Connection* conn) {
  // Closing took it out of its endpoint's list first (report_close), so it is in ours.
  Connection::unlink(connections_, conn);
  --live_connections_;
  retired_.push_back(conn);
}

void ServerCore::end_iteration() {
  // The loop has flushed this iteration's output; connections retired on the way go now.
  for (Connection* conn : retired_) delete conn;
  retired_.clear();
  if (shutting_down_ && live_connections_ == 0) loop_.stop();
}

void ServerCore::shutdown() {
  loop_.post([this] {
    if (shutting_down_) return;
    shutting_down_ = true;
    stop_listening();
    for_each_connection([](Connection* c) { c->shut_down(); });
    loop_.schedule(*this, static_cast<uint64_t>(options_.close_timeout.count()) + kShutdownGraceMs);
  });
}

void ServerCore::on_timer() {
  // Shutdown deadline: drop whoever has not finished closing.
  for_each_connection([](Connection* c) { c->abort("server shut down"); });
}

AfterRequest ServerCore::handle_request(Connection& conn, const core::HttpRequest& request,
                                        std::string& out) {
  if (core::is_websocket_upgrade(request)) return upgrade(conn, request, out);
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    core::write_error_response(out, 405, "only GET and HEAD are served here");
    return AfterRequest::close;
  }
  if (request.content_length.value_or(0) > 0 || request.chunked) {
    core::write_error_response(out, 400, "GET and HEAD requests must not have a body", head);
    return AfterRequest::close;
  }
  if (!serve_plain(request, out)) {
    if (endpoints_.count(request.path)) {
      core::write_error_response(out, 426, "this path only accepts WebSocket connections", head);
    } else {
      core::write_error_response(out, 404, "nothing is served at this path", head);
    }
    return AfterRequest::close;
  }
  const bool keep_alive =
      request.version_minor >= 1 && !request.has_token("Connection", "close") && !shutting_down_;
  return keep_alive ? AfterRequest::keep_alive : AfterRequest::close;
}

bool ServerCore::serve_plain(const core::HttpRequest& request, std::string& out) {
  const bool head = request.method == "HEAD";
  if (auto it = pages_.find(request.path); it != pages_.end()) {
    core::HttpResponse(200)
        .header("Cache-Control", "no-cache")
        .body(it->second.content, it->second.content_type)
        .serialize(out, head);
    return true;
  }
  return static_files_ && static_files_->serve(request, out);
}

AfterRequest ServerCore::upgrade(Connection& conn, const core::HttpRequest& request,
                                 std::string& out) {
  auto found = endpoints_.find(request.path);
  if (found == endpoints_.end()) {
    core::write_error_response(out, 404, "no WebSocket endpoint at this path");
    return AfterRequest::close;
  }
  auto checked = core::validate_upgrade(request);
  if (auto* error = std::get_if<core::HandshakeError>(&checked)) {
    core::write_error_response(out, error->status, error->reason);
    return AfterRequest::close;
  }
  if (shutting_down_) {
    core::write_error_response(out, 503, "server is shutting down");
    return AfterRequest::close;
  }
  const auto& upgrade = std::get<core::ValidatedUpgrade>(checked);
  Endpoint& endpoint = *found->second;
  const EndpointConfig& config = endpoint.config();

  if (!config.allowed_origins.empty()) {
    const bool allowed =
        upgrade.origin && std::find(config.allowed_origins.begin(), config.allowed_origins.end(),
                                    *upgrade.origin) != config.allowed_origins.end();
    if (!allowed) {
      core::write_error_response(out, 403, "origin not allowed");
      return AfterRequest::close;
    }
  }

  std::string_view chosen;
  for (std::string_view offered : upgrade.protocols) {
    if (std::find(config.protocols.begin(), config.protocols.end(), offered) !=
        config.protocols.end()) {
      chosen = offered;
      break;
    }
  }
  UpgradeRequest upgrade_request(request, conn.peer(), upgrade.protocols, chosen, conn.tls());
  if (config.on_upgrade) config.on_upgrade(upgrade_request);
  if (upgrade_request.rejected()) {
    core::write_error_response(out, upgrade_request.reject_status(),
                               upgrade_request.reject_reason());
    return AfterRequest::close;
  }
  const auto deflate = core::accept_deflate(upgrade.extensions, config.per_message_deflate);
  core::write_upgrade_response(out, core::websocket_accept_key(upgrade.key),
                               upgrade_request.protocol(), deflate ? deflate->response : "");
  // The 101 is queued now, ahead of anything the open handler sends.
  conn.queue_bytes(out);
  out.clear();
  conn.become_websocket(
      endpoint, std::string(upgrade_request.protocol()), std::move(upgrade_request.user_data()),
      deflate ? std::optional<core::DeflateParams>(deflate->params) : std::nullopt);
  return AfterRequest::upgraded;
}

}  // namespace duplex::detail

namespace duplex {

Server::Server(ServerOptions options)
    : core_(std::make_unique<detail::ServerCore>(std::move(options))) {}
Server::~Server() = default;

Endpoint& Server::endpoint(std::string path, EndpointConfig config) {
  return core_->add_endpoint(std::move(path), std::move(config));
}
void Server::page(std::string path, std::string content, std::string content_type) {
  core_->add_page(std::move(path), std::move(content), std::move(content_type));
}
uint16_t Server::listen() { return core_->listen(); }
uint16_t Server::port() const { return core_->port(); }
void Server::reload_certificates() { core_->reload_certificates(); }
void Server::run() { core_->run(); }
void Server::shutdown() { core_->shutdown(); }
size_t Server::connection_count() const { return core_->connection_count(); }
io::EventLoop& Server::loop() { return core_->loop(); }

}  // namespace duplex
