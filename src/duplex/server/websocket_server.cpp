#include "duplex/server/websocket_server.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <thread>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/http/http_response.hpp"
#include "duplex/core/ws/handshake.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/endpoint_local.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex::detail {

namespace {
// How long shutdown waits beyond the close timeout before dropping what is left.
constexpr uint64_t kShutdownGraceMs = 1000;
// How long accepting pauses when the process or system is out of descriptors or memory.
constexpr uint64_t kAcceptPauseMs = 100;
// TLS sessions quiet this long give their buffers back; the sweep runs as often.
constexpr uint64_t kTlsQuietMs = 1000;

thread_local ServerCore* current_core = nullptr;
}  // namespace

ServerShared::ServerShared(ServerOptions server_options) : options(std::move(server_options)) {
  if (!options.static_dir.empty()) static_files.emplace(options.static_dir);
}

ServerCore::ServerCore(ServerShared& shared, size_t index)
    : shared_(shared), index_(index), loop_(shared.options.io), pubsub_(shared.hub, loop_, index) {
  loop_.at_iteration_end([this] { end_iteration(); });
}

ServerCore* ServerCore::current() { return current_core; }

void ServerCore::abort_connections() {
  for_each_connection([](Connection* c) { c->abort("server destroyed"); });
  end_iteration();
}

ServerCore::~ServerCore() {
  abort_connections();
  stop_listening();
  if (tls_idle_sweep_.armed()) loop_.cancel(tls_idle_sweep_);
}

uint16_t ServerCore::listen(uint16_t port, bool reuse_port) {
  if (tls_) loop_.schedule(tls_idle_sweep_, kTlsQuietMs);
  listen_fd_ = io::listen_tcp(options().host, port, SOMAXCONN, reuse_port);
  port_ = io::local_port(listen_fd_);
  loop_.add(listen_fd_, this, EPOLLIN);
  // Writes use MSG_NOSIGNAL; this also covers anything else that writes to a dead peer.
  signal(SIGPIPE, SIG_IGN);
  return port_;
}

void ServerCore::run() {
  current_core = this;
  LoopPubSub::set_current(&pubsub_);
  loop_.run();
  LoopPubSub::set_current(nullptr);
  current_core = nullptr;
}

void ServerCore::TlsIdleSweep::on_timer() {
  for (auto& [path, endpoint] : server_.shared_.endpoints) {
    for (Connection* c = endpoint->local(server_.index_).head; c; c = c->next) {
      c->release_idle_tls(kTlsQuietMs);
    }
  }
  for (Connection* c = server_.connections_; c; c = c->next) c->release_idle_tls(kTlsQuietMs);
  server_.loop_.schedule(*this, kTlsQuietMs);
}

void ServerCore::AcceptPause::on_timer() {
  if (server_.listen_fd_ >= 0) server_.loop_.add(server_.listen_fd_, &server_, EPOLLIN);
}

void ServerCore::tls_handshake_failed(const io::PeerAddress& peer, std::string_view reason) {
  if (options().tls.on_handshake_error) options().tls.on_handshake_error(peer, reason);
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
  all.reserve(connection_count());
  for (auto& [path, endpoint] : shared_.endpoints) endpoint->local(index_).snapshot(all);
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

void ServerCore::retire_exchange(std::unique_ptr<ExchangeState> exchange) {
  retired_exchanges_.push_back(std::move(exchange));
}

void ServerCore::end_iteration() {
  // The loop has flushed this iteration's output; connections retired on the way go now.
  retired_exchanges_.clear();
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
    loop_.schedule(*this,
                   static_cast<uint64_t>(options().close_timeout.count()) + kShutdownGraceMs);
  });
}

void ServerCore::on_timer() {
  // Shutdown deadline: drop whoever has not finished closing.
  for_each_connection([](Connection* c) { c->abort("server shut down"); });
}

