// core::stomp::QueueState: turns over the consumers with room, prefetch and acks, automatic
// consumers, kept messages and their bound, nacks and leaving consumers putting messages back
// in their place, unknown deliveries, idleness; every delivery list exactly.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "duplex/core/stomp/queue_state.hpp"

namespace duplex::core::stomp {

// So that a failing comparison prints the deliveries.
template <class Message>
void PrintTo(const QueueDelivery<Message>& d, std::ostream* os) {
  *os << "{consumer " << d.consumer << ", id " << d.delivery_id << ", count " << d.delivery_count
      << ", \"" << d.message << "\"}";
}

}  // namespace duplex::core::stomp

namespace {

using duplex::core::stomp::ConsumerAck;
using duplex::core::stomp::ConsumerOptions;
using duplex::core::stomp::PushOutcome;
using duplex::core::stomp::QueueLimits;

using Queue = duplex::core::stomp::QueueState<std::string>;
using Delivery = Queue::Delivery;
using Deliveries = Queue::Deliveries;

constexpr uint64_t kA = 10;
constexpr uint64_t kB = 20;
constexpr uint64_t kC = 30;

constexpr ConsumerOptions kAutomatic{ConsumerAck::automatic, 0};
ConsumerOptions client(uint32_t prefetch) { return ConsumerOptions{ConsumerAck::client, prefetch}; }

// What one push delivered (its message's size is its length).
Deliveries push(Queue& q, std::string message, PushOutcome expected) {
  Deliveries out;
  size_t bytes = message.size();
  EXPECT_EQ(q.push(std::move(message), bytes, out), expected);
  return out;
}
Deliveries add(Queue& q, uint64_t key, ConsumerOptions options) {
  Deliveries out;
  EXPECT_TRUE(q.add_consumer(key, options, out));
  return out;
}
Deliveries remove(Queue& q, uint64_t key) {
  Deliveries out;
  EXPECT_TRUE(q.remove_consumer(key, out));
  return out;
}
Deliveries ack(Queue& q, uint64_t key, uint64_t id) {
  Deliveries out;
  EXPECT_TRUE(q.ack(key, id, out));
  return out;
}
Deliveries nack(Queue& q, uint64_t key, uint64_t id) {
  Deliveries out;
  EXPECT_TRUE(q.nack(key, id, out));
  return out;
}

const Deliveries kNothing;

// A (client mode, prefetch `prefetch`) and B (client mode, prefetch 1) join an empty queue; m1
// goes to A (delivery 1), m2 to B (delivery 2), and the turn is A's.
void a_holds_m1_and_b_m2(Queue& q, uint32_t prefetch) {
  EXPECT_EQ(add(q, kA, client(prefetch)), kNothing);
  EXPECT_EQ(add(q, kB, client(1)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kB, 2, 1, "m2"}}));
}

TEST(StompQueueState, ConsumersTakeTurns) {
  Queue q;
  EXPECT_EQ(add(q, kA, kAutomatic), kNothing);
  EXPECT_EQ(add(q, kB, kAutomatic), kNothing);
  EXPECT_EQ(add(q, kC, kAutomatic), kNothing);
  Deliveries all;
  for (std::string m : {"m1", "m2", "m3", "m4", "m5", "m6", "m7"}) {
    Deliveries d = push(q, m, PushOutcome::delivered);
    all.insert(all.end(), d.begin(), d.end());
  }
  EXPECT_EQ(all, (Deliveries{{kA, 1, 1, "m1"},
                             {kB, 2, 1, "m2"},
                             {kC, 3, 1, "m3"},
                             {kA, 4, 1, "m4"},
                             {kB, 5, 1, "m5"},
                             {kC, 6, 1, "m6"},
                             {kA, 7, 1, "m7"}}));
  // B's turn was next: once it leaves, the turn is C's.
  EXPECT_EQ(remove(q, kB), kNothing);
  EXPECT_EQ(push(q, "m8", PushOutcome::delivered), (Deliveries{{kC, 8, 1, "m8"}}));
  EXPECT_EQ(push(q, "m9", PushOutcome::delivered), (Deliveries{{kA, 9, 1, "m9"}}));
  EXPECT_EQ(push(q, "m10", PushOutcome::delivered), (Deliveries{{kC, 10, 1, "m10"}}));
  EXPECT_EQ(add(q, kB, kAutomatic), kNothing);  // rotation A, C, B; A's turn
  EXPECT_EQ(push(q, "m11", PushOutcome::delivered), (Deliveries{{kA, 11, 1, "m11"}}));
  // A consumer before the one whose turn it is leaves: the turn stays C's.
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_EQ(push(q, "m12", PushOutcome::delivered), (Deliveries{{kC, 12, 1, "m12"}}));
  EXPECT_EQ(push(q, "m13", PushOutcome::delivered), (Deliveries{{kB, 13, 1, "m13"}}));
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.in_flight(), 0u);
}

