#include "duplex/server/engineio_server.hpp"

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "duplex/core/http/query_string.hpp"
#include "duplex/server/protocols/engineio/engineio_errors.hpp"
#include "duplex/server/protocols/engineio/engineio_session.hpp"
#include "duplex/server/protocols/random_id.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/upgrade_request.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::engineio {

using core::engineio::TransportKind;
using detail::ErrorCode;
using detail::respond_error;
using detail::Session;
using detail::Shared;
using detail::WsLink;
using ::duplex::detail::LoopPubSub;

namespace detail {
namespace {

struct Query {
  std::optional<std::string> eio;
  std::optional<std::string> transport;
  std::optional<std::string> sid;
};

Query read_query(std::string_view query) {
  return {core::query_parameter(query, "EIO"), core::query_parameter(query, "transport"),
          core::query_parameter(query, "sid")};
}

bool transport_allowed(const Options& options, const std::optional<std::string>& transport) {
  if (!transport) return false;
  if (*transport == "polling") return options.allow_polling;
  if (*transport == "websocket") return options.allow_websocket;
  return false;
}

// Polls get ids unique across the server, so a late report of a lost poll names only its own.
std::atomic<uint64_t> next_poll_id{1};

HeldResponse hold_poll(HttpExchange& ex, const std::shared_ptr<Session>& session) {
  const uint64_t id = next_poll_id.fetch_add(1, std::memory_order_relaxed);
  HeldResponse held = ex.hold();
  ex.on_close([weak = std::weak_ptr<Session>(session), id](bool completed) {
    if (completed) return;
    if (auto s = weak.lock()) s->run_home([id](Session& home) { home.poll_lost(id); });
  });
  session->run_home([held, id](Session& home) { home.poll(held, id); });
  return held;
}

void handle_request(Shared& shared, HttpExchange& ex) {
  const Options& options = shared.options;
  const Query query = read_query(ex.query());
  if (!transport_allowed(options, query.transport)) {
    respond_error(ex, ErrorCode::unknown_transport);
    return;
  }
  if (query.sid) {
    std::shared_ptr<Session> session = shared.find(*query.sid);
    if (!session) {
      respond_error(ex, ErrorCode::unknown_sid);
      return;
    }
    const bool polling = session->current_transport() == TransportKind::polling;
    if (*query.transport != "polling" || !polling || query.eio != "4") {
      respond_error(ex, ErrorCode::bad_request);  // a transport or protocol mismatch
      return;
    }
    if (ex.method() == "GET") {
      hold_poll(ex, session);
    } else if (ex.method() == "POST") {
      if (ex.header("Content-Type") == "application/octet-stream") {
        // Engine.IO v4 posts text payloads only.
        respond_error(ex, ErrorCode::bad_request, "binary payloads are not part of Engine.IO v4");
        session->run_home([](Session& home) {
          home.finish_for(core::engineio::CloseReason::transport_error, "invalid content");
        });
        return;
      }
      HeldResponse held = ex.hold();
      session->run_home([held, body = std::string(ex.body())](Session& home) mutable {
        home.post(std::move(body), held);
      });
    } else {
      ex.respond(500, {}, "text/plain; charset=utf-8");
    }
    return;
  }
  if (ex.method() != "GET") {
    respond_error(ex, ErrorCode::bad_handshake_method);
    return;
  }
  if (*query.transport != "polling") {
    respond_error(ex, ErrorCode::bad_request);  // a WebSocket handshake sent as plain HTTP
    return;
  }
  if (query.eio != "4") {
    respond_error(ex, ErrorCode::unsupported_protocol_version);
    return;
  }
  auto session = std::make_shared<Session>(shared, ::duplex::detail::random_id(),
                                           *LoopPubSub::current_event_loop(),
                                           TransportKind::polling, ex.remote_address());
  shared.add(session);
  if (!options.cookie.empty()) {
    session->set_first_headers({{"Set-Cookie", options.cookie + "=" + session->sid() +
                                                   "; Path=/; HttpOnly; SameSite=Lax"}});
  }
  session->open(nullptr);
  hold_poll(ex, session);
}

void verify_upgrade(Shared& shared, UpgradeRequest& request) {
  const Query query = read_query(request.query());
  auto refuse = [&request](ErrorCode code) {
    request.reject(400, std::string(error_message(code)));
  };
  if (query.transport != "websocket" || !shared.options.allow_websocket) {
    refuse(ErrorCode::unknown_transport);
    return;
  }
  if (query.sid) {
    std::shared_ptr<Session> session = shared.find(*query.sid);
    if (!session) return refuse(ErrorCode::unknown_sid);
    if (query.eio != "4") return refuse(ErrorCode::bad_request);
    if (!shared.options.allow_upgrades) return refuse(ErrorCode::bad_request);
  } else if (query.eio != "4") {
    return refuse(ErrorCode::unsupported_protocol_version);
  }
  auto link = std::make_shared<WsLink>();
  link->probe = query.sid.has_value();
  request.set_user_data(std::pair<std::shared_ptr<WsLink>, std::string>(
      std::move(link), query.sid.value_or(std::string())));
}

using LinkData = std::pair<std::shared_ptr<WsLink>, std::string>;

void on_ws_open(Shared& shared, WebSocket& ws) {
  LinkData& data = ws.data<LinkData>();
  std::shared_ptr<WsLink> link = data.first;  // (clang 14 captures no structured binding)
  const std::string& sid = data.second;
  link->ws = &ws;
  link->loop = LoopPubSub::current_event_loop();
  if (sid.empty()) {
    auto session = std::make_shared<Session>(shared, ::duplex::detail::random_id(), *link->loop,
                                             TransportKind::websocket, ws.remote_address());
    link->session = session;
    shared.add(session);
    session->open(link);
    return;
  }
  std::shared_ptr<Session> session = shared.find(sid);
  if (!session) {
    ws.close(1000);
    return;
  }
  link->session = session;
  session->run_home([link](Session& home) { home.probe(link); });
}

void on_ws_message(WebSocket& ws, std::string_view message, MessageType type) {
  const std::shared_ptr<WsLink>& link = ws.data<LinkData>().first;
  std::shared_ptr<Session> session = link->session.lock();
  if (!session) return;
  const bool binary = type == MessageType::binary;
  if (&session->home() == link->loop) {
    session->ws_message(link, message, binary);
    return;
  }
  session->run_home([link, data = std::string(message), binary](Session& home) {
    home.ws_message(link, data, binary);
  });
}

void on_ws_close(WebSocket& ws) {
  std::shared_ptr<WsLink> link = ws.data<LinkData>().first;
  link->ws = nullptr;
  if (std::shared_ptr<Session> session = link->session.lock()) {
    session->run_home([link](Session& home) { home.ws_closed(link); });
  }
}

}  // namespace
}  // namespace detail

