// The sending half of a WebSocket endpoint: frame headers and whole frames (RFC 6455 section
// 5.2). Servers send unmasked frames, clients masked ones. Lengths use the minimal encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/mask.hpp"

namespace duplex::core {

constexpr size_t frame_header_size(uint64_t payload_len, bool masked) {
  return (payload_len < 126 ? 2 : payload_len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

/// Writes a frame header into `out` (room for kMaxFrameHeader bytes); returns its size.
size_t write_frame_header(char* out, Opcode op, uint64_t payload_len, bool fin = true,
                          bool rsv1 = false, const MaskKey* mask = nullptr);

/// Writes an unmasked frame (header, then payload) at `out`, which has room for
/// frame_header_size(payload.size(), false) + payload.size() bytes; returns the bytes written.
size_t write_frame(char* out, Opcode op, std::string_view payload, bool fin = true,
                   bool rsv1 = false);

/// Appends an unmasked frame (the server side).
void append_frame(std::string& out, Opcode op, std::string_view payload, bool fin = true,
                  bool rsv1 = false);

/// Appends a frame masked with `key` (the client side; take keys from random_mask_key()).
void append_masked_frame(std::string& out, Opcode op, std::string_view payload, MaskKey key,
                         bool fin = true, bool rsv1 = false);

/// Builds a close payload: the code in network order and the reason, or nothing for
/// close_code::kNoStatus. The reason is cut to fit the 125-byte control frame limit at a UTF-8
/// character boundary. Returns the payload size written to `out` (room for 125 bytes).
size_t write_close_payload(char* out, uint16_t code, std::string_view reason);

/// Frames `payload` where it lies, writing the header into the `headroom` bytes before it
/// (server side). Returns where the frame starts, or nullptr when the headroom is too small.
char* frame_in_place(char* payload, size_t len, size_t headroom, Opcode op);

}  // namespace duplex::core
