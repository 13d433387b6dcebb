#include "duplex/core/ws/client_handshake.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace duplex::core {
namespace {

using namespace std::string_literals;
using Status = ClientHandshake::Status;

// RFC 6455 4.1's example nonce and 4.2.2's matching accept value.
std::array<uint8_t, 16> sample_nonce() {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), "the sample nonce", 16);
  return bytes;
}
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

WebSocketUrl url(std::string_view text) {
  auto parsed = parse_websocket_url(text);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<WebSocketUrl>(parsed);
}

ClientHandshake make(const ClientHandshakeOptions& options = {},
                     std::string_view target = "ws://example.com/chat") {
  return ClientHandshake(url(target), options, sample_nonce());
}

// A 101 answer with the right accept value, plus `extra` header lines.
std::string upgrade_response(std::string_view extra = {}) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(kAccept) + "\r\n" + std::string(extra) + "\r\n";
}

// Feeds `response` whole to one handshake and as growing prefixes (each in a fresh buffer) to
// another. Every proper prefix that does not already decide the outcome must need more, and the
// end result must not depend on the split. Returns the whole-buffer result.
ClientHandshake::Result feed_all_ways(std::string_view response,
                                      const ClientHandshakeOptions& options = {}) {
  ClientHandshake whole_handshake = make(options);
  const ClientHandshake::Result whole = whole_handshake.feed(response);
  ClientHandshake split = make(options);
  ClientHandshake::Result last;
  for (size_t n = 0; n <= response.size(); ++n) {
    const std::string prefix(response.substr(0, n));
    last = split.feed(prefix);
    ClientHandshake fresh = make(options);
    if (last != fresh.feed(prefix)) {
      ADD_FAILURE() << "prefix " << n << ": incremental and fresh results differ";
      break;
    }
  }
  EXPECT_EQ(last, whole);
  return whole;
}

std::string failure_of(std::string_view response, const ClientHandshakeOptions& options = {}) {
  const ClientHandshake::Result r = feed_all_ways(response, options);
  EXPECT_EQ(r.status, Status::failed);
  return r.error;
}

TEST(ClientHandshakeTest, WritesTheMinimalRequest) {
  const ClientHandshake h = make();
  EXPECT_EQ(h.key(), kKey);
  EXPECT_EQ(h.request(),
            "GET /chat HTTP/1.1\r\n"
            "Host: example.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");
}

TEST(ClientHandshakeTest, WritesOffersAndExtraHeadersInOrder) {
  ClientHandshakeOptions options;
  options.protocols = {"chat", "superchat"};
  options.extensions = "permessage-deflate; client_max_window_bits";
  options.headers = {{"Origin", "http://example.com"},
                     {"Cookie", "a=1"},
                     {"Authorization", "Bearer t0ken"},
                     {"Cookie", "b=2"},
                     {"X-Empty", ""}};
  const ClientHandshake h = make(options, "wss://[::1]:9000/x?y=1&z=%20");
  EXPECT_EQ(h.request(),
            "GET /x?y=1&z=%20 HTTP/1.1\r\n"
            "Host: [::1]:9000\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: chat, superchat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            "Origin: http://example.com\r\n"
            "Cookie: a=1\r\n"
            "Authorization: Bearer t0ken\r\n"
            "Cookie: b=2\r\n"
            "X-Empty: \r\n"
            "\r\n");
}

