#include "duplex/core/http/url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace duplex::core {
namespace {

using namespace std::string_literals;

std::string error_of(const std::variant<WebSocketUrl, std::string>& result) {
  const auto* error = std::get_if<std::string>(&result);
  return error ? *error : "(parsed as " + std::get<WebSocketUrl>(result).to_string() + ")";
}

WebSocketUrl url_of(const std::variant<WebSocketUrl, std::string>& result) {
  if (const auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "unexpected error: " << *error;
    return {};
  }
  return std::get<WebSocketUrl>(result);
}

struct GoodUrl {
  std::string input;
  bool secure;
  std::string host;
  uint16_t port;
  std::string resource;
  std::string host_header;
  std::string normalised;
};

TEST(UrlTest, ParsesWebSocketUrls) {
  const GoodUrl cases[] = {
      {"ws://example.com", false, "example.com", 80, "/", "example.com", "ws://example.com/"},
      {"wss://example.com/chat", true, "example.com", 443, "/chat", "example.com",
       "wss://example.com/chat"},
      {"ws://example.com:8080/a?b=c", false, "example.com", 8080, "/a?b=c", "example.com:8080",
       "ws://example.com:8080/a?b=c"},
      // http(s) map to ws(s), as the WebSocket constructor does.
      {"http://example.com/x", false, "example.com", 80, "/x", "example.com", "ws://example.com/x"},
      {"https://example.com/x", true, "example.com", 443, "/x", "example.com",
       "wss://example.com/x"},
      // Scheme and host are case-insensitive; the path is not.
      {"WS://EXAMPLE.com:80/Path", false, "example.com", 80, "/Path", "example.com",
       "ws://example.com/Path"},
      {"HTTPS://Example.COM", true, "example.com", 443, "/", "example.com", "wss://example.com/"},
      // A default port is not repeated; another scheme's default is.
      {"wss://example.com:443/", true, "example.com", 443, "/", "example.com",
       "wss://example.com/"},
      {"wss://example.com:80/", true, "example.com", 80, "/", "example.com:80",
       "wss://example.com:80/"},
      {"ws://example.com:443/", false, "example.com", 443, "/", "example.com:443",
       "ws://example.com:443/"},
      {"ws://example.com:/", false, "example.com", 80, "/", "example.com", "ws://example.com/"},
      // IP literals; IPv6 in its canonical form.
      {"ws://127.0.0.1:8080", false, "127.0.0.1", 8080, "/", "127.0.0.1:8080",
       "ws://127.0.0.1:8080/"},
      {"ws://127.0.0.1./", false, "127.0.0.1", 80, "/", "127.0.0.1", "ws://127.0.0.1/"},
      {"ws://[::1]:9000/x?y=1", false, "::1", 9000, "/x?y=1", "[::1]:9000",
       "ws://[::1]:9000/x?y=1"},
      {"wss://[::1]", true, "::1", 443, "/", "[::1]", "wss://[::1]/"},
      {"ws://[0:0:0:0:0:0:0:1]/", false, "::1", 80, "/", "[::1]", "ws://[::1]/"},
      {"ws://[2001:DB8::A]:8080/", false, "2001:db8::a", 8080, "/", "[2001:db8::a]:8080",
       "ws://[2001:db8::a]:8080/"},
      {"ws://[::ffff:192.0.2.1]/", false, "::ffff:192.0.2.1", 80, "/", "[::ffff:192.0.2.1]",
       "ws://[::ffff:192.0.2.1]/"},
      // Query without a path, empty query.
      {"ws://example.com?x=1", false, "example.com", 80, "/?x=1", "example.com",
       "ws://example.com/?x=1"},
      {"ws://example.com/?", false, "example.com", 80, "/?", "example.com", "ws://example.com/?"},
      {"ws://my_host.local-1/", false, "my_host.local-1", 80, "/", "my_host.local-1",
       "ws://my_host.local-1/"},
      // Whitespace around the URL and tabs or newlines inside it are ignored.
      {"  ws://exa\tmple.com/a\nb\r\n ", false, "example.com", 80, "/ab", "example.com",
       "ws://example.com/ab"},
  };
  for (const GoodUrl& c : cases) {
    SCOPED_TRACE(c.input);
    const WebSocketUrl url = url_of(parse_websocket_url(c.input));
    EXPECT_EQ(url.secure, c.secure);
    EXPECT_EQ(url.host, c.host);
    EXPECT_EQ(url.port, c.port);
    EXPECT_EQ(url.resource, c.resource);
    EXPECT_EQ(url.host_header(), c.host_header);
    EXPECT_EQ(url.to_string(), c.normalised);
    EXPECT_EQ(url.ipv6_literal(), c.host.find(':') != std::string::npos);
    // The normalised form parses back to the same URL.
    EXPECT_EQ(url_of(parse_websocket_url(url.to_string())), url);
  }
}

TEST(UrlTest, PercentEncodesTheResourceAsBrowsersDo) {
  const std::pair<std::string, std::string> cases[] = {
      {"ws://h/a b", "/a%20b"},
      {"ws://h/caf\xC3\xA9?q=\xC3\xA9", "/caf%C3%A9?q=%C3%A9"},
      {"ws://h/\x01\x7F", "/%01%7F"},
      // Valid escapes stay as they are (case included); a stray '%' is escaped itself.
      {"ws://h/%41%2f%zz%4", "/%41%2f%25zz%254"},
      {"ws://h/100%", "/100%25"},
      // The path and query sets differ as in the WHATWG URL standard.
      {"ws://h/{a}`<b>\"c'?{a}`<b>\"c'", "/%7Ba%7D%60%3Cb%3E%22c'?{a}`%3Cb%3E%22c%27"},
      {"ws://h/a?b?c=/d", "/a?b?c=/d"},
      {"ws://h/~!$&()*+,;=:@", "/~!$&()*+,;=:@"},
  };
  for (const auto& [input, resource] : cases) {
    SCOPED_TRACE(input);
    const WebSocketUrl url = url_of(parse_websocket_url(input));
    EXPECT_EQ(url.resource, resource);
    EXPECT_EQ(url_of(parse_websocket_url(url.to_string())), url);
  }
}

TEST(UrlTest, RejectsBadUrlsWithOneSentence) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "missing scheme (use ws:// or wss://)"},
      {"example.com/chat", "missing scheme (use ws:// or wss://)"},
      {"localhost:8080", "missing scheme (use ws:// or wss://)"},
      {"ws:example.com", "missing scheme (use ws:// or wss://)"},
      {"ftp://example.com/", "unsupported scheme 'ftp' (use ws:// or wss://)"},
      {"FILE:///etc/passwd", "unsupported scheme 'FILE' (use ws:// or wss://)"},
      {"ws://", "missing host"},
      {"ws:///chat", "missing host"},
      {"wss://:8080/", "missing host"},
      {"ws://?x", "missing host"},
      {"ws://example.com:99999/", "invalid port '99999'"},
      {"ws://example.com:65536/", "invalid port '65536'"},
      {"ws://example.com:0/", "invalid port '0'"},
      {"ws://example.com:-1/", "invalid port '-1'"},
      {"ws://example.com:8o/", "invalid port '8o'"},
      {"ws://example.com:0000080/", "invalid port '0000080'"},
      {"ws://example.com:80:80/",
       "invalid host 'example.com:80:80' (put IPv6 addresses in "
       "brackets, e.g. [::1])"},
      {"ws://::1/", "invalid host '::1' (put IPv6 addresses in brackets, e.g. [::1])"},
      {"ws://example.com/#", "URL fragments are not allowed"},
      {"ws://example.com/chat#top", "URL fragments are not allowed"},
      {"ws://example.com#x", "URL fragments are not allowed"},
      {"ws://user:secret@example.com/",
       "user names and passwords are not allowed in WebSocket URLs (send an Authorization header "
       "instead)"},
      {"ws://user@example.com/",
       "user names and passwords are not allowed in WebSocket URLs (send an Authorization header "
       "instead)"},
      {"ws://[::1/", "invalid IPv6 address '[::1'"},
      {"ws://[::g]/", "invalid IPv6 address '[::g]'"},
      {"ws://[fe80::1%25eth0]/", "invalid IPv6 address '[fe80::1%25eth0]'"},
      {"ws://[127.0.0.1]/", "invalid IPv6 address '[127.0.0.1]'"},
      {"ws://[::1]x/", "invalid host '[::1]x'"},
      {"ws://exa mple.com/", "invalid host 'exa mple.com'"},
      {"ws://exa%6Dple.com/", "invalid host 'exa%6Dple.com'"},
      {"ws://caf\xC3\xA9.fr/",
       "non-ASCII host name 'caf\xC3\xA9.fr' is not supported (use its xn-- form)"},
      {"ws://1.2.3.256/", "invalid IPv4 address '1.2.3.256'"},
      {"ws://010.0.0.1/", "invalid IPv4 address '010.0.0.1'"},
      {"ws://1.2.3/", "invalid IPv4 address '1.2.3'"},
      {"ws://example.123/", "invalid IPv4 address 'example.123'"},
  };
  for (const auto& [input, error] : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(error_of(parse_websocket_url(input)), error);
  }
}

