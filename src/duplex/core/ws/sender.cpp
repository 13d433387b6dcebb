#include "duplex/core/ws/sender.hpp"

#include <cstring>

#include "duplex/core/ws/close_codes.hpp"

namespace duplex::core {

size_t write_frame_header(char* out, Opcode op, uint64_t payload_len, bool fin, bool rsv1,
                          const MaskKey* mask) {
  auto* h = reinterpret_cast<uint8_t*>(out);
  h[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(op));
  const uint8_t mask_bit = mask ? 0x80 : 0;
  size_t at;
  if (payload_len < 126) {
    h[1] = static_cast<uint8_t>(mask_bit | payload_len);
    at = 2;
  } else if (payload_len <= 0xFFFF) {
    h[1] = mask_bit | 126;
    h[2] = static_cast<uint8_t>(payload_len >> 8);
    h[3] = static_cast<uint8_t>(payload_len);
    at = 4;
  } else {
    h[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
    at = 10;
  }
  if (mask) {
    std::memcpy(h + at, mask->data(), 4);
    at += 4;
  }
  return at;
}

size_t write_frame(char* out, Opcode op, std::string_view payload, bool fin, bool rsv1) {
  const size_t n = write_frame_header(out, op, payload.size(), fin, rsv1);
  if (!payload.empty()) std::memcpy(out + n, payload.data(), payload.size());
  return n + payload.size();
}

void append_frame(std::string& out, Opcode op, std::string_view payload, bool fin, bool rsv1) {
  char header[kMaxFrameHeader];
  const size_t n = write_frame_header(header, op, payload.size(), fin, rsv1);
  out.append(header, n);
  out.append(payload);
}

void append_masked_frame(std::string& out, Opcode op, std::string_view payload, MaskKey key,
                         bool fin, bool rsv1) {
  char header[kMaxFrameHeader];
  const size_t n = write_frame_header(header, op, payload.size(), fin, rsv1, &key);
  out.append(header, n);
  const size_t start = out.size();
  out.append(payload);
  apply_mask(out.data() + start, payload.size(), key);
}

size_t write_close_payload(char* out, uint16_t code, std::string_view reason) {
  if (code == close_code::kNoStatus) return 0;
  out[0] = static_cast<char>(code >> 8);
  out[1] = static_cast<char>(code & 0xFF);
  size_t n = reason.size();
  if (n > kMaxControlPayload - 2) {
    n = kMaxControlPayload - 2;
    // Back up over continuation bytes so the cut does not split a character.
    while (n > 0 && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  }
  if (n > 0) std::memcpy(out + 2, reason.data(), n);  // an empty view may hold a null pointer
  return 2 + n;
}

char* frame_in_place(char* payload, size_t len, size_t headroom, Opcode op) {
  const size_t size = frame_header_size(len, false);
  if (size > headroom) return nullptr;
  char* start = payload - size;
  write_frame_header(start, op, len);
  return start;
}

}  // namespace duplex::core
