#include "duplex/server/sockjs_server.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http_date.hpp"
#include "duplex/core/http/query_string.hpp"
#include "duplex/core/sockjs/callback.hpp"
#include "duplex/core/sockjs/messages.hpp"
#include "duplex/core/sockjs/route.hpp"
#include "duplex/server/protocols/random_id.hpp"
#include "duplex/server/protocols/sockjs/sockjs_framing.hpp"
#include "duplex/server/protocols/sockjs/sockjs_session.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/server_access.hpp"
#include "duplex/server/upgrade_request.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::sockjs {

using core::sockjs::RouteKind;
using core::sockjs::Transport;
using detail::Receiver;
using detail::SessionImpl;
using detail::Shared;
using ::duplex::detail::LoopPubSub;

namespace detail {
namespace {

constexpr int64_t kCacheSeconds = 365 * 24 * 60 * 60;  // a year, as the protocol asks
const char* const kNoCache = "no-store, no-cache, must-revalidate, max-age=0";
const char* const kTextType = "text/plain; charset=UTF-8";

// The iframe page the iframe-based transports load from the server's origin; it loads the
// client from `sockjs_url` and lets it take over.
std::string iframe_page(std::string_view sockjs_url) {
  std::string page =
      "<!DOCTYPE html>\n<html>\n<head>\n"
      "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n"
      "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
      "  <script>\n    document.domain = document.domain;\n"
      "    _sockjs_onload = function(){SockJS.bootstrap_iframe();};\n  </script>\n"
      "  <script src=\"";
  page += sockjs_url;
  page +=
      "\"></script>\n</head>\n<body>\n"
      "  <h2>Don't panic!</h2>\n"
      "  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>\n"
      "</body>\n</html>";
  return page;
}

// A strong validator for the iframe page: FNV-1a of its bytes, quoted.
std::string etag_of(std::string_view content) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) tag += kHex[(hash >> shift) & 0xf];
  tag += '"';
  return tag;
}

// CORS as the protocol has it: the request's origin (any) with credentials, or "*" for a
// request without one (or from a file:// page, whose Origin is "null").
void add_cors(const HttpExchange& ex, HttpHeaders& headers) {
  const auto origin = ex.header("Origin");
  const bool any = !origin || origin->empty() || *origin == "null";
  headers.emplace_back("Access-Control-Allow-Origin",
                       any ? std::string("*") : std::string(*origin));
  headers.emplace_back("Access-Control-Allow-Credentials", "true");
  headers.emplace_back("Vary", "Origin");
  if (auto asked = ex.header("Access-Control-Request-Headers"); asked && !asked->empty()) {
    headers.emplace_back("Access-Control-Allow-Headers", std::string(*asked));
  }
}