TEST(StompQueueState, TurnsSkipConsumersWithoutRoom) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(1)), kNothing);
  EXPECT_EQ(add(q, kB, kAutomatic), kNothing);
  EXPECT_EQ(add(q, kC, client(1)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kB, 2, 1, "m2"}}));
  EXPECT_EQ(push(q, "m3", PushOutcome::delivered), (Deliveries{{kC, 3, 1, "m3"}}));
  // A's turn, but A and C are full: B takes them.
  EXPECT_EQ(push(q, "m4", PushOutcome::delivered), (Deliveries{{kB, 4, 1, "m4"}}));
  EXPECT_EQ(push(q, "m5", PushOutcome::delivered), (Deliveries{{kB, 5, 1, "m5"}}));
  // Nothing waits, so A's ack delivers nothing; the turn is C's (full), then A's.
  EXPECT_EQ(ack(q, kA, 1), kNothing);
  EXPECT_EQ(push(q, "m6", PushOutcome::delivered), (Deliveries{{kA, 6, 1, "m6"}}));
  EXPECT_EQ(q.holding(kA), 1u);
  EXPECT_EQ(q.holding(kB), 0u);
  EXPECT_EQ(q.holding(kC), 1u);
  EXPECT_EQ(q.in_flight(), 2u);
}

