// Internal: one long poll (long_poll_endpoint.hpp) as a session. It answers at once with what
// its topics' history holds after its cursor; otherwise it subscribes and waits, and answers
// with the first message that comes (in its topic's order: one that overtakes its predecessor
// waits for it, see Sequence), or empty when the timeout passes. Then it leaves its topics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/server/http_exchange.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

class LoopPubSub;

class LongPoll {
 public:
  LongPoll(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
           std::vector<std::string> shown);
  ~LongPoll();
  LongPoll(const LongPoll&) = delete;
  LongPoll& operator=(const LongPoll&) = delete;

  Session& session() { return session_; }
  /// Answers now if its topics hold anything after `from` (or lost some), else waits.
  void start(const std::vector<const uint64_t*>& from, std::chrono::milliseconds timeout);
  /// A published message (session_kinds.cpp). False once it has answered.
  bool deliver(MessageEncodings& message);
  /// Leaves every topic (the exchange is ending).
  void stop();

 private:
  struct Place {
    std::string topic;  // full name
    std::string shown;
    uint64_t last = 0;
    bool lost = false;
  };
  struct Found {
    size_t place;
    uint64_t seq;
    uint64_t prev;
    std::string json;  // the message as a JSON value
  };
  void answer(std::vector<Found> found);

  HttpExchange& exchange_;
  LoopPubSub& pubsub_;
  Session session_{SessionKind::long_poll, this};
  std::vector<Place> places_;
  std::vector<Found> waiting_;  // overtook their predecessors
  bool stopped_ = false;
};

}  // namespace duplex::detail