TEST(UrlTest, ResolvesRedirectLocations) {
  const WebSocketUrl base = url_of(parse_websocket_url("ws://example.com:8080/chat?room=1"));
  const std::pair<std::string, std::string> cases[] = {
      {"/other?y=1", "ws://example.com:8080/other?y=1"},
      {"/", "ws://example.com:8080/"},
      {"  /spaced  ", "ws://example.com:8080/spaced"},
      {"/a b", "ws://example.com:8080/a%20b"},
      {"/frag#ment", "ws://example.com:8080/frag"},
      {"//other.org/a", "ws://other.org/a"},
      {"//[::1]:9000", "ws://[::1]:9000/"},
      {"ws://other.org:9000/x", "ws://other.org:9000/x"},
      {"wss://secure.example/x#top", "wss://secure.example/x"},
      {"https://secure.example/x", "wss://secure.example/x"},
      {"HTTP://Plain.Example", "ws://plain.example/"},
  };
  for (const auto& [location, expected] : cases) {
    SCOPED_TRACE(location);
    EXPECT_EQ(url_of(resolve_location(base, location)).to_string(), expected);
  }

  const WebSocketUrl secure_v6 = url_of(parse_websocket_url("wss://[::1]:9443/"));
  EXPECT_EQ(url_of(resolve_location(secure_v6, "/next")).to_string(), "wss://[::1]:9443/next");
  EXPECT_EQ(url_of(resolve_location(secure_v6, "//example.com/x")).to_string(),
            "wss://example.com/x");
  const WebSocketUrl secure_default = url_of(parse_websocket_url("wss://example.com/"));
  EXPECT_EQ(url_of(resolve_location(secure_default, "/x")),
            (WebSocketUrl{true, "example.com", 443, "/x"}));
}

