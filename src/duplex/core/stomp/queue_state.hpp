// One STOMP point-to-point queue (a `/queue/...` destination), as brokers such as RabbitMQ keep
// one: each message goes to exactly one consumer. Sans-IO: no socket, clock or thread; the server
// drives it on the one loop that owns the queue, and every operation appends what to send now
// to the caller's list of deliveries, in the order to send them.
//
// - Consumers take turns: a message goes to the next consumer in the rotation (the order they
//   joined) that has room, and the turn passes to the one after it. A consumer in client mode
//   has room while its unacknowledged deliveries are fewer than its prefetch (0: no limit); one
//   in automatic mode has every delivery acknowledged as it is made, so it holds nothing and
//   always has room (the server's output bound is what slows it).
// - A message no consumer has room for is kept, in push order, up to `QueueLimits`: a push that
//   would pass either bound is refused (`PushOutcome::refused`, the message left to the caller,
//   who answers its sender with an ERROR); nothing is ever dropped. The bounds count kept
//   messages only, not deliveries awaiting their ack, and a message sent back to the queue (a
//   nack, a consumer leaving) is always taken back, even past them: pushes are refused until it
//   is below them again.
// - An ack removes the delivery. A nack, or its consumer leaving (unsubscribe, disconnect),
//   puts the message back where it was in the queue, ahead of every message pushed after it
//   (so in the usual case at the front, in the original order), and it goes to the next
//   consumers with room. Each message counts its deliveries: `delivery_count` above 1 means a
//   redelivery, for which the server adds the `redelivered:true` header to the MESSAGE frame.
// - Acks and nacks name one delivery, as the queue gave it to one consumer: the session state
//   resolves STOMP's cumulative `client` acks into these. An id the consumer does not hold
//   (already acked, never given, another consumer's, an automatic consumer's) is refused with
//   `false`, for the caller to answer with an ERROR.
// - Delivery ids count from 1 per queue (0 is never one), automatic deliveries included, so the
//   server can use them as `message-id` and `ack` values.
//
// The message type: `Message` is the caller's handle to a message's payload (a
// `std::shared_ptr<const T>` to the stored frame, an index into the server's own store), never
// the bytes themselves; the queue knows only its size, given at push. The payload is never
// copied: a handle is moved from push to its delivery wherever the queue does not need it after
// (every delivery to an automatic consumer, so a message pushed while one has room is never
// stored), and copied once per delivery to a client-mode consumer, the queue keeping the other
// for a redelivery until the ack. A released handle slot is reset to `Message{}`, which frees
// what a shared pointer holds.
//
// Costs: push, ack and nack are O(consumers) to find the consumer with room or the one named
// (a queue's consumers are few), plus O(log held) to find a delivery; an in-order ack is O(1)
// amortized, an out-of-order one moves the consumer's later deliveries. A message put back goes
// to its place by binary search (O(1) to insert at the front). At steady state nothing
// allocates: the caller's list keeps its capacity, and so do the queue's containers.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace duplex::core::stomp {

/// The server's name for a consumer (one subscription of one session), opaque to the queue.
using ConsumerKey = uint64_t;

/// How a queue consumer settles its deliveries (the session's AckMode, client and client-individual
/// alike: cumulative acks are resolved to single deliveries by the session state).
enum class ConsumerAck : uint8_t {
  automatic,  // STOMP `ack:auto`: acknowledged as delivered
  client,     // STOMP `ack:client` and `ack:client-individual`: each delivery awaits its ack
};

struct ConsumerOptions {
  ConsumerAck ack = ConsumerAck::automatic;
  /// Client mode: the most unacknowledged deliveries the consumer holds (0: no limit). Ignored in
  /// automatic mode.
  uint32_t prefetch = 0;
};

/// The bounds on kept messages (those no consumer had room for). 0 keeps nothing.
struct QueueLimits {
  size_t max_messages = 10'000;
  size_t max_bytes = size_t{16} << 20;
};

enum class PushOutcome : uint8_t {
  delivered,  // it went to a consumer at once
  kept,       // no consumer had room: it waits in the queue
  refused,    // no consumer had room and the queue is full: the message is the caller's again
};

/// One MESSAGE frame for the server to send.
template <class Message>
struct QueueDelivery {
  ConsumerKey consumer = 0;
  uint64_t delivery_id = 0;
  uint32_t delivery_count = 0;  // 1 for the first delivery of the message, 2 for the next, ...
  Message message{};

