#include "duplex/core/http/url.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/text/base64.hpp"

namespace duplex::core {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// What the WHATWG URL parser ignores: leading and trailing C0 controls and spaces, and tabs and
// newlines anywhere (so a URL pasted with a line break still works).
std::string strip_ignored(std::string_view url) {
  const auto is_c0_or_space = [](char c) { return static_cast<unsigned char>(c) <= 0x20; };
  while (!url.empty() && is_c0_or_space(url.front())) url.remove_prefix(1);
  while (!url.empty() && is_c0_or_space(url.back())) url.remove_suffix(1);
  std::string out;
  out.reserve(url.size());
  for (char c : url) {
    if (c != '\t' && c != '\n' && c != '\r') out.push_back(c);
  }
  return out;
}

// Splits "scheme://rest". nullopt when the text does not start with a syntactically valid scheme
// (RFC 3986 3.1) followed by "://".
std::optional<std::pair<std::string, std::string_view>> split_scheme(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == 0 || colon == std::string_view::npos || !is_alpha(url[0])) return std::nullopt;
  const std::string_view scheme = url.substr(0, colon);
  const bool valid = std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
  });
  if (!valid || url.substr(colon + 1, 2) != "//") return std::nullopt;
  return std::make_pair(to_lower(scheme), url.substr(colon + 3));
}

