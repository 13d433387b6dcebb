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
// Output buffers that grew past this are freed rather than kept for the next connection.
constexpr size_t kKeepBufferCapacity = 256 * 1024;
constexpr size_t kMaxSpareBuffers = 1024;
// How long shutdown waits beyond the close timeout before dropping what is left.
constexpr uint64_t kShutdownGraceMs = 1000;
}  // namespace

ServerCore::ServerCore(ServerOptions options) : options_(std::move(options)) {
  if (!options_.static_dir.empty()) static_files_.emplace(options_.static_dir);
  loop_.at_iteration_end([this] { end_iteration(); });
}

ServerCore::~ServerCore() {
  while (connections_) {
    Connection* c = connections_;
    c->abort("server destroyed");  // unlinks c through retire()
  }
  end_iteration();
  stop_listening();
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
  loop_.remove(listen_fd_);
  close(listen_fd_);
  listen_fd_ = -1;
}

void ServerCore::on_io(uint32_t) {
  // Accept a bounded batch so a connection storm cannot starve established connections.
  for (int i = 0; i < 128 && listen_fd_ >= 0; ++i) {
    io::PeerAddress peer;
    const int fd = io::accept_tcp(listen_fd_, peer);
    if (fd < 0) return;  // EAGAIN, or EMFILE and the like: retried on the next readiness
    auto* conn = new Connection(*this, fd, peer);
    conn->next_in_server = connections_;
    if (connections_) connections_->prev_in_server = conn;
    connections_ = conn;
    ++live_connections_;
  }
}

void ServerCore::retire(Connection* conn) {
  if (conn->prev_in_server) conn->prev_in_server->next_in_server = conn->next_in_server;
  if (conn->next_in_server) conn->next_in_server->prev_in_server = conn->prev_in_server;
  if (connections_ == conn) connections_ = conn->next_in_server;
  conn->prev_in_server = conn->next_in_server = nullptr;
  --live_connections_;
  retired_.push_back(conn);
}

void ServerCore::end_iteration() {
  // The loop has flushed this iteration's output; connections retired on the way go now.
  for (Connection* conn : retired_) delete conn;
  retired_.clear();
  if (shutting_down_ && live_connections_ == 0) loop_.stop();
}

std::string* ServerCore::acquire_buffer() {
  if (spare_buffers_.empty()) return new std::string();
  std::string* buffer = spare_buffers_.back().release();
  spare_buffers_.pop_back();
  return buffer;
}

void ServerCore::release_buffer(std::string* buffer) {
  if (buffer->capacity() > kKeepBufferCapacity || spare_buffers_.size() >= kMaxSpareBuffers) {
    delete buffer;
    return;
  }
  buffer->clear();
  spare_buffers_.emplace_back(buffer);
}

void ServerCore::shutdown() {
  loop_.post([this] {
    if (shutting_down_) return;
    shutting_down_ = true;
    stop_listening();
    for (Connection* c = connections_; c;) {
      Connection* next = c->next_in_server;  // shut_down may retire c
      c->shut_down();
      c = next;
    }
    loop_.schedule(*this, static_cast<uint64_t>(options_.close_timeout.count()) + kShutdownGraceMs);
  });
}

void ServerCore::on_timer() {
  // Shutdown deadline: drop whoever has not finished closing.
  while (connections_) connections_->abort("server shut down");
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
  core::write_upgrade_response(out, core::websocket_accept_key(upgrade.key),
                               upgrade_request.protocol(), {});
  conn.become_websocket(endpoint, std::string(upgrade_request.protocol()),
                        std::move(upgrade_request.user_data()));
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
