#include "duplex/core/engineio/packet.hpp"

namespace duplex::core::engineio {

DecodeResult decode_text_packet(std::string_view text) {
  if (text.empty()) return {.error = reason::kEmptyPacket};
  if (text[0] < '0' || text[0] > '6') return {.error = reason::kUnknownType};
  return {.ok = true,
          .packet = {.type = static_cast<PacketType>(text[0] - '0'), .data = text.substr(1)}};
}

DecodeResult decode_ws_message(std::string_view message, bool binary_frame) {
  if (binary_frame) {
    return {.ok = true, .packet = {.type = PacketType::message, .data = message, .binary = true}};
  }
  return decode_text_packet(message);
}

void append_packet(std::string& out, PacketType type, std::string_view data) {
  out.push_back(static_cast<char>('0' + static_cast<int>(type)));
  out.append(data);
}

}  // namespace duplex::core::engineio
