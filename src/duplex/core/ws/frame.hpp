// WebSocket frame vocabulary (RFC 6455 section 5.2) shared by the receiver and the sender.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duplex::core {

enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Kind of a complete data message.
enum class MessageType : uint8_t { text = 1, binary = 2 };

inline constexpr size_t kMaxControlPayload = 125;
/// 2 bytes of flags and 7-bit length, 8 bytes of extended length, 4 bytes of mask key.
inline constexpr size_t kMaxFrameHeader = 14;

/// The size of a frame header, known from its second byte (mask bit and 7-bit length).
constexpr size_t header_size_from_second_byte(uint8_t b1) {
  const uint8_t len7 = b1 & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
}

constexpr bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

constexpr bool is_known_opcode(uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace duplex::core
