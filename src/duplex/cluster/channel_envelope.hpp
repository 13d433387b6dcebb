// Internal: what a node publishes on a Redis channel for the others, and how it is read back.
// The channel names what it is for (<prefix>topic:<topic>, <prefix>user:<user>); the message
// is an envelope: 11 bytes, the parts the message carries, and the payload.
//
//   offset 0  1 byte   format version, 0x02
//   offset 1  1 byte   the message's type: 't' text (UTF-8), 'b' binary
//   offset 2  8 bytes  the publishing node's id, big-endian
//   offset 10 1 byte   the parts that follow: bit 0 a Socket.IO emit, bit 1 a STOMP SEND
//   then               the Socket.IO part, the STOMP part (each when its bit is set)
//   then               the payload, as this node's own recipients get it (for a /pubsub
//                      publish, its delivery JSON), to the end of the message
//
// Numbers in the parts are big-endian; a string is its length (4 bytes) and its bytes; a list
// is its count (4 bytes) and its items.
//
//   Socket.IO part (SocketIoPacket): 1 byte of flags (bit 0 volatile, bit 1 for Socket.IO
//   sockets only, bit 2 the payload is the Engine.IO message "4" + the packet text), the emit's
//   id (8 bytes; unique across servers, so a socket reached through several rooms takes it
//   once), the packet text (left out when bit 2 says it is in the payload), the list of binary
//   attachments, the list of except topics.
//   STOMP part (StompSend): 1 byte of flags (bit 0 the body is the payload), the body (left
//   out when bit 0 is set), the content type, the list of headers (each a name and a value).
//
// Redis carries a message whole, so it is never read in pieces. A node skips what carries its
// own id: its own subscribers had it at once, and Redis hands a subscribed publisher its own
// messages back. Anything else (another version, another type byte, unknown parts, a part cut
// short, fewer than 11 bytes) is not an envelope of this format and is skipped too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/core/ws/frame.hpp"

namespace duplex::detail {
struct SocketIoPacket;
struct StompSend;
}  // namespace duplex::detail

namespace duplex::cluster::detail {

inline constexpr size_t kEnvelopeHeaderSize = 11;
inline constexpr char kEnvelopeVersion = 0x02;

struct Envelope {
  uint64_t node = 0;
  core::MessageType type = core::MessageType::text;
  std::string_view payload;  // a view into the message read
  /// The Socket.IO emit or STOMP SEND the message carries, when it does.
  std::shared_ptr<const ::duplex::detail::SocketIoPacket> socketio;
  std::shared_ptr<const ::duplex::detail::StompSend> stomp;
};

/// Appends what goes before `payload` in its envelope: the header and the message's parts.
void append_envelope_head(std::string& out, uint64_t node, core::MessageType type,
                          std::string_view payload,
                          const ::duplex::detail::SocketIoPacket* socketio = nullptr,
                          const ::duplex::detail::StompSend* stomp = nullptr);

/// The envelope in `message`, or nullopt when it is not one of this format.
std::optional<Envelope> read_envelope(std::string_view message);

}  // namespace duplex::cluster::detail
