// Internal: publish/subscribe across the server's loops. Each loop keeps its own subscribers and
// users (LoopPubSub); the hub counts them per loop, so a message goes only to the loops that have
// recipients: at once on the caller's own loop, through the others' wake-up queues (posted work
// runs in order, so one publisher's messages to a topic keep their order everywhere). It knows
// sessions only as LoopPubSub does, never the transports behind them.
//
// The broker seam (for a cluster of servers, through Redis: src/duplex/cluster/) sits at publish()
// and send_to_users(): with a Broker set (broker.hpp), each call is forwarded to it, the first
// subscriber of a topic and the last one's leaving are told to it (and the same for users), and
// what other processes publish comes in through publish_from_broker() and
// send_to_users_from_broker(), delivered here as any publish and never forwarded again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/core/ws/frame.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/broker.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/topic_history.hpp"
#include "duplex/server/pubsub/topic_table.hpp"

namespace duplex::detail {

class OutgoingMessage;

/// A recipient to skip (the publisher, say) and the loop it lives on: it only matters there.
struct Skip {
  const void* recipient = nullptr;
  size_t loop = SIZE_MAX;
};

class PubSubHub {
 public:
  PubSubHub() = default;
  PubSubHub(const PubSubHub&) = delete;
  PubSubHub& operator=(const PubSubHub&) = delete;

  /// The loops, indexed like LoopPubSub::index(); set once before any traffic.
  void set_loops(std::vector<LoopPubSub*> loops);
  size_t loop_count() const { return loops_.size(); }

  /// What is remembered of each topic (TopicHistory); set before any traffic.
  void set_history_limits(HistoryLimits limits) { history_.set_limits(limits); }

  /// Forwards this process's publishes and sends to users to `broker` (null: to none), and
  /// tells it every topic and user that has recipients now and from now on. Set or cleared
  /// while no loop runs (before Server::run(), after it returned).
  void set_broker(Broker* broker);
  /// Whether other processes share this one's topics (a broker is set).
  bool has_broker() const { return broker_ != nullptr; }

  // Bookkeeping, called on the loop that changed.
  void count_subscription(size_t core, std::string_view topic, std::string_view user, int delta);
  /// Counts a new subscription of a recipient that can come back (TopicHistory::follow) and,
  /// in the same step (no publish falls between them), tells what it missed since `after_seq`,
  /// or only where the topic's chain stands when `after_seq` is null.
  TopicHistory::Replay count_subscription_since(size_t core, std::string_view topic,
                                                std::string_view user, const uint64_t* after_seq);

  void count_user(size_t core, std::string_view user, int delta);

  // Queries, from any thread.
  size_t subscriber_count(std::string_view topic) const;
  std::vector<std::string> members(std::string_view topic) const;
  size_t user_connection_count(std::string_view user) const;

  // Delivery, from any thread. `except` (a Session) is skipped.
  void publish(std::string_view topic, std::string_view message, core::MessageType type,
               Skip except);
  /// Publishes a message made by the caller (a Socket.IO emit). One that only Socket.IO sockets
  /// take is not kept in the topic's history (SSE and long polls never replay it).
  void publish(std::string_view topic, std::shared_ptr<OutgoingMessage> made, Skip except);
  void send_to_users(const std::vector<std::string>& users, std::string_view message,
                     core::MessageType type);

  // What other processes published, from the broker: delivered as publish() and
  // send_to_users() deliver (kept in the topic's history too), never forwarded back.
  void publish_from_broker(std::string_view topic, std::string_view message,
                           core::MessageType type);
  /// The same for a message the broker made (one carrying a Socket.IO emit or a STOMP SEND).
  void publish_from_broker(std::string_view topic, std::shared_ptr<OutgoingMessage> made);
  void send_to_users_from_broker(const std::vector<std::string>& users, std::string_view message,
                                 core::MessageType type);

  /// Runs `deliver(loop, recipient to skip there)` for each loop marked in `loops`: directly on
  /// the calling loop (its result is returned), posted to the others. For deliveries the hub does
  /// not count itself (an endpoint's broadcast).
  template <class Deliver>
  size_t route(const std::vector<bool>& loops, Skip except, Deliver deliver);

 private:
  struct LoopCounts {
    std::vector<uint32_t> per_core;
    size_t total = 0;
  };
  struct TopicCounts : LoopCounts {
    std::map<std::string, uint32_t, std::less<>> members;  // user id -> subscribed connections
  };
  using UserCounts = LoopCounts;
  // Adds `delta` to `key`'s count on `core`, making the entry on first use; end() when a
  // decrement finds none. The caller erases the entry once its total is zero.
  template <class Map>
  typename Map::iterator add(Map& map, std::string_view key, size_t core, int delta);
  // Tells the broker when `counts` just got its first recipient or lost its last one.
  void tell_broker(Broker::Interest kind, std::string_view name, const LoopCounts& counts,
                   int delta);
  void publish_made(std::string_view topic, std::shared_ptr<OutgoingMessage> made, Skip except,
                    bool forward);
  void send_made(const std::vector<std::string>& users, std::string_view message,
                 core::MessageType type, bool forward);
  std::vector<LoopPubSub*> loops_;
  Broker* broker_ = nullptr;  // set while no loop runs
  mutable std::mutex mutex_;
  TopicHistory history_;
  std::unordered_map<std::string, TopicCounts, StringHash, std::equal_to<>> topics_;
  std::unordered_map<std::string, UserCounts, StringHash, std::equal_to<>> users_;
};

template <class Deliver>
size_t PubSubHub::route(const std::vector<bool>& loops, Skip except, Deliver deliver) {
  LoopPubSub* here = LoopPubSub::current();
  size_t delivered_here = 0;
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (!loops[i]) continue;
    LoopPubSub* loop = loops_[i];
    const void* skip = i == except.loop ? except.recipient : nullptr;
    if (loop == here && here->may_deliver_at_once()) {
      delivered_here = deliver(*loop, skip);
    } else {
      loop->queue_delivery([skip, deliver](LoopPubSub& l) { deliver(l, skip); });
    }
  }
  return delivered_here;
}

}  // namespace duplex::detail