AfterRequest ServerCore::handle_request(Connection& conn, const core::HttpRequest& request,
                                        std::string& out, const HttpRoute*& route) {
  // A well-formed upgrade goes to its endpoint; one that is not (a POST, Connection: close)
  // goes to a route there if one matches (SockJS answers it in its own words), else to the
  // endpoint, which says what is wrong.
  if (core::is_websocket_upgrade(request) && request.method == "GET" &&
      request.has_token("Connection", "upgrade") && shared_.find_endpoint(request.path)) {
    return upgrade(conn, request, out);
  }
  for (const auto& r : shared_.routes) {
    if (r->matches(request.path)) {
      route = r.get();
      return AfterRequest::route;
    }
  }
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
    if (shared_.find_endpoint(request.path)) {
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
  if (auto it = shared_.pages.find(request.path); it != shared_.pages.end()) {
    core::HttpResponse(200)
        .header("Cache-Control", "no-cache")
        .body(it->second.content, it->second.content_type)
        .serialize(out, head);
    return true;
  }
  return shared_.static_files && shared_.static_files->serve(request, out);
}

AfterRequest ServerCore::upgrade(Connection& conn, const core::HttpRequest& request,
                                 std::string& out) {
  Endpoint* found = shared_.find_endpoint(request.path);
  if (!found) {
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
  Endpoint& endpoint = *found;
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
      upgrade_request.user_id(),
      deflate ? std::optional<core::DeflateParams>(deflate->params) : std::nullopt);
  return AfterRequest::upgraded;
}

size_t ServerCore::deliver_endpoint(Endpoint* endpoint, const OutgoingMessage& message,
                                    const void* except) {
  MessageEncodings frames(message);
  size_t sent = 0;
  std::vector<Connection*> recipients;
  const auto deliver = [&](Endpoint& e) {
    // A slow reader's handler (on_close, on_dropped) may drop any connection.
    recipients.clear();
    e.local(index_).snapshot(recipients);
    for (Connection* c : recipients) {
      if (c != except && c->send_broadcast(frames)) ++sent;
    }
  };
  if (endpoint) {
    deliver(*endpoint);
  } else {
    for (auto& [path, e] : shared_.endpoints) deliver(*e);
  }
  return sent;
}

Endpoint* ServerShared::find_endpoint(std::string_view path) const {
  if (auto it = endpoints.find(path); it != endpoints.end()) return it->second.get();
  for (const std::string& prefix : endpoint_prefixes) {
    if (path.starts_with(prefix)) return endpoints.find(prefix)->second.get();
  }
  return nullptr;
}

size_t ServerShared::broadcast(Endpoint* endpoint, std::string_view message, core::MessageType type,
                               Skip except) {
  auto outgoing = OutgoingMessage::make(message, type);
  return hub.route(std::vector<bool>(cores.size(), true), except,
                   [this, outgoing, endpoint](LoopPubSub& loop, const void* skip) {
                     return cores[loop.index()]->deliver_endpoint(endpoint, *outgoing, skip);
                   });
}

}  // namespace duplex::detail

