#include "duplex/server/protocols/long_poll.hpp"

#include <algorithm>
#include <variant>

#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex::detail {

namespace {
// Messages that may wait for a predecessor (see SseStream).
constexpr size_t kMaxWaiting = 4096;

std::string as_json_value(std::string_view payload) {
  auto data = core::pubsub::data_from_text(payload);
  if (auto* json = std::get_if<std::string>(&data)) return std::move(*json);
  std::string quoted;  // too deep to pass as it is
  core::pubsub::append_json_string(quoted, payload);
  return quoted;
}
}  // namespace

LongPoll::LongPoll(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
                   std::vector<std::string> shown)
    : exchange_(exchange), pubsub_(pubsub) {
  for (size_t i = 0; i < topics.size(); ++i) {
    places_.push_back({std::move(topics[i]), std::move(shown[i]), 0, false});
  }
}

LongPoll::~LongPoll() { stop(); }

void LongPoll::start(const std::vector<const uint64_t*>& from, std::chrono::milliseconds timeout) {
  std::vector<Found> found;
  bool any_lost = false;
  for (size_t i = 0; i < places_.size(); ++i) {
    // Subscribing and reading the history in one step: a message published meanwhile is in the
    // replay, or comes live, or both (then it is known by its sequence).
    auto replay = pubsub_.subscribe_since(session_, places_[i].topic, from[i]);
    if (!replay) continue;  // named twice
    places_[i].last = from[i] ? std::min(*from[i], replay->last_seq) : replay->last_seq;
    places_[i].lost = replay->lost;
    any_lost = any_lost || replay->lost;
    for (const auto& message : replay->messages) {
      found.push_back({i, message->sequence().seq, message->sequence().prev,
                       as_json_value(message->payload())});
    }
    places_[i].last = std::max(places_[i].last, replay->last_seq);
  }
  if (!found.empty() || any_lost) return answer(std::move(found));
  exchange_.on_timeout([this] { answer({}); });
  exchange_.hold(timeout);
}

bool LongPoll::deliver(MessageEncodings& message) {
  if (stopped_) return false;
  const OutgoingMessage& outgoing = message.outgoing();
  size_t place = places_.size();
  for (size_t i = 0; i < places_.size(); ++i) {
    if (places_[i].topic == outgoing.topic()) place = i;
  }
  if (place == places_.size()) return false;
  const Sequence& sequence = outgoing.sequence();
  if (sequence.seq <= places_[place].last) return true;  // had it already (from the history)
  Found item{place, sequence.seq, sequence.prev, as_json_value(outgoing.payload())};
  if (sequence.prev > places_[place].last) {
    // Its predecessor is on its way. Too many overtaking: answer with nothing new, so that the
    // client comes back from where it was and reads them in order from the history.
    if (waiting_.size() == kMaxWaiting) {
      answer({});
      return true;
    }
    waiting_.push_back(std::move(item));
    return true;
  }
  // In order: answer with it and whatever waited behind it.
  std::vector<Found> found{std::move(item)};
  places_[place].last = sequence.seq;
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = 0; i < waiting_.size(); ++i) {
      if (waiting_[i].prev == places_[waiting_[i].place].last) {
        places_[waiting_[i].place].last = waiting_[i].seq;
        found.push_back(std::move(waiting_[i]));
        waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
        progress = true;
        break;
      }
    }
  }
  answer(std::move(found));
  return true;
}

void LongPoll::answer(std::vector<Found> found) {
  if (stopped_) return;
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.seq < b.seq; });
  std::vector<core::TopicPlace> cursor;
  for (const Place& p : places_) cursor.push_back({p.shown, p.last});
  std::string body = "{\"cursor\":\"";
  core::append_cursor(body, cursor);  // digits, letters and %XX: nothing to escape in JSON
  body += "\",\"messages\":[";
  for (size_t i = 0; i < found.size(); ++i) {
    if (i) body += ',';
    body += found[i].json;
  }
  body += "],\"lost\":[";
  bool first = true;
  for (const Place& p : places_) {
    if (!p.lost) continue;
    if (!first) body += ',';
    first = false;
    core::pubsub::append_json_string(body, p.shown);
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
