// Client side of the WebSocket opening handshake (RFC 6455 4.1): writes the upgrade request and
// checks the server's answer with the rules of section 4.1 plus those browsers add (WHATWG
// WebSockets: a server that ignores every offered subprotocol is refused). Sans-IO: the caller
// sends request() and feeds the bytes it receives.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/http/http1_response_parser.hpp"
#include "duplex/core/http/url.hpp"

namespace duplex::core {

struct ClientHandshakeOptions {
  // Offered subprotocols, in order of preference; each must be a token and appear once.
  std::vector<std::string> protocols;
  // Extra headers (Origin, Cookie, Authorization...): names must be tokens and values free of CR,
  // LF and NUL. The handshake's own headers (Host, Upgrade, Connection, Sec-WebSocket-Key,
  // -Version, -Protocol, -Extensions) cannot be given here, nor Content-Length or
  // Transfer-Encoding (a body would be read as WebSocket frames).
  std::vector<std::pair<std::string, std::string>> headers;
  // Sec-WebSocket-Extensions offer, e.g. "permessage-deflate; client_max_window_bits"; empty for
  // none. It must parse as an extension list.
  std::string extensions;
  size_t max_response_head = 16 * 1024;
};

class ClientHandshake {
 public:
  enum class Status { need_more, accepted, redirect, failed };

  struct Result {
    Status status = Status::need_more;
    size_t consumed = 0;     // response head bytes; what follows is WebSocket data
    int http_status = 0;     // once the status line is parsed
    std::string error;       // failed: one line, e.g. "Sec-WebSocket-Accept mismatch"
    std::string location;    // redirect: the Location value as sent (see resolve_location)
    std::string protocol;    // accepted: chosen subprotocol, or empty
    std::string extensions;  // accepted: the server's Sec-WebSocket-Extensions value, or empty

    bool operator==(const Result&) const = default;
  };

  // `key_bytes` are 16 random bytes, drawn by the caller from a CSPRNG (RFC 6455 4.1 asks for a
  // fresh random nonce per connection; this class never picks one, so tests are repeatable).
  // Throws std::invalid_argument for options that break the rules above.
  ClientHandshake(const WebSocketUrl& url, const ClientHandshakeOptions& options,
                  const std::array<uint8_t, 16>& key_bytes);

  // "GET <resource> HTTP/1.1", Host, Upgrade, Connection, Sec-WebSocket-Key,
  // Sec-WebSocket-Version: 13, then Sec-WebSocket-Protocol and -Extensions when offered, then the
  // extra headers in order, then the empty line.
  const std::string& request() const { return request_; }
  const std::string& key() const { return key_; }

  // `buffered` is the whole response received so far (a growing buffer, as for the parsers).
  // Once the result is not need_more, it stays the same for every later call.
  //
  // Rules: 301/302/303/307/308 with a Location give redirect; another status than 101 fails
  // ("server answered 404 Not Found"). A 101 must be HTTP/1.1 and have "websocket" in Upgrade,
  // "upgrade" in Connection, and Sec-WebSocket-Accept equal to the expected value. A
  // Sec-WebSocket-Protocol must be one offered token; when protocols were offered the server must
  // pick one. Every extension in Sec-WebSocket-Extensions must have been offered, at most once.
  // None of Sec-WebSocket-Accept/-Protocol/-Extensions may be repeated.
  Result feed(std::string_view buffered);

 private:
  Result check(const HttpResponseHead& head, size_t consumed) const;
  Result check_upgrade(const HttpResponseHead& head, Result result) const;

  std::string key_;
  std::string expected_accept_;
  std::vector<std::string> protocols_;
  std::vector<std::string> offered_extensions_;  // names only
  std::string request_;
  Http1ResponseParser parser_;
  Result result_;
};

}  // namespace duplex::core
