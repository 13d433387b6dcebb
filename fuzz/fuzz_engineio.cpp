// libFuzzer target for the Engine.IO packet and payload codec.
//
// Input layout: byte 0 picks the payload reader's packet limit (0 for none to speak of), bytes
// 1.. are read as a WebSocket text frame, a binary frame and a polling payload. Whatever is
// accepted must write back to the very same bytes (base64 is canonical) and read again as the
// same packets; whatever is refused must be empty and say a reason that fits the bytes. Then the
// same bytes, cut at 0xFF, become packets (a piece's first byte picks the type, 7 a binary
// message; text data loses its record separators, which text cannot hold), written as a payload
// and as WebSocket messages, and must read back as those packets.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/engineio/packet.hpp"
#include "duplex/core/engineio/payload.hpp"
#include "duplex/core/text/base64.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core::engineio;

using duplex::fuzz::check;
using duplex::fuzz::split;

std::string payload_of(const std::vector<Packet>& packets) {
  std::string out;
  for (const Packet& p : packets) append_payload_packet(out, p);
  return out;
}

bool is_type_char(char c) { return c >= '0' && c <= '6'; }

void read_ws_messages(std::string_view input) {
  const DecodeResult binary = decode_ws_message(input, true);
  check(binary.ok && binary.packet.binary && binary.packet.type == PacketType::message);
  check(binary.packet.data == input);

  const DecodeResult text = decode_ws_message(input, false);
  if (!text.ok) {
    check(text.error == (input.empty() ? reason::kEmptyPacket : reason::kUnknownType));
    check(input.empty() || !is_type_char(input[0]));
    return;
  }
  check(!text.packet.binary && text.error.empty());
  std::string again;
  append_packet(again, text.packet.type, text.packet.data);
  check(again == input);
}

void read_payload(std::string_view input, size_t max_packets) {
  std::string scratch;
  std::vector<Packet> packets;
  const PayloadResult r = decode_payload(input, scratch, packets, max_packets);
  const std::vector<std::string_view> pieces = split(input, kRecordSeparator);
  const auto any_piece = [&](auto fits) { return std::any_of(pieces.begin(), pieces.end(), fits); };
  if (!r.ok) {
    check(packets.empty());
    if (r.error == reason::kTooManyPackets) {
      check(pieces.size() > max_packets);
    } else if (r.error == reason::kEmptyPacket) {
      check(any_piece([](std::string_view p) { return p.empty(); }));
    } else if (r.error == reason::kUnknownType) {
      check(any_piece(
          [](std::string_view p) { return !p.empty() && !is_type_char(p[0]) && p[0] != 'b'; }));
    } else {
      check(r.error == reason::kBadBase64);
      check(any_piece([](std::string_view p) { return !p.empty() && p[0] == 'b'; }));
    }
    return;
  }
  check(r.error.empty() && packets.size() == pieces.size() && pieces.size() <= max_packets);
  for (const Packet& p : packets) {
    check(!p.binary || p.type == PacketType::message);
    check(p.binary || p.data.find(kRecordSeparator) == p.data.npos);
  }
  const std::string again = payload_of(packets);
  check(again == input);
  std::string scratch2;
  std::vector<Packet> packets2;
  check(decode_payload(again, scratch2, packets2, max_packets).ok);
  check(packets2 == packets);
}

void write_and_read_back(std::string_view input) {
  std::vector<std::string> storage;
  for (std::string_view piece : split(input, '\xFF')) storage.emplace_back(piece);
  std::vector<Packet> sent;
  for (std::string& piece : storage) {
    const int pick = piece.empty() ? 4 : static_cast<unsigned char>(piece[0]) % 8;
    if (!piece.empty()) piece.erase(0, 1);
    if (pick == 7) {
      sent.push_back({.type = PacketType::message, .data = piece, .binary = true});
      continue;
    }
    std::erase(piece, kRecordSeparator);
    sent.push_back({.type = static_cast<PacketType>(pick), .data = piece});
  }

  const std::string body = payload_of(sent);
  std::string scratch;
  std::vector<Packet> packets;
  check(decode_payload(body, scratch, packets, sent.size()).ok);
  check(packets == sent);

  for (const Packet& p : sent) {
    std::string frame;
    if (p.binary) {
      frame = p.data;
    } else {
      append_packet(frame, p.type, p.data);
    }
    const DecodeResult r = decode_ws_message(frame, p.binary);
    check(r.ok && r.packet == p);
  }
}

void base64_round_trip(std::string_view input) {
  std::string text;
  duplex::core::append_base64(text, input);
  std::string bytes;
  check(duplex::core::append_base64_decoded(bytes, text));
  check(bytes == input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t max_packets = data[0] == 0 ? size_t{1} << 20 : data[0];

  read_ws_messages(input);
  read_payload(input, max_packets);
  write_and_read_back(input);
  base64_round_trip(input);
  return 0;
}
