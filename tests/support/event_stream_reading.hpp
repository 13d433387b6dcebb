// Reading a whole Server-Sent Events stream into copies, for the unit tests and the fuzzer:
// every message, the last event ID, the reconnection time and the error, comparable between
// runs that cut the same bytes differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/sse/event_stream_reader.hpp"

namespace duplex::test {

struct ReadMessage {
  std::string type;
  std::string data;
  std::string last_event_id;
  bool operator==(const ReadMessage&) const = default;
};

struct ReadStream {
  std::vector<ReadMessage> messages;
  std::string last_event_id;
  std::optional<uint64_t> retry_ms;
  std::string error;
  // Set when the reader broke its own contract (consumed past its input, left bytes unread
  // without a message, or failed with bytes counted); empty otherwise.
  std::string broken;
  bool operator==(const ReadStream&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const ReadMessage& m) {
  return os << "{type='" << m.type << "' data='" << m.data << "' id='" << m.last_event_id << "'}";
}

inline std::ostream& operator<<(std::ostream& os, const ReadStream& s) {
  os << s.messages.size() << " messages, last id '" << s.last_event_id << "' error '" << s.error
     << "'" << (s.broken.empty() ? "" : " broken: ") << s.broken << ":";
  for (const ReadMessage& m : s.messages) os << " " << m;
  return os;
}

// Feeds `pieces` in order to one reader, each in its own buffer, looping on each as it asks.
inline ReadStream read_event_stream(const std::vector<std::string>& pieces,
                                    size_t max_event_bytes = size_t{1} << 20) {
  core::EventStreamReader reader(max_event_bytes);
  ReadStream s;
  for (const std::string& piece : pieces) {
    std::string_view rest = piece;
    while (s.error.empty() && s.broken.empty()) {
      const core::SseRead r = reader.feed(rest);
      if (r.status == core::SseReadStatus::error) {
        s.error = std::string(r.error_reason);
        if (r.consumed != 0 || r.error_reason.empty()) s.broken = "error with bytes or no reason";
        break;
      }
      if (r.consumed > rest.size()) {
        s.broken = "consumed past the input";
        break;
      }
      rest.remove_prefix(r.consumed);
      if (r.status == core::SseReadStatus::need_more) {
        if (!rest.empty()) s.broken = "need_more with bytes left";
        break;
      }
      s.messages.push_back({std::string(r.message.type), std::string(r.message.data),
                            std::string(r.message.last_event_id)});
    }
  }
  s.last_event_id = std::string(reader.last_event_id());
  s.retry_ms = reader.retry_ms();
  return s;
}

// The data a reader gets for an event written with `data`: each CR, LF and CRLF becomes LF.
inline std::string line_breaks_as_lf(std::string_view data) {
  std::string out;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      out.push_back(data[i]);
    }
  }
  return out;
}

}  // namespace duplex::test
