// Reading a Socket.IO v5 packet text, as the reference parser (socket.io-parser 4.2, the one
// the socket.io server uses) decodes it, with its validity rules:
//
// - The first byte is the type, '0' to '6'; anything else is refused (kUnknownType).
// - Binary types (5, 6): then the attachment count, ASCII digits ending in '-', at least 1 and
//   at most DecodeOptions::max_attachments (10 by default, as the reference's maxAttachments).
// - A '/' next starts the namespace, which runs to the first ',' (not included, and skipped) or
//   to the end of the text. Without one the namespace is "/". So "2/chat" is an event in
//   "/chat" with no data, and "2/chat[\"a\"]" one in the namespace `/chat["a"]`.
// - ASCII digits next are the ack id: leading zeros are taken ("2012[...]" has id 12).
// - The rest is the data, JSON as JSON.parse reads it (core/json), checked by type:
//   connect: an object; disconnect: none; connect_error: an object or a string; event and
//   binary_event: an array whose first element is a number or a string other than the reserved
//   names ("connect", "connect_error", "disconnect", "disconnecting", "newListener",
//   "removeListener", compared after unescaping); ack and binary_ack: an array. As in the
//   reference, a packet of any type may have no data at all ("2" is an event without data).
//
// Where this is stricter than the reference, which reads the numbers with JavaScript's
// Number() and so takes what no encoder writes:
// - an empty text or a first character that Number() reads as 0 (whitespace) is refused here,
//   where the reference takes it as a connect packet;
// - an attachment count is digits only (the reference also takes " 1", "+1", "1.0", "0x1");
// - whitespace (space, tab, LF, CR) where the ack id or the data starts is refused: the
//   reference reads it into the id ("2 [\"a\"]" gets id 0, "2 1 [\"a\"]" id NaN);
// - an ack id above kMaxAckId (2^53 - 1) is refused: the reference rounds it to a double
//   ("29007199254740993[...]" gets id 9007199254740992), so no ack could carry it back.
// The text must be valid UTF-8 (the transport guarantees it); it is not checked here.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/socketio/packet.hpp"

namespace duplex::core::socketio {

/// The reasons decode() gives, one per fault (and json::json_reason's for the JSON itself).
namespace reason {
inline constexpr std::string_view kEmpty = "empty packet";
inline constexpr std::string_view kUnknownType = "unknown packet type";
inline constexpr std::string_view kIllegalAttachments = "illegal attachment count";
inline constexpr std::string_view kTooManyAttachments = "too many attachments";
inline constexpr std::string_view kIdTooLarge = "ack id above 2^53 - 1";
inline constexpr std::string_view kSpaceBeforeData = "whitespace before the ack id or data";
inline constexpr std::string_view kConnectData = "connect data is not an object";
inline constexpr std::string_view kDisconnectData = "disconnect packet with data";
inline constexpr std::string_view kConnectErrorData =
    "connect_error data is neither an object nor a string";
inline constexpr std::string_view kNotArray = "event or ack data is not an array";
inline constexpr std::string_view kNoEventName = "event data is an empty array";
inline constexpr std::string_view kBadEventName = "event name is neither a string nor a number";
inline constexpr std::string_view kReservedEventName = "reserved event name";
}  // namespace reason

struct DecodeOptions {
  size_t max_attachments = 10;
};

struct Decoded {
  Packet packet;           // views of the text
  std::string_view error;  // empty when the text is a valid packet, else one of reason or
                           // json_reason
  bool ok() const { return error.empty(); }
};

/// An event's or ack's data array, split by decode(). Reuse one across packets: its members
/// keep their capacity, so decoding allocates nothing once they have grown.
struct PacketArgs {
  /// Events: the elements after the name; acks: every element. Each is the element's JSON text
  /// as sent (a view of the packet text), to be parsed when needed (core/json/json_value.hpp).
  std::vector<std::string_view> args;
  std::string_view name_json;   // events: the first element as sent (a string or a number)
  std::string name;             // events whose name is a string: the name unescaped
  bool name_is_string = false;  // whether `name` holds the name
};

/// Reads one packet text. No exceptions; on an error the packet holds what was read so far.
/// The event names the protocol reserves ("connect", "connect_error", "disconnect",
/// "disconnecting", "newListener", "removeListener"): refused in a decoded event, and refused to
/// an emit (as the reference's emit throws).
bool is_reserved_event_name(std::string_view name);

Decoded decode(std::string_view text, const DecodeOptions& options = {});

/// The same, and for event, ack, binary_event and binary_ack packets with data, splits the
/// data into `args` in the same pass (the hot path). `args` is cleared first, and left empty
/// for other packets and on errors.
Decoded decode(std::string_view text, PacketArgs& args, const DecodeOptions& options = {});

}  // namespace duplex::core::socketio
