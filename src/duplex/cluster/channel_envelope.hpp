// Internal: what a node publishes on a Redis channel for the others, and how it is read back.
// The channel names what it is for (<prefix>topic:<topic>, <prefix>user:<user>); the message
// is an envelope of 10 bytes and the payload:
//
//   offset 0  1 byte   format version, 0x01
//   offset 1  1 byte   the message's type: 't' text (UTF-8), 'b' binary
//   offset 2  8 bytes  the publishing node's id, big-endian
//   offset 10          the payload, as this node's own recipients get it (for a /pubsub
//                      publish, its delivery JSON), to the end of the message
//
// Redis carries a message whole, so it is never read in pieces. A node skips what carries its
// own id: its own subscribers had it at once, and Redis hands a subscribed publisher its own
// messages back. Anything else (another version, another type byte, fewer than 10 bytes) is not
// an envelope of this format and is skipped too.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "duplex/core/ws/frame.hpp"

namespace duplex::cluster::detail {

inline constexpr size_t kEnvelopeHeaderSize = 10;
inline constexpr char kEnvelopeVersion = 0x01;

struct Envelope {
  uint64_t node = 0;
  core::MessageType type = core::MessageType::text;
  std::string_view payload;  // a view into the message read
};

/// The 10 bytes that go before the payload.
std::array<char, kEnvelopeHeaderSize> envelope_header(uint64_t node, core::MessageType type);

/// The envelope in `message`, or nullopt when it is not one of this format.
std::optional<Envelope> read_envelope(std::string_view message);

}  // namespace duplex::cluster::detail
