// Server side of the WebSocket opening handshake (RFC 6455 section 4.2): deciding whether a
// parsed request is an upgrade, validating it, and writing the 101 or error response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_parser.hpp"

namespace duplex::core {

inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// base64(SHA-1(client_key + GUID)). RFC 6455 example:
// "dGhlIHNhbXBsZSBub25jZQ==" -> "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". Empty only if OpenSSL fails.
std::string websocket_accept_key(std::string_view client_key);

// True for 24 base64 characters that decode to exactly 16 bytes: 22 alphabet characters then
// "==". Non-zero padding bits in the last character are tolerated (RFC 4648 3.5 allows that).
bool is_valid_websocket_key(std::string_view key);

// True when the request asks for a WebSocket upgrade: an Upgrade header whose token list contains
// "websocket" (case-insensitive). Such a request is then validated; others are plain HTTP.
bool is_websocket_upgrade(const HttpRequest& req);

struct HandshakeError {
  int status;
  std::string reason;  // one short sentence, e.g. "missing Sec-WebSocket-Key header"
};

struct ValidatedUpgrade {
  std::string_view key;
  std::vector<std::string_view> protocols;  // Sec-WebSocket-Protocol offers in client order
  std::vector<Extension> extensions;        // parsed Sec-WebSocket-Extensions offers
  std::optional<std::string_view> origin;
};

// RFC 6455 4.2.1 checks, first failure wins:
//   method != GET -> 405 (caller adds "Allow: GET"); HTTP/1.0 -> 400; no Host -> 400;
//   Connection lacks "upgrade" -> 400; Upgrade lacks "websocket" -> 400 (only reachable when
//   is_websocket_upgrade() was not checked first); Sec-WebSocket-Version missing, repeated or not
//   "13" -> 426; Sec-WebSocket-Key missing, repeated or invalid -> 400; malformed
//   Sec-WebSocket-Protocol -> 400; malformed Sec-WebSocket-Extensions -> 400; a body
//   (Content-Length > 0 or chunked) -> 400.
// Views in the result point into the request's buffer.
std::variant<ValidatedUpgrade, HandshakeError> validate_upgrade(const HttpRequest& req);

// Appends the 101 response. Empty `protocol` / `extensions` leave out their headers.
void write_upgrade_response(std::string& out, std::string_view accept_key,
                            std::string_view protocol, std::string_view extensions);

// Appends an error response for a refused handshake or bad HTTP: plain-text body
// "<status> <reason phrase>: <reason>\n", "Connection: close", plus "Sec-WebSocket-Version: 13"
// and "Upgrade: websocket" for 426 and "Allow: GET" for 405.
void write_error_response(std::string& out, int status, std::string_view reason,
                          bool head_only = false);

}  // namespace duplex::core
