// Internal: one loop's publish/subscribe state. Topics map to the loop's subscribed connections;
// a connection lists its topics (and its user id) in a Membership made on first use, so a
// connection that never subscribes pays one pointer. Used on the loop's thread only; counts
// across loops live in the PubSubHub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duplex::detail {

class Connection;

/// One loop's subscribers of one topic.
struct Topic {
  explicit Topic(std::string topic_name) : name(std::move(topic_name)) {}
  std::string name;
  // Null slots are connections that left during a delivery; compacted when it ends.
  std::vector<Connection*> subscribers;
  uint32_t delivering = 0;  // deliveries walking `subscribers` now (handlers may re-enter)
  bool has_holes = false;
  // This loop iteration's messages to the topic, framed end to end: a subscriber that gets
  // several of them in one iteration queues one growing slice of this buffer (one piece, one
  // iovec) instead of one piece per message.
  std::shared_ptr<std::string> batch;
  uint64_t batch_iteration = 0;
};

/// What a connection takes part in: its user id (bound at upgrade) and its topics in the
/// order it subscribed, each with its slot in the topic's subscriber list.
struct Membership {
  struct Slot {
    Topic* topic;
    uint32_t index;
  };
  std::string user_id;
  std::vector<Slot> topics;

  Slot* find(const Topic* topic) {
    for (Slot& slot : topics) {
      if (slot.topic == topic) return &slot;
    }
    return nullptr;
  }
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

  /// False when `conn` (whose membership is `m`) was subscribed already.
  bool subscribe(Connection& conn, Membership& m, std::string_view name);
  /// False when it was not subscribed.
  bool unsubscribe(Membership& m, std::string_view name);
  /// Calls `fn(topic name)` for each topic `m` leaves.
  template <class Fn>
  void unsubscribe_all(Membership& m, Fn&& fn) {
    while (!m.topics.empty()) {
      const Membership::Slot slot = m.topics.back();
      m.topics.pop_back();
      fn(std::string_view(slot.topic->name));
      remove(*slot.topic, slot.index);
    }
  }

  Topic* find(std::string_view name) const;
  /// Calls `fn(Connection&)` for every subscriber of `topic`; `fn` may subscribe, unsubscribe
  /// or close connections (of this topic too). Returns how many it was called for.
  template <class Fn>
  size_t for_each_subscriber(Topic& topic, Fn&& fn) {
    ++topic.delivering;
    size_t calls = 0;
    // Subscribers added during the walk are not visited: they came after the message.
    const size_t n = topic.subscribers.size();
    for (size_t i = 0; i < n; ++i) {
      if (Connection* c = topic.subscribers[i]) {
        fn(*c);
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
