// The hub's broker seam (server/pubsub/broker.hpp), with a broker that records what it is told:
// a topic or user is wanted at its first recipient and unwanted at its last one's leaving, on
// any loop; publishes and sends to users are forwarded, and what the broker hands in is not.
// (tests/interop/redis/ runs the Redis broker itself between real nodes.)
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/broker.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {
namespace {

class RecordingBroker final : public Broker {
 public:
  void forward_publish(std::string_view topic,
                       const std::shared_ptr<const OutgoingMessage>& message) override {
    calls.push_back("publish " + std::string(topic) + " " + std::string(message->payload()) +
                    (message->type() == core::MessageType::binary ? " (binary)" : ""));
  }
  void forward_to_users(const std::vector<std::string>& users,
                        const std::shared_ptr<const OutgoingMessage>& message) override {
    std::string call = "users";
    for (const std::string& user : users) call += " " + user;
    calls.push_back(call + " " + std::string(message->payload()));
  }
  void interest_changed(Interest kind, std::string_view name, bool wanted) override {
    calls.push_back(std::string(wanted ? "+" : "-") +
                    (kind == Interest::topic ? "topic " : "user ") + std::string(name));
  }
  std::vector<std::string> take() { return std::exchange(calls, {}); }
  std::vector<std::string> calls;
};

using namespace std::string_literals;
using Calls = std::vector<std::string>;

// Two loops' pub/sub state, never run: subscriptions and users are counted by the hub as the
// server's loops count them, and deliveries wait in the loops' queues, never delivered (the
// sessions have no transport behind them).
struct TwoLoops {
  TwoLoops() {
    hub.set_loops({&first, &second});
    hub.set_history_limits({.max_messages = 10, .first_sequence = 1});
  }
  PubSubHub hub;
  io::EventLoop loop_a, loop_b;
  LoopPubSub first{hub, loop_a, 0};
  LoopPubSub second{hub, loop_b, 1};
};

TEST(PubSubBroker, TopicsAreWantedFromTheFirstSubscriberToTheLastOnAnyLoop) {
  TwoLoops loops;
  RecordingBroker broker;
  loops.hub.set_broker(&broker);
  Session a(SessionKind::websocket, nullptr), b(SessionKind::websocket, nullptr);
  EXPECT_TRUE(loops.first.subscribe(a, "news"));
  EXPECT_EQ(broker.take(), (Calls{"+topic news"}));
  EXPECT_TRUE(loops.second.subscribe(b, "news"));
  EXPECT_FALSE(loops.first.subscribe(a, "news"));
  EXPECT_TRUE(loops.first.subscribe(a, "sport"));
  EXPECT_EQ(broker.take(), (Calls{"+topic sport"}));
  EXPECT_TRUE(loops.first.unsubscribe(a, "news"));
  EXPECT_FALSE(loops.first.unsubscribe(a, "news"));
  EXPECT_EQ(broker.take(), Calls{});
  EXPECT_TRUE(loops.second.unsubscribe(b, "news"));
  EXPECT_EQ(broker.take(), (Calls{"-topic news"}));
  // A follower that comes back (SSE, long polls) counts the same way.
  uint64_t after = 0;
  ASSERT_TRUE(loops.second.subscribe_since(b, "news", &after).has_value());
  EXPECT_EQ(broker.take(), (Calls{"+topic news"}));
  loops.second.leave(b);
  loops.first.leave(a);
  EXPECT_EQ(broker.take(), (Calls{"-topic news", "-topic sport"}));
  loops.hub.set_broker(nullptr);
}

TEST(PubSubBroker, UsersAreWantedWhileTheyHaveASession) {
  TwoLoops loops;
  RecordingBroker broker;
  loops.hub.set_broker(&broker);
  Session a(SessionKind::websocket, nullptr), b(SessionKind::websocket, nullptr);
  loops.first.bind_user(a, "alice");
  EXPECT_EQ(broker.take(), (Calls{"+user alice"}));
  loops.second.bind_user(b, "alice");
  EXPECT_TRUE(loops.second.subscribe(b, "chat:lobby"));
  EXPECT_EQ(broker.take(), (Calls{"+topic chat:lobby"}));
  loops.first.leave(a);
  EXPECT_EQ(broker.take(), Calls{});
  loops.second.leave(b);
  EXPECT_EQ(broker.take(), (Calls{"-topic chat:lobby", "-user alice"}));
  loops.hub.set_broker(nullptr);
}

TEST(PubSubBroker, ABrokerSetLateIsToldWhatIsWantedAlready) {
  TwoLoops loops;
  Session a(SessionKind::websocket, nullptr);
  loops.first.bind_user(a, "bob");
  EXPECT_TRUE(loops.first.subscribe(a, "news"));
  RecordingBroker broker;
  loops.hub.set_broker(&broker);
  EXPECT_EQ(broker.take(), (Calls{"+topic news", "+user bob"}));
  loops.hub.set_broker(nullptr);
  loops.first.leave(a);
  EXPECT_EQ(broker.take(), Calls{}) << "not told once cleared";
}

TEST(PubSubBroker, LocalPublishesAreForwardedAndTheBrokersOwnAreNot) {
  TwoLoops loops;
  RecordingBroker broker;
  loops.hub.set_broker(&broker);
  Session follower(SessionKind::sse_stream, nullptr);
  ASSERT_TRUE(loops.second.subscribe_since(follower, "news", nullptr).has_value());
  EXPECT_EQ(broker.take(), (Calls{"+topic news"}));
  loops.hub.publish("news", "hello", core::MessageType::text, {});
  loops.hub.publish("news", "\0\xff"s, core::MessageType::binary, {});
  loops.hub.publish("nobody-here", "x", core::MessageType::text, {});
  EXPECT_EQ(broker.take(), (Calls{"publish news hello", "publish news \0\xff (binary)"s,
                                  "publish nobody-here x"}));
  loops.hub.publish_from_broker("news", "from elsewhere", core::MessageType::text);
  EXPECT_EQ(broker.take(), Calls{});
  // Kept in the topic's history all the same, after the local ones, for clients that come back.
  const uint64_t after = 0;
  Session late(SessionKind::sse_stream, nullptr);
  auto replay = loops.first.subscribe_since(late, "news", &after);
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->messages.size(), 3u);
  EXPECT_EQ(replay->messages[0]->payload(), "hello");
  EXPECT_EQ(replay->messages[2]->payload(), "from elsewhere");
  EXPECT_LT(replay->messages[1]->sequence().seq, replay->messages[2]->sequence().seq);
  loops.first.leave(late);
  loops.second.leave(follower);
  EXPECT_EQ(broker.take(), (Calls{"-topic news"}));
  loops.hub.set_broker(nullptr);
}

TEST(PubSubBroker, SendsToUsersAreForwardedOncePerUser) {
  TwoLoops loops;
  RecordingBroker broker;
  loops.hub.set_broker(&broker);
  loops.hub.send_to_users({"carol", "alice", "carol"}, "hi", core::MessageType::text);
  EXPECT_EQ(broker.take(), (Calls{"users alice carol hi"}));
  loops.hub.send_to_users_from_broker({"alice"}, "back", core::MessageType::text);
  EXPECT_EQ(broker.take(), Calls{});
  loops.hub.set_broker(nullptr);
}

}  // namespace
}  // namespace duplex::detail