// The JSESSIONID cookie (for sticky load balancing): the client's own, else "dummy".
void add_cookie(const Shared& shared, const HttpExchange& ex, HttpHeaders& headers) {
  if (!shared.options.jsessionid) return;
  std::string value = "dummy";
  if (auto cookies = ex.header("Cookie")) {
    std::string_view rest = *cookies;
    while (!rest.empty()) {
      const size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.starts_with("JSESSIONID=")) {
        value = std::string(pair.substr(11));
        break;
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  headers.emplace_back("Set-Cookie", "JSESSIONID=" + value + "; path=/");
}

void add_cache_for(HttpHeaders& headers) {
  headers.emplace_back("Cache-Control", "public, max-age=" + std::to_string(kCacheSeconds));
  headers.emplace_back("Expires",
                       core::http_date(static_cast<int64_t>(std::time(nullptr)) + kCacheSeconds));
}

void not_found(HttpExchange& ex, HttpHeaders headers = {}) {
  ex.respond(404, "404 Error: Page not found\n", kTextType, headers);
}

void error_500(HttpExchange& ex, std::string_view message, const HttpHeaders& headers) {
  ex.respond(500, message, kTextType, headers);
}

// OPTIONS: cacheable for a year, naming the methods.
void answer_options(const Shared& shared, HttpExchange& ex, std::string_view methods,
                    bool with_cookie) {
  HttpHeaders headers;
  if (with_cookie) add_cookie(shared, ex, headers);
  add_cors(ex, headers);
  add_cache_for(headers);
  headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
  headers.emplace_back("Access-Control-Max-Age", std::to_string(kCacheSeconds));
  ex.respond(204, {}, {}, headers);
}

void answer_info(const Shared& shared, HttpExchange& ex) {
  HttpHeaders headers;
  add_cors(ex, headers);
  headers.emplace_back("Cache-Control", kNoCache);
  std::string body = "{\"websocket\":";
  body += shared.options.websocket ? "true" : "false";
  body += ",\"origins\":[\"*:*\"],\"cookie_needed\":";
  body += shared.options.jsessionid ? "true" : "false";
  body += ",\"entropy\":";
  const std::string random = ::duplex::detail::random_id();
  uint32_t entropy = 0;
  for (char c : random) entropy = entropy * 131 + static_cast<unsigned char>(c);
  body += std::to_string(entropy);
  body += '}';
  ex.respond(200, body, "application/json; charset=UTF-8", headers);
}

void answer_iframe(const Shared& shared, HttpExchange& ex) {
  HttpHeaders headers;
  add_cache_for(headers);
  if (auto tag = ex.header("If-None-Match"); tag && *tag == shared.iframe_etag) {
    ex.respond(304, {}, {}, headers);
    return;
  }
  headers.emplace_back("ETag", shared.iframe_etag);
  ex.respond(200, shared.iframe_page, "text/html; charset=UTF-8", headers);
}

// The callback a jsonp or htmlfile page names ("c" or "callback"); an error answered if none
// or a bad one.
std::optional<std::string> callback_of(HttpExchange& ex, const HttpHeaders& headers,
                                       Transport transport) {
  core::sockjs::Callback callback = core::sockjs::read_callback(ex.query(), transport);
  if (!callback.ok()) {
    error_500(ex, callback.error, headers);
    return std::nullopt;
  }
  return std::move(callback.name);
}

// A request that receives the session's frames: polling answers once, streaming writes on.
void receive(Shared& shared, HttpExchange& ex, std::string_view session_id, Transport transport) {
  HttpHeaders headers;
  add_cookie(shared, ex, headers);
  headers.emplace_back("Cache-Control", kNoCache);
  if (transport == Transport::eventsource || transport == Transport::xhr ||
      transport == Transport::xhr_streaming) {
    add_cors(ex, headers);
  }
  auto receiver = std::make_shared<Receiver>();
  receiver->transport = transport;
  receiver->loop = LoopPubSub::current_event_loop();
  if (transport == Transport::jsonp || transport == Transport::htmlfile) {
    std::optional<std::string> callback = callback_of(ex, headers, transport);
    if (!callback) return;
    receiver->callback = std::move(*callback);
  }
  if (transport == Transport::jsonp) headers.emplace_back("X-Content-Type-Options", "nosniff");

  std::shared_ptr<SessionImpl> session =
      shared.find_or_make(std::string(session_id), ex, ex.remote_address());
  receiver->session = session;
  if (receiver->kind() == core::sockjs::ReceiverKind::polling) {
    receiver->headers = std::move(headers);
    receiver->held = ex.hold();
  } else {
    ex.start_stream(200, content_type(transport), headers);
    std::string prelude;
    append_prelude(prelude, transport, receiver->callback);
    ex.write(prelude);
    receiver->ex = &ex;
  }
  // A poll answered or a stream ended completes only when the session ended it; otherwise the
  // client went away (or a stream was dropped as a slow reader).
  ex.on_close([receiver](bool completed) {
    receiver->ex = nullptr;
    if (completed) return;
    if (auto s = receiver->session.lock()) {
      s->run_home([receiver](SessionImpl& home) { home.receiver_gone(receiver); });
    }
  });
  session->run_home([receiver](SessionImpl& home) { home.attach(receiver); });
}

// xhr_send and jsonp_send: messages for a session that exists.
void accept_messages(Shared& shared, HttpExchange& ex, std::string_view session_id,
                     Transport transport) {
  HttpHeaders headers;
  add_cookie(shared, ex, headers);
  headers.emplace_back("Cache-Control", kNoCache);
  if (transport == Transport::xhr_send) add_cors(ex, headers);
  const std::string_view type = ex.header("Content-Type").value_or(std::string_view());
  std::vector<std::string> messages;
  const core::sockjs::MessagesResult decoded =
      transport == Transport::xhr_send ? core::sockjs::decode_xhr_send(type, ex.body(), messages)
                                       : core::sockjs::decode_jsonp_send(type, ex.body(), messages);
  if (!decoded.ok) {
    error_500(ex, decoded.error, headers);
    return;
  }
  std::shared_ptr<SessionImpl> session = shared.find(std::string(session_id));
  if (!session) {
    ex.respond(404, {}, {}, headers);
    return;
  }
  session->run_home(
      [messages = std::move(messages)](SessionImpl& home) { home.receive(messages); });
  if (transport == Transport::xhr_send) {
    // text/plain even without a body (Firefox would read it as XML otherwise).
    headers.emplace_back("Content-Type", kTextType);
    ex.respond(204, {}, {}, headers);
  } else {
    ex.respond(200, "ok", kTextType, headers);
  }
}

// A GET of a websocket transport that is no upgrade: what it lacks.
void refuse_plain_get(HttpExchange& ex) {
  const auto upgrade = ex.header("Upgrade");
  if (upgrade && core::iequals(*upgrade, "websocket")) {
    ex.respond(400, "\"Connection\" must be \"Upgrade\".", kTextType);
  } else {
    ex.respond(400, "Can \"Upgrade\" only to \"WebSocket\".", kTextType);
  }
}

void handle(Shared& shared, HttpExchange& ex) {
  const std::string_view rest = ex.path().substr(shared.options.prefix.size());
  const core::sockjs::Route route = core::sockjs::parse_route(rest);
  if (route.kind == RouteKind::not_found) {
    not_found(ex);
    return;
  }
  const bool websocket_route =
      route.kind == RouteKind::raw_websocket ||
      (route.kind == RouteKind::session && route.transport == Transport::websocket);
  if (websocket_route && !shared.options.websocket) {
    HttpHeaders headers;
    add_cache_for(headers);
    not_found(ex, headers);
    return;
  }
  if (!core::sockjs::method_allowed(route, ex.method())) {
    ex.respond(405, {}, {}, {{"Allow", std::string(core::sockjs::allow_header(route))}});
    return;
  }
  const bool options = ex.method() == "OPTIONS";
  switch (route.kind) {
    case RouteKind::greeting:
      ex.respond(200, "Welcome to SockJS!\n", kTextType);
      return;
    case RouteKind::info:
      if (options) {
        answer_options(shared, ex, core::sockjs::allowed_methods(route), false);
      } else {
        answer_info(shared, ex);
      }
      return;
    case RouteKind::iframe:
      answer_iframe(shared, ex);
      return;
    case RouteKind::raw_websocket:
      refuse_plain_get(ex);
      return;
    case RouteKind::session:
      break;
    case RouteKind::not_found:
      return;
  }
  if (options) {
    answer_options(shared, ex, core::sockjs::allowed_methods(route), true);
    return;
  }
  switch (route.transport) {
    case Transport::websocket:
      refuse_plain_get(ex);
      return;
    case Transport::xhr_send:
    case Transport::jsonp_send:
      accept_messages(shared, ex, route.session, route.transport);
      return;
    default:
      receive(shared, ex, route.session, route.transport);
      return;
  }
}

// --- the websocket transports --------------------------------------------------------------

struct WsData {
  std::shared_ptr<Receiver> receiver;
  std::shared_ptr<SessionImpl> session;
};

void verify_upgrade(const Shared& shared, UpgradeRequest& request) {
  const std::string_view rest = request.path().substr(shared.options.prefix.size());
  const core::sockjs::Route route = core::sockjs::parse_route(rest);
  const bool raw = route.kind == RouteKind::raw_websocket;
  if (!raw && !(route.kind == RouteKind::session && route.transport == Transport::websocket)) {
    request.reject(404, "404 Error: Page not found");
    return;
  }
  auto receiver = std::make_shared<Receiver>();
  receiver->transport = Transport::websocket;
  receiver->raw = raw;
  request.set_user_data(WsData{std::move(receiver), nullptr});
}

void on_ws_open(Shared& shared, WebSocket& ws) {
  WsData& data = ws.data<WsData>();
  data.receiver->ws = &ws;
  data.receiver->loop = LoopPubSub::current_event_loop();
  // Every WebSocket is a session of its own: the session id in its URL is not looked up.
  auto session =
      std::make_shared<SessionImpl>(shared, ::duplex::detail::random_id(),
                                    *LoopPubSub::current_event_loop(), ws.remote_address());
  data.session = session;
  data.receiver->session = session;
  session->attach(data.receiver);
}

void on_ws_message(WebSocket& ws, std::string_view message, MessageType type) {
  WsData& data = ws.data<WsData>();
  if (!data.session) return;
  std::shared_ptr<SessionImpl> session = data.session;  // a handler may close it
  if (data.receiver->raw) {
    session->receive({std::string(message)});
    return;
  }
  std::vector<std::string> messages;
  const core::sockjs::MessagesResult decoded =
      type == MessageType::binary ? core::sockjs::decode_ws_binary_message(message, messages)
                                  : core::sockjs::decode_ws_message(message, messages);
  if (!decoded.ok) {
    // As the reference: the WebSocket closes with 3000, and the session with it.
    data.receiver->ws = nullptr;
    ws.close(core::sockjs::kBrokenFramingCode, core::sockjs::kBrokenFramingReason);
    session->end(core::sockjs::kBrokenFramingCode, core::sockjs::kBrokenFramingReason);
    return;
  }
  session->receive(messages);
}

void on_ws_close(WebSocket& ws) {
  WsData& data = ws.data<WsData>();
  data.receiver->ws = nullptr;
  if (std::shared_ptr<SessionImpl> session = std::move(data.session)) {
    session->receiver_gone(data.receiver);
  }
}

}  // namespace
}  // namespace detail

