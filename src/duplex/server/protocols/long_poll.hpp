// Internal: one long poll (long_poll_endpoint.hpp) as a session. It answers at once with what
// its topics' history holds after its cursor; otherwise it subscribes and waits, and answers
// with the first message that comes in its topic's order (TopicFollower), or empty when the
// timeout passes. Then it leaves its topics.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "duplex/server/http_exchange.hpp"
#include "duplex/server/protocols/topic_follower.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

class LoopPubSub;
class MessageEncodings;

class LongPoll {
 public:
  LongPoll(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
           std::vector<std::string> shown);
  ~LongPoll();
  LongPoll(const LongPoll&) = delete;
  LongPoll& operator=(const LongPoll&) = delete;

  /// Answers now if its topics hold anything after `from` (or lost some), else waits.
  void start(const std::vector<const uint64_t*>& from, std::chrono::milliseconds timeout);
  /// A published message (session_kinds.cpp). False once it has answered.
  bool deliver(MessageEncodings& message);
  /// Leaves every topic (the exchange is ending).
  void stop();

 private:
  struct Found {
    uint64_t seq;
    std::string json;  // the message as a JSON value
  };
  void answer(std::vector<Found> found);

  HttpExchange& exchange_;
  LoopPubSub& pubsub_;
  Session session_{SessionKind::long_poll, this};
  TopicFollower<Found> follower_;  // held items: messages that came early
  bool stopped_ = false;
};

}  // namespace duplex::detail
