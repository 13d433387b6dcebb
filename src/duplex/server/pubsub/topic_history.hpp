// Internal: what the hub remembers of each topic between deliveries: the sequence of its last
// message (so a recipient can check the chain of `prev`s, see Sequence), and, when asked for, a
// bounded history of its recent messages, for recipients that come back (an SSE client's
// Last-Event-ID, a long poll's cursor) and must get exactly what they missed, or be told that
// the history no longer reaches back that far. Not thread-safe: the hub calls it under its mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/server/history_options.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/topic_table.hpp"

namespace duplex::detail {

using HistoryLimits = HistoryOptions;  // history_options.hpp

class TopicHistory {
 public:
  explicit TopicHistory(HistoryLimits limits = {}) { set_limits(limits); }

  const HistoryLimits& limits() const { return limits_; }
  /// Before the first record(): also sets where the run's sequences start.
  void set_limits(HistoryLimits limits);

  /// Gives `message` (to its topic) the next sequence, and keeps it if the history is on and a
  /// recipient that can come back has followed the topic.
  void record(const std::shared_ptr<OutgoingMessage>& message, uint64_t now_ms);
  /// A recipient that can come back (an SSE stream, a long poll) follows `topic`: from now on
  /// its messages are kept. A topic only WebSockets subscribe to keeps none: they cannot ask
  /// for what they missed, and keeping costs (a fan-out to many topics lost a fifth of its
  /// deliveries per CPU-second to it).
  void follow(std::string_view topic);

  /// The seq of the topic's last message, 0 if none is known.
  uint64_t last_seq(std::string_view topic) const;

  struct Replay {
    /// The topic's kept messages after the cursor, oldest first.
    std::vector<std::shared_ptr<const OutgoingMessage>> messages;
    /// Messages after the cursor that are no longer kept (or cannot be known: a cursor from
    /// before the topic was forgotten, or from another server run): the recipient lost some.
    bool lost = false;
    /// The topic's last seq (0 if none): where a recipient's chain starts.
    uint64_t last_seq = 0;
  };
  /// What a recipient that has seen `topic` up to `after_seq` missed.
  Replay since(std::string_view topic, uint64_t after_seq, uint64_t now_ms);

  uint64_t next_seq() const { return next_seq_; }
  size_t topic_count() const { return topics_.size(); }

 private:
  struct Entry {
    uint64_t seq;
    uint64_t at_ms;
    std::shared_ptr<const OutgoingMessage> message;
  };
  struct TopicLog {
    uint64_t last_seq = 0;
    bool followed = false;         // a recipient that can come back followed it: messages are kept
    uint64_t forgotten_up_to = 0;  // the seq of the newest message no longer kept
    std::deque<Entry> kept;
    std::list<std::string>::iterator recency;  // in recent_
  };
  void expire(TopicLog& log, uint64_t now_ms);
  TopicLog& log_of(std::string_view topic);  // made on first use, the most recent

  HistoryLimits limits_;
  uint64_t run_first_seq_ = 1;  // cursors below it come from an earlier run
  uint64_t next_seq_ = 1;
  // Seqs below this were given out before any topic now remembered was forgotten: a cursor
  // under it for an unknown topic cannot be told apart from one that lost messages.
  uint64_t forgotten_topics_up_to_ = 0;
  std::unordered_map<std::string, TopicLog, StringHash, std::equal_to<>> topics_;
  std::list<std::string> recent_;  // topics, most recently published first
};

}  // namespace duplex::detail
