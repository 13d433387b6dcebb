// The SockJS 0.3 URL scheme under a service's prefix, as the reference server (Node's sockjs
// 0.3.24, lib/sockjs.js) routes it and the protocol's test suite (sockjs-protocol-0.3.3.py)
// checks it. Every path may end with one '/' more ("/info/", "/a/b/xhr/"); nothing else is
// taken:
//   "" and "/"                        greeting ("Welcome to SockJS!\n")
//   "/info"                           info (OPTIONS, GET)
//   "/iframe.html", "/iframe-1.2.html" iframe (GET): "/iframe", then any of 0-9 a-z '-' '.' '_',
//                                     then any one character, then "html"
//   "/websocket"                      raw_websocket (GET): WebSocket without SockJS framing
//   "/<server>/<session>/<transport>" session: server and session are one or more characters
//                                     other than '/' and '.', the transport one of Transport
// Where the reference differs from the suite, this follows the reference:
// - The iframe pattern's last '.' is a regular expression's "any character" there (the suite
//   only tries ".html"), so "/iframe_html", "/iframeAhtml" and "/iframe/html" are the page too.
//   Any printable ASCII character counts (the reference's request parser refuses controls,
//   spaces and bytes above 0x7F in a request target before routing).
// - It still answers "/chunking_test" (SockJS 0.1, which /info replaced); not here: not_found.
// The path is taken as given: the reference's URL parser also reads '\' as '/', which is the
// caller's to do if it wants to.
#pragma once

#include <cstdint>
#include <string_view>

namespace duplex::core::sockjs {

enum class Transport : uint8_t {
  websocket,
  xhr,
  xhr_send,
  xhr_streaming,
  eventsource,
  htmlfile,
  jsonp,
  jsonp_send
};
enum class RouteKind : uint8_t { greeting, info, iframe, raw_websocket, session, not_found };

struct Route {
  RouteKind kind = RouteKind::not_found;
  std::string_view server;  // session routes only (views into the argument)
  std::string_view session;
  Transport transport = Transport::xhr;
};

/// `rest` is the request path after the service prefix, without the query: see above.
/// Everything else is not_found (e.g. "//", "/a./a/xhr", "/a/a./xhr", "/iframe.htm",
/// "/IFRAME.HTML", "/iframe-/.html", "/a/a/xhr//").
Route parse_route(std::string_view rest);

/// The methods a route answers, as its OPTIONS answer's Access-Control-Allow-Methods lists them
/// (the suite checks it byte for byte): "OPTIONS, POST" for xhr, xhr_send and xhr_streaming,
/// "OPTIONS, GET" for info, "POST" for jsonp_send and "GET" for every other route; "" for
/// not_found. Only routes with OPTIONS in it answer OPTIONS (with 204 and CORS headers).
std::string_view allowed_methods(const Route& route);
/// The same methods as the reference's 405 answer lists them in its Allow header: the order of
/// its routing table, so "POST, OPTIONS" for the three xhr transports, else as above. (The
/// suite only checks that the header is there.)
std::string_view allow_header(const Route& route);
/// Whether `method` (exact, case-sensitive, as the reference compares it) is one of
/// allowed_methods(route). Another method on a route is a 405; a path that is no route a 404.
bool method_allowed(const Route& route, std::string_view method);

/// The transport's name in the URL: "websocket", "xhr", "xhr_send", "xhr_streaming",
/// "eventsource", "htmlfile", "jsonp", "jsonp_send".
std::string_view transport_name(Transport t);

}  // namespace duplex::core::sockjs