  /// Whether the MESSAGE frame carries `redelivered:true`.
  bool redelivered() const { return delivery_count > 1; }
  friend bool operator==(const QueueDelivery&, const QueueDelivery&) = default;
};

template <std::semiregular Message>
class QueueState {
 public:
  using Delivery = QueueDelivery<Message>;
  using Deliveries = std::vector<Delivery>;

  explicit QueueState(QueueLimits limits = {}) : limits_(limits) {}

  /// A message of `bytes` bytes (the caller's measure, counted against `max_bytes`) to the
  /// queue, behind every other. Delivered (`out` gets it), kept, or refused: then `message` is
  /// left as it was. Otherwise it is moved from.
  [[nodiscard]] PushOutcome push(Message&& message, size_t bytes, Deliveries& out) {
    if (kept_.empty()) {
      // Kept messages mean nobody has room (every operation delivers all it can), so only an
      // empty queue can hand a message straight over.
      size_t i = next_with_room();
      if (i != kNone) {
        deliver(i, Entry{next_seq_++, bytes, 0, std::move(message)}, out);
        return PushOutcome::delivered;
      }
    }
    if (kept_.size() >= limits_.max_messages || kept_bytes_ > limits_.max_bytes ||
        bytes > limits_.max_bytes - kept_bytes_) {
      return PushOutcome::refused;
    }
    kept_bytes_ += bytes;
    kept_.push_back(Entry{next_seq_++, bytes, 0, std::move(message)});
    return PushOutcome::kept;
  }

  /// A consumer joins, last in the rotation; kept messages go to it at once, up to its prefetch.
  /// False if `key` is already a consumer here (nothing changes).
  [[nodiscard]] bool add_consumer(ConsumerKey key, ConsumerOptions options, Deliveries& out) {
    if (find(key) != kNone) return false;
    consumers_.push_back(Consumer{key, options.ack, options.prefetch, {}, 0});
    dispatch(out);
    return true;
  }

  /// A consumer leaves (unsubscribe, disconnect): what it held goes back to the queue, for the
  /// next consumers with room. False if `key` is not a consumer here.
  [[nodiscard]] bool remove_consumer(ConsumerKey key, Deliveries& out) {
    size_t i = find(key);
    if (i == kNone) return false;
    Consumer& c = consumers_[i];
    // Put back latest first: in the usual case each one then goes to the front.
    std::sort(c.held.begin() + static_cast<std::ptrdiff_t>(c.head), c.held.end(),
              [](const Held& a, const Held& b) { return a.entry.seq > b.entry.seq; });
    for (size_t k = c.head; k < c.held.size(); ++k) put_back(std::move(c.held[k].entry));
    in_flight_ -= c.held.size() - c.head;
    consumers_.erase(consumers_.begin() + static_cast<std::ptrdiff_t>(i));
    if (i < next_) --next_;
    if (next_ >= consumers_.size()) next_ = 0;
    dispatch(out);
    return true;
  }

  /// `consumer` acknowledges `delivery_id`: the message is done, and the room it frees may take
  /// a kept one. False if the consumer does not hold that delivery (nothing changes).
  [[nodiscard]] bool ack(ConsumerKey consumer, uint64_t delivery_id, Deliveries& out) {
    Entry entry;
    if (!take(consumer, delivery_id, entry)) return false;
    dispatch(out);
    return true;
  }

  /// `consumer` refuses `delivery_id`: the message goes back to its place in the queue, for the
  /// next consumer with room (which may be this one again). False if the consumer does not hold
  /// that delivery (nothing changes).
  [[nodiscard]] bool nack(ConsumerKey consumer, uint64_t delivery_id, Deliveries& out) {
    Entry entry;
    if (!take(consumer, delivery_id, entry)) return false;
    put_back(std::move(entry));
    dispatch(out);
    return true;
  }

  /// Messages waiting for a consumer with room, and their bytes.
  size_t kept() const { return kept_.size(); }
  size_t kept_bytes() const { return kept_bytes_; }
  /// Deliveries awaiting their ack or nack, over every consumer.
  size_t in_flight() const { return in_flight_; }
  /// The unacknowledged deliveries `consumer` holds (0 for one that is not here).
  size_t holding(ConsumerKey consumer) const {
    size_t i = find(consumer);
    return i == kNone ? 0 : consumers_[i].holding();
  }
  size_t consumers() const { return consumers_.size(); }
  /// No consumer and no message (so nothing in flight either): the server may forget the queue.
  bool idle() const { return consumers_.empty() && kept_.empty(); }
  const QueueLimits& limits() const { return limits_; }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  // A consumer's acknowledged deliveries before `head` are compacted away once there are this
  // many and they are half its list.
  static constexpr size_t kCompactAfter = 32;

