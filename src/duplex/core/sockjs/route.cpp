#include "duplex/core/sockjs/route.hpp"

#include <array>

namespace duplex::core::sockjs {

namespace {

constexpr std::array<Transport, 8> kTransports = {
    Transport::websocket,   Transport::xhr,      Transport::xhr_send, Transport::xhr_streaming,
    Transport::eventsource, Transport::htmlfile, Transport::jsonp,    Transport::jsonp_send};

// A route's path with its one optional trailing '/' taken off.
std::string_view without_trailing_slash(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

constexpr bool is_iframe_version_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_';
}

// "/iframe" [0-9a-z._-]* <any character> "html" (after the trailing '/' is taken off): the
// version characters and the one before "html" are what is between "/iframe" and "html".
bool is_iframe(std::string_view path) {
  constexpr std::string_view kStart = "/iframe";
  constexpr std::string_view kEnd = "html";
  if (path.size() < kStart.size() + 1 + kEnd.size() || !path.starts_with(kStart) ||
      !path.ends_with(kEnd)) {
    return false;
  }
  const std::string_view middle =
      path.substr(kStart.size(), path.size() - kStart.size() - kEnd.size());
  const char any = middle.back();
  if (any <= ' ' || any > '~') return false;
  for (const char c : middle.substr(0, middle.size() - 1)) {
    if (!is_iframe_version_char(c)) return false;
  }
  return true;
}

// One or more characters other than '/' and '.'.
bool is_session_part(std::string_view part) {
  return !part.empty() && part.find_first_of("/.") == std::string_view::npos;
}

}  // namespace

Route parse_route(std::string_view rest) {
  Route route;
  if (rest.empty() || rest == "/") {
    route.kind = RouteKind::greeting;
    return route;
  }
  // "/iframe...html/" keeps its own test: the character before "html" may be a '/'.
  if (is_iframe(rest) || (rest.back() == '/' && is_iframe(without_trailing_slash(rest)))) {
    route.kind = RouteKind::iframe;
    return route;
  }
  const std::string_view path = without_trailing_slash(rest);
  if (path == "/info") {
    route.kind = RouteKind::info;
    return route;
  }
  if (path == "/websocket") {
    route.kind = RouteKind::raw_websocket;
    return route;
  }
  // "/<server>/<session>/<transport>"
  if (path.empty() || path[0] != '/') return route;
  const size_t second = path.find('/', 1);
  if (second == std::string_view::npos) return route;
  const size_t third = path.find('/', second + 1);
  if (third == std::string_view::npos) return route;
  const std::string_view server = path.substr(1, second - 1);
  const std::string_view session = path.substr(second + 1, third - second - 1);
  const std::string_view name = path.substr(third + 1);
  if (!is_session_part(server) || !is_session_part(session)) return route;
  for (const Transport t : kTransports) {
    if (name == transport_name(t)) {
      route.kind = RouteKind::session;
      route.server = server;
      route.session = session;
      route.transport = t;
      return route;
    }
  }
  return route;
}

std::string_view allowed_methods(const Route& route) {
  switch (route.kind) {
    case RouteKind::greeting:
    case RouteKind::iframe:
    case RouteKind::raw_websocket:
      return "GET";
    case RouteKind::info:
      return "OPTIONS, GET";
    case RouteKind::not_found:
      return "";
    case RouteKind::session:
      break;
  }
  switch (route.transport) {
    case Transport::xhr:
    case Transport::xhr_send:
    case Transport::xhr_streaming:
      return "OPTIONS, POST";
    case Transport::jsonp_send:
      return "POST";
    case Transport::websocket:
    case Transport::eventsource:
    case Transport::htmlfile:
    case Transport::jsonp:
      break;
  }
  return "GET";
}

std::string_view allow_header(const Route& route) {
  const std::string_view methods = allowed_methods(route);
  return methods == "OPTIONS, POST" ? "POST, OPTIONS" : methods;
}

bool method_allowed(const Route& route, std::string_view method) {
  if (method.empty()) return false;
  const std::string_view methods = allowed_methods(route);
  // Whole names in the ", "-separated list.
  for (size_t at = 0; at < methods.size();) {
    size_t comma = methods.find(", ", at);
    if (comma == std::string_view::npos) comma = methods.size();
    if (methods.substr(at, comma - at) == method) return true;
    at = comma + 2;
  }
  return false;
}

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::websocket:
      return "websocket";
    case Transport::xhr:
      return "xhr";
    case Transport::xhr_send:
      return "xhr_send";
    case Transport::xhr_streaming:
      return "xhr_streaming";
    case Transport::eventsource:
      return "eventsource";
    case Transport::htmlfile:
      return "htmlfile";
    case Transport::jsonp:
      return "jsonp";
    case Transport::jsonp_send:
      return "jsonp_send";
  }
  return "";
}

}  // namespace duplex::core::sockjs