TEST(StompQueueState, PrefetchOneReleasesTheNextOnAck) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(1)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m3", PushOutcome::kept), kNothing);
  EXPECT_EQ(q.kept(), 2u);
  EXPECT_EQ(q.in_flight(), 1u);
  EXPECT_EQ(ack(q, kA, 1), (Deliveries{{kA, 2, 1, "m2"}}));
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(q.holding(kA), 1u);
  EXPECT_EQ(ack(q, kA, 2), (Deliveries{{kA, 3, 1, "m3"}}));
  EXPECT_EQ(ack(q, kA, 3), kNothing);
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.in_flight(), 0u);

  // Two consumers with prefetch 1: an ack frees room for the one that acked only.
  EXPECT_EQ(add(q, kB, client(1)), kNothing);
  EXPECT_EQ(push(q, "m4", PushOutcome::delivered), (Deliveries{{kA, 4, 1, "m4"}}));
  EXPECT_EQ(push(q, "m5", PushOutcome::delivered), (Deliveries{{kB, 5, 1, "m5"}}));
  EXPECT_EQ(push(q, "m6", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m7", PushOutcome::kept), kNothing);
  EXPECT_EQ(ack(q, kB, 5), (Deliveries{{kB, 6, 1, "m6"}}));
  EXPECT_EQ(ack(q, kB, 6), (Deliveries{{kB, 7, 1, "m7"}}));
  EXPECT_EQ(q.holding(kA), 1u);
  EXPECT_EQ(q.holding(kB), 1u);
  EXPECT_EQ(q.kept(), 0u);
}

TEST(StompQueueState, APrefetchOfTwoTakesTwoKeptMessagesAtOnce) {
  Queue q;
  EXPECT_EQ(push(q, "m1", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m2", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m3", PushOutcome::kept), kNothing);
  EXPECT_EQ(add(q, kA, client(2)), (Deliveries{{kA, 1, 1, "m1"}, {kA, 2, 1, "m2"}}));
  // An out-of-order ack frees one slot as well.
  EXPECT_EQ(ack(q, kA, 2), (Deliveries{{kA, 3, 1, "m3"}}));
  EXPECT_EQ(q.holding(kA), 2u);
}

TEST(StompQueueState, AutomaticConsumersNeverHoldAnything) {
  Queue q;
  // The prefetch is ignored: nothing is ever unacknowledged.
  EXPECT_EQ(add(q, kA, ConsumerOptions{ConsumerAck::automatic, 1}), kNothing);
  Deliveries all;
  for (std::string m : {"m1", "m2", "m3", "m4"}) {
    Deliveries d = push(q, m, PushOutcome::delivered);
    all.insert(all.end(), d.begin(), d.end());
  }
  EXPECT_EQ(all,
            (Deliveries{{kA, 1, 1, "m1"}, {kA, 2, 1, "m2"}, {kA, 3, 1, "m3"}, {kA, 4, 1, "m4"}}));
  EXPECT_EQ(q.holding(kA), 0u);
  EXPECT_EQ(q.in_flight(), 0u);
  EXPECT_EQ(q.kept(), 0u);
  // Its deliveries are done: acking or nacking one is acking an unknown delivery.
  Deliveries out;
  EXPECT_FALSE(q.ack(kA, 1, out));
  EXPECT_FALSE(q.nack(kA, 4, out));
  EXPECT_EQ(out, kNothing);
}

TEST(StompQueueState, MessagesWaitForAConsumerAndGoInOrder) {
  Queue q;
  EXPECT_EQ(push(q, "m1", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m22", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m333", PushOutcome::kept), kNothing);
  EXPECT_EQ(q.kept(), 3u);
  EXPECT_EQ(q.kept_bytes(), 9u);
  EXPECT_EQ(q.in_flight(), 0u);
  EXPECT_EQ(add(q, kA, client(0)),
            (Deliveries{{kA, 1, 1, "m1"}, {kA, 2, 1, "m22"}, {kA, 3, 1, "m333"}}));
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.kept_bytes(), 0u);
  EXPECT_EQ(q.in_flight(), 3u);

  // A consumer that has room for some takes them; the next one to join takes the rest.
  Queue r;
  for (std::string m : {"m1", "m2", "m3", "m4", "m5"}) {
    EXPECT_EQ(push(r, m, PushOutcome::kept), kNothing);
  }
  EXPECT_EQ(add(r, kA, client(2)), (Deliveries{{kA, 1, 1, "m1"}, {kA, 2, 1, "m2"}}));
  EXPECT_EQ(r.kept(), 3u);
  EXPECT_EQ(r.kept_bytes(), 6u);
  EXPECT_EQ(add(r, kB, kAutomatic),
            (Deliveries{{kB, 3, 1, "m3"}, {kB, 4, 1, "m4"}, {kB, 5, 1, "m5"}}));
  EXPECT_EQ(r.kept(), 0u);
  EXPECT_EQ(r.in_flight(), 2u);
}

TEST(StompQueueState, TheBoundRefusesAPushAndLeavesTheMessage) {
  Queue q(QueueLimits{3, 10});
  EXPECT_EQ(q.limits().max_messages, 3u);
  EXPECT_EQ(q.limits().max_bytes, 10u);
  EXPECT_EQ(push(q, "aaaa", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "bbbb", PushOutcome::kept), kNothing);
  // 8 + 3 bytes would pass 10.
  Deliveries out;
  std::string c = "ccc";
  EXPECT_EQ(q.push(std::move(c), 3, out), PushOutcome::refused);
  EXPECT_EQ(c, "ccc");
  EXPECT_EQ(out, kNothing);
  EXPECT_EQ(q.kept(), 2u);
  EXPECT_EQ(q.kept_bytes(), 8u);
  // 10 bytes exactly fit.
  EXPECT_EQ(push(q, "dd", PushOutcome::kept), kNothing);
  EXPECT_EQ(q.kept(), 3u);
  EXPECT_EQ(q.kept_bytes(), 10u);
  // The fourth message is refused, even an empty one.
  EXPECT_EQ(push(q, "", PushOutcome::refused), kNothing);
  EXPECT_EQ(q.kept(), 3u);
  EXPECT_EQ(q.kept_bytes(), 10u);

  // A consumer takes one: there is room for one more again, its bytes counted.
  EXPECT_EQ(add(q, kA, client(1)), (Deliveries{{kA, 1, 1, "aaaa"}}));
  EXPECT_EQ(q.kept(), 2u);
  EXPECT_EQ(q.kept_bytes(), 6u);
  EXPECT_EQ(push(q, "eeeee", PushOutcome::refused), kNothing);
  EXPECT_EQ(push(q, "ffff", PushOutcome::kept), kNothing);
  EXPECT_EQ(q.kept(), 3u);
  EXPECT_EQ(q.kept_bytes(), 10u);
  EXPECT_EQ(q.in_flight(), 1u);
  // The kept ones come in order, the refused ones nowhere.
  EXPECT_EQ(ack(q, kA, 1), (Deliveries{{kA, 2, 1, "bbbb"}}));
  EXPECT_EQ(ack(q, kA, 2), (Deliveries{{kA, 3, 1, "dd"}}));
  EXPECT_EQ(ack(q, kA, 3), (Deliveries{{kA, 4, 1, "ffff"}}));
  EXPECT_EQ(q.kept(), 0u);
}

