// Internal: what the SSE and long-poll routes read from a request: the topics named in the query
// (?topic=a&topic=b), checked as /pubsub checks topic names, and the cursor the client resumes
// from (core/pubsub/cursor.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/server/http_exchange.hpp"

namespace duplex::detail {

struct TopicRequest {
  std::vector<std::string> shown;   // as the client named them
  std::vector<std::string> topics;  // with the prefix
  /// Each topic's place, when the request gave one.
  std::vector<std::optional<uint64_t>> cursors;
  /// A cursor was given but could not be read: resume from what is kept, as if from the start.
  bool unreadable_cursor = false;
  /// The places to resume from, for LoopPubSub::subscribe_since (null: from now).
  std::vector<const uint64_t*> from() const;
};

/// Reads the request; answers it 400 with the reason (or 405 with `wrong_method` when the
/// method is not `method`) and returns nullopt when it cannot be served. `cursor` is the raw
/// cursor (may be absent).
std::optional<TopicRequest> read_topic_request(HttpExchange& exchange, std::string_view method,
                                               std::string_view wrong_method,
                                               const std::string& prefix, size_t max_topics,
                                               const std::optional<std::string>& cursor);

}  // namespace duplex::detail