TEST(UrlTest, RefusesUnusableRedirectLocations) {
  const WebSocketUrl base = url_of(parse_websocket_url("ws://example.com/chat"));
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty redirect location"},
      {"  ", "empty redirect location"},
      {"#only", "empty redirect location"},
      {"other", "unsupported redirect location 'other' (expected an absolute URL or path)"},
      {"../up", "unsupported redirect location '../up' (expected an absolute URL or path)"},
      {"?q=1", "unsupported redirect location '?q=1' (expected an absolute URL or path)"},
      {"ftp://example.com/", "unsupported scheme 'ftp' (use ws:// or wss://)"},
      {"//", "missing host"},
      {"http://user@example.com/",
       "user names and passwords are not allowed in WebSocket URLs (send an Authorization header "
       "instead)"},
  };
  for (const auto& [location, error] : cases) {
    SCOPED_TRACE(location);
    EXPECT_EQ(error_of(resolve_location(base, location)), error);
  }
}

std::string proxy_error(std::string_view url) {
  const auto result = parse_proxy_url(url);
  const auto* error = std::get_if<std::string>(&result);
  return error ? *error : "(parsed)";
}

TEST(ProxyUrlTest, ParsesProxySettings) {
  const std::pair<std::string, ProxyConfig> cases[] = {
      {"http://proxy.example:3128", {"proxy.example", 3128, ""}},
      {"http://proxy.example", {"proxy.example", 80, ""}},
      {"http://proxy.example/", {"proxy.example", 80, ""}},
      {"HTTP://Proxy.Example:8080/", {"proxy.example", 8080, ""}},
      {" http://proxy.example:3128\n", {"proxy.example", 3128, ""}},
      // Bare host[:port], as curl accepts.
      {"proxy.example:3128", {"proxy.example", 3128, ""}},
      {"proxy.example", {"proxy.example", 80, ""}},
      {"10.0.0.1:8080", {"10.0.0.1", 8080, ""}},
      {"http://[::1]:3128", {"::1", 3128, ""}},
      {"[2001:db8::1]", {"2001:db8::1", 80, ""}},
      // Credentials become a Basic authorization, percent-decoded first.
      {"http://user:pass@proxy:8080", {"proxy", 8080, "Basic dXNlcjpwYXNz"}},
      {"user:pass@proxy:8080", {"proxy", 8080, "Basic dXNlcjpwYXNz"}},
      {"http://us%40er:p%3Ass@proxy", {"proxy", 80, "Basic dXNAZXI6cDpzcw=="}},
      {"http://user@proxy", {"proxy", 80, "Basic dXNlcjo="}},
      {"http://@proxy", {"proxy", 80, ""}},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const auto result = parse_proxy_url(input);
    ASSERT_TRUE(std::holds_alternative<ProxyConfig>(result)) << std::get<std::string>(result);
    const ProxyConfig& proxy = std::get<ProxyConfig>(result);
    EXPECT_EQ(proxy.host, expected.host);
    EXPECT_EQ(proxy.port, expected.port);
    EXPECT_EQ(proxy.authorization, expected.authorization);
  }
}

