#include "duplex/server/protocols/long_poll.hpp"

#include <algorithm>

#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex::detail {

LongPoll::LongPoll(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
                   std::vector<std::string> shown)
    : exchange_(exchange), pubsub_(pubsub), follower_(std::move(topics), shown) {}

LongPoll::~LongPoll() { stop(); }

void LongPoll::start(const std::vector<const uint64_t*>& from, std::chrono::milliseconds timeout) {
  // Subscribing and reading the history in one step: a message published meanwhile is in the
  // replay, or comes live, or both (then it is a duplicate).
  const auto missed = follower_.join(pubsub_, session_, from);
  std::vector<Found> found;
  for (const auto& m : missed) {
    found.push_back({m.message->sequence().seq, m.message->json_value()});
  }
  follower_.caught_up();
  const bool lost = std::any_of(follower_.places().begin(), follower_.places().end(),
                                [](const auto& place) { return place.lost; });
  if (!found.empty() || lost) return answer(std::move(found));
  exchange_.on_timeout([this] { answer({}); });
  exchange_.hold(timeout);
}

bool LongPoll::deliver(MessageEncodings& message) {
  if (stopped_) return false;
  const OutgoingMessage& outgoing = message.outgoing();
  size_t place;
  switch (follower_.arrive(outgoing, place)) {
    case TopicFollower<Found>::Arrival::duplicate:
      return true;
    case TopicFollower<Found>::Arrival::early:
      // Too many overtaking: answer with nothing new, so that the client comes back from where
      // it was and reads them in order from the history.
      if (!follower_.hold(place, outgoing.sequence(),
                          {outgoing.sequence().seq, std::string(message.json_value())})) {
        answer({});
      }
      return true;
    case TopicFollower<Found>::Arrival::next:
      break;
  }
  std::vector<Found> found{{outgoing.sequence().seq, std::string(message.json_value())}};
  follower_.release([&](size_t, Found& item) { found.push_back(std::move(item)); });
  answer(std::move(found));
  return true;
}

void LongPoll::answer(std::vector<Found> found) {
  if (stopped_) return;
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.seq < b.seq; });
  std::string body = "{\"cursor\":\"";
  follower_.append_cursor(body);  // digits, letters and %XX: nothing to escape in JSON
  body += "\",\"messages\":[";
  for (size_t i = 0; i < found.size(); ++i) {
    if (i) body += ',';
    body += found[i].json;
  }
  body += "],\"lost\":[";
  bool first = true;
  for (const auto& place : follower_.places()) {
    if (!place.lost) continue;
    if (!first) body += ',';
    first = false;
    core::pubsub::append_json_string(body, TopicFollower<Found>::shown(place));
  }
  body += "]}";
  stop();
  exchange_.respond(200, body, "application/json", {{"Cache-Control", "no-store"}});
}

void LongPoll::stop() {
  if (stopped_) return;
  stopped_ = true;
  pubsub_.leave(session_);
}

}  // namespace duplex::detail
