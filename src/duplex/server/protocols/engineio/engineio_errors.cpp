#include "duplex/server/protocols/engineio/engineio_errors.hpp"

#include <string>

#include "duplex/core/pubsub/pubsub_protocol.hpp"

namespace duplex::engineio::detail {

namespace {
constexpr std::string_view kJson = "application/json";
}

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::unknown_transport:
      return "Transport unknown";
    case ErrorCode::unknown_sid:
      return "Session ID unknown";
    case ErrorCode::bad_handshake_method:
      return "Bad handshake method";
    case ErrorCode::bad_request:
      return "Bad request";
    case ErrorCode::forbidden:
      return "Forbidden";
    case ErrorCode::unsupported_protocol_version:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

int error_status(ErrorCode code) { return code == ErrorCode::forbidden ? 403 : 400; }

std::string error_body(ErrorCode code, std::string_view message) {
  std::string body = "{\"code\":";
  body += std::to_string(static_cast<int>(code));
  body += ",\"message\":";
  core::pubsub::append_json_string(body, message.empty() ? error_message(code) : message);
  body += '}';
  return body;
}

void respond_error(HttpExchange& exchange, ErrorCode code, std::string_view message) {
  exchange.respond(error_status(code), error_body(code, message), kJson);
}

void respond_error(HeldResponse& response, ErrorCode code, std::string_view message) {
  response.respond(error_status(code), error_body(code, message), std::string(kJson));
}

}  // namespace duplex::engineio::detail
