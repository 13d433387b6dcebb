#include "duplex/core/ws/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "duplex/core/http/http1_parser.hpp"

namespace duplex::core {
namespace {

constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";

// RFC 6455 section 1.2 / 4.2.1 sample client handshake.
constexpr std::string_view kRfcRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

class HandshakeTest : public ::testing::Test {
 protected:
  // Parses `text` (which must be a complete, valid head) into req_; views stay valid in buffer_.
  const HttpRequest& parse(std::string_view text) {
    buffer_ = text;
    Http1RequestParser parser;
    const HttpParseResult r = parser.parse(buffer_, req_);
    EXPECT_EQ(r.status, HttpParseStatus::complete) << r.error_reason;
    return req_;
  }

  // A valid upgrade request with `extra` header lines added and headers named in `drop` removed.
  const HttpRequest& parse_with(std::string_view extra, std::vector<std::string_view> drop = {},
                                std::string_view request_line = "GET /chat HTTP/1.1") {
    std::string text(request_line);
    text += "\r\n";
    for (std::string_view line :
         {"Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}) {
      bool dropped = false;
      for (std::string_view name : drop) dropped = dropped || line.starts_with(name);
      if (dropped) continue;
      text.append(line).append("\r\n");
    }
    text.append(extra).append("\r\n");
    return parse(text);
  }

  static HandshakeError expect_error(const HttpRequest& req) {
    const auto result = validate_upgrade(req);
    EXPECT_TRUE(std::holds_alternative<HandshakeError>(result));
    if (const auto* e = std::get_if<HandshakeError>(&result)) return *e;
    return {0, ""};
  }

  std::string buffer_;
  HttpRequest req_;
};

TEST_F(HandshakeTest, AcceptKey) {
  EXPECT_EQ(websocket_accept_key(kRfcKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(websocket_accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  EXPECT_EQ(websocket_accept_key(""), "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
}

TEST_F(HandshakeTest, KeyValidation) {
  EXPECT_TRUE(is_valid_websocket_key(kRfcKey));
  EXPECT_TRUE(is_valid_websocket_key("x3JJHMbDL1EzLkh9GBhXDw=="));
  EXPECT_TRUE(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(is_valid_websocket_key("/+/+/+/+/+/+/+/+/+/+/w=="));
  EXPECT_TRUE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZR=="));  // non-zero padding bits

  EXPECT_FALSE(is_valid_websocket_key(""));
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 chars
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));   // no padding: 18 bytes
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=A"));   // misplaced padding
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25j=Q=="));   // '=' inside
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ-=="));   // base64url alphabet
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ_=="));
  EXPECT_FALSE(is_valid_websocket_key(" dGhlIHNhbXBsZSBub25jZQ="));  // whitespace
  EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25j ZQ=="));
  EXPECT_FALSE(is_valid_websocket_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM="));  // 20 bytes
  EXPECT_FALSE(is_valid_websocket_key("DGHLIHNHBXBSZSBUB25JZQ=\x80"));
}

TEST_F(HandshakeTest, RfcSampleHandshake) {
  const HttpRequest& req = parse(kRfcRequest);
  ASSERT_TRUE(is_websocket_upgrade(req));
  const auto result = validate_upgrade(req);
  ASSERT_TRUE(std::holds_alternative<ValidatedUpgrade>(result))
      << std::get<HandshakeError>(result).reason;
  const auto& up = std::get<ValidatedUpgrade>(result);
  EXPECT_EQ(up.key, kRfcKey);
  EXPECT_EQ(up.protocols, (std::vector<std::string_view>{"chat", "superchat"}));
  EXPECT_TRUE(up.extensions.empty());
  EXPECT_EQ(up.origin, "http://example.com");

  std::string out;
  write_upgrade_response(out, websocket_accept_key(up.key), up.protocols[0], "");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "\r\n");
}

TEST_F(HandshakeTest, UpgradeResponseVariants) {
  std::string out = "x";
  write_upgrade_response(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "", "");
  EXPECT_EQ(out,
            "x"
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  out.clear();
  write_upgrade_response(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat",
                         "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
            "\r\n");
  out.clear();
  write_upgrade_response(out, "abc", "", "permessage-deflate");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: abc\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
}

TEST_F(HandshakeTest, CaseInsensitiveTokensAndBrowserConnectionHeader) {
  const HttpRequest& req = parse(
      "GET / HTTP/1.1\r\n"
      "host: localhost\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Upgrade: WebSocket\r\n"
      "sec-websocket-version: 13\r\n"
      "SEC-WEBSOCKET-KEY: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
      "\r\n");
  EXPECT_TRUE(is_websocket_upgrade(req));
  const auto result = validate_upgrade(req);
  ASSERT_TRUE(std::holds_alternative<ValidatedUpgrade>(result));
  const auto& up = std::get<ValidatedUpgrade>(result);
  EXPECT_EQ(up.key, "x3JJHMbDL1EzLkh9GBhXDw==");
  EXPECT_TRUE(up.protocols.empty());
  EXPECT_FALSE(up.origin.has_value());
}

TEST_F(HandshakeTest, IsWebSocketUpgrade) {
  EXPECT_FALSE(is_websocket_upgrade(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  EXPECT_FALSE(is_websocket_upgrade(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n")));
  EXPECT_FALSE(
      is_websocket_upgrade(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket2\r\n\r\n")));
  EXPECT_TRUE(
      is_websocket_upgrade(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, WEBSOCKET\r\n\r\n")));
  EXPECT_TRUE(is_websocket_upgrade(
      parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n\r\n")));
}

TEST_F(HandshakeTest, RepeatedProtocolHeadersAndExtensions) {
  const HttpRequest& req = parse_with(
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; "
      "server_max_window_bits=\"10\"\r\n"
      "Sec-WebSocket-Protocol: v2.json\r\n"
      "Sec-WebSocket-Protocol:\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate, x-custom;a=1\r\n");
  const auto result = validate_upgrade(req);
  ASSERT_TRUE(std::holds_alternative<ValidatedUpgrade>(result))
      << std::get<HandshakeError>(result).reason;
  const auto& up = std::get<ValidatedUpgrade>(result);
  EXPECT_EQ(up.protocols, (std::vector<std::string_view>{"chat", "superchat", "v2.json"}));
  const std::vector<Extension> expected = {
      {"permessage-deflate",
       {{"client_max_window_bits", std::nullopt}, {"server_max_window_bits", "10"}}},
      {"permessage-deflate", {}},
      {"x-custom", {{"a", "1"}}}};
  EXPECT_EQ(up.extensions, expected);
}

TEST_F(HandshakeTest, EmptyContentLengthIsAllowed) {
  EXPECT_TRUE(std::holds_alternative<ValidatedUpgrade>(
      validate_upgrade(parse_with("Content-Length: 0\r\n"))));
}

TEST_F(HandshakeTest, MethodMustBeGet) {
  const HandshakeError e = expect_error(parse_with("", {}, "POST /chat HTTP/1.1"));
  EXPECT_EQ(e.status, 405);
  EXPECT_EQ(e.reason, "WebSocket handshake must use GET");
  EXPECT_EQ(expect_error(parse_with("", {}, "get /chat HTTP/1.1")).status, 405);  // case-sensitive
  EXPECT_EQ(expect_error(parse_with("", {}, "HEAD /chat HTTP/1.1")).status, 405);
}

TEST_F(HandshakeTest, RequiresHttp11) {
  const HandshakeError e = expect_error(parse_with("", {}, "GET /chat HTTP/1.0"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "HTTP/1.1 or later required");
}

TEST_F(HandshakeTest, RequiresHost) {
  // The parser itself refuses HTTP/1.1 without Host, so build the request by hand.
  HttpRequest req;
  req.method = "GET";
  req.target = req.path = "/";
  req.headers = {{"Upgrade", "websocket"},
                 {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Key", kRfcKey},
                 {"Sec-WebSocket-Version", "13"}};
  const HandshakeError e = expect_error(req);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "missing Host header");
}

TEST_F(HandshakeTest, RequiresConnectionUpgrade) {
  HandshakeError e = expect_error(parse_with("", {"Connection"}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "Connection header must include \"upgrade\"");
  e = expect_error(parse_with("Connection: keep-alive, upgraded\r\n", {"Connection"}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "Connection header must include \"upgrade\"");
  EXPECT_TRUE(std::holds_alternative<ValidatedUpgrade>(validate_upgrade(
      parse_with("Connection: close\r\nConnection: UPGRADE\r\n", {"Connection"}))));
}

TEST_F(HandshakeTest, RequiresUpgradeWebSocket) {
  const HandshakeError e = expect_error(parse_with("Upgrade: h2c\r\n", {"Upgrade"}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "Upgrade header must include \"websocket\"");
}

TEST_F(HandshakeTest, RequiresVersion13) {
  HandshakeError e = expect_error(parse_with("", {"Sec-WebSocket-Version"}));
  EXPECT_EQ(e.status, 426);
  EXPECT_EQ(e.reason, "missing Sec-WebSocket-Version header");
  for (std::string_view extra : {"Sec-WebSocket-Version: 8\r\n", "Sec-WebSocket-Version: 13, 8\r\n",
                                 "Sec-WebSocket-Version: 013\r\n", "Sec-WebSocket-Version:\r\n",
                                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n"}) {
    SCOPED_TRACE(extra);
    e = expect_error(parse_with(extra, {"Sec-WebSocket-Version"}));
    EXPECT_EQ(e.status, 426);
    EXPECT_EQ(e.reason, "unsupported Sec-WebSocket-Version, only 13 is supported");
  }
}

TEST_F(HandshakeTest, RequiresOneValidKey) {
  HandshakeError e = expect_error(parse_with("", {"Sec-WebSocket-Key"}));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "missing Sec-WebSocket-Key header");

  e = expect_error(parse_with("Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "repeated Sec-WebSocket-Key header");

  for (std::string_view extra :
       {"Sec-WebSocket-Key: abc\r\n", "Sec-WebSocket-Key:\r\n",
        "Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM=\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==, x3JJHMbDL1EzLkh9GBhXDw==\r\n"}) {
    SCOPED_TRACE(extra);
    e = expect_error(parse_with(extra, {"Sec-WebSocket-Key"}));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.reason, "invalid Sec-WebSocket-Key header");
  }
}

TEST_F(HandshakeTest, RejectsMalformedProtocolList) {
  for (std::string_view extra :
       {"Sec-WebSocket-Protocol: chat superchat\r\n", "Sec-WebSocket-Protocol: chat, a/b\r\n",
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: \"x\"\r\n"}) {
    SCOPED_TRACE(extra);
    const HandshakeError e = expect_error(parse_with(extra));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.reason, "malformed Sec-WebSocket-Protocol header");
  }
}

TEST_F(HandshakeTest, RejectsMalformedExtensions) {
  for (std::string_view extra :
       {"Sec-WebSocket-Extensions: permessage-deflate;\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"10\r\n",
        "Sec-WebSocket-Extensions:\r\n",
        "Sec-WebSocket-Extensions: a\r\nSec-WebSocket-Extensions: =b\r\n"}) {
    SCOPED_TRACE(extra);
    const HandshakeError e = expect_error(parse_with(extra));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.reason, "malformed Sec-WebSocket-Extensions header");
  }
}

TEST_F(HandshakeTest, RejectsBody) {
  for (std::string_view extra : {"Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n"}) {
    SCOPED_TRACE(extra);
    const HandshakeError e = expect_error(parse_with(extra));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.reason, "WebSocket handshake request must not have a body");
  }
}

TEST_F(HandshakeTest, ChecksRunInOrder) {
  // Each request has several problems; the first in RFC 6455 4.2.1 order is reported.
  EXPECT_EQ(expect_error(parse_with("", {"Sec-WebSocket-Version"}, "POST / HTTP/1.0")).status, 405);
  EXPECT_EQ(expect_error(parse_with("", {"Connection"}, "GET / HTTP/1.0")).reason,
            "HTTP/1.1 or later required");
  EXPECT_EQ(expect_error(parse_with("", {"Connection", "Sec-WebSocket-Version"})).status, 400);
  EXPECT_EQ(expect_error(parse_with("", {"Sec-WebSocket-Version", "Sec-WebSocket-Key"})).status,
            426);
  EXPECT_EQ(
      expect_error(parse_with("Sec-WebSocket-Protocol: a b\r\n", {"Sec-WebSocket-Key"})).reason,
      "missing Sec-WebSocket-Key header");
  EXPECT_EQ(expect_error(parse_with("Sec-WebSocket-Protocol: a b\r\n"
                                    "Sec-WebSocket-Extensions: ;\r\n"))
                .reason,
            "malformed Sec-WebSocket-Protocol header");
  EXPECT_EQ(expect_error(parse_with("Content-Length: 1\r\nSec-WebSocket-Extensions: ;\r\n")).reason,
            "malformed Sec-WebSocket-Extensions header");
}

TEST_F(HandshakeTest, ErrorResponse400) {
  std::string out;
  write_error_response(out, 400, "missing Sec-WebSocket-Key header");
  EXPECT_EQ(out,
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "Content-Length: 50\r\n"
            "\r\n"
            "400 Bad Request: missing Sec-WebSocket-Key header\n");
}

TEST_F(HandshakeTest, ErrorResponse426) {
  std::string out;
  write_error_response(out, 426, "unsupported Sec-WebSocket-Version, only 13 is supported");
  const std::string body =
      "426 Upgrade Required: unsupported Sec-WebSocket-Version, only 13 is supported\n";
  EXPECT_EQ(out,
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Upgrade: websocket\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "\r\n" +
                body);
}

TEST_F(HandshakeTest, ErrorResponse405) {
  std::string out;
  write_error_response(out, 405, "WebSocket handshake must use GET");
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "Allow: GET\r\n"
            "Content-Length: 57\r\n"
            "\r\n"
            "405 Method Not Allowed: WebSocket handshake must use GET\n");
}

TEST_F(HandshakeTest, ErrorResponseHeadOnlyAndOtherStatuses) {
  std::string out;
  write_error_response(out, 431, "request head too large", /*head_only=*/true);
  EXPECT_EQ(out,
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "Content-Length: 60\r\n"
            "\r\n");
  out.clear();
  write_error_response(out, 505, "unsupported HTTP version");
  EXPECT_EQ(out,
            "HTTP/1.1 505 HTTP Version Not Supported\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "Content-Length: 57\r\n"
            "\r\n"
            "505 HTTP Version Not Supported: unsupported HTTP version\n");
}

TEST_F(HandshakeTest, ParserErrorsFlowIntoErrorResponses) {
  Http1RequestParser parser;
  HttpRequest req;
  const HttpParseResult r = parser.parse("GET / HTTP/2.0\r\n", req);
  ASSERT_EQ(r.status, HttpParseStatus::error);
  std::string out;
  write_error_response(out, r.error_status, r.error_reason);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"));
  EXPECT_TRUE(out.ends_with("\r\n\r\n505 HTTP Version Not Supported: unsupported HTTP version\n"));
}

}  // namespace
}  // namespace duplex::core