TEST(StompQueueState, TheBoundCountsOnlyKeptMessages) {
  Queue q(QueueLimits{1, 4});
  EXPECT_EQ(add(q, kA, client(0)), kNothing);
  // A consumer has room: a message larger than the whole bound goes to it.
  EXPECT_EQ(push(q, "0123456789", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "0123456789"}}));
  EXPECT_EQ(push(q, "abcdef", PushOutcome::delivered), (Deliveries{{kA, 2, 1, "abcdef"}}));
  EXPECT_EQ(q.in_flight(), 2u);
  EXPECT_EQ(q.kept(), 0u);
  // Put back past the bound, nothing is dropped; pushes are refused until it is below it.
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_EQ(q.kept(), 2u);
  EXPECT_EQ(q.kept_bytes(), 16u);
  EXPECT_EQ(q.in_flight(), 0u);
  EXPECT_EQ(push(q, "", PushOutcome::refused), kNothing);
  EXPECT_EQ(add(q, kB, client(1)), (Deliveries{{kB, 3, 2, "0123456789"}}));
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(q.kept_bytes(), 6u);
  EXPECT_EQ(push(q, "x", PushOutcome::refused), kNothing);
  EXPECT_EQ(ack(q, kB, 3), (Deliveries{{kB, 4, 2, "abcdef"}}));
  EXPECT_EQ(push(q, "wxyz", PushOutcome::kept), kNothing);
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(q.kept_bytes(), 4u);

  // Past the bytes bound alone, as well.
  Queue bytes(QueueLimits{10, 4});
  EXPECT_EQ(add(bytes, kA, client(1)), kNothing);
  EXPECT_EQ(push(bytes, "abcdef", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "abcdef"}}));
  EXPECT_EQ(remove(bytes, kA), kNothing);
  EXPECT_EQ(bytes.kept(), 1u);
  EXPECT_EQ(bytes.kept_bytes(), 6u);
  EXPECT_EQ(push(bytes, "x", PushOutcome::refused), kNothing);
  EXPECT_EQ(push(bytes, "", PushOutcome::refused), kNothing);

  // A bound of 0 keeps nothing.
  Queue none(QueueLimits{0, 100});
  EXPECT_EQ(push(none, "m", PushOutcome::refused), kNothing);
  EXPECT_TRUE(none.idle());
}

TEST(StompQueueState, ANackGoesToTheNextConsumerWithRoomMarkedRedelivered) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(1)), kNothing);
  EXPECT_EQ(add(q, kB, client(1)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  // B's turn: the nacked message goes to B, its second delivery.
  Deliveries d = nack(q, kA, 1);
  EXPECT_EQ(d, (Deliveries{{kB, 2, 2, "m1"}}));
  EXPECT_TRUE(d[0].redelivered());
  EXPECT_EQ(q.holding(kA), 0u);
  EXPECT_EQ(q.holding(kB), 1u);
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kA, 3, 1, "m2"}}));
  EXPECT_FALSE((Delivery{kA, 3, 1, "m2"}).redelivered());
  // B's turn again, and B alone has room: its own nack comes back to it, a third delivery.
  EXPECT_EQ(nack(q, kB, 2), (Deliveries{{kB, 4, 3, "m1"}}));
  // The old delivery id is spent.
  Deliveries out;
  EXPECT_FALSE(q.ack(kB, 2, out));
  EXPECT_EQ(ack(q, kB, 4), kNothing);
  EXPECT_EQ(q.in_flight(), 1u);
}

