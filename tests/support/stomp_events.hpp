// What a core::stomp::FrameDecoder reads from some input, copied out so that runs compare: the
// STOMP codec's tests read every input whole, split at every byte and a byte at a time.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/stomp/frame_decoder.hpp"

namespace duplex::test {

struct StompEvent {
  core::stomp::DecodeEvent::Kind kind = core::stomp::DecodeEvent::Kind::need_more;
  core::stomp::Command command = core::stomp::Command::send;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  core::stomp::DecodeError error{};
  std::string unknown_command;

  bool operator==(const StompEvent&) const = default;
};

inline StompEvent stomp_frame(core::stomp::Command command,
                              std::vector<std::pair<std::string, std::string>> headers = {},
                              std::string body = {}) {
  return {.kind = core::stomp::DecodeEvent::Kind::frame,
          .command = command,
          .headers = std::move(headers),
          .body = std::move(body)};
}

inline StompEvent stomp_heart_beat() {
  return {.kind = core::stomp::DecodeEvent::Kind::heart_beat};
}

inline StompEvent stomp_error(core::stomp::DecodeError error, std::string unknown_command = {}) {
  return {.kind = core::stomp::DecodeEvent::Kind::error,
          .error = error,
          .unknown_command = std::move(unknown_command)};
}

inline std::ostream& operator<<(std::ostream& os, const StompEvent& e) {
  using Kind = core::stomp::DecodeEvent::Kind;
  switch (e.kind) {
    case Kind::need_more:
      return os << "need_more";
    case Kind::heart_beat:
      return os << "heart_beat";
    case Kind::error:
      return os << "error(" << core::stomp::decode_error_reason(e.error) << " '"
                << e.unknown_command << "')";
    case Kind::frame:
      break;
  }
  os << "frame(" << core::stomp::command_name(e.command);
  for (const auto& [name, value] : e.headers) os << " [" << name << "]=[" << value << "]";
  return os << " body=[" << e.body << "] " << e.body.size() << " bytes)";
}

inline StompEvent copy_event(const core::stomp::DecodeEvent& e) {
  StompEvent out{
      .kind = e.kind, .error = e.error, .unknown_command = std::string(e.unknown_command)};
  if (e.kind == core::stomp::DecodeEvent::Kind::frame) {
    out.command = e.frame.command;
    for (const core::stomp::Header& h : e.frame.headers) out.headers.emplace_back(h.name, h.value);
    out.body = std::string(e.frame.body);
  }
  return out;
}

/// Feeds `pieces` in order, each in a buffer of its own, to one decoder, as a server reads
/// WebSocket messages: next() until need_more, stopping at an error. Checks what every call must
/// do with its input (need_more uses it up; an error leaves it; a frame lying whole in one piece
/// without escapes is a view into that piece).
inline std::vector<StompEvent> decode_stomp_pieces(
    const std::vector<std::string>& pieces,
    core::stomp::Version version = core::stomp::Version::v1_2,
    core::stomp::DecodeLimits limits = {}) {
  using Kind = core::stomp::DecodeEvent::Kind;
  core::stomp::FrameDecoder decoder(version, limits);
  std::vector<StompEvent> events;
  for (const std::string& piece : pieces) {
    std::string_view in = piece;
    while (true) {
      const bool started_here = !decoder.mid_frame();
      const std::string_view before = in;
      const core::stomp::DecodeEvent e = decoder.next(in);
      if (e.kind == Kind::need_more) {
        EXPECT_TRUE(in.empty());
        break;
      }
      events.push_back(copy_event(e));
      if (e.kind == Kind::error) {
        EXPECT_EQ(in, before);
        EXPECT_TRUE(decoder.failed());
        return events;
      }
      EXPECT_LT(in.size(), before.size());
      if (e.kind == Kind::frame && started_here) {
        EXPECT_EQ(e.frame.body.data(),
                  before.data() + (before.size() - in.size()) - 1 - e.frame.body.size())
            << "a frame whole in its piece is read in place";
      }
    }
  }
  return events;
}

/// Decodes `input` whole, split in two at every byte, and a byte at a time; every way must give
/// the same events, which are returned.
inline std::vector<StompEvent> decode_stomp_all_ways(
    std::string_view input, core::stomp::Version version = core::stomp::Version::v1_2,
    core::stomp::DecodeLimits limits = {}) {
  const std::vector<StompEvent> whole = decode_stomp_pieces({std::string(input)}, version, limits);
  for (size_t split = 0; split <= input.size(); ++split) {
    const std::vector<StompEvent> two = decode_stomp_pieces(
        {std::string(input.substr(0, split)), std::string(input.substr(split))}, version, limits);
    EXPECT_EQ(two, whole) << "split at " << split;
    if (two != whole) break;
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(decode_stomp_pieces(bytes, version, limits), whole) << "byte by byte";
  return whole;
}

}  // namespace duplex::test