namespace duplex {

Server::Server(ServerOptions options)
    : shared_(std::make_unique<detail::ServerShared>(std::move(options))) {
  size_t threads = shared_->options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<detail::LoopPubSub*> loops;
  for (size_t i = 0; i < threads; ++i) {
    cores_.push_back(std::make_unique<detail::ServerCore>(*shared_, i));
    shared_->cores.push_back(cores_.back().get());
    loops.push_back(&cores_.back()->pubsub());
  }
  shared_->hub.set_loops(std::move(loops));
  shared_->hub.set_history_limits(shared_->options.history);
}

Server::~Server() {
  // Every core's connections go while every core is whole: sessions of one loop can be held
  // by work posted to another.
  for (auto& core : cores_) core->abort_connections();
  // Work posted to a loop and never run (the loops have stopped) can hold the last reference to
  // a session, which leaves its loop's pub/sub as it goes: dropped while every core is whole.
  // Dropping some may post more; a few rounds see it all.
  for (int round = 0; round < 16; ++round) {
    size_t dropped = 0;
    for (auto& core : cores_) dropped += core->loop().drop_posted();
    if (dropped == 0) break;
  }
  cores_.clear();  // connections go first: they refer to endpoints and the hub
}

Endpoint& Server::endpoint(std::string path, EndpointConfig config) {
  if (path.empty() || path[0] != '/') {
    throw std::invalid_argument("endpoint path must start with '/': '" + path + "'");
  }
  if (shared_->endpoints.count(path)) {
    throw std::invalid_argument("endpoint path already in use: '" + path + "'");
  }
  std::unique_ptr<Endpoint> endpoint(
      new Endpoint(path, std::move(config), *shared_, cores_.size()));
  Endpoint& ref = *endpoint;
  shared_->endpoints.emplace(std::move(path), std::move(endpoint));
  return ref;
}

Endpoint& Server::endpoint_under(std::string prefix, EndpointConfig config) {
  if (prefix.empty() || prefix.front() != '/' || prefix.back() != '/') {
    throw std::invalid_argument("endpoint prefix must start and end with '/': '" + prefix + "'");
  }
  const std::string key = prefix;
  Endpoint& ref = endpoint(std::move(prefix), std::move(config));
  shared_->endpoint_prefixes.push_back(key);
  return ref;
}

void Server::http(std::string path, HttpHandler handler, HttpRouteOptions options) {
  if (path.empty() || path[0] != '/') {
    throw std::invalid_argument("route path must start with '/': '" + path + "'");
  }
  if (!handler) throw std::invalid_argument("route '" + path + "' has no handler");
  for (const auto& r : shared_->routes) {
    if (r->path == path && r->options.prefix == options.prefix) {
      throw std::invalid_argument("route path already in use: '" + path + "'");
    }
  }
  shared_->routes.push_back(std::make_unique<detail::HttpRoute>(
      detail::HttpRoute{std::move(path), std::move(handler), std::move(options)}));
}

void Server::page(std::string path, std::string content, std::string content_type) {
  shared_->pages[std::move(path)] = {std::move(content), std::move(content_type)};
}

uint16_t Server::listen() {
  if (shared_->options.tls.enabled() && !cores_[0]->tls()) reload_certificates();
  const bool several = cores_.size() > 1;
  const uint16_t port = cores_[0]->listen(shared_->options.port, several);
  for (size_t i = 1; i < cores_.size(); ++i) cores_[i]->listen(port, true);
  install_signal_handlers();
  return port;
}

uint16_t Server::port() const { return cores_[0]->port(); }

size_t Server::thread_count() const { return cores_.size(); }

void Server::reload_certificates() {
  const TlsOptions& tls = shared_->options.tls;
  if (!tls.enabled()) throw std::logic_error("TLS is not configured (no certificate file)");
  std::shared_ptr<const io::TlsServerContext> context =
      io::TlsServerContext::load(tls.cert_file, tls.key_file, tls.sni, tls.client_ca_file);
  detail::ServerCore* here = detail::ServerCore::current();
  for (auto& core : cores_) {
    if (!running_ || core.get() == here) {
      core->set_tls(context);
    } else {
      core->loop().post([c = core.get(), context] { c->set_tls(context); });
    }
  }
}

void Server::install_signal_handlers() {
  detail::ServerCore& first = *cores_[0];
  if (shared_->options.handle_signals && !signals_handled_) {
    signals_handled_ = true;
    // Registered before the other loops' threads start, so they inherit the blocked signals
    // and only the first loop receives them; and before listen() returns, so that a signal
    // sent as soon as the server says it is listening is handled, not deadly.
    io::EventLoop& loop = first.loop();
    loop.on_signal(SIGINT, [this] { shutdown(); });
    loop.on_signal(SIGTERM, [this] { shutdown(); });
    if (first.tls()) {
      loop.on_signal(SIGHUP, [this] {
        std::string error;
        try {
          reload_certificates();
        } catch (const std::exception& e) {
          error = e.what();
        }
        if (shared_->options.tls.on_reload) shared_->options.tls.on_reload(error);
      });
    }
  }
}

void Server::run() {
  detail::ServerCore& first = *cores_[0];
  install_signal_handlers();
  running_ = true;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < cores_.size(); ++i) {
    threads.emplace_back([core = cores_[i].get()] { core->run(); });
  }
  first.run();
  for (std::thread& t : threads) t.join();
  running_ = false;
}

void Server::shutdown() {
  for (auto& core : cores_) core->shutdown();
}

size_t Server::connection_count() const {
  size_t total = 0;
  for (const auto& core : cores_) total += core->connection_count();
  return total;
}

io::EventLoop& Server::loop() { return cores_[0]->loop(); }

void Server::publish(std::string_view topic, std::string_view message, MessageType type,
                     const WebSocket* except) {
  shared_->hub.publish(topic, message, type, detail::Connection::skip_session(except));
}

size_t Server::subscriber_count(std::string_view topic) const {
  return shared_->hub.subscriber_count(topic);
}

std::vector<std::string> Server::members(std::string_view topic) const {
  return shared_->hub.members(topic);
}

void Server::send_to_users(const std::vector<std::string>& user_ids, std::string_view message,
                           MessageType type) {
  shared_->hub.send_to_users(user_ids, message, type);
}

size_t Server::user_connection_count(std::string_view user_id) const {
  return shared_->hub.user_connection_count(user_id);
}

void Server::broadcast(std::string_view message, MessageType type) {
  shared_->broadcast(nullptr, message, type, {});
}

}  // namespace duplex