TEST(ClientHandshakeTest, HostHeaderCarriesOnlyNonDefaultPorts) {
  const std::pair<std::string, std::string> cases[] = {
      {"ws://example.com:80/", "GET / HTTP/1.1\r\nHost: example.com\r\n"},
      {"ws://Example.com:8080", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n"},
      {"wss://example.com:443/a", "GET /a HTTP/1.1\r\nHost: example.com\r\n"},
      {"wss://example.com:80/a", "GET /a HTTP/1.1\r\nHost: example.com:80\r\n"},
      {"ws://127.0.0.1:9001/?q", "GET /?q HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"},
      {"ws://[::1]/", "GET / HTTP/1.1\r\nHost: [::1]\r\n"},
  };
  for (const auto& [target, start] : cases) {
    SCOPED_TRACE(target);
    EXPECT_TRUE(make({}, target).request().starts_with(start)) << make({}, target).request();
  }
}

TEST(ClientHandshakeTest, KeyIsTheBase64OfTheGivenBytes) {
  std::array<uint8_t, 16> zeros{};
  EXPECT_EQ(ClientHandshake(url("ws://h/"), {}, zeros).key(), "AAAAAAAAAAAAAAAAAAAAAA==");
  std::array<uint8_t, 16> ones;
  ones.fill(0xFF);
  EXPECT_EQ(ClientHandshake(url("ws://h/"), {}, ones).key(), "/////////////////////w==");
}

TEST(ClientHandshakeTest, RejectsBadOptions) {
  const auto error_of = [](const ClientHandshakeOptions& options) -> std::string {
    try {
      make(options);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  const auto with_protocols = [](std::vector<std::string> protocols) {
    ClientHandshakeOptions o;
    o.protocols = std::move(protocols);
    return o;
  };
  const auto with_header = [](std::string name, std::string value) {
    ClientHandshakeOptions o;
    o.headers = {{"Origin", "x"}, {std::move(name), std::move(value)}};
    return o;
  };
  const auto with_extensions = [](std::string offer) {
    ClientHandshakeOptions o;
    o.extensions = std::move(offer);
    return o;
  };
  EXPECT_EQ(error_of(with_protocols({"chat", "two words"})),
            "invalid subprotocol 'two words' (must be a token)");
  EXPECT_EQ(error_of(with_protocols({""})), "invalid subprotocol '' (must be a token)");
  EXPECT_EQ(error_of(with_protocols({"a,b"})), "invalid subprotocol 'a,b' (must be a token)");
  EXPECT_EQ(error_of(with_protocols({"chat", "x", "chat"})), "duplicate subprotocol 'chat'");
  EXPECT_EQ(error_of(with_header("X Y", "v")), "invalid header name 'X Y'");
  EXPECT_EQ(error_of(with_header("", "v")), "invalid header name ''");
  EXPECT_EQ(error_of(with_header("X-A", "a\r\nX-Injected: 1")),
            "value of header 'X-A' contains CR, LF or NUL");
  EXPECT_EQ(error_of(with_header("X-A", "a\nb")), "value of header 'X-A' contains CR, LF or NUL");
  EXPECT_EQ(error_of(with_header("X-A", "a\0b"s)), "value of header 'X-A' contains CR, LF or NUL");
  for (const char* name : {"Host", "upgrade", "CONNECTION", "Sec-WebSocket-Key",
                           "sec-websocket-version", "Sec-WebSocket-Protocol",
                           "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(error_of(with_header(name, "x")),
              "header '"s + name + "' is set by the WebSocket handshake and cannot be overridden");
  }
  EXPECT_EQ(error_of(with_extensions("permessage-deflate;")),
            "malformed extension offer 'permessage-deflate;'");
  EXPECT_EQ(error_of(with_extensions("a, b=\"c d\"")), "malformed extension offer 'a, b=\"c d\"'");
  EXPECT_EQ(error_of(with_extensions("a\r\nX: y")), "malformed extension offer 'a\r\nX: y'");

  // A hand-made URL cannot break the request line.
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "", 80, "/"}, {}, sample_nonce()),
               std::invalid_argument);
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "h", 80, ""}, {}, sample_nonce()),
               std::invalid_argument);
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "h", 80, "/a b"}, {}, sample_nonce()),
               std::invalid_argument);
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "h", 80, "/\r\nX: y"}, {}, sample_nonce()),
               std::invalid_argument);
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "h\r\nX: y", 80, "/"}, {}, sample_nonce()),
               std::invalid_argument);
  EXPECT_THROW(ClientHandshake(WebSocketUrl{false, "h", 80, "/#x"}, {}, sample_nonce()),
               std::invalid_argument);
}

TEST(ClientHandshakeTest, AcceptsTheRfcExample) {
  const std::string response = upgrade_response();
  const ClientHandshake::Result r = feed_all_ways(response);
  EXPECT_EQ(r.status, Status::accepted);
  EXPECT_EQ(r.consumed, response.size());
  EXPECT_EQ(r.http_status, 101);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.protocol, "");
  EXPECT_EQ(r.extensions, "");
}

TEST(ClientHandshakeTest, LeavesFramesAfterTheHeadUnconsumed) {
  const std::string head = upgrade_response();
  const std::string data = head + "\x81\x05hello" + "\x88\x02\x03\xE8";
  const ClientHandshake::Result r = feed_all_ways(data);
  EXPECT_EQ(r.status, Status::accepted);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(data.substr(r.consumed), "\x81\x05hello\x88\x02\x03\xE8"s);
}