TEST(ProxyUrlTest, RejectsBadProxySettings) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty proxy URL"},
      {"  ", "empty proxy URL"},
      {"https://proxy:443",
       "unsupported proxy scheme 'https' (only http:// proxies are supported)"},
      {"socks5://proxy:1080",
       "unsupported proxy scheme 'socks5' (only http:// proxies are supported)"},
      {"http://proxy:3128/path", "a proxy URL must not have a path, query or fragment"},
      {"http://proxy:3128/?x", "a proxy URL must not have a path, query or fragment"},
      {"http://proxy:3128#x", "a proxy URL must not have a path, query or fragment"},
      {"http://proxy:99999", "invalid port '99999'"},
      {"http://proxy:http", "invalid port 'http'"},
      {"http://", "missing host"},
      {"http://user:pass@", "missing host"},
      {"http://u:%zz@proxy", "invalid percent-encoding in proxy credentials"},
      {"http://%4@proxy", "invalid percent-encoding in proxy credentials"},
      {"http://[::1", "invalid IPv6 address '[::1'"},
  };
  for (const auto& [input, error] : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(proxy_error(input), error);
  }
}

struct NoProxyCase {
  std::string no_proxy;
  std::string host;
  uint16_t port;
  bool matches;
};

TEST(NoProxyTest, FollowsTheUsualRules) {
  const NoProxyCase cases[] = {
      {"", "example.com", 80, false},
      {" , ,", "example.com", 80, false},
      {"*", "example.com", 443, true},
      {"*", "::1", 80, true},
      {"other.org, *", "example.com", 80, true},
      // Names match the host and its subdomains, with or without a leading dot, never a longer
      // name that merely ends the same.
      {"example.com", "example.com", 80, true},
      {"example.com", "www.example.com", 80, true},
      {"example.com", "a.b.example.com", 80, true},
      {"example.com", "notexample.com", 80, false},
      {"example.com", "example.org", 80, false},
      {"www.example.com", "example.com", 80, false},
      {".example.com", "example.com", 80, true},
      {".example.com", "www.example.com", 80, true},
      {"*.example.com", "www.example.com", 80, true},
      {"EXAMPLE.com", "Www.Example.COM", 80, true},
      {"example.com.", "example.com", 80, true},
      {"localhost", "localhost.", 80, true},
      // Separators: commas, spaces, tabs, in any mix.
      {"a.org,b.org", "b.org", 80, true},
      {"a.org b.org", "b.org", 80, true},
      {"a.org ,\tb.org", "b.org", 80, true},
      {"a.org,b.org", "c.org", 80, false},
      // Ports.
      {"example.com:8080", "example.com", 8080, true},
      {"example.com:8080", "example.com", 80, false},
      {"example.com:8080", "www.example.com", 8080, true},
      {"example.com:http", "example.com", 80, false},
      {"example.com:", "example.com", 80, false},
      {"127.0.0.1:9000", "127.0.0.1", 9000, true},
      {"127.0.0.1:9000", "127.0.0.1", 9001, false},
      {"[::1]:9000", "::1", 9000, true},
      {"[::1]:9000", "::1", 9001, false},
      {"[::1]", "::1", 1234, true},
      {"[::1]x", "::1", 80, false},
      // Addresses compare exactly (as addresses, so spellings of one IPv6 address agree) and
      // never by suffix.
      {"127.0.0.1", "127.0.0.1", 80, true},
      {"127.0.0.1", "127.0.0.10", 80, false},
      {"0.0.1", "127.0.0.1", 80, false},
      {"localhost, 127.0.0.1, ::1", "::1", 80, true},
      {"::1", "0:0::1", 80, true},
      {"::1", "[::1]", 80, true},
      {"2001:DB8::1", "2001:db8::1", 80, true},
      {"::1", "::2", 80, false},
      {"localhost", "127.0.0.1", 80, false},
      {"127.0.0.1", "localhost", 80, false},
      // CIDR ranges.
      {"10.0.0.0/8", "10.1.2.3", 80, true},
      {"10.0.0.0/8", "11.0.0.1", 80, false},
      {"192.168.1.0/24", "192.168.1.255", 80, true},
      {"192.168.1.0/24", "192.168.2.1", 80, false},
      {"0.0.0.0/0", "203.0.113.9", 80, true},
      {"10.0.0.0/33", "10.0.0.1", 80, false},
      {"fd00::/8", "fd12::1", 80, true},
      {"fd00::/8", "fe80::1", 80, false},
      {"10.0.0.0/8", "::ffff:10.0.0.1", 80, false},
      {"10.0.0.0/8", "example.com", 80, false},
      {"example.com/8", "example.com", 80, false},
  };
  for (const NoProxyCase& c : cases) {
    SCOPED_TRACE("NO_PROXY='" + c.no_proxy + "' host=" + c.host +
                 " port=" + std::to_string(c.port));
    EXPECT_EQ(no_proxy_matches(c.no_proxy, c.host, c.port), c.matches);
  }
}

}  // namespace
}  // namespace duplex::core