TEST(StompQueueState, ANackedMessageGoesBackAheadOfTheKeptOnes) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(2)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kA, 2, 1, "m2"}}));
  EXPECT_EQ(push(q, "m3", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m4", PushOutcome::kept), kNothing);
  // Each comes back ahead of m3 and m4, and goes out again before them.
  EXPECT_EQ(nack(q, kA, 2), (Deliveries{{kA, 3, 2, "m2"}}));
  EXPECT_EQ(q.kept(), 2u);
  EXPECT_EQ(nack(q, kA, 1), (Deliveries{{kA, 4, 2, "m1"}}));
  EXPECT_EQ(ack(q, kA, 4), (Deliveries{{kA, 5, 1, "m3"}}));
  EXPECT_EQ(ack(q, kA, 3), (Deliveries{{kA, 6, 1, "m4"}}));
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.in_flight(), 2u);
}

TEST(StompQueueState, ALeavingConsumersDeliveriesGoBackToTheFrontInOrder) {
  Queue q;
  a_holds_m1_and_b_m2(q, 3);
  EXPECT_EQ(push(q, "m3", PushOutcome::delivered), (Deliveries{{kA, 3, 1, "m3"}}));
  EXPECT_EQ(push(q, "m4", PushOutcome::delivered), (Deliveries{{kA, 4, 1, "m4"}}));
  EXPECT_EQ(push(q, "m5", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m6", PushOutcome::kept), kNothing);
  EXPECT_EQ(ack(q, kA, 3), (Deliveries{{kA, 5, 1, "m5"}}));
  // A now holds m4 (id 4), m5 (id 5) and m1 again (id 6): its ids are not in push order.
  EXPECT_EQ(nack(q, kA, 1), (Deliveries{{kA, 6, 2, "m1"}}));
  EXPECT_EQ(q.holding(kA), 3u);
  EXPECT_EQ(q.in_flight(), 4u);
  // A leaves; B is full, so they wait, in push order, ahead of m6.
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_EQ(q.kept(), 4u);
  EXPECT_EQ(q.kept_bytes(), 8u);
  EXPECT_EQ(q.in_flight(), 1u);
  EXPECT_EQ(q.holding(kA), 0u);
  Deliveries out;
  EXPECT_FALSE(q.ack(kA, 4, out));
  // C joins and takes them, marked redelivered but m6.
  EXPECT_EQ(add(q, kC, kAutomatic),
            (Deliveries{{kC, 7, 3, "m1"}, {kC, 8, 2, "m4"}, {kC, 9, 2, "m5"}, {kC, 10, 1, "m6"}}));
  EXPECT_EQ(q.kept(), 0u);
}

TEST(StompQueueState, ALeavingConsumersDeliveriesGoAtOnceToOneWithRoom) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(2)), kNothing);
  EXPECT_EQ(add(q, kB, kAutomatic), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kB, 2, 1, "m2"}}));
  EXPECT_EQ(push(q, "m3", PushOutcome::delivered), (Deliveries{{kA, 3, 1, "m3"}}));
  EXPECT_EQ(remove(q, kA), (Deliveries{{kB, 4, 2, "m1"}, {kB, 5, 2, "m3"}}));
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.in_flight(), 0u);
  EXPECT_EQ(q.consumers(), 1u);
}

TEST(StompQueueState, AMessagePutBackGoesToItsPlaceNotAheadOfOlderOnes) {
  Queue q;
  a_holds_m1_and_b_m2(q, 1);
  EXPECT_EQ(remove(q, kA), kNothing);  // m1 waits
  // m2 comes back later but was pushed after m1: it goes behind it.
  EXPECT_EQ(nack(q, kB, 2), (Deliveries{{kB, 3, 2, "m1"}}));
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(add(q, kC, kAutomatic), (Deliveries{{kC, 4, 2, "m2"}}));
}

