// Internal: a STOMP broker's /queue/ destinations, each a core::stomp::QueueState. Every loop
// calls in directly (one mutex guards them all; an operation is a few list moves): a SEND learns
// at once whether its queue took the message, and an ACK frees room at once. What a call hands
// out goes to each consumer's own loop: run directly when that is the caller's, else posted (the
// mutex is not held then, so a consumer may call back in).
//
// A consumer that is gone by the time a delivery reaches its loop drops it: its remove() has
// run by then, or runs next on its own loop, and puts every delivery it held back in the queue
// (a consumer in auto mode held none: those deliveries are lost with it, as auto means).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "duplex/core/stomp/queue_state.hpp"
#include "duplex/server/pubsub/topic_table.hpp"

namespace duplex::io {
class EventLoop;
}

namespace duplex::stomp::detail {

/// A message sent to a queue, shared by its deliveries.
struct QueuedMessage {
  std::string destination;  // "/queue/<name>"
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // passed on, in order
  uint64_t id = 0;                                           // unique in the broker
};
using QueuedHandle = std::shared_ptr<const QueuedMessage>;
using QueueDelivery = core::stomp::QueueDelivery<QueuedHandle>;

/// Where one consumer's deliveries go: `take` runs on `loop`'s thread.
struct QueueConsumer {
  io::EventLoop* loop = nullptr;
  std::function<void(const QueueDelivery&)> take;
};

class Queues {
 public:
  explicit Queues(core::stomp::QueueLimits limits) : limits_(limits) {}

  /// False when the queue is full (nothing changed).
  bool push(std::string_view name, QueuedHandle message);
  /// A new consumer of `name`; its key for the calls below.
  uint64_t add(std::string_view name, core::stomp::ConsumerOptions options, QueueConsumer consumer);
  /// The consumer leaves: what it held goes to the next ones.
  void remove(std::string_view name, uint64_t key);
  /// False when the consumer holds no such delivery.
  bool ack(std::string_view name, uint64_t key, uint64_t delivery_id);
  bool nack(std::string_view name, uint64_t key, uint64_t delivery_id);

  /// Messages kept in `name` (waiting for a consumer with room), for tests and stats.
  size_t kept(std::string_view name) const;

 private:
  struct Queue {
    core::stomp::QueueState<QueuedHandle> state;
    std::unordered_map<uint64_t, QueueConsumer> consumers;
  };
  struct Outgoing {
    QueueConsumer consumer;
    QueueDelivery delivery;
  };
  Queue& find_or_make(std::string_view name);
  bool settle(std::string_view name, uint64_t key, uint64_t delivery_id, bool ack);
  /// Pairs each delivery of `deliveries_` with its consumer (under the lock); the caller hands
  /// them out after unlocking.
  std::vector<Outgoing> collect(Queue& queue);
  static void hand_out(std::vector<Outgoing> outgoing);
  /// Forgets `name` once it has no consumer and keeps nothing.
  void forget_if_idle(std::string_view name, Queue& queue);

  core::stomp::QueueLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Queue, ::duplex::detail::StringHash, std::equal_to<>> queues_;
  core::stomp::QueueState<QueuedHandle>::Deliveries deliveries_;  // scratch, under the lock
  uint64_t next_key_ = 1;
};

}  // namespace duplex::stomp::detail
