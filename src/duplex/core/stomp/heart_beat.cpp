#include "duplex/core/stomp/heart_beat.hpp"

#include <algorithm>

namespace duplex::core::stomp {

namespace {

// 1*DIGIT within 32 bits.
std::optional<uint32_t> parse_ms(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > UINT32_MAX) return std::nullopt;
  }
  return static_cast<uint32_t>(n);
}

uint32_t agreed(uint32_t a, uint32_t b) { return a == 0 || b == 0 ? 0 : std::max(a, b); }

}  // namespace

std::optional<HeartBeat> parse_heart_beat(std::string_view value) {
  const size_t comma = value.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const std::optional<uint32_t> send = parse_ms(value.substr(0, comma));
  const std::optional<uint32_t> receive = parse_ms(value.substr(comma + 1));
  if (!send || !receive) return std::nullopt;
  return HeartBeat{*send, *receive};
}

std::optional<HeartBeat> negotiate_heart_beat(std::optional<std::string_view> peer_header,
                                              HeartBeat own) {
  HeartBeat peer;
  if (peer_header) {
    const std::optional<HeartBeat> parsed = parse_heart_beat(*peer_header);
    if (!parsed) return std::nullopt;
    peer = *parsed;
  }
  return HeartBeat{agreed(own.send_ms, peer.receive_ms), agreed(own.receive_ms, peer.send_ms)};
}

}  // namespace duplex::core::stomp
