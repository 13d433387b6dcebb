// Engine.IO protocol v4 packets (github.com/socketio/engine.io-protocol), sans IO. A packet in
// text form is its type's digit followed by its data: "4hello" is the message "hello", "2probe"
// a ping with data "probe", "4" an empty message. Over WebSocket a text frame holds one packet in
// text form and a binary frame one binary message, its data the whole frame (no type byte).
// Long-polling bodies join several packets: see payload.hpp.
//
// Decoding hands out views into the caller's bytes and never checks UTF-8 (the WebSocket layer
// validates text frames).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::core::engineio {

enum class PacketType : uint8_t {
  open = 0,
  close = 1,
  ping = 2,
  pong = 3,
  message = 4,
  upgrade = 5,
  noop = 6
};

struct Packet {
  PacketType type;
  std::string_view data;  // may be empty
  bool binary = false;    // a binary message: type is then PacketType::message
  friend bool operator==(const Packet&, const Packet&) = default;
};

/// Why bytes are not a packet or a payload, one reason per fault.
namespace reason {
inline constexpr std::string_view kEmptyPacket = "empty packet";
inline constexpr std::string_view kUnknownType = "unknown packet type";
inline constexpr std::string_view kBadBase64 = "binary packet is not valid base64";
inline constexpr std::string_view kTooManyPackets = "too many packets in the payload";
}  // namespace reason

struct DecodeResult {
  bool ok = false;
  Packet packet{};         // when ok; its data is a view into the decoded bytes
  std::string_view error;  // when not ok: one of engineio::reason
};

/// Reads one packet in text form: a first byte '0' to '6' (else kUnknownType; "" is
/// kEmptyPacket), and the rest as data. 'b' is no type here: base64 only comes in payloads.
DecodeResult decode_text_packet(std::string_view text);

/// Reads a WebSocket message: a binary frame is a binary message whose data is the whole frame
/// (an empty frame an empty one), a text frame a packet in text form (decode_text_packet).
DecodeResult decode_ws_message(std::string_view message, bool binary_frame);

/// Appends the packet in text form: the type's digit, then `data`. This is also the whole text
/// frame of a packet sent over WebSocket (a binary message goes as a binary frame of its data).
void append_packet(std::string& out, PacketType type, std::string_view data);

}  // namespace duplex::core::engineio