// An IP address in network byte order; `family` is AF_INET or AF_INET6.
struct IpAddress {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

// inet_pton accepts only the plain forms: dotted-quad IPv4 without leading zeros (so "010" can
// never mean octal) and IPv6 without a zone.
std::optional<IpAddress> parse_ip(const std::string& text, int family) {
  IpAddress ip{.family = family};
  if (inet_pton(family, text.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

std::optional<IpAddress> parse_any_ip(const std::string& text) {
  if (auto v4 = parse_ip(text, AF_INET)) return v4;
  return parse_ip(text, AF_INET6);
}

// A host name's last label is numeric exactly when the WHATWG parser would read it as IPv4.
bool looks_like_ipv4(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const size_t dot = host.rfind('.');
  return is_all_digits(dot == std::string_view::npos ? host : host.substr(dot + 1));
}

// 1 to 65535 in decimal; port 0 cannot be connected to.
std::optional<uint16_t> parse_port(std::string_view text) {
  if (!is_all_digits(text) || text.size() > 5) return std::nullopt;
  const unsigned long port = std::stoul(std::string(text));
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

struct HostPort {
  std::string host;
  std::optional<uint16_t> port;  // nullopt: the scheme's default
};

// Parses "host", "host:port", "[v6]" or "[v6]:port". Returns an error sentence, or nullopt.
std::optional<std::string> parse_host_port(std::string_view text, HostPort& out) {
  std::string_view port_text;
  bool has_port = false;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    const std::string address(text.substr(1, close == std::string_view::npos ? close : close - 1));
    const std::optional<IpAddress> ip = parse_ip(address, AF_INET6);
    if (close == std::string_view::npos || !ip) {
      return "invalid IPv6 address " +
             quoted(text.substr(0, close == text.npos ? close : close + 1));
    }
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "invalid host " + quoted(text);
    has_port = !rest.empty();
    port_text = has_port ? rest.substr(1) : rest;
    // The canonical text (RFC 5952: lower case, longest zero run compressed) makes equal
    // addresses compare equal as strings.
    std::array<char, INET6_ADDRSTRLEN> buffer{};
    inet_ntop(AF_INET6, ip->bytes.data(), buffer.data(), buffer.size());
    out.host = buffer.data();
  } else {
    const size_t colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    has_port = colon != std::string_view::npos;
    port_text = has_port ? text.substr(colon + 1) : std::string_view{};
    if (std::count(text.begin(), text.end(), ':') > 1) {
      return "invalid host " + quoted(text) + " (put IPv6 addresses in brackets, e.g. [::1])";
    }
    if (host.empty()) return std::string("missing host");
    if (std::any_of(host.begin(), host.end(), [](char c) { return c & 0x80; })) {
      return "non-ASCII host name " + quoted(host) + " is not supported (use its xn-- form)";
    }
    const bool valid = std::all_of(host.begin(), host.end(), [](char c) {
      return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
    });
    if (!valid) return "invalid host " + quoted(host);
    out.host = to_lower(host);
    if (looks_like_ipv4(out.host)) {
      // "127.0.0.1." is the same address; the dot would only confuse exact comparisons.
      if (out.host.ends_with('.')) out.host.pop_back();
      if (!parse_ip(out.host, AF_INET)) return "invalid IPv4 address " + quoted(host);
    }
  }
  out.port.reset();
  // An empty port ("host:") means the default, as in the WHATWG parser.
  if (has_port && !port_text.empty()) {
    out.port = parse_port(port_text);
    if (!out.port) return "invalid port " + quoted(port_text);
  }
  return std::nullopt;
}

// Percent-encodes what browsers encode in a path or query (the WHATWG path and special-query
// percent-encode sets; tabs and newlines were already removed). A valid %XX is kept as it is; a
// stray '%' is encoded so that the server decodes exactly what was written.
void append_encoded(std::string& out, std::string_view part, bool query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    const auto byte = static_cast<unsigned char>(c);
    bool encode = byte <= 0x20 || byte >= 0x7F || c == '"' || c == '<' || c == '>';
    encode = encode || (query ? c == '\'' : (c == '`' || c == '{' || c == '}'));
    if (c == '%') encode = i + 2 >= part.size() || !is_hex(part[i + 1]) || !is_hex(part[i + 2]);
    if (encode) {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    } else {
      out += c;
    }
  }
}

uint16_t default_port(bool secure) { return secure ? 443 : 80; }

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return std::nullopt;
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

struct NoProxyEntry {
  std::string_view address;
  std::optional<uint16_t> port;  // nullopt: any port
};

// Splits off an entry's ":port". A bare IPv6 entry has several colons and no port; a bracketed
// one may have a port after the ']'. nullopt for an entry that cannot match anything.
std::optional<NoProxyEntry> split_no_proxy_entry(std::string_view entry) {
  std::string_view address = entry;
  std::optional<std::string_view> port_text;
  if (entry.starts_with('[')) {
    const size_t close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    address = entry.substr(1, close - 1);
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    if (!rest.empty()) port_text = rest.substr(1);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    const size_t colon = entry.find(':');
    address = entry.substr(0, colon);
    port_text = entry.substr(colon + 1);
  }
  NoProxyEntry result{.address = address};
  if (port_text) {
    result.port = parse_port(*port_text);
    if (!result.port) return std::nullopt;
  }
  return result;
}

// True when `ip` lies in the range "address/bits".
bool cidr_contains(std::string_view cidr, const IpAddress& ip) {
  const size_t slash = cidr.find('/');
  const std::string_view bits_text = cidr.substr(slash + 1);
  const std::optional<IpAddress> network = parse_any_ip(std::string(cidr.substr(0, slash)));
  if (!network || network->family != ip.family || !is_all_digits(bits_text) ||
      bits_text.size() > 3) {
    return false;
  }
  const int bits = std::stoi(std::string(bits_text));
  if (bits > (network->family == AF_INET ? 32 : 128)) return false;
  for (int i = 0; i < bits; ++i) {
    const int mask = 0x80 >> (i % 8);
    if ((network->bytes[i / 8] & mask) != (ip.bytes[i / 8] & mask)) return false;
  }
  return true;
}

// "example.com", ".example.com" and "*.example.com" all match example.com and its subdomains.
bool domain_matches(std::string_view entry, const std::string& host) {
  std::string domain = to_lower(entry);
  if (domain.starts_with("*.")) domain.erase(0, 2);
  if (domain.starts_with('.')) domain.erase(0, 1);
  if (domain.ends_with('.')) domain.pop_back();
  if (domain.empty()) return false;
  return host == domain || (host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.');
}

}  // namespace

bool WebSocketUrl::ipv6_literal() const { return host.find(':') != std::string::npos; }

std::string WebSocketUrl::host_header() const {
  std::string out = ipv6_literal() ? "[" + host + "]" : host;
  if (port != default_port(secure)) out += ":" + std::to_string(port);
  return out;
}

std::string WebSocketUrl::to_string() const {
  return (secure ? "wss://" : "ws://") + host_header() + resource;
}

std::variant<WebSocketUrl, std::string> parse_websocket_url(std::string_view text) {
  const std::string url = strip_ignored(text);
  const auto scheme_rest = split_scheme(url);
  if (!scheme_rest) return std::string("missing scheme (use ws:// or wss://)");
  const auto& [scheme, rest] = *scheme_rest;
  WebSocketUrl result;
  if (scheme == "wss" || scheme == "https") {
    result.secure = true;
  } else if (scheme != "ws" && scheme != "http") {
    return "unsupported scheme " + quoted(url.substr(0, url.find(':'))) + " (use ws:// or wss://)";
  }
  // The WebSocket constructor throws on any fragment, even an empty one.
  if (rest.find('#') != std::string_view::npos) return std::string("URL fragments are not allowed");

  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return std::string(
        "user names and passwords are not allowed in WebSocket URLs (send an Authorization "
        "header instead)");
  }
  HostPort host_port;
  if (auto error = parse_host_port(authority, host_port)) return *std::move(error);
  result.host = std::move(host_port.host);
  result.port = host_port.port.value_or(default_port(result.secure));

  const std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (path.empty()) result.resource = "/";
  append_encoded(result.resource, path, false);
  if (question != std::string_view::npos) {
    result.resource += '?';
    append_encoded(result.resource, target.substr(question + 1), true);
  }
  return result;
}

std::variant<WebSocketUrl, std::string> resolve_location(const WebSocketUrl& base,
                                                         std::string_view location) {
  std::string target = strip_ignored(location);
  target.erase(std::min(target.find('#'), target.size()));
  if (target.empty()) return std::string("empty redirect location");
  const std::string scheme = base.secure ? "wss:" : "ws:";
  if (target.starts_with("//")) return parse_websocket_url(scheme + target);
  if (target.starts_with('/'))
    return parse_websocket_url(scheme + "//" + base.host_header() + target);
  if (split_scheme(target)) return parse_websocket_url(target);
  return "unsupported redirect location " + quoted(target) + " (expected an absolute URL or path)";
}

std::variant<ProxyConfig, std::string> parse_proxy_url(std::string_view text) {
  const std::string url = strip_ignored(text);
  if (url.empty()) return std::string("empty proxy URL");
  std::string_view rest = url;
  if (const auto scheme_rest = split_scheme(url)) {
    if (scheme_rest->first != "http") {
      return "unsupported proxy scheme " + quoted(url.substr(0, url.find(':'))) +
             " (only http:// proxies are supported)";
    }
    rest = scheme_rest->second;
  }
  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos && rest.substr(authority_end) != "/") {
    return std::string("a proxy URL must not have a path, query or fragment");
  }
  // User names and passwords may not contain a raw '@', so the last one ends the userinfo.
  const size_t at = authority.rfind('@');
  HostPort host_port;
  if (auto error =
          parse_host_port(authority.substr(at == authority.npos ? 0 : at + 1), host_port)) {
    return *std::move(error);
  }
  ProxyConfig result{.host = std::move(host_port.host), .port = host_port.port.value_or(80)};
  if (at != std::string_view::npos && at > 0) {
    const std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    const std::optional<std::string> user = percent_decode(userinfo.substr(0, colon));
    const std::optional<std::string> password =
        percent_decode(colon == userinfo.npos ? std::string_view{} : userinfo.substr(colon + 1));
    if (!user || !password) return std::string("invalid percent-encoding in proxy credentials");
    result.authorization = "Basic " + base64_encode(*user + ":" + *password);
  }
  return result;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_text, uint16_t port) {
  std::string host = to_lower(host_text);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.ends_with('.')) host.pop_back();
  const std::optional<IpAddress> host_ip = parse_any_ip(host);

  const auto matches = [&](std::string_view entry) {
    if (entry == "*") return true;
    const std::optional<NoProxyEntry> e = split_no_proxy_entry(entry);
    if (!e || (e->port && *e->port != port)) return false;
    if (e->address.find('/') != std::string_view::npos) {
      return host_ip && cidr_contains(e->address, *host_ip);
    }
    if (const std::optional<IpAddress> ip = parse_any_ip(std::string(e->address))) {
      return host_ip == ip;
    }
    // Names are compared with names only: "3.4" must not match the address 1.2.3.4.
    return !host_ip && domain_matches(e->address, host);
  };

  while (!no_proxy.empty()) {
    const size_t end = no_proxy.find_first_of(", \t");
    const std::string_view entry = no_proxy.substr(0, end);
    if (!entry.empty() && matches(entry)) return true;
    if (end == std::string_view::npos) break;
    no_proxy.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace duplex::core
