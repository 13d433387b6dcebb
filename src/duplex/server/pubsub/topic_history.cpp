#include "duplex/server/pubsub/topic_history.hpp"

#include <chrono>

namespace duplex::detail {

void TopicHistory::set_limits(HistoryLimits limits) {
  limits_ = limits;
  uint64_t first = limits.first_sequence;
  if (first == 0) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    first = (static_cast<uint64_t>(ms) << 10) + 1;
  }
  run_first_seq_ = next_seq_ = first;
}

TopicHistory::TopicLog& TopicHistory::log_of(std::string_view topic) {
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.recency);
    return it->second;
  }
  if (limits_.max_topics > 0 && topics_.size() >= limits_.max_topics) {
    // Forget the topic published to (or followed) longest ago.
    auto oldest = topics_.find(recent_.back());
    forgotten_topics_up_to_ = std::max(forgotten_topics_up_to_, oldest->second.last_seq);
    topics_.erase(oldest);
    recent_.pop_back();
  }
  recent_.emplace_front(topic);
  it = topics_.emplace(recent_.front(), TopicLog{}).first;
  it->second.recency = recent_.begin();
  return it->second;
}

void TopicHistory::follow(std::string_view topic) { log_of(topic).followed = true; }

void TopicHistory::record(const std::shared_ptr<OutgoingMessage>& message, uint64_t now_ms) {
  TopicLog& log = log_of(message->topic());
  const uint64_t seq = next_seq_++;
  message->set_sequence({seq, log.last_seq});
  log.last_seq = seq;
  if (limits_.max_messages == 0 || !log.followed) {
    log.forgotten_up_to = seq;
    return;
  }
  log.kept.push_back({seq, now_ms, message});
  while (log.kept.size() > limits_.max_messages) {
    log.forgotten_up_to = log.kept.front().seq;
    log.kept.pop_front();
  }
  expire(log, now_ms);
}

void TopicHistory::expire(TopicLog& log, uint64_t now_ms) {
  if (limits_.max_age.count() <= 0) return;
  const auto max_age = static_cast<uint64_t>(limits_.max_age.count());
  while (!log.kept.empty() && now_ms - log.kept.front().at_ms > max_age) {
    log.forgotten_up_to = log.kept.front().seq;
    log.kept.pop_front();
  }
}

uint64_t TopicHistory::last_seq(std::string_view topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.last_seq;
}

TopicHistory::Replay TopicHistory::since(std::string_view topic, uint64_t after_seq,
                                         uint64_t now_ms) {
  Replay replay;
  // A cursor from an earlier run (below this run's first sequence; 0 is "from the start"), or
  // from the future (made up, or a run whose clock was ahead): what it saw cannot be matched
  // with what is kept.
  const bool from_elsewhere =
      (after_seq != 0 && after_seq < run_first_seq_) || after_seq >= next_seq_;
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    replay.lost = from_elsewhere || after_seq < forgotten_topics_up_to_;
    return replay;
  }
  TopicLog& log = it->second;
  expire(log, now_ms);
  replay.last_seq = log.last_seq;
  replay.lost = from_elsewhere || after_seq < log.forgotten_up_to;
  for (const Entry& entry : log.kept) {
    if (entry.seq > after_seq) replay.messages.push_back(entry.message);
  }
  return replay;
}

}  // namespace duplex::detail
