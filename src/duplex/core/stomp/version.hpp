// STOMP protocol versions (1.0, 1.1, 1.2) and their negotiation (STOMP 1.2 "Protocol
// Negotiation"): a client lists the versions it speaks in CONNECT's accept-version header, the
// server answers CONNECTED with the highest one both speak. The version decides how header names
// and values are escaped (frame_decoder.hpp, frame_encoder.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "duplex/core/stomp/frame.hpp"

namespace duplex::core::stomp {

enum class Version : uint8_t { v1_0, v1_1, v1_2 };

/// The versions spoken here, highest last, as the `version` header of an ERROR frame that
/// refuses a CONNECT lists them (spec: "version:1.2,2.1").
inline constexpr std::string_view kSupportedVersions = "1.0,1.1,1.2";

/// "1.0", "1.1" or "1.2": the value of CONNECTED's `version` header.
std::string_view version_name(Version version);

/// The version named exactly "1.0", "1.1" or "1.2", or none.
std::optional<Version> parse_version(std::string_view name);

/// The highest version both sides speak, from the value of a CONNECT (or STOMP) frame's
/// accept-version header: a comma-separated list, in any order ("1.0,1.1,1.2"), each item
/// compared exactly (" 1.1" is not 1.1). Items that are no version spoken here ("2.1", "") are
/// skipped ("1.1,,2.1" is 1.1). No header (nullopt)
/// means a STOMP 1.0 client: 1.0. A header naming no version spoken here ("", "2.0") gives none:
/// the server answers with an ERROR frame and closes.
std::optional<Version> negotiate_version(std::optional<std::string_view> accept_version);

/// How a frame's headers are escaped: as `version` escapes them, except that CONNECT and
/// CONNECTED frames are never escaped (spec "Value Encoding": they stay readable by 1.0 peers,
/// and are sent before the version is known), which is 1.0's way. STOMP frames are escaped as
/// any other frame: the specification names only CONNECT and CONNECTED.
constexpr Version escaping_of(Command command, Version version) {
  return command == Command::connect || command == Command::connected ? Version::v1_0 : version;
}

}  // namespace duplex::core::stomp
