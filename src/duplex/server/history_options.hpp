// What the server remembers of each topic's recent messages, for recipients that come back and
// must get exactly what they missed: an SSE client's Last-Event-ID, a long poll's cursor.
#pragma once

#include <chrono>
#include <cstddef>

namespace duplex {

struct HistoryOptions {
  /// Messages kept per topic; 0 keeps none (a client that comes back is told it lost some).
  size_t max_messages = 0;
  /// Older messages are forgotten; 0: no age limit.
  std::chrono::milliseconds max_age{0};
  /// Topics remembered; past it, the one published to longest ago is forgotten.
  size_t max_topics = 10'000;
};

}  // namespace duplex