TEST(StompQueueState, AConsumerLeavingWithNothingOutstanding) {
  Queue q;
  EXPECT_EQ(add(q, kA, kAutomatic), kNothing);
  EXPECT_EQ(add(q, kB, client(1)), kNothing);
  EXPECT_EQ(push(q, "m1", PushOutcome::delivered), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kB, 2, 1, "m2"}}));
  EXPECT_EQ(ack(q, kB, 2), kNothing);
  EXPECT_EQ(remove(q, kB), kNothing);
  EXPECT_EQ(q.consumers(), 1u);
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.in_flight(), 0u);
  // Gone: leaving again, or a consumer never there, is reported.
  Deliveries out;
  EXPECT_FALSE(q.remove_consumer(kB, out));
  EXPECT_FALSE(q.remove_consumer(kC, out));
  EXPECT_EQ(out, kNothing);
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_EQ(q.consumers(), 0u);
  EXPECT_EQ(push(q, "m3", PushOutcome::kept), kNothing);
}

TEST(StompQueueState, AnUnknownDeliveryIsReportedAndChangesNothing) {
  Queue q;
  a_holds_m1_and_b_m2(q, 1);
  EXPECT_EQ(push(q, "m3", PushOutcome::kept), kNothing);
  Deliveries out;
  EXPECT_FALSE(q.ack(kA, 0, out));   // never an id
  EXPECT_FALSE(q.ack(kA, 3, out));   // not given yet
  EXPECT_FALSE(q.ack(kA, 2, out));   // B's
  EXPECT_FALSE(q.nack(kB, 1, out));  // A's
  EXPECT_FALSE(q.ack(kC, 1, out));   // no such consumer
  EXPECT_FALSE(q.nack(kC, 1, out));
  EXPECT_EQ(out, kNothing);
  EXPECT_EQ(q.holding(kA), 1u);
  EXPECT_EQ(q.holding(kB), 1u);
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(ack(q, kA, 1), (Deliveries{{kA, 3, 1, "m3"}}));
  EXPECT_FALSE(q.ack(kA, 1, out));  // acked already
  EXPECT_EQ(out, kNothing);
  EXPECT_EQ(q.in_flight(), 2u);
}

TEST(StompQueueState, AConsumerKeyIsTakenOnce) {
  Queue q;
  EXPECT_EQ(push(q, "m1", PushOutcome::kept), kNothing);
  EXPECT_EQ(push(q, "m2", PushOutcome::kept), kNothing);
  EXPECT_EQ(add(q, kA, client(1)), (Deliveries{{kA, 1, 1, "m1"}}));
  Deliveries out;
  EXPECT_FALSE(q.add_consumer(kA, kAutomatic, out));
  EXPECT_EQ(out, kNothing);
  EXPECT_EQ(q.consumers(), 1u);
  EXPECT_EQ(q.kept(), 1u);
}

TEST(StompQueueState, AcksInAnyOrderOverALongList) {
  Queue q;
  EXPECT_EQ(add(q, kA, client(0)), kNothing);
  for (int i = 1; i <= 40; ++i) {
    EXPECT_EQ(push(q, "m" + std::to_string(i), PushOutcome::delivered),
              (Deliveries{{kA, static_cast<uint64_t>(i), 1, "m" + std::to_string(i)}}));
  }
  // In order past the point where the acked front is compacted away.
  for (uint64_t id = 1; id <= 35; ++id) EXPECT_EQ(ack(q, kA, id), kNothing);
  EXPECT_EQ(q.holding(kA), 5u);
  EXPECT_EQ(ack(q, kA, 40), kNothing);
  EXPECT_EQ(ack(q, kA, 37), kNothing);
  EXPECT_EQ(q.holding(kA), 3u);
  Deliveries out;
  EXPECT_FALSE(q.ack(kA, 37, out));
  EXPECT_FALSE(q.ack(kA, 35, out));
  EXPECT_FALSE(q.ack(kA, 41, out));
  // What is left goes back in order when A leaves.
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_EQ(add(q, kB, kAutomatic),
            (Deliveries{{kB, 41, 2, "m36"}, {kB, 42, 2, "m38"}, {kB, 43, 2, "m39"}}));
}

