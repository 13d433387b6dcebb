// Close status codes (RFC 6455 section 7.4 and the IANA registry) and which may appear on the wire.
#pragma once

#include <cstdint>

namespace duplex::core::close_code {

inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
/// Reported locally when a close frame had no code; never sent.
inline constexpr uint16_t kNoStatus = 1005;
/// Reported locally when the connection ended without a close frame; never sent.
inline constexpr uint16_t kAbnormal = 1006;
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
inline constexpr uint16_t kServiceRestart = 1012;
inline constexpr uint16_t kTryAgainLater = 1013;
inline constexpr uint16_t kBadGateway = 1014;

/// Codes a peer may put in a close frame: the defined ones that are not reserved for local use
/// (1004, 1005, 1006 and 1015 are not), and the 3000-4999 ranges for libraries and applications.
constexpr bool is_valid_on_wire(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace duplex::core::close_code
