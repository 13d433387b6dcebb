// libFuzzer target for the HTTP/1 response parser and the client handshake built on it.
//
// Input layout: byte 0 picks where to split the rest; bytes 1.. are the response. The response is
// parsed whole and in two pieces, and both runs must agree; the same goes for
// ClientHandshake::feed, which also must never crash on any answer. A redirect's Location is
// resolved, and a resolved URL must survive a to_string/parse round trip.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_response_parser.hpp"
#include "duplex/core/http/url.hpp"
#include "duplex/core/ws/client_handshake.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;
using duplex::fuzz::kLimits;
using duplex::fuzz::same_result;

bool same_head(const HttpResponseHead& a, const HttpResponseHead& b) {
  return a.version_minor == b.version_minor && a.status == b.status && a.reason == b.reason &&
         a.headers == b.headers;
}

// Parses `input` whole and split at `split` (the first piece in its own allocation, as a
// reallocated receive buffer would be); both must agree.
void check_parser(const std::string& input, size_t split) {
  Http1ResponseParser whole_parser(kLimits);
  HttpResponseHead whole_head;
  const HttpParseResult whole = whole_parser.parse(input, whole_head);

  Http1ResponseParser split_parser(kLimits);
  HttpResponseHead split_head;
  const std::string first(input.substr(0, split));
  HttpParseResult split_result = split_parser.parse(first, split_head);
  if (split_result.status == HttpParseStatus::need_more) {
    split_result = split_parser.parse(input, split_head);
  } else {
    check(split_result.status != HttpParseStatus::complete || split_result.consumed <= split);
  }
  check(same_result(whole, split_result));
  check(whole.error_status == 0);

  switch (whole.status) {
    case HttpParseStatus::complete:
      check(whole.consumed >= 4 && whole.consumed <= input.size());
      check(whole.consumed <= kLimits.max_header_bytes);
      check(std::string_view(input).substr(0, whole.consumed).ends_with("\r\n\r\n"));
      check(same_head(whole_head, split_head));
      check(whole_head.status >= 100 && whole_head.status <= 599);
      check(whole_head.version_minor == 0 || whole_head.version_minor == 1);
      check(whole_head.headers.size() <= kLimits.max_headers);
      for (const HttpHeader& h : whole_head.headers) {
        check(is_token(h.name));
        check(h.value.data() >= input.data() &&
              h.value.data() + h.value.size() <= input.data() + input.size());
        check(whole_head.header(h.name).has_value());
        (void)whole_head.has_token(h.name, "upgrade");
      }
      break;
    case HttpParseStatus::error:
      check(!whole.error_reason.empty());
      break;
    case HttpParseStatus::need_more:
      check(input.size() <= kLimits.max_header_bytes);
      break;
  }
}

ClientHandshake make_handshake() {
  static const WebSocketUrl url =
      std::get<WebSocketUrl>(parse_websocket_url("ws://example.com:8080/chat?x=1"));
  ClientHandshakeOptions options;
  // Short offers, so that fuzzed answers hit them and reach the accepted path.
  options.protocols = {"a", "b"};
  options.extensions = "permessage-deflate; client_max_window_bits, x";
  options.max_response_head = 1024;
  // Key "AAAAAAAAAAAAAAAAAAAAAA==", accept "ICX+Yqv66kxgM0FcWaLWlFLwTAI=".
  std::array<uint8_t, 16> key{};
  return ClientHandshake(url, options, key);
}

void check_handshake(const std::string& input, size_t split) {
  ClientHandshake whole_handshake = make_handshake();
  const ClientHandshake::Result whole = whole_handshake.feed(input);

  ClientHandshake split_handshake = make_handshake();
  ClientHandshake::Result split_result = split_handshake.feed(input.substr(0, split));
  if (split_result.status == ClientHandshake::Status::need_more) {
    split_result = split_handshake.feed(input);
  }
  check(split_result == whole);
  using Status = ClientHandshake::Status;
  // A decided result never changes (need_more may: one more byte can reach the head's limit).
  if (whole.status != Status::need_more) check(whole_handshake.feed(input + "x") == whole);

  check(whole.consumed <= input.size());
  check((whole.status == Status::failed) == !whole.error.empty());
  check(whole.status == Status::need_more || whole.status == Status::failed || whole.consumed >= 4);
  if (whole.status == Status::accepted) {
    check(whole.http_status == 101);
    check(whole.protocol == "a" || whole.protocol == "b");
  }
  if (whole.status == Status::redirect) {
    check(!whole.location.empty());
    static const WebSocketUrl base =
        std::get<WebSocketUrl>(parse_websocket_url("wss://[::1]:9443/chat"));
    const auto resolved = resolve_location(base, whole.location);
    if (const auto* url = std::get_if<WebSocketUrl>(&resolved)) {
      const auto again = parse_websocket_url(url->to_string());
      check(std::holds_alternative<WebSocketUrl>(again) && std::get<WebSocketUrl>(again) == *url);
      check(url->resource.starts_with('/') && !url->host.empty() && url->port != 0);
    } else {
      check(!std::get<std::string>(resolved).empty());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = static_cast<size_t>(data[0]) * input.size() / 255;
  check_parser(input, split);
  check_handshake(input, split);
  return 0;
}
