// libFuzzer target for the HTTP/1 request parser and the handshake checks built on it.
//
// Input layout: byte 0 picks where to split the rest; bytes 1.. are the request. The request is
// parsed whole and in two pieces, and both runs must agree. Completed requests are also run
// through validate_upgrade and parse_extensions, and parsed extensions must survive a
// serialize/parse round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/ws/handshake.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;
using duplex::fuzz::kLimits;
using duplex::fuzz::same_result;

bool same_request(const HttpRequest& a, const HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
      a.version_minor != b.version_minor || a.content_length != b.content_length ||
      a.chunked != b.chunked) {
    return false;
  }
  return a.headers == b.headers;
}

void exercise_request(const HttpRequest& req, std::string_view buffer) {
  check(!req.method.empty() && !req.target.empty());
  check(req.headers.size() <= kLimits.max_headers);
  for (const HttpHeader& h : req.headers) {
    check(is_token(h.name));
    check(h.value.data() >= buffer.data() && h.value.data() + h.value.size() <= buffer.end());
    if (const auto list = parse_extensions(h.value)) {
      check(!list->empty());
      const std::string canonical = serialize_extensions(*list);
      const auto reparsed = parse_extensions(canonical);
      check(reparsed.has_value() && *reparsed == *list);
    }
    (void)parse_token_list(h.value);
  }

  (void)is_websocket_upgrade(req);
  const auto result = validate_upgrade(req);
  if (const auto* upgrade = std::get_if<ValidatedUpgrade>(&result)) {
    check(is_valid_websocket_key(upgrade->key));
    const std::string accept = websocket_accept_key(upgrade->key);
    check(accept.size() == 28);
    std::string out;
    write_upgrade_response(out, accept, upgrade->protocols.empty() ? "" : upgrade->protocols[0],
                           serialize_extensions(upgrade->extensions));
  } else {
    const auto& error = std::get<HandshakeError>(result);
    check(error.status == 400 || error.status == 405 || error.status == 426);
    std::string out;
    write_error_response(out, error.status, error.reason);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = static_cast<size_t>(data[0]) * input.size() / 255;

  Http1RequestParser whole_parser(kLimits);
  HttpRequest whole_req;
  const HttpParseResult whole = whole_parser.parse(input, whole_req);

  // The first piece goes in its own allocation, as a reallocated receive buffer would.
  Http1RequestParser split_parser(kLimits);
  HttpRequest split_req;
  const std::string first(input.substr(0, split));
  HttpParseResult split_result = split_parser.parse(first, split_req);
  if (split_result.status == HttpParseStatus::need_more) {
    split_result = split_parser.parse(input, split_req);
  } else {
    // Decided on the first piece alone: the whole input must be decided the same way.
    check(split_result.status != HttpParseStatus::complete || split_result.consumed <= split);
  }
  check(same_result(whole, split_result));

  switch (whole.status) {
    case HttpParseStatus::complete:
      check(whole.consumed >= 4 && whole.consumed <= input.size());
      check(whole.consumed <= kLimits.max_header_bytes);
      check(std::string_view(input).substr(0, whole.consumed).ends_with("\r\n\r\n"));
      check(same_request(whole_req, split_req));
      exercise_request(whole_req, input);
      break;
    case HttpParseStatus::error:
      check(whole.error_status == 400 || whole.error_status == 431 || whole.error_status == 505);
      check(!whole.error_reason.empty());
      break;
    case HttpParseStatus::need_more:
      check(input.size() <= kLimits.max_header_bytes);
      break;
  }
  return 0;
}