TEST(StompQueueState, IdleMeansNoConsumerAndNoMessage) {
  Queue q;
  EXPECT_TRUE(q.idle());
  EXPECT_EQ(add(q, kA, client(1)), kNothing);
  EXPECT_FALSE(q.idle());
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_TRUE(q.idle());
  EXPECT_EQ(push(q, "m1", PushOutcome::kept), kNothing);
  EXPECT_FALSE(q.idle());
  EXPECT_EQ(add(q, kA, client(1)), (Deliveries{{kA, 1, 1, "m1"}}));
  EXPECT_EQ(ack(q, kA, 1), kNothing);
  EXPECT_FALSE(q.idle());  // A is still there
  EXPECT_EQ(push(q, "m2", PushOutcome::delivered), (Deliveries{{kA, 2, 1, "m2"}}));
  // A leaves holding m2: it waits, so the queue is not idle.
  EXPECT_EQ(remove(q, kA), kNothing);
  EXPECT_FALSE(q.idle());
  EXPECT_EQ(q.kept(), 1u);
  EXPECT_EQ(add(q, kB, kAutomatic), (Deliveries{{kB, 3, 2, "m2"}}));
  EXPECT_EQ(remove(q, kB), kNothing);
  EXPECT_TRUE(q.idle());
}

TEST(StompQueueState, HandlesAreMovedExceptTheOneKeptForARedelivery) {
  using Payload = std::shared_ptr<const std::string>;
  duplex::core::stomp::QueueState<Payload> q;
  duplex::core::stomp::QueueState<Payload>::Deliveries out;
  ASSERT_TRUE(q.add_consumer(kA, kAutomatic, out));
  ASSERT_TRUE(q.add_consumer(kB, client(1), out));

  // To an automatic consumer: the caller's handle is the delivery's, the queue keeps none.
  Payload p = std::make_shared<const std::string>("to A");
  const std::string* bytes = p.get();
  std::weak_ptr<const std::string> watch = p;
  EXPECT_EQ(q.push(std::move(p), 4, out), PushOutcome::delivered);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(out[0].message.get(), bytes);
  EXPECT_EQ(watch.use_count(), 1);
  out.clear();
  EXPECT_TRUE(watch.expired());

  // To a client consumer: the delivery's and the queue's, released by the ack.
  p = std::make_shared<const std::string>("to B");
  watch = p;
  EXPECT_EQ(q.push(std::move(p), 4, out), PushOutcome::delivered);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].consumer, kB);
  EXPECT_EQ(watch.use_count(), 2);
  uint64_t id = out[0].delivery_id;
  out.clear();
  EXPECT_EQ(watch.use_count(), 1);
  EXPECT_TRUE(q.ack(kB, id, out));
  EXPECT_TRUE(watch.expired());

  // A refused push leaves the caller's handle alone.
  duplex::core::stomp::QueueState<Payload> full(QueueLimits{0, 0});
  p = std::make_shared<const std::string>("refused");
  EXPECT_EQ(full.push(std::move(p), 7, out), PushOutcome::refused);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "refused");
  EXPECT_EQ(p.use_count(), 1);
}

// A handle whose move is a copy (as a plain struct of a pointer and a count would be): the queue
// still lets go of it once the delivery is acked, since it resets the slots it empties.
struct CopyingHandle {
  std::shared_ptr<const std::string> payload;
  CopyingHandle() = default;
  explicit CopyingHandle(std::shared_ptr<const std::string> p) : payload(std::move(p)) {}
  CopyingHandle(const CopyingHandle&) = default;
  CopyingHandle& operator=(const CopyingHandle&) = default;
};

TEST(StompQueueState, ASlotEmptiedByAnAckReleasesItsHandle) {
  duplex::core::stomp::QueueState<CopyingHandle> q;
  duplex::core::stomp::QueueState<CopyingHandle>::Deliveries out;
  ASSERT_TRUE(q.add_consumer(kA, client(0), out));
  auto p = std::make_shared<const std::string>("m1");
  std::weak_ptr<const std::string> first = p;
  EXPECT_EQ(q.push(CopyingHandle(std::move(p)), 2, out), PushOutcome::delivered);
  p = std::make_shared<const std::string>("m2");
  std::weak_ptr<const std::string> second = p;
  EXPECT_EQ(q.push(CopyingHandle(std::move(p)), 2, out), PushOutcome::delivered);
  out.clear();
  // The first in the consumer's list, acked while the second stays.
  EXPECT_TRUE(q.ack(kA, 1, out));
  EXPECT_TRUE(first.expired());
  EXPECT_EQ(second.use_count(), 1);
  EXPECT_TRUE(q.ack(kA, 2, out));
  EXPECT_TRUE(second.expired());
}

}  // namespace