  struct Entry {
    uint64_t seq = 0;  // push order: where a message put back goes
    size_t bytes = 0;
    uint32_t deliveries = 0;  // deliveries made so far
    Message message{};
  };
  struct Held {
    uint64_t delivery_id = 0;
    Entry entry;
  };
  struct Consumer {
    ConsumerKey key = 0;
    ConsumerAck ack = ConsumerAck::automatic;
    uint32_t prefetch = 0;
    std::vector<Held> held;  // unacknowledged, in delivery order (ids rising) from `head`
    size_t head = 0;

    size_t holding() const { return held.size() - head; }
    bool has_room() const {
      return ack == ConsumerAck::automatic || prefetch == 0 || holding() < prefetch;
    }
  };

  size_t find(ConsumerKey key) const {
    for (size_t i = 0; i < consumers_.size(); ++i) {
      if (consumers_[i].key == key) return i;
    }
    return kNone;
  }

  // The consumer whose turn it is among those with room.
  size_t next_with_room() const {
    size_t n = consumers_.size();
    for (size_t k = 0; k < n; ++k) {
      size_t i = (next_ + k) % n;
      if (consumers_[i].has_room()) return i;
    }
    return kNone;
  }

  void deliver(size_t i, Entry&& entry, Deliveries& out) {
    Consumer& c = consumers_[i];
    next_ = (i + 1) % consumers_.size();
    uint64_t id = next_delivery_id_++;
    uint32_t count = ++entry.deliveries;
    if (c.ack == ConsumerAck::automatic) {
      out.push_back(Delivery{c.key, id, count, std::move(entry.message)});
      return;
    }
    out.push_back(Delivery{c.key, id, count, entry.message});
    c.held.push_back(Held{id, std::move(entry)});
    ++in_flight_;
  }

  // Kept messages to consumers with room, front first, until one or the other runs out.
  void dispatch(Deliveries& out) {
    while (!kept_.empty()) {
      size_t i = next_with_room();
      if (i == kNone) return;
      Entry entry = std::move(kept_.front());
      kept_.pop_front();
      kept_bytes_ -= entry.bytes;
      deliver(i, std::move(entry), out);
    }
  }

  // Moves the delivery out of the consumer's list into `entry`.
  bool take(ConsumerKey key, uint64_t delivery_id, Entry& entry) {
    size_t i = find(key);
    if (i == kNone) return false;
    Consumer& c = consumers_[i];
    auto first = c.held.begin() + static_cast<std::ptrdiff_t>(c.head);
    auto it = std::lower_bound(first, c.held.end(), delivery_id,
                               [](const Held& h, uint64_t id) { return h.delivery_id < id; });
    if (it == c.held.end() || it->delivery_id != delivery_id) return false;
    entry = std::move(it->entry);
    --in_flight_;
    if (it != first) {
      c.held.erase(it);
      return true;
    }
    it->entry.message = Message{};
    ++c.head;
    if (c.head == c.held.size()) {
      c.held.clear();
      c.head = 0;
    } else if (c.head >= kCompactAfter && 2 * c.head >= c.held.size()) {
      c.held.erase(c.held.begin(), c.held.begin() + static_cast<std::ptrdiff_t>(c.head));
      c.head = 0;
    }
    return true;
  }

  // A message back to its place among the kept ones (they stay in push order).
  void put_back(Entry&& entry) {
    auto it = std::lower_bound(kept_.begin(), kept_.end(), entry.seq,
                               [](const Entry& e, uint64_t seq) { return e.seq < seq; });
    kept_bytes_ += entry.bytes;
    kept_.insert(it, std::move(entry));
  }

  QueueLimits limits_;
  std::deque<Entry> kept_;  // in push order
  size_t kept_bytes_ = 0;
  std::vector<Consumer> consumers_;  // the rotation, in the order they joined
  size_t next_ = 0;                  // whose turn it is
  size_t in_flight_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t next_delivery_id_ = 1;
};

}  // namespace duplex::core::stomp
