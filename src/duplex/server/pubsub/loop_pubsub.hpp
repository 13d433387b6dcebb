// Internal: one loop's publish/subscribe state and the only way sessions join or leave it: the
// loop's topics (TopicTable) and users, kept in step with the hub's counts across loops, and
// delivery of a message to this loop's subscribers of a topic or sessions of some users. Used on
// its loop's thread only (the hub posts work here from other threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/topic_history.hpp"
#include "duplex/server/pubsub/topic_table.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

class OutgoingMessage;
class PubSubHub;

class LoopPubSub {
 public:
  LoopPubSub(PubSubHub& hub, io::EventLoop& loop, size_t index)
      : hub_(hub), loop_(loop), index_(index) {}
  LoopPubSub(const LoopPubSub&) = delete;
  LoopPubSub& operator=(const LoopPubSub&) = delete;

  io::EventLoop& loop() { return loop_; }
  PubSubHub& hub() { return hub_; }
  /// This loop's place among the server's loops.
  size_t index() const { return index_; }
  /// The loop whose thread is calling (set while it runs), or null.
  static LoopPubSub* current();
  static void set_current(LoopPubSub* loop);
  /// The event loop whose thread is calling (a server's loop), or null off them.
  static io::EventLoop* current_event_loop() {
    LoopPubSub* pubsub = current();
    return pubsub ? &pubsub->loop() : nullptr;
  }

  /// Queues `deliver(*this)` on this loop, counted until it has run: while deliveries from
  /// other threads wait here, this loop's own go behind them (see PubSubHub), so that whatever
  /// a subscriber gets, it gets in the order it was published, across topics too.
  template <class Deliver>
  void queue_delivery(Deliver deliver) {
    queued_deliveries_.fetch_add(1, std::memory_order_relaxed);
    loop_.post([this, deliver] {
      deliver(*this);
      queued_deliveries_.fetch_sub(1, std::memory_order_relaxed);
    });
  }
  /// Whether a delivery on this loop's thread may go out at once: none is waiting before it.
  bool may_deliver_at_once() const {
    return queued_deliveries_.load(std::memory_order_relaxed) == 0;
  }

  /// False if `session` was subscribed already.
  bool subscribe(Session& session, std::string_view topic);
  /// Subscribes and tells, in the same step as far as every publisher is concerned, what the
  /// session missed since `after_seq` (or, when null, only where the topic's chain stands). A
  /// message it missed may still come live too: a recipient that replays skips what it has (by
  /// Sequence). Nullopt if it was subscribed already.
  std::optional<TopicHistory::Replay> subscribe_since(Session& session, std::string_view topic,
                                                      const uint64_t* after_seq);
  /// False if it was not subscribed.
  bool unsubscribe(Session& session, std::string_view topic);
  bool is_subscribed(Session& session, std::string_view topic) const;
  /// Binds the session to `user` (once; an empty id binds nothing).
  void bind_user(Session& session, std::string user);
  /// Every topic and the user binding go: the session is closing.
  void leave(Session& session);

  /// Frames of several messages to one topic in one iteration are laid end to end in one
  /// buffer (Topic::batch) unless this is off (over TLS, every connection encrypts its own).
  void set_batching(bool on) { batching_ = on; }

  // Delivery to this loop's recipients; each returns how many sessions it was queued to.
  // `except` (a Session) is skipped.
  size_t deliver_topic(std::string_view topic, const OutgoingMessage& message, const void* except);
  size_t deliver_users(const std::vector<std::string>& users, const OutgoingMessage& message);

  size_t topic_count() const { return topics_.topic_count(); }

 private:
  PubSubHub& hub_;
  io::EventLoop& loop_;
  const size_t index_;
  std::atomic<uint32_t> queued_deliveries_{0};
  bool batching_ = true;
  TopicTable topics_;
  std::unordered_map<std::string, std::vector<Session*>, StringHash, std::equal_to<>> users_;
};

}  // namespace duplex::detail