Server::Server(duplex::Server& server, Options options, ConnectionHandler on_connection)
    : shared_(std::make_shared<Shared>()) {
  if (options.path.empty() || options.path.front() != '/') {
    throw std::invalid_argument("engineio: the path must start with '/'");
  }
  if (options.path.back() != '/') options.path += '/';
  shared_->options = std::move(options);
  shared_->on_connection = std::move(on_connection);
  const Options& opts = shared_->options;

  HttpRouteOptions route;
  route.prefix = true;
  route.max_body = opts.max_payload;
  route.cors = opts.cors;
  server.http(
      opts.path, [shared = shared_](HttpExchange& ex) { detail::handle_request(*shared, ex); },
      route);

  if (opts.allow_websocket) {
    EndpointConfig config;
    config.max_payload = opts.max_payload;
    config.idle_timeout = std::chrono::milliseconds(0);  // the Engine.IO heartbeat watches it
    config.on_upgrade = [shared = shared_](UpgradeRequest& request) {
      detail::verify_upgrade(*shared, request);
    };
    config.on_open = [shared = shared_](WebSocket& ws) { detail::on_ws_open(*shared, ws); };
    config.on_message = detail::on_ws_message;
    config.on_close = [](WebSocket& ws, uint16_t, std::string_view) { detail::on_ws_close(ws); };
    server.endpoint(opts.path, std::move(config));
  }
}

Server::~Server() {
  // After run() has returned: what is left has no transport that will report to it.
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(shared_->mutex);
    sessions.swap(shared_->sessions);
  }
  for (auto& [sid, session] : sessions) session->abandon();
}

size_t Server::clients_count() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->sessions.size();
}

const Options& Server::options() const { return shared_->options; }

}  // namespace duplex::engineio
