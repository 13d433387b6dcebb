#include "duplex/core/engineio/payload.hpp"

#include "duplex/core/text/base64.hpp"

namespace duplex::core::engineio {

namespace {

// Reads one packet of a payload: 'b' and base64 is a binary message decoded into `scratch`.
DecodeResult decode_payload_packet(std::string_view text, std::string& scratch) {
  if (text.empty() || text[0] != 'b') return decode_text_packet(text);
  const size_t start = scratch.size();
  if (!append_base64_decoded(scratch, text.substr(1))) return {.error = reason::kBadBase64};
  const std::string_view data = std::string_view(scratch).substr(start);
  return {.ok = true, .packet = {.type = PacketType::message, .data = data, .binary = true}};
}

}  // namespace

PayloadResult decode_payload(std::string_view body, std::string& scratch,
                             std::vector<Packet>& packets, size_t max_packets) {
  packets.clear();
  scratch.clear();
  // Base64 decodes to fewer bytes than it takes, so the decoded data fits without moving.
  scratch.reserve(body.size());
  size_t start = 0;
  while (true) {
    if (packets.size() == max_packets) {
      packets.clear();
      return {.error = reason::kTooManyPackets};
    }
    const size_t end = body.find(kRecordSeparator, start);
    const DecodeResult r = decode_payload_packet(body.substr(start, end - start), scratch);
    if (!r.ok) {
      packets.clear();
      return {.error = r.error};
    }
    packets.push_back(r.packet);
    if (end == std::string_view::npos) return {.ok = true};
    start = end + 1;
  }
}

void append_payload_packet(std::string& payload, const Packet& packet) {
  if (!payload.empty()) payload.push_back(kRecordSeparator);
  if (packet.binary) {
    payload.push_back('b');
    append_base64(payload, packet.data);
  } else {
    append_packet(payload, packet.type, packet.data);
  }
}

}  // namespace duplex::core::engineio
