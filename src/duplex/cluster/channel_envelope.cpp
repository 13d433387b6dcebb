#include "duplex/cluster/channel_envelope.hpp"

namespace duplex::cluster::detail {

std::array<char, kEnvelopeHeaderSize> envelope_header(uint64_t node, core::MessageType type) {
  std::array<char, kEnvelopeHeaderSize> header;
  header[0] = kEnvelopeVersion;
  header[1] = type == core::MessageType::binary ? 'b' : 't';
  for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<char>(node >> (56 - 8 * i));
  return header;
}

std::optional<Envelope> read_envelope(std::string_view message) {
  if (message.size() < kEnvelopeHeaderSize || message[0] != kEnvelopeVersion) return std::nullopt;
  Envelope envelope;
  if (message[1] == 'b') {
    envelope.type = core::MessageType::binary;
  } else if (message[1] != 't') {
    return std::nullopt;
  }
  for (int i = 0; i < 8; ++i) {
    envelope.node = envelope.node << 8 | static_cast<uint8_t>(message[2 + i]);
  }
  envelope.payload = message.substr(kEnvelopeHeaderSize);
  return envelope;
}

}  // namespace duplex::cluster::detail
