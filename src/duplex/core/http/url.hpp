// WebSocket URLs (RFC 6455 3, read the way the WHATWG URL standard and browsers read them),
// redirect targets, and HTTP proxy settings (the http_proxy / NO_PROXY conventions of curl and
// friends). Pure string work: nothing is resolved or connected here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace duplex::core {

struct WebSocketUrl {
  bool secure = false;   // wss:// (or https://, mapped as browsers do; http:// -> ws://)
  std::string host;      // lower-cased; IPv6 literal without brackets, in RFC 5952 form
  uint16_t port = 0;     // explicit or the default 80 / 443
  std::string resource;  // path and query ("/" when empty), percent-encoded; never a fragment

  bool ipv6_literal() const;
  // "example.com", "example.com:8080" (port only when not the default), "[::1]:9000".
  std::string host_header() const;
  // Normalised "ws://host[:port]/resource"; parsing it gives this URL back.
  std::string to_string() const;

  bool operator==(const WebSocketUrl&) const = default;
};

// Parses "ws://", "wss://", "http://" or "https://" URLs. As browsers do, surrounding whitespace
// and any tab or newline are ignored, scheme and host are case-insensitive, and bytes that may not
// appear in a request target (controls, spaces, non-ASCII, and the characters browsers escape)
// are percent-encoded; a valid %XX is kept and a stray '%' becomes "%25". Unlike browsers, it
// rejects user names and passwords (they would never be sent) and non-ASCII host names (no IDNA
// here: use the xn-- form). Errors are one sentence, e.g.
// "unsupported scheme 'ftp' (use ws:// or wss://)", "missing host", "invalid port '99999'",
// "URL fragments are not allowed".
std::variant<WebSocketUrl, std::string> parse_websocket_url(std::string_view url);

// Resolves a redirect's Location against the URL that was redirected: an absolute ws(s)/http(s)
// URL, a scheme-relative "//host/path", or an absolute path "/x?y". A fragment is dropped (it is
// never sent to a server). Other relative references are refused with an error.
std::variant<WebSocketUrl, std::string> resolve_location(const WebSocketUrl& base,
                                                         std::string_view location);

struct ProxyConfig {
  std::string host;           // lower-cased; IPv6 literal without brackets
  uint16_t port = 0;          // explicit or 80
  std::string authorization;  // "Basic <base64(user:pass)>" from the URL's userinfo, else empty

  bool operator==(const ProxyConfig&) const = default;
};

// Parses an HTTP proxy setting: "http://[user:pass@]host[:port][/]", or a bare "[user:pass@]
// host[:port]" as curl accepts it. User and password are percent-decoded before encoding.
std::variant<ProxyConfig, std::string> parse_proxy_url(std::string_view url);

// True when NO_PROXY exempts host:port from the proxy. Entries are separated by commas and/or
// whitespace and compared case-insensitively: "*" matches everything; "example.com",
// ".example.com" and "*.example.com" match that host and its subdomains; IPv4 and IPv6 literals
// (bracketed or not) match exactly, and CIDR ranges ("10.0.0.0/8", "fd00::/8") match addresses in
// them; an entry with ":port" matches only that port. Host names are never resolved, so a name
// does not match an address entry or the reverse.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, uint16_t port);

}  // namespace duplex::core
