// Internal: the errors an Engine.IO request is refused with, answered as the reference server
// answers them: status 400 (403 for forbidden) and {"code":N,"message":"..."} as JSON.
#pragma once

#include <cstdint>
#include <string_view>

#include "duplex/server/http_exchange.hpp"

namespace duplex::engineio::detail {

enum class ErrorCode : uint8_t {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5,
};

/// "Transport unknown", "Session ID unknown", ...
std::string_view error_message(ErrorCode code);
int error_status(ErrorCode code);
/// The JSON body; `message` replaces the standard one when not empty.
std::string error_body(ErrorCode code, std::string_view message = {});

void respond_error(HttpExchange& exchange, ErrorCode code, std::string_view message = {});
void respond_error(HeldResponse& response, ErrorCode code, std::string_view message = {});

}  // namespace duplex::engineio::detail
