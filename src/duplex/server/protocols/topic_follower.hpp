// Internal: a recipient's place in each topic it follows, and the order of what it gets, shared
// by SSE streams and long polls. It joins its topics with a replay of what it missed since a
// cursor, then takes live messages: one it already has (replayed, then arriving live) is a
// duplicate, and one that overtook its predecessor in its topic (two publishers on two threads)
// is early and is held until the predecessor has come (Sequence::prev).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::detail {

/// `Item` is what is kept of an early message; at most `kMaxHeld` are kept. That is generous: a
/// topic's messages reach a loop in the order of their sequence (PubSubHub::publish queues
/// them in that order, and a loop's own publish waits behind what other threads queued for it
/// before), so holding is a safety net for what that order does not cover.
template <class Item, size_t kMaxHeld = 4096>
class TopicFollower {
 public:
  struct Place {
    std::string topic;      // the full name: a prefix, then the name the client gave
    uint32_t shown_at = 0;  // where the client's name begins in it
    uint64_t last = 0;      // seq of the last message taken
    uint64_t chain_at = 0;  // the topic's last seq when it joined
    bool lost = false;      // the history no longer reached back to the cursor
  };
  struct Missed {
    size_t place;
    std::shared_ptr<const OutgoingMessage> message;
  };
  enum class Arrival {
    duplicate,  // had it already (or not one of its topics)
    early,      // its predecessor has not come yet: hold() it
    next,       // in order: take it (the place has moved on to it)
  };

  /// `topics` are the full names, each ending with the name the client gave (`shown`).
  TopicFollower(std::vector<std::string> topics, const std::vector<std::string>& shown) {
    for (size_t i = 0; i < topics.size(); ++i) {
      const auto at = static_cast<uint32_t>(topics[i].size() - shown[i].size());
      places_.push_back({std::move(topics[i]), at});
    }
  }

  /// Subscribes `session` to every topic, reading in the same step what each missed since
  /// `from` (null: nothing to resume), merged in sequence order. Places stand at the cursors
  /// until caught_up().
  std::vector<Missed> join(LoopPubSub& pubsub, Session& session,
                           const std::vector<const uint64_t*>& from) {
    std::vector<Missed> missed;
    for (size_t i = 0; i < places_.size(); ++i) {
      auto replay = pubsub.subscribe_since(session, places_[i].topic, from[i]);
      if (!replay) continue;  // named twice
      places_[i].chain_at = replay->last_seq;
      places_[i].last = from[i] ? std::min(*from[i], replay->last_seq) : replay->last_seq;
      places_[i].lost = replay->lost;
      for (auto& message : replay->messages) missed.push_back({i, std::move(message)});
    }
    std::sort(missed.begin(), missed.end(), [](const Missed& a, const Missed& b) {
      return a.message->sequence().seq < b.message->sequence().seq;
    });
    return missed;
  }
  /// The replay is taken: every place stands at its topic's last message, so that one that
  /// also arrives live (it was on its way when the recipient joined) is a duplicate.
  void caught_up() {
    for (Place& place : places_) place.last = std::max(place.last, place.chain_at);
  }
  /// Moves a place on to a message taken outside arrive() (a replayed one).
  void take(size_t place, uint64_t seq) {
    places_[place].last = std::max(places_[place].last, seq);
  }

  /// Where `message` stands for this recipient; `place` is set for early and next.
  Arrival arrive(const OutgoingMessage& message, size_t& place) {
    place = places_.size();
    for (size_t i = 0; i < places_.size(); ++i) {
      if (places_[i].topic == message.topic()) place = i;
    }
    if (place == places_.size()) return Arrival::duplicate;
    const Sequence& sequence = message.sequence();
    if (sequence.seq <= places_[place].last) return Arrival::duplicate;
    if (sequence.prev > places_[place].last) return Arrival::early;
    places_[place].last = sequence.seq;
    return Arrival::next;
  }
  /// Holds an early message; false (nothing held) when kMaxHeld are held already.
  bool hold(size_t place, const Sequence& sequence, Item item) {
    if (held_.size() >= kMaxHeld) return false;
    held_.push_back({place, sequence, std::move(item)});
    return true;
  }
  /// Calls `take(place, item)` for each held message whose predecessor has now come, in order,
  /// moving the places on.
  template <class Take>
  void release(Take&& take) {
    bool progress = true;
    while (progress && !held_.empty()) {
      progress = false;
      for (size_t i = 0; i < held_.size(); ++i) {
        Place& place = places_[held_[i].place];
        const Sequence sequence = held_[i].sequence;
        if (sequence.seq > place.last && sequence.prev != place.last) continue;
        Held next = std::move(held_[i]);
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        if (sequence.seq > place.last) {
          place.last = sequence.seq;
          take(next.place, next.item);
        }
        progress = true;
        break;
      }
    }
  }

  const std::vector<Place>& places() const { return places_; }
  /// The topic as the client named it.
  static std::string_view shown(const Place& place) {
    return std::string_view(place.topic).substr(place.shown_at);
  }
  /// The cursor that stands for every place now.
  void append_cursor(std::string& out) const {
    std::vector<core::TopicPlace> cursor;
    cursor.reserve(places_.size());
    for (const Place& p : places_) cursor.push_back({shown(p), p.last});
    core::append_cursor(out, cursor);
  }

 private:
  struct Held {
    size_t place;
    Sequence sequence;
    Item item;
  };
  std::vector<Place> places_;
  std::vector<Held> held_;
};

}  // namespace duplex::detail
