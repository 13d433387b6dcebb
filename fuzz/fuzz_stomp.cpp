// libFuzzer target for the STOMP frame codec (core/stomp).
//
// Input: the first byte picks the version the decoder reads in and whether its limits are small
// (so that inputs of libFuzzer's default size reach them); the rest is a byte stream. Checked:
// - the stream decoded whole, cut into pieces at places drawn from the input, and (when short) a
//   byte at a time gives the same events (need_more uses a piece up, an error leaves it);
// - round trip: every decoded frame written by the encoder, in the same version, decodes again
//   to the same frame;
// - the negotiation helpers: a heart-beat value that parses writes back to numbers that parse to
//   the same; a negotiated version is one of the list's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/stomp/frame_decoder.hpp"
#include "duplex/core/stomp/frame_encoder.hpp"
#include "duplex/core/stomp/heart_beat.hpp"
#include "duplex/core/stomp/version.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core::stomp;
using duplex::fuzz::check;
using Kind = DecodeEvent::Kind;

constexpr DecodeLimits kSmallLimits{.max_frame_bytes = 200, .max_headers = 4, .max_line_bytes = 40};
// For reading written frames back: escapes may make them longer than what was read.
constexpr DecodeLimits kNoLimits{
    .max_frame_bytes = UINT32_MAX, .max_headers = UINT32_MAX, .max_line_bytes = UINT32_MAX};

// An event copied out of the decoder's views.
struct Event {
  Kind kind = Kind::need_more;
  Command command = Command::send;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  DecodeError error{};
  std::string unknown_command;

  bool operator==(const Event&) const = default;

  Frame frame(std::vector<Header>& storage) const {
    storage.clear();
    for (const auto& [name, value] : headers) storage.push_back({name, value});
    return {.command = command, .headers = storage, .body = body};
  }
};

Event copy(const DecodeEvent& e) {
  Event out{.kind = e.kind, .error = e.error, .unknown_command = std::string(e.unknown_command)};
  if (e.kind == Kind::frame) {
    out.command = e.frame.command;
    for (const Header& h : e.frame.headers) out.headers.emplace_back(h.name, h.value);
    out.body = std::string(e.frame.body);
  }
  check(e.kind != Kind::error || !decode_error_reason(e.error).empty());
  check(e.unknown_command.empty() || e.error == DecodeError::unknown_command);
  return out;
}

std::vector<Event> decode(const std::vector<std::string>& pieces, Version version,
                          DecodeLimits limits) {
  FrameDecoder decoder(version, limits);
  std::vector<Event> events;
  for (const std::string& piece : pieces) {
    std::string_view in = piece;
    while (true) {
      const std::string_view before = in;
      const DecodeEvent e = decoder.next(in);
      if (e.kind == Kind::need_more) {
        check(in.empty());
        break;
      }
      events.push_back(copy(e));
      if (e.kind == Kind::error) {
        check(in == before && decoder.failed());
        return events;
      }
      check(in.size() < before.size());
    }
  }
  return events;
}

void check_negotiation(std::string_view text) {
  if (const std::optional<HeartBeat> hb = parse_heart_beat(text)) {
    const std::string again = std::to_string(hb->send_ms) + "," + std::to_string(hb->receive_ms);
    check(parse_heart_beat(again) == hb);
  }
  if (const std::optional<Version> v = negotiate_version(text)) {
    check(text.find(version_name(*v)) != std::string_view::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Version version = static_cast<Version>(data[0] % 3);
  const DecodeLimits limits = (data[0] & 4) ? kSmallLimits : DecodeLimits{};
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_negotiation(input);

  const std::vector<Event> whole = decode({std::string(input)}, version, limits);
  uint32_t seed = size;
  for (size_t i = 0; i < input.size() && i < 4; ++i) seed = seed * 31 + data[1 + i];
  check(decode(duplex::fuzz::cut(input, seed), version, limits) == whole);
  if (input.size() <= 512) {
    std::vector<std::string> bytes;
    for (char c : input) bytes.emplace_back(1, c);
    check(decode(bytes, version, limits) == whole);
  }

  std::vector<Header> storage;
  for (const Event& e : whole) {
    if (e.kind != Kind::frame) continue;
    std::string wire;
    append_frame(wire, e.frame(storage), version);
    const std::vector<Event> again = decode({wire}, version, kNoLimits);
    check(again.size() == 1 && again[0] == e);
  }
  return 0;
}