Service::Service(duplex::Server& server, Options options) : shared_(std::make_shared<Shared>()) {
  if (options.prefix.empty() || options.prefix.front() != '/' || options.prefix.back() == '/') {
    throw std::invalid_argument("sockjs: the prefix must start with '/' and not end with one");
  }
  if (options.response_limit == 0) throw std::invalid_argument("sockjs: response_limit is 0");
  shared_->options = std::move(options);
  shared_->hub = &::duplex::detail::ServerAccess::hub(server);
  shared_->iframe_page = detail::iframe_page(shared_->options.sockjs_url);
  shared_->iframe_etag = detail::etag_of(shared_->iframe_page);
  const Options& opts = shared_->options;

  HttpRouteOptions route;
  route.prefix = true;
  route.max_body = opts.max_message;
  route.handler_answers_preflights = true;
  // Streams are bounded by the response limit; a reader that takes nothing is dropped.
  route.max_buffered = std::max<size_t>(opts.response_limit * 2, 1 << 20);
  // The prefix itself and every path under it ("/echo/..."), not "/echo.html".
  HttpHandler handler = [shared = shared_](HttpExchange& ex) { detail::handle(*shared, ex); };
  server.http(opts.prefix + "/", handler, route);
  route.prefix = false;
  server.http(opts.prefix, std::move(handler), route);

  if (opts.websocket) {
    EndpointConfig config;
    config.max_payload = opts.max_message;
    config.idle_timeout = std::chrono::milliseconds(0);  // heartbeats keep it busy
    config.on_upgrade = [shared = shared_](UpgradeRequest& request) {
      detail::verify_upgrade(*shared, request);
    };
    config.on_open = [shared = shared_](WebSocket& ws) { detail::on_ws_open(*shared, ws); };
    config.on_message = detail::on_ws_message;
    config.on_close = [](WebSocket& ws, uint16_t, std::string_view) { detail::on_ws_close(ws); };
    server.endpoint_under(opts.prefix + "/", std::move(config));
  }
}

Service::~Service() {
  // After run() has returned: what is left has no request that will report to it.
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> sessions;
  {
    std::lock_guard lock(shared_->mutex);
    sessions.swap(shared_->sessions);
  }
  for (auto& [id, session] : sessions) session->abandon();
}

size_t Service::sessions_count() const { return shared_->live.load(std::memory_order_relaxed); }

const Options& Service::options() const { return shared_->options; }

}  // namespace duplex::sockjs
