// What the server remembers of each topic's recent messages, for recipients that come back and
// must get exactly what they missed: an SSE client's Last-Event-ID, a long poll's cursor.
#pragma once

#include <chrono>
#include <cstddef>

namespace duplex {

struct HistoryOptions {
  /// Messages kept per topic that a client able to come back has followed (an SSE stream, a long
  /// poll; a topic only WebSockets subscribe to keeps none); 0 keeps none (a client that comes
  /// back is told it lost some).
  size_t max_messages = 0;
  /// Older messages are forgotten; 0: no age limit.
  std::chrono::milliseconds max_age{0};
  /// Topics remembered; past it, the one published to longest ago is forgotten.
  size_t max_topics = 10'000;
  /// The sequence of the run's first message (SSE ids and poll cursors count from it). 0 takes
  /// it from the wall clock at start (milliseconds since 1970 times 1,024: below 2^53 until the
  /// year 2248, so JavaScript numbers hold them exactly), so that every run counts above the
  /// runs before it, as long as a run publishes fewer than about a million messages a second of
  /// the time to the next start: a client that comes back to a restarted server with a cursor
  /// of an earlier run is told that it lost what it had, never resumed at some other message.
  /// Set it (to 1, say) for ids that do not depend on the clock.
  uint64_t first_sequence = 0;
};

}  // namespace duplex
