// Internal: one loop's topics, each with the loop's subscribed sessions; a session lists its
// topics with its place in each (Session::slots), so subscribe, unsubscribe and leaving every
// topic are O(topics of the session). Used on the loop's thread only (through LoopPubSub, which
// also keeps the hub's counts); counts across loops live in the PubSubHub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/server/session/session.hpp"

namespace duplex::detail {

/// One loop's subscribers of one topic.
struct Topic {
  explicit Topic(std::string topic_name) : name(std::move(topic_name)) {}
  std::string name;
  // Null slots are sessions that left during a delivery; compacted when it ends.
  std::vector<Session*> subscribers;
  uint32_t delivering = 0;  // deliveries walking `subscribers` now (handlers may re-enter)
  bool has_holes = false;
  // This loop iteration's messages to the topic, framed end to end: a subscriber that gets
  // several of them in one iteration queues one growing slice of this buffer (one piece, one
  // iovec) instead of one piece per message.
  std::shared_ptr<std::string> batch;
  uint64_t batch_iteration = 0;
};

/// Hash for string keys looked up by string_view (no temporary string per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class TopicTable {
 public:
  TopicTable() = default;
  ~TopicTable();
  TopicTable(const TopicTable&) = delete;
  TopicTable& operator=(const TopicTable&) = delete;

  /// False when `session` was subscribed already.
  bool subscribe(Session& session, std::string_view name);
  /// False when it was not subscribed.
  bool unsubscribe(Session& session, std::string_view name);
  /// Calls `fn(topic name)` for each topic `session` leaves.
  template <class Fn>
  void unsubscribe_all(Session& session, Fn&& fn) {
    while (!session.slots_.empty()) {
      const Session::Slot slot = session.slots_.back();
      session.slots_.pop_back();
      fn(std::string_view(slot.topic->name));
      remove(*slot.topic, slot.index);
    }
  }

  Topic* find(std::string_view name) const;
  /// Calls `fn(Session&)` for every subscriber of `topic`; `fn` may subscribe, unsubscribe or
  /// close sessions (of this topic too): leavers leave holes, compacted when the outermost walk
  /// ends, and sessions that join during the walk are not visited. Returns how many it was
  /// called for.
  template <class Fn>
  size_t for_each_subscriber(Topic& topic, Fn&& fn) {
    ++topic.delivering;
    size_t calls = 0;
    // Subscribers added during the walk are not visited: they came after the message.
    const size_t n = topic.subscribers.size();
    for (size_t i = 0; i < n; ++i) {
      if (Session* s = topic.subscribers[i]) {
        fn(*s);
        ++calls;
      }
    }
    if (--topic.delivering == 0) settle(topic);
    return calls;
  }
  size_t topic_count() const { return topics_.size(); }

 private:
  void remove(Topic& topic, uint32_t index);
  void settle(Topic& topic);  // after a delivery: compact the holes, drop the topic if empty

  std::unordered_map<std::string_view, std::unique_ptr<Topic>, StringHash, std::equal_to<>>
      topics_;  // keys view the Topic's own name
};

}  // namespace duplex::detail
