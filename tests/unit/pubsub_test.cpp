// Publish/subscribe on one loop, over real loopback sockets: the WebSocket and Server calls and
// what they return, subscriptions ending with their connection, handlers that change a topic
// while a message is being delivered to it, slow consumers met by a published message (closed
// or dropped), and shared frames arriving intact through partial writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "../support/websocket_peers.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::Frame;
using test::join;
using test::Log;
using test::numbered;
using test::open_websocket;
using test::patterned;
using test::query_value;
using test::RawClient;
using test::read_until;
using test::ServerThread;
using test::split;

// Connections by the name they gave in their query (?name=...), for handlers that act on other
// connections. Touched on the loop thread only; the lock keeps the tests honest under TSan.
class Registry {
 public:
  void add(const std::string& name, WebSocket* ws) {
    std::lock_guard lock(mutex_);
    sockets_[name] = ws;
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    sockets_.erase(name);
  }
  WebSocket& at(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = sockets_.find(name);
    if (it == sockets_.end()) throw std::logic_error("no connection named " + name);
    return *it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, WebSocket*> sockets_;
};

std::string flag(bool value) { return value ? "1" : "0"; }

// The pub/sub API driven over the wire: each command is answered on the same connection.
//   sub|unsub|join|leave|is T   ->  "<verb> T 1|0"
//   topics                      ->  "topics a,b,c"
//   whoami                      ->  "whoami <user id>"
//   pub T M1 M2 ...             ->  publishes each message to T in one go, then "published"
//   flood T N SIZE              ->  publishes numbered(0..N-1, SIZE) to T, then "flooded"
//   quit T                      ->  closes with 4000, then logs whether subscribing to T works
void answer(WebSocket& ws, std::string_view message, Log& log) {
  const std::vector<std::string> w = split(message, ' ');
  const std::string& verb = w[0];
  const std::string topic = w.size() > 1 ? w[1] : "";
  if (verb == "sub") {
    ws.send("sub " + topic + " " + flag(ws.subscribe(topic)));
  } else if (verb == "unsub") {
    ws.send("unsub " + topic + " " + flag(ws.unsubscribe(topic)));
  } else if (verb == "join") {
    ws.send("join " + topic + " " + flag(ws.join(topic)));
  } else if (verb == "leave") {
    ws.send("leave " + topic + " " + flag(ws.leave(topic)));
  } else if (verb == "is") {
    ws.send("is " + topic + " " + flag(ws.is_subscribed(topic)));
  } else if (verb == "topics") {
    ws.send("topics " + join(ws.topics()));
  } else if (verb == "whoami") {
    ws.send("whoami " + std::string(ws.user_id()));
  } else if (verb == "pub") {
    for (size_t i = 2; i < w.size(); ++i) ws.publish(topic, w[i]);
    ws.send("published");
  } else if (verb == "flood") {
    const int n = std::stoi(w[2]);
    const size_t size = std::stoul(w[3]);
    for (int i = 0; i < n; ++i) ws.publish(topic, numbered(i, size));
    log.add("flooded");
    ws.send("flooded");
  } else if (verb == "quit") {
    ws.close(4000);
    log.add("quit sub " + topic + " " + flag(ws.subscribe(topic)));
  }
}

// An endpoint that answers commands (unless `config` has its own on_message); ?user= binds a
// user id, ?name= registers the connection.
EndpointConfig commands(Log& log, Registry* registry = nullptr, EndpointConfig config = {}) {
  config.on_upgrade = [](UpgradeRequest& req) {
    req.set_user_id(query_value(req.query(), "user"));
    req.set_user_data(query_value(req.query(), "name"));
  };
  config.on_open = [registry](WebSocket& ws) {
    if (registry) registry->add(ws.data<std::string>(), &ws);
  };
  if (!config.on_message) {
    config.on_message = [&log](WebSocket& ws, std::string_view m, MessageType) {
      answer(ws, m, log);
    };
  }
  if (!config.on_close) {
    config.on_close = [registry](WebSocket& ws, uint16_t, std::string_view) {
      if (registry) registry->remove(ws.data<std::string>());
    };
  }
  return config;
}

std::string ask(RawClient& c, std::string_view command) {
  c.send_frame(core::Opcode::text, command);
  Frame f = c.read_frame();
  EXPECT_EQ(f.kind, Frame::message) << command;
  return f.payload;
}

TEST(PubSub, SubscribeUnsubscribeAndTopicsInTheOrderSubscribed) {
  Log log;
  ServerThread s;
  s.server.endpoint("/", commands(log));
  s.start();
  auto c = open_websocket(s.port, "/");
  EXPECT_EQ(ask(*c, "topics"), "topics ");
  EXPECT_EQ(ask(*c, "sub a"), "sub a 1");
  EXPECT_EQ(ask(*c, "sub a"), "sub a 0");  // already
  EXPECT_EQ(ask(*c, "sub b"), "sub b 1");
  EXPECT_EQ(ask(*c, "join c"), "join c 1");
  EXPECT_EQ(ask(*c, "is b"), "is b 1");
  EXPECT_EQ(ask(*c, "is z"), "is z 0");
  EXPECT_EQ(ask(*c, "unsub b"), "unsub b 1");
  EXPECT_EQ(ask(*c, "unsub b"), "unsub b 0");
  EXPECT_EQ(ask(*c, "leave never"), "leave never 0");
  EXPECT_EQ(ask(*c, "is b"), "is b 0");
  EXPECT_EQ(ask(*c, "sub d"), "sub d 1");
  EXPECT_EQ(ask(*c, "sub b"), "sub b 1");
  EXPECT_EQ(ask(*c, "topics"), "topics a,c,d,b");
  EXPECT_EQ(ask(*c, "leave c"), "leave c 1");
  EXPECT_EQ(ask(*c, "topics"), "topics a,d,b");
  EXPECT_EQ(s.server.subscriber_count("a"), 1u);
  EXPECT_EQ(s.server.subscriber_count("c"), 0u);
  EXPECT_EQ(s.server.subscriber_count("never"), 0u);
  // A topic is any non-empty name.
  EXPECT_EQ(ask(*c, "sub "), "sub  0");
  EXPECT_EQ(ask(*c, "is "), "is  0");
  EXPECT_EQ(ask(*c, "topics"), "topics a,d,b");
  // A closing connection takes no new subscription.
  c->send_frame(core::Opcode::text, "quit z");
  EXPECT_EQ(c->read_frame().code, 4000);
  EXPECT_TRUE(log.wait_for("quit sub z 0"));
  EXPECT_EQ(s.server.subscriber_count("z"), 0u);
}

TEST(PubSub, CountsAndMembersAcrossConnectionsAndUsers) {
  Log log;
  ServerThread s;
  s.server.endpoint("/", commands(log));
  s.server.endpoint("/other", commands(log));
  s.start();
  auto ann1 = open_websocket(s.port, "/?user=ann");
  auto ann2 = open_websocket(s.port, "/other?user=ann");  // a user may be on several endpoints
  auto bob = open_websocket(s.port, "/?user=bob");
  auto anonymous = open_websocket(s.port, "/");
  EXPECT_EQ(ask(*ann2, "whoami"), "whoami ann");
  EXPECT_EQ(ask(*anonymous, "whoami"), "whoami ");
  EXPECT_EQ(s.server.user_connection_count("ann"), 2u);
  EXPECT_EQ(s.server.user_connection_count("bob"), 1u);
  EXPECT_EQ(s.server.user_connection_count("nobody"), 0u);
  EXPECT_EQ(s.server.user_connection_count(""), 0u);
  for (RawClient* c : {ann1.get(), ann2.get(), bob.get(), anonymous.get()}) {
    EXPECT_EQ(ask(*c, "join room"), "join room 1");
  }
  EXPECT_EQ(ask(*bob, "join lobby"), "join lobby 1");
  EXPECT_EQ(s.server.subscriber_count("room"), 4u);
  EXPECT_EQ(s.server.members("room"), (std::vector<std::string>{"ann", "bob"}));
  EXPECT_EQ(s.server.members("lobby"), (std::vector<std::string>{"bob"}));
  EXPECT_EQ(s.server.members("nowhere"), std::vector<std::string>{});

  EXPECT_EQ(ask(*ann1, "leave room"), "leave room 1");  // ann is still there through ann2
  EXPECT_EQ(s.server.subscriber_count("room"), 3u);
  EXPECT_EQ(s.server.members("room"), (std::vector<std::string>{"ann", "bob"}));
  EXPECT_EQ(ask(*ann2, "unsub room"), "unsub room 1");
  EXPECT_EQ(s.server.members("room"), (std::vector<std::string>{"bob"}));
  EXPECT_EQ(ask(*anonymous, "leave room"), "leave room 1");
  EXPECT_EQ(s.server.subscriber_count("room"), 1u);
  EXPECT_EQ(s.server.members("room"), (std::vector<std::string>{"bob"}));

  bob.reset();  // gone without a closing handshake
  EXPECT_TRUE(eventually([&] { return s.server.user_connection_count("bob") == 0; }));
  EXPECT_EQ(s.server.subscriber_count("room"), 0u);
  EXPECT_EQ(s.server.subscriber_count("lobby"), 0u);
  EXPECT_EQ(s.server.members("room"), std::vector<std::string>{});
  EXPECT_EQ(s.server.user_connection_count("ann"), 2u);
}

TEST(PubSub, SubscriptionsEndWithTheConnection) {
  Log log;
  ServerThread s;
  s.server.endpoint(
      "/", commands(log, nullptr, {.on_close = [&](WebSocket& ws, uint16_t code, std::string_view) {
                      const std::string topics = join(ws.topics());
                      const bool late = ws.subscribe("late");
                      log.add("close " + std::to_string(code) + " topics=" + topics +
                              " late=" + flag(late) + " is_t=" + flag(ws.is_subscribed("t")));
                    }}));
  s.start();
  auto leaving = open_websocket(s.port, "/?user=ann");
  auto staying = open_websocket(s.port, "/?user=bob");
  EXPECT_EQ(ask(*leaving, "sub t"), "sub t 1");
  EXPECT_EQ(ask(*leaving, "sub u"), "sub u 1");
  EXPECT_EQ(ask(*staying, "sub t"), "sub t 1");
  EXPECT_EQ(s.server.subscriber_count("u"), 1u);

  leaving->send_close(1000, "bye");
  EXPECT_EQ(leaving->read_frame().code, 1000);
  EXPECT_TRUE(leaving->wait_eof());
  EXPECT_TRUE(log.wait_for("close 1000 topics= late=0 is_t=0"));
  EXPECT_EQ(s.server.subscriber_count("t"), 1u);
  EXPECT_EQ(s.server.subscriber_count("u"), 0u);
  EXPECT_EQ(s.server.members("t"), (std::vector<std::string>{"bob"}));
  EXPECT_EQ(s.server.members("u"), std::vector<std::string>{});
  EXPECT_EQ(s.server.user_connection_count("ann"), 0u);

  // Publishing to the emptied topic reaches nobody; a new subscriber starts it afresh.
  EXPECT_EQ(ask(*staying, "pub u nobody-hears"), "published");
  auto newcomer = open_websocket(s.port, "/?user=cy");
  EXPECT_EQ(ask(*newcomer, "sub u"), "sub u 1");
  EXPECT_EQ(s.server.subscriber_count("u"), 1u);
  EXPECT_EQ(s.server.members("u"), (std::vector<std::string>{"cy"}));
  EXPECT_EQ(ask(*staying, "pub u hello"), "published");
  EXPECT_EQ(newcomer->read_frame().payload, "hello");
}

TEST(PubSub, PublishReachesEverySubscriberButThePublisher) {
  Log log;
  ServerThread s;
  s.server.endpoint("/", commands(log));
  s.start();
  auto a = open_websocket(s.port, "/");
  auto b = open_websocket(s.port, "/");
  auto outsider = open_websocket(s.port, "/");
  EXPECT_EQ(ask(*a, "sub news"), "sub news 1");
  EXPECT_EQ(ask(*b, "sub news"), "sub news 1");
  EXPECT_EQ(ask(*outsider, "sub other"), "sub other 1");
  EXPECT_EQ(ask(*a, "pub news one two"), "published");  // a hears nothing of its own
  EXPECT_EQ(read_until(*b, "two"), (std::vector<std::string>{"one", "two"}));
  s.server.publish("news", "from the server");  // Server::publish from another thread
  s.server.publish("news", "to both", MessageType::binary, nullptr);  // nobody excluded
  s.server.publish("other", "elsewhere");
  for (RawClient* c : {a.get(), b.get()}) {
    EXPECT_EQ(c->read_frame().payload, "from the server");
    Frame f = c->read_frame();
    EXPECT_EQ(f.type, MessageType::binary);
    EXPECT_EQ(f.payload, "to both");
  }
  EXPECT_EQ(outsider->read_frame().payload, "elsewhere");
}

// A slow subscriber met during a delivery runs its handler (on_dropped, or on_close for the
// close policy) in the middle of the walk over the topic; that handler changes the topic: it
// unsubscribes one subscriber not yet reached, closes another, subscribes a newcomer and
// publishes to the same topic. The message must reach exactly those still subscribed when
// their turn comes, and never one that joined after it was sent.
class PubSubDuringDelivery : public testing::TestWithParam<SlowConsumerPolicy> {};

TEST_P(PubSubDuringDelivery, HandlersChangingTheTopicMidDelivery) {
  const SlowConsumerPolicy policy = GetParam();
  Log log;
  Registry registry;
  ServerThread s;
  s.server.endpoint("/", commands(log, &registry));
  const auto meddle = [&](WebSocket& slow) {
    log.add("unsub S3 " + flag(registry.at("S3").unsubscribe("t")));
    if (policy == SlowConsumerPolicy::drop) {
      registry.at("S4").close(4001, "by S1");
    } else {
      registry.at("S4").terminate();
    }
    log.add("sub S6 " + flag(registry.at("S6").subscribe("t")));
    slow.publish("t", "nested");
  };
  // S1's queue holds one byte at most: while "warm" waits in it, "M" does not fit.
  s.server.endpoint(
      "/slow",
      commands(log, &registry,
               {.max_backpressure = 1,
                .slow_consumer = policy,
                .on_dropped =
                    [&](WebSocket& ws, std::string_view m, MessageType) {
                      log.add("dropped " + std::string(m));
                      if (m == "M") meddle(ws);
                    },
                .on_close =
                    [&](WebSocket& ws, uint16_t code, std::string_view reason) {
                      log.add("close S1 " + std::to_string(code) + " " + std::string(reason));
                      if (code == 1008) meddle(ws);
                      registry.remove(ws.data<std::string>());
                    }}));
  s.start();

  std::map<std::string, std::unique_ptr<RawClient>> c;
  for (const char* name : {"S0", "S1", "S2", "S3", "S4", "S5", "S6", "P"}) {
    c[name] = open_websocket(
        s.port, std::string(name) == "S1" ? "/slow?name=S1" : std::string("/?name=") + name);
    EXPECT_EQ(ask(*c[name], "sub end"), "sub end 1");
  }
  for (const char* name : {"S0", "S1", "S2", "S3", "S4", "S5"}) {  // in this order
    EXPECT_EQ(ask(*c[name], "sub t"), "sub t 1");
  }
  EXPECT_EQ(s.server.subscriber_count("t"), 6u);

  EXPECT_EQ(ask(*c["P"], "pub t warm M"), "published");
  EXPECT_TRUE(log.wait_for("unsub S3 1"));
  EXPECT_TRUE(log.wait_for("sub S6 1"));
  // S3 left, S6 came; S1 stays (drop) or left (close); S4 left (terminated) or is closing,
  // which keeps its subscriptions until the close completes.
  const bool drop = policy == SlowConsumerPolicy::drop;
  EXPECT_EQ(s.server.subscriber_count("t"), drop ? 6u : 4u);
  EXPECT_EQ(ask(*c["P"], "pub t M2"), "published");
  EXPECT_EQ(ask(*c["P"], "pub end end"), "published");

  // Each connection's frames are in its queue's order: the nested publish went out while M
  // was on its way, so those reached before S1 have M first, the others nested first.
  using List = std::vector<std::string>;
  EXPECT_EQ(read_until(*c["S0"], "end"), (List{"warm", "M", "nested", "M2", "end"}));
  EXPECT_EQ(read_until(*c["S2"], "end"), (List{"warm", "nested", "M", "M2", "end"}));
  EXPECT_EQ(read_until(*c["S5"], "end"), (List{"warm", "nested", "M", "M2", "end"}));
  EXPECT_EQ(read_until(*c["S6"], "end"), (List{"nested", "M2", "end"}));
  EXPECT_EQ(read_until(*c["S3"], "end"), (List{"warm", "end"}));
  if (drop) {
    EXPECT_EQ(read_until(*c["S1"], "end"), (List{"warm", "M2", "end"}));
    EXPECT_EQ(read_until(*c["S4"], "end"), (List{"warm", "<close 4001 by S1>"}));
    c["S4"]->send_close(4001);
    EXPECT_TRUE(c["S4"]->wait_eof());
    EXPECT_TRUE(eventually([&] { return s.server.subscriber_count("t") == 5; }));
    EXPECT_EQ(log.count("dropped M"), 1u);
    EXPECT_EQ(log.count("dropped warm") + log.count("dropped M2") + log.count("dropped end"), 0u);
  } else {
    EXPECT_EQ(read_until(*c["S1"], "end"),
              (List{"warm", "<close 1008 send queue over max_backpressure>"}));
    EXPECT_THROW(c["S4"]->read_frame(), std::runtime_error);  // terminated, its queue dropped
    EXPECT_EQ(log.count("close S1 1008 send queue over max_backpressure"), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, PubSubDuringDelivery,
                         testing::Values(SlowConsumerPolicy::drop, SlowConsumerPolicy::close),
                         [](const auto& info) {
                           return info.param == SlowConsumerPolicy::drop ? "drop" : "close";
                         });

TEST(PubSub, HandlerClosingEverySubscriberEmptiesTheTopicMidDelivery) {
  Log log;
  Registry registry;
  ServerThread s;
  s.server.endpoint("/", commands(log, &registry));
  s.server.endpoint("/slow",
                    commands(log, &registry,
                             {.max_backpressure = 1,
                              .slow_consumer = SlowConsumerPolicy::drop,
                              .on_dropped = [&](WebSocket& ws, std::string_view, MessageType) {
                                for (const char* name : {"A", "B", "C"}) {
                                  registry.at(name).terminate();
                                }
                                log.add("unsub self " + flag(ws.unsubscribe("t")));
                              }}));
  s.start();
  auto a = open_websocket(s.port, "/?name=A");
  auto slow = open_websocket(s.port, "/slow?name=S");
  auto b = open_websocket(s.port, "/?name=B");
  auto c = open_websocket(s.port, "/?name=C");
  auto p = open_websocket(s.port, "/?name=P");
  for (RawClient* client : {a.get(), slow.get(), b.get(), c.get()}) {
    EXPECT_EQ(ask(*client, "sub t"), "sub t 1");
  }
  EXPECT_EQ(ask(*p, "pub t warm M"), "published");
  EXPECT_TRUE(log.wait_for("unsub self 1"));
  EXPECT_EQ(s.server.subscriber_count("t"), 0u);
  EXPECT_EQ(s.server.members("t"), std::vector<std::string>{});
  EXPECT_EQ(slow->read_frame().payload, "warm");
  // The topic is gone and comes back on the next subscription.
  EXPECT_EQ(ask(*slow, "sub t"), "sub t 1");
  EXPECT_EQ(ask(*p, "pub t again"), "published");
  EXPECT_EQ(slow->read_frame().payload, "again");
}

// The same for a broadcast, which walks the endpoint's connections: the handler of a slow one
// drops the connection that comes next, and the walk must still reach everyone after it.
TEST(PubSub, BroadcastReachesEveryoneWhenAHandlerDropsTheNextConnection) {
  Log log;
  Registry registry;
  ServerThread s;
  s.server.endpoint(
      "/", commands(log, &registry,
                    {.max_backpressure = 1,
                     .slow_consumer = SlowConsumerPolicy::drop,
                     .on_message =
                         [&](WebSocket& ws, std::string_view, MessageType) {
                           registry.at("S").send("busy");  // S's queue is not empty now
                           log.add("sent to " + std::to_string(ws.endpoint().broadcast("M")));
                         },
                     .on_dropped = [&](WebSocket&, std::string_view,
                                       MessageType) { registry.at("N").terminate(); }}));
  s.start();
  // Opened in this order; whatever order the walk takes, N is dropped in the middle of it.
  std::map<std::string, std::unique_ptr<RawClient>> c;
  for (const char* name : {"X1", "X2", "N", "S", "X3", "X4", "P"}) {
    c[name] = open_websocket(s.port, std::string("/?name=") + name);
  }
  c["P"]->send_frame(core::Opcode::text, "go");
  EXPECT_TRUE(log.wait_for("sent to 5"));  // X1..X4 and P; not S (dropped) nor N (gone)
  for (const char* name : {"X1", "X2", "X3", "X4", "P"}) {
    EXPECT_EQ(c[name]->read_frame().payload, "M") << name;
  }
  EXPECT_EQ(c["S"]->read_frame().payload, "busy");
  EXPECT_THROW(c["N"]->read_frame(), std::runtime_error);
}

// Endpoint::for_each walks the same list: a callback that drops another connection must not
// cut the walk short, nor be called for the connection it dropped.
TEST(PubSub, ForEachVisitsEveryOpenConnectionWhenTheCallbackDropsAnother) {
  Log log;
  Registry registry;
  ServerThread s;
  s.server.endpoint("/", commands(log, &registry,
                                  {.on_message = [&](WebSocket& ws, std::string_view, MessageType) {
                                    std::vector<std::string> visited;
                                    ws.endpoint().for_each([&](WebSocket& other) {
                                      const std::string& name = other.data<std::string>();
                                      visited.push_back(name);
                                      // Whichever of A and B comes first drops the other.
                                      if (name == "A") registry.at("B").terminate();
                                      if (name == "B") registry.at("A").terminate();
                                    });
                                    std::sort(visited.begin(), visited.end());
                                    log.add("visited " + join(visited));
                                  }}));
  s.start();
  std::map<std::string, std::unique_ptr<RawClient>> c;
  for (const char* name : {"C1", "C2", "A", "B", "C3", "C4", "P"}) {
    c[name] = open_websocket(s.port, std::string("/?name=") + name);
  }
  c["P"]->send_frame(core::Opcode::text, "go");
  ASSERT_TRUE(eventually([&] { return !log.snapshot().empty(); }));
  const std::string visited = log.snapshot().front();
  EXPECT_TRUE(visited == "visited A,C1,C2,C3,C4,P" || visited == "visited B,C1,C2,C3,C4,P")
      << visited;
}

// A slow subscriber met by a flood published from a handler: the queue takes messages while
// they fit in max_backpressure, nothing is written in between (one handler call), so exactly
// the first kFit are queued. The others are dropped (and reported, in order) or the connection
// is closed with 1008 at once; a subscriber on an endpoint with room gets every message.
class SlowSubscriber : public testing::TestWithParam<SlowConsumerPolicy> {};

TEST_P(SlowSubscriber, GetsWhatFitsThenIsClosedOrHasTheRestDropped) {
  const SlowConsumerPolicy policy = GetParam();
  constexpr int kMessages = 64;
  constexpr size_t kSize = 4096;
  constexpr size_t kFrame = kSize + 4;
  constexpr size_t kLimit = 64 * 1024;
  constexpr int kFit = static_cast<int>(kLimit / kFrame);  // 15
  Log log;
  ServerThread s;
  s.server.endpoint("/", commands(log));
  s.server.endpoint(
      "/slow", commands(log, nullptr,
                        {.max_backpressure = kLimit,
                         .slow_consumer = policy,
                         .on_dropped =
                             [&](WebSocket&, std::string_view m, MessageType type) {
                               log.add("dropped " + std::string(m.substr(0, m.find(':'))) +
                                       (type == MessageType::text ? "" : " binary?"));
                             },
                         .on_close =
                             [&](WebSocket&, uint16_t code, std::string_view reason) {
                               log.add("close " + std::to_string(code) + " " + std::string(reason));
                             }}));
  s.start();
  auto publisher = open_websocket(s.port, "/");
  auto fast = open_websocket(s.port, "/");
  auto slow = open_websocket(s.port, "/slow");
  EXPECT_EQ(ask(*fast, "sub t"), "sub t 1");
  EXPECT_EQ(ask(*slow, "sub t"), "sub t 1");
  EXPECT_EQ(ask(*publisher, "flood t " + std::to_string(kMessages) + " " + std::to_string(kSize)),
            "flooded");

  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(fast->read_frame().payload, numbered(i, kSize));
  for (int i = 0; i < kFit; ++i) ASSERT_EQ(slow->read_frame().payload, numbered(i, kSize));
  const std::vector<std::string> lines = log.snapshot();
  if (policy == SlowConsumerPolicy::drop) {
    std::vector<std::string> dropped;
    for (int i = kFit; i < kMessages; ++i) dropped.push_back("dropped " + std::to_string(i));
    dropped.push_back("flooded");
    EXPECT_EQ(lines, dropped);
    EXPECT_EQ(s.server.subscriber_count("t"), 2u);
    // Drained: the next message goes through.
    EXPECT_EQ(ask(*publisher, "pub t after"), "published");
    EXPECT_EQ(slow->read_frame().payload, "after");
    EXPECT_EQ(fast->read_frame().payload, "after");
  } else {
    // Reported during the flood, before the publishing handler returned.
    EXPECT_EQ(lines,
              (std::vector<std::string>{"close 1008 send queue over max_backpressure", "flooded"}));
    Frame f = slow->read_frame();
    EXPECT_EQ(f.kind, Frame::close);
    EXPECT_EQ(f.code, 1008);
    EXPECT_EQ(f.payload, "send queue over max_backpressure");
    EXPECT_EQ(s.server.subscriber_count("t"), 1u);
    slow->send_close(1008);
    EXPECT_TRUE(slow->wait_eof());
    EXPECT_EQ(ask(*publisher, "pub t after"), "published");
    EXPECT_EQ(fast->read_frame().payload, "after");
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, SlowSubscriber,
                         testing::Values(SlowConsumerPolicy::drop, SlowConsumerPolicy::close),
                         [](const auto& info) {
                           return info.param == SlowConsumerPolicy::drop ? "drop" : "close";
                         });

// A natural reaction to a drop is to tell the reader; while its queue is full that message is
// dropped too, and must not be reported again from inside the report (which would recurse).
TEST(PubSub, SendingFromOnDroppedIsDroppedWithoutAnotherReport) {
  Log log;
  ServerThread s;
  s.server.endpoint("/", commands(log));
  s.server.endpoint("/slow",
                    commands(log, nullptr,
                             {.max_backpressure = 1,
                              .slow_consumer = SlowConsumerPolicy::drop,
                              .on_dropped = [&](WebSocket& ws, std::string_view m, MessageType) {
                                const bool sent = ws.send("you lost " + std::string(m));
                                log.add("dropped " + std::string(m) + " notice sent=" + flag(sent));
                              }}));
  s.start();
  auto slow = open_websocket(s.port, "/slow");
  auto publisher = open_websocket(s.port, "/");
  EXPECT_EQ(ask(*slow, "sub t"), "sub t 1");
  EXPECT_EQ(ask(*publisher, "pub t first second"), "published");
  EXPECT_EQ(log.snapshot(), (std::vector<std::string>{"dropped second notice sent=0"}));
  EXPECT_EQ(slow->read_frame().payload, "first");
  EXPECT_EQ(ask(*publisher, "pub t third"), "published");  // drained: delivered again
  EXPECT_EQ(slow->read_frame().payload, "third");
}

TEST(PubSub, PublishedFramesArriveIntactThroughPartialWrites) {
  // Sizes around the share threshold (512): copied and referenced frames interleave in one
  // queue; 12 MiB is more than the socket buffers take, so writes stop mid-frame and more than
  // 64 pieces wait at times.
  const std::vector<size_t> sizes = {2048, 65536, 100, 511, 512, 2048, 65536, 0, 70000, 3};
  constexpr int kRounds = 60;
  ServerThread s;
  s.server.endpoint("/",
                    {.max_backpressure = 64 * 1024 * 1024,
                     .on_open = [](WebSocket& ws) { ws.subscribe("t"); },
                     .on_message =
                         [&](WebSocket& ws, std::string_view m, MessageType) {
                           if (m != "go") return;
                           int index = 0;
                           for (int round = 0; round < kRounds; ++round) {
                             for (size_t size : sizes) {
                               ws.publish("t", patterned(index, size),
                                          index % 3 ? MessageType::binary : MessageType::text);
                               ++index;
                             }
                             ws.send("own " + std::to_string(round));  // a copy between references
                           }
                         }});
  s.start();
  RawClient subscriber(s.port), publisher(s.port);
  subscriber.upgrade("/");
  publisher.upgrade("/");
  EXPECT_TRUE(eventually([&] { return s.server.subscriber_count("t") == 2; }));
  publisher.send_frame(core::Opcode::text, "go");
  // The publisher gets its own sends only; the subscriber every published message.
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_EQ(publisher.read_frame(5000).payload, "own " + std::to_string(round));
  }
  int index = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (size_t size : sizes) {
      Frame f = subscriber.read_frame(5000);
      ASSERT_EQ(f.kind, Frame::message);
      ASSERT_EQ(f.type, index % 3 ? MessageType::binary : MessageType::text) << index;
      ASSERT_EQ(f.payload, patterned(index, size)) << index;
      ++index;
    }
  }
  // And from another thread, posted to the loop.
  s.server.publish("t", patterned(1, 65536), MessageType::binary);
  s.server.publish("t", patterned(2, 2048), MessageType::binary);
  for (RawClient* c : {&subscriber, &publisher}) {
    EXPECT_EQ(c->read_frame().payload, patterned(1, 65536));
    EXPECT_EQ(c->read_frame().payload, patterned(2, 2048));
  }
}

// Several publishes to one topic in one loop iteration share a batch buffer; a direct send to a
// subscriber between them must still arrive between them, and each subscriber gets each message
// once, in order, whatever its size (below and above the size frames are shared from).
TEST(PubSub, PublishesOfOneIterationKeepTheirOrderAroundDirectSends) {
  Registry registry;
  ServerThread s;
  s.server.endpoint("/", {.on_message = [&](WebSocket& ws, std::string_view m, MessageType) {
                      const std::vector<std::string> w = split(m, ' ');
                      if (w[0] == "name") {
                        registry.add(w[1], &ws);
                        ws.subscribe("t");
                        ws.send("named " + w[1]);
                        return;
                      }
                      // "go": three publishes and a direct send to s1, all in this one call.
                      const std::string big = patterned(1, 3000);
                      ws.publish("t", "A");
                      registry.at("s1").send("direct");
                      ws.publish("t", big);
                      s.server.publish("t", "C", MessageType::text, &ws);
                    }});
  s.start();
  auto s1 = open_websocket(s.port, "/");
  auto s2 = open_websocket(s.port, "/");
  auto pub = open_websocket(s.port, "/");
  s1->send_frame(core::Opcode::text, "name s1");
  EXPECT_EQ(s1->read_frame().payload, "named s1");
  s2->send_frame(core::Opcode::text, "name s2");
  EXPECT_EQ(s2->read_frame().payload, "named s2");
  pub->send_frame(core::Opcode::text, "name pub");
  EXPECT_EQ(pub->read_frame().payload, "named pub");
  const std::string big = patterned(1, 3000);
  for (int round = 0; round < 3; ++round) {
    pub->send_frame(core::Opcode::text, "go");
    EXPECT_EQ(read_until(*s1, "C"), (std::vector<std::string>{"A", "direct", big, "C"}));
    EXPECT_EQ(read_until(*s2, "C"), (std::vector<std::string>{"A", big, "C"}));
  }
  // The publisher is subscribed too but excluded from all three.
  pub->send_frame(core::Opcode::text, "name pub2");
  EXPECT_EQ(pub->read_frame().payload, "named pub2");
}

}  // namespace
}  // namespace duplex