TEST(ClientHandshakeTest, ToleratesCaseAndListsInUpgradeAndConnection) {
  const std::string response =
      "HTTP/1.1 101 \r\n"
      "upgrade: WebSocket\r\n"
      "CONNECTION: keep-alive, upgrade\r\n"
      "sec-websocket-accept: " +
      std::string(kAccept) + "\r\n\r\n";
  EXPECT_EQ(feed_all_ways(response).status, Status::accepted);
}

TEST(ClientHandshakeTest, ReportsTheChosenSubprotocolAndExtensions) {
  ClientHandshakeOptions options;
  options.protocols = {"chat", "superchat"};
  options.extensions = "permessage-deflate; client_max_window_bits, x-custom";
  const ClientHandshake::Result r = feed_all_ways(
      upgrade_response("Sec-WebSocket-Protocol: superchat\r\n"
                       "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover, "
                       "x-custom\r\n"),
      options);
  EXPECT_EQ(r.status, Status::accepted) << r.error;
  EXPECT_EQ(r.protocol, "superchat");
  EXPECT_EQ(r.extensions, "permessage-deflate; server_no_context_takeover, x-custom");

  // The server may decline every extension, or take a subset.
  EXPECT_EQ(feed_all_ways(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"), options).status,
            Status::accepted);
  EXPECT_EQ(feed_all_ways(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                           "Sec-WebSocket-Extensions: x-custom\r\n"),
                          options)
                .extensions,
            "x-custom");
}

TEST(ClientHandshakeTest, FailsWithOneLinePerProblem) {
  ClientHandshakeOptions offers;
  offers.protocols = {"chat", "superchat"};
  offers.extensions = "permessage-deflate";

  EXPECT_EQ(failure_of("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
            "server answered 404 Not Found");
  EXPECT_EQ(failure_of("HTTP/1.1 200 OK\r\n\r\n"), "server answered 200 OK");
  EXPECT_EQ(failure_of("HTTP/1.1 403\r\n\r\n"), "server answered 403");
  EXPECT_EQ(failure_of("HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n\r\n"),
            "server answered 426 Upgrade Required");
  EXPECT_EQ(failure_of("HTTP/1.1 100 Continue\r\n\r\n"), "server answered 100 Continue");
  EXPECT_EQ(failure_of("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       std::string(kAccept) + "\r\n\r\n"),
            "server answered 101 over HTTP/1.0");

  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " +
                       std::string(kAccept) + "\r\n\r\n"),
            "missing 'Upgrade: websocket'");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       std::string(kAccept) + "\r\n\r\n"),
            "missing 'Upgrade: websocket'");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Accept: " +
                       std::string(kAccept) + "\r\n\r\n"),
            "missing 'Connection: Upgrade'");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: keep-alive\r\nSec-WebSocket-Accept: " +
                       std::string(kAccept) + "\r\n\r\n"),
            "missing 'Connection: Upgrade'");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n\r\n"),
            "missing Sec-WebSocket-Accept");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                       "S3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
            "Sec-WebSocket-Accept mismatch");
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       std::string(kKey) + "\r\n\r\n"),
            "Sec-WebSocket-Accept mismatch");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Accept: " + std::string(kAccept) + "\r\n")),
            "repeated Sec-WebSocket-Accept header");

  // Subprotocols.
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n")),
            "server chose subprotocol 'chat' that was not offered");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: x\r\n"), offers),
            "server chose subprotocol 'x' that was not offered");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: Chat\r\n"), offers),
            "server chose subprotocol 'Chat' that was not offered");
  EXPECT_EQ(failure_of(upgrade_response(), offers),
            "server sent no subprotocol (offered: chat, superchat)");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat, superchat\r\n"), offers),
            "invalid Sec-WebSocket-Protocol 'chat, superchat' (expected one subprotocol)");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol:\r\n"), offers),
            "invalid Sec-WebSocket-Protocol '' (expected one subprotocol)");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                        "Sec-WebSocket-Protocol: chat\r\n"),
                       offers),
            "repeated Sec-WebSocket-Protocol header");

  // Extensions.
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
            "server answered with extension 'permessage-deflate' that was not offered");
  EXPECT_EQ(
      failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                  "Sec-WebSocket-Extensions: permessage-deflate, x-other\r\n"),
                 offers),
      "server answered with extension 'x-other' that was not offered");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate, "
                                        "permessage-deflate\r\n"),
                       offers),
            "server answered with extension 'permessage-deflate' more than once");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate;;\r\n"),
                       offers),
            "malformed Sec-WebSocket-Extensions 'permessage-deflate;;'");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                        "Sec-WebSocket-Extensions:\r\n"),
                       offers),
            "malformed Sec-WebSocket-Extensions ''");
  EXPECT_EQ(failure_of(upgrade_response("Sec-WebSocket-Protocol: chat\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                        "sec-websocket-extensions: permessage-deflate\r\n"),
                       offers),
            "repeated Sec-WebSocket-Extensions header");

  // Broken HTTP.
  EXPECT_EQ(failure_of("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n"),
            "malformed HTTP response: bare LF in response head");
  EXPECT_EQ(failure_of("SSH-2.0-OpenSSH_9.6\r\n"),
            "malformed HTTP response: malformed status line");
  EXPECT_EQ(failure_of("HTTP/1.1 101 OK\r\nBad Header: x\r\n\r\n"),
            "malformed HTTP response: invalid header name");
  ClientHandshakeOptions small;
  small.max_response_head = 64;
  EXPECT_EQ(failure_of(upgrade_response(), small),
            "malformed HTTP response: response head too large");
}

TEST(ClientHandshakeTest, FailureKeepsTheStatusAndHeadSize) {
  const std::string response = "HTTP/1.1 500 Internal Server Error\r\n\r\nbody";
  const ClientHandshake::Result r = feed_all_ways(response);
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(r.consumed, response.size() - 4);
  EXPECT_EQ(r.location, "");

  const ClientHandshake::Result malformed = feed_all_ways("garbage\r\n");
  EXPECT_EQ(malformed.http_status, 0);
  EXPECT_EQ(malformed.consumed, 0u);
}

TEST(ClientHandshakeTest, FollowsRedirectStatusesWithLocation) {
  for (int status : {301, 302, 303, 307, 308}) {
    SCOPED_TRACE(status);
    const std::string head = "HTTP/1.1 " + std::to_string(status) +
                             " Moved\r\nLocation:  /elsewhere?x=1 \r\nContent-Length: 3\r\n\r\n";
    const ClientHandshake::Result r = feed_all_ways(head + "abc");
    EXPECT_EQ(r.status, Status::redirect);
    EXPECT_EQ(r.http_status, status);
    EXPECT_EQ(r.location, "/elsewhere?x=1");
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_EQ(r.error, "");
  }
  EXPECT_EQ(
      feed_all_ways("HTTP/1.1 302 Found\r\nlocation: wss://other.example/ws\r\n\r\n").location,
      "wss://other.example/ws");

  EXPECT_EQ(failure_of("HTTP/1.1 302 Found\r\n\r\n"),
            "server answered 302 Found without a Location header");
  EXPECT_EQ(failure_of("HTTP/1.1 307 Temporary Redirect\r\nLocation:\r\n\r\n"),
            "server answered 307 Temporary Redirect without a Location header");
  EXPECT_EQ(failure_of("HTTP/1.1 301 Moved\r\nLocation: /a\r\nLocation: /b\r\n\r\n"),
            "server answered 301 Moved with more than one Location header");
  // Other 3xx are not redirects to follow.
  EXPECT_EQ(failure_of("HTTP/1.1 300 Multiple Choices\r\nLocation: /a\r\n\r\n"),
            "server answered 300 Multiple Choices");
  EXPECT_EQ(failure_of("HTTP/1.1 304 Not Modified\r\nLocation: /a\r\n\r\n"),
            "server answered 304 Not Modified");
}

TEST(ClientHandshakeTest, ResultIsFinal) {
  ClientHandshake h = make();
  const std::string response = upgrade_response();
  EXPECT_EQ(h.feed(response.substr(0, 10)).status, Status::need_more);
  const ClientHandshake::Result accepted = h.feed(response);
  EXPECT_EQ(accepted.status, Status::accepted);
  EXPECT_EQ(h.feed(response + "\x81\x00"), accepted);

  ClientHandshake failing = make();
  const ClientHandshake::Result failed = failing.feed("HTTP/1.1 404 Not Found\r\n\r\n");
  EXPECT_EQ(failing.feed("HTTP/1.1 404 Not Found\r\n\r\nmore"), failed);
}

}  // namespace
}  // namespace duplex::core
