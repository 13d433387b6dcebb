// Publish/subscribe, users, broadcast and shutdown with several event loops (ServerOptions::
// threads): connections are opened until every loop has some (the kernel spreads them over the
// loops' sockets), each learns its loop from a greeting, and every message is checked at every
// recipient: all of them, each publisher's in order, none to those excluded.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "../support/test_certs.hpp"
#include "../support/websocket_peers.hpp"
#include "duplex/client/blocking_websocket.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::Frame;
using test::Log;
using test::numbered;
using test::patterned;
using test::query_value;
using test::RawClient;
using test::read_until;
using test::ServerThread;
using test::split;

// Numbers the threads handlers run on, in the order they are first seen: one per loop.
class LoopIds {
 public:
  int current() {
    std::lock_guard lock(mutex_);
    return ids_.emplace(std::this_thread::get_id(), static_cast<int>(ids_.size())).first->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::thread::id, int> ids_;
};

struct Peer {
  std::unique_ptr<RawClient> client;
  int loop;
};

// The endpoint of these tests. The query names the user (?user=) and the topics to subscribe
// on open (?topics=a,b); the connection is greeted with "loop N". Commands:
//   pub T M      publishes M to T, excluding the sender
//   bcast M      broadcasts M on the endpoint, excluding the sender; logs "bcast <queued here>"
//   users U,V M  Server::send_to_users from the handler
// Each logs "done" once it has run, so tests know what was sent before what they do next.
EndpointConfig greeted(Server& server, LoopIds& loops, Log& log, EndpointConfig config = {}) {
  config.on_upgrade = [](UpgradeRequest& req) {
    req.set_user_id(query_value(req.query(), "user"));
    req.set_user_data(query_value(req.query(), "topics"));
  };
  config.on_open = [&loops](WebSocket& ws) {
    for (const std::string& topic : split(ws.data<std::string>(), ',')) {
      if (!topic.empty()) ws.subscribe(topic);
    }
    ws.send("loop " + std::to_string(loops.current()));
  };
  config.on_message = [&server, &log](WebSocket& ws, std::string_view m, MessageType) {
    const size_t space = m.find(' ');
    const std::string_view verb = m.substr(0, space);
    const std::string_view rest = m.substr(space + 1);
    const size_t second = rest.find(' ');
    if (verb == "pub") {
      ws.publish(rest.substr(0, second), rest.substr(second + 1));
    } else if (verb == "bcast") {
      log.add("bcast " + std::to_string(ws.endpoint().broadcast(rest, MessageType::text, &ws)));
    } else if (verb == "users") {
      server.send_to_users(split(rest.substr(0, second), ','), rest.substr(second + 1));
    }
    log.add("done");
  };
  if (!config.on_close) {
    config.on_close = [&log](WebSocket&, uint16_t code, std::string_view) {
      log.add("close " + std::to_string(code));
    };
  }
  return config;
}

Peer open_peer(uint16_t port, const std::string& target) {
  auto client = test::open_websocket(port, target);
  Frame f = client->read_frame();
  if (!f.payload.starts_with("loop ")) throw std::runtime_error("no greeting: " + f.payload);
  return {std::move(client), std::stoi(f.payload.substr(5))};
}

// Opens connections with `open` until each of `loops` loops has `per_loop` of them; the
// kernel's choice of loop is a hash, so this is bounded, not exact.
template <class Open>
auto on_every_loop(size_t loops, size_t per_loop, Open open) {
  std::vector<decltype(open())> peers;
  std::vector<size_t> on_loop(loops);
  const auto done = [&] {
    for (size_t n : on_loop) {
      if (n < per_loop) return false;
    }
    return true;
  };
  while (!done()) {
    if (peers.size() >= 200 * loops * per_loop) throw std::runtime_error("a loop gets nothing");
    peers.push_back(open());
    ++on_loop.at(static_cast<size_t>(peers.back().loop));
  }
  return peers;
}

std::vector<Peer> open_on_every_loop(uint16_t port, const std::string& target, size_t loops,
                                     size_t per_loop) {
  return on_every_loop(loops, per_loop, [&] { return open_peer(port, target); });
}

// A client of the library (which inflates permessage-deflate and speaks TLS), greeted too.
struct ClientPeer {
  std::unique_ptr<BlockingWebSocket> ws;
  int loop;
};

ClientPeer open_client(const std::string& url, const ClientOptions& options) {
  auto ws = std::make_unique<BlockingWebSocket>(url, options);
  const auto greeting = ws->receive(5s);
  if (!greeting || !greeting->data.starts_with("loop ")) throw std::runtime_error("no greeting");
  return {std::move(ws), std::stoi(greeting->data.substr(5))};
}

// Messages up to `last` (included); stops early if the connection closes.
std::vector<std::string> receive_until(BlockingWebSocket& ws, const std::string& last) {
  std::vector<std::string> got;
  while (auto m = ws.receive(5s)) {
    got.push_back(m->data);
    if (m->data == last) break;
  }
  return got;
}

size_t on_loop(const std::vector<Peer>& peers, int loop) {
  size_t n = 0;
  for (const Peer& p : peers) n += p.loop == loop;
  return n;
}

std::string thread_name(const testing::TestParamInfo<size_t>& info) {
  return std::to_string(info.param) + "_threads";
}

// Every test here: a server with some loops (started by the test once its endpoints are
// added), what its handlers logged and the loops they ran on.
class Loops {
 protected:
  explicit Loops(size_t threads) : s({.threads = threads}) {}
  explicit Loops(ServerOptions options) : s(std::move(options)) {}
  Endpoint& endpoint(std::string path, EndpointConfig config = {}) {
    return s.server.endpoint(std::move(path), greeted(s.server, loops, log, std::move(config)));
  }

  LoopIds loops;
  Log log;
  ServerThread s;  // last: stopped before what its handlers use goes
};

class PubSubThreads : public testing::TestWithParam<size_t>, protected Loops {
 protected:
  PubSubThreads() : Loops(GetParam()) {}
};

class TwoLoops : public testing::Test, protected Loops {
 protected:
  TwoLoops() : Loops(2) {}
};

TEST_P(PubSubThreads, EverySubscriberGetsEveryMessageInEachPublishersOrder) {
  const size_t threads = GetParam();
  constexpr int kEach = 50;
  endpoint("/");
  s.start();
  std::vector<Peer> peers = open_on_every_loop(s.port, "/?topics=t", threads, 2);
  EXPECT_EQ(s.server.thread_count(), threads);
  EXPECT_EQ(s.server.subscriber_count("t"), peers.size());
  EXPECT_EQ(s.server.connection_count(), peers.size());

  // One publisher per loop, each sending all its messages in one write; two threads of ours
  // publishing through the Server at the same time.
  std::vector<size_t> publisher_of_loop(threads);
  for (size_t i = peers.size(); i-- > 0;) publisher_of_loop[peers[i].loop] = i;
  for (size_t loop = 0; loop < threads; ++loop) {
    std::string frames;
    for (int i = 0; i < kEach; ++i) {
      core::append_masked_frame(frames, core::Opcode::text,
                                "pub t p" + std::to_string(loop) + ":" + std::to_string(i),
                                core::random_mask_key());
    }
    peers[publisher_of_loop[loop]].client->send_raw(frames);
  }
  std::vector<std::thread> outsiders;
  for (int t = 0; t < 2; ++t) {
    outsiders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        s.server.publish("t", "s" + std::to_string(t) + ":" + std::to_string(i));
      }
    });
  }
  for (std::thread& t : outsiders) t.join();
  // Once every handler has published, a last message from here comes after all of them on
  // every loop (posted work runs in order).
  ASSERT_TRUE(log.wait_count("done", threads * kEach, 10s));
  s.server.publish("t", "end");

  for (size_t i = 0; i < peers.size(); ++i) {
    std::map<std::string, std::vector<int>> by_source;
    const std::vector<std::string> got = read_until(*peers[i].client, "end");
    ASSERT_EQ(got.back(), "end") << i;
    for (size_t k = 0; k + 1 < got.size(); ++k) {
      const size_t colon = got[k].find(':');
      ASSERT_NE(colon, std::string::npos) << got[k];
      by_source[got[k].substr(0, colon)].push_back(std::stoi(got[k].substr(colon + 1)));
    }
    std::vector<int> all(kEach);
    for (int k = 0; k < kEach; ++k) all[k] = k;
    std::map<std::string, std::vector<int>> expected{{"s0", all}, {"s1", all}};
    for (size_t loop = 0; loop < threads; ++loop) {
      if (publisher_of_loop[loop] != i) expected["p" + std::to_string(loop)] = all;
    }
    EXPECT_EQ(by_source, expected) << "connection " << i << " on loop " << peers[i].loop;
  }
}

TEST_P(PubSubThreads, ShutdownClosesEveryConnectionOnEveryLoopWith1001) {
  const size_t threads = GetParam();
  endpoint("/");
  s.start();
  std::vector<Peer> peers = open_on_every_loop(s.port, "/?topics=t", threads, 2);
  std::thread([&] { s.server.shutdown(); }).join();
  for (Peer& p : peers) {
    Frame f = p.client->read_frame();
    EXPECT_EQ(f.kind, Frame::close);
    EXPECT_EQ(f.code, 1001);
    EXPECT_EQ(f.payload, "server shutting down");
    p.client->send_close(1001);
    EXPECT_TRUE(p.client->wait_eof());  // the server closes first
    p.client->close_socket();
  }
  EXPECT_TRUE(s.stopped_within(5s));
  EXPECT_EQ(log.count("close 1001"), peers.size());
  EXPECT_EQ(s.server.connection_count(), 0u);
  EXPECT_EQ(s.server.subscriber_count("t"), 0u);
}

TEST_P(PubSubThreads, BroadcastsReachEveryLoop) {
  const size_t threads = GetParam();
  Endpoint& a = endpoint("/a");
  Endpoint& b = endpoint("/b");
  s.start();
  std::vector<Peer> on_a = open_on_every_loop(s.port, "/a", threads, 2);
  std::vector<Peer> on_b = open_on_every_loop(s.port, "/b", threads, 1);
  EXPECT_EQ(a.connection_count(), on_a.size());
  EXPECT_EQ(b.connection_count(), on_b.size());
  EXPECT_EQ(s.server.connection_count(), on_a.size() + on_b.size());

  // From a handler: every other connection of /a, on every loop; the count returned is the
  // calling loop's.
  Peer& sender = on_a.front();
  sender.client->send_frame(core::Opcode::text, "bcast from-a");
  EXPECT_TRUE(log.wait_for("bcast " + std::to_string(on_loop(on_a, sender.loop) - 1)));
  EXPECT_TRUE(log.wait_for("done"));
  // From this thread: every connection of every endpoint.
  s.server.broadcast("to-all");
  for (size_t i = 0; i < on_a.size(); ++i) {
    const std::vector<std::string> expected =
        i == 0 ? std::vector<std::string>{"to-all"} : std::vector<std::string>{"from-a", "to-all"};
    EXPECT_EQ(read_until(*on_a[i].client, "to-all"), expected) << i;
  }
  for (Peer& p : on_b) EXPECT_EQ(p.client->read_frame().payload, "to-all");
  // Endpoint::broadcast from a thread that is not a loop's queues it on every loop too.
  EXPECT_EQ(b.broadcast("b-only", MessageType::binary), 0u);
  for (Peer& p : on_b) {
    Frame f = p.client->read_frame();
    EXPECT_EQ(f.type, MessageType::binary);
    EXPECT_EQ(f.payload, "b-only");
  }
  s.server.broadcast("last");
  for (Peer& p : on_a) EXPECT_EQ(p.client->read_frame().payload, "last");
}

TEST_P(PubSubThreads, SendToUsersReachesEachOfTheirConnectionsOnEveryLoop) {
  const size_t threads = GetParam();
  endpoint("/");
  endpoint("/other");
  s.start();
  std::vector<Peer> ann = open_on_every_loop(s.port, "/?user=ann", threads, 2);
  ann.push_back(open_peer(s.port, "/other?user=ann"));
  std::vector<Peer> bob = open_on_every_loop(s.port, "/other?user=bob", threads, 1);
  std::vector<Peer> carol = open_on_every_loop(s.port, "/?user=carol", threads, 1);
  EXPECT_EQ(s.server.user_connection_count("ann"), ann.size());
  EXPECT_EQ(s.server.user_connection_count("bob"), bob.size());
  EXPECT_EQ(s.server.user_connection_count("carol"), carol.size());

  s.server.send_to_users({"ann", "bob", "nobody"}, "hi");
  s.server.broadcast("after");
  for (auto* group : {&ann, &bob}) {
    for (Peer& p : *group) {
      EXPECT_EQ(read_until(*p.client, "after"), (std::vector<std::string>{"hi", "after"}));
    }
  }
  for (Peer& p : carol) EXPECT_EQ(p.client->read_frame().payload, "after");

  // From a handler on some loop: its own loop at once, the others posted.
  carol.front().client->send_frame(core::Opcode::text, "users ann hello from carol");
  EXPECT_TRUE(log.wait_for("done"));
  s.server.broadcast("after2");
  for (Peer& p : ann) {
    EXPECT_EQ(read_until(*p.client, "after2"),
              (std::vector<std::string>{"hello from carol", "after2"}));
  }
  for (auto* group : {&bob, &carol}) {
    for (Peer& p : *group) EXPECT_EQ(p.client->read_frame().payload, "after2");
  }
}

INSTANTIATE_TEST_SUITE_P(Loops, PubSubThreads, testing::Values(size_t{2}, size_t{4}), thread_name);

// Slow subscribers on two loops with the drop policy, flooded from a thread that is not a
// loop's: how much fits depends on how fast the kernel takes it, but every message is either
// received, in order, or reported dropped, never both, and once drained they get new ones.
TEST_F(TwoLoops, DroppedMessagesAreExactlyTheOnesNotReceived) {
  constexpr int kMessages = 2000;  // 8 MiB: more than the socket buffers of a reader that waits
  constexpr size_t kSize = 4096;
  std::mutex dropped_mutex;
  std::map<std::string, std::vector<int>> dropped;  // by user id
  const auto dropped_count = [&](const std::string& user) {
    std::lock_guard lock(dropped_mutex);
    return dropped[user].size();
  };
  endpoint("/");
  endpoint("/slow", {.max_backpressure = 64 * 1024,
                     .slow_consumer = SlowConsumerPolicy::drop,
                     .on_dropped = [&](WebSocket& ws, std::string_view m, MessageType) {
                       std::lock_guard lock(dropped_mutex);
                       dropped[std::string(ws.user_id())].push_back(
                           std::stoi(std::string(m.substr(0, m.find(':')))));
                     }});
  s.start();
  // Slow subscribers until both loops have one, each its own user.
  std::vector<Peer> slow;
  std::set<int> slow_loops;
  while (slow_loops.size() < 2) {
    ASSERT_LT(slow.size(), 400u);
    slow.push_back(open_peer(s.port, "/slow?topics=t&user=slow" + std::to_string(slow.size())));
    slow_loops.insert(slow.back().loop);
  }
  Peer fast = open_peer(s.port, "/?topics=t");

  for (int i = 0; i < kMessages; ++i) s.server.publish("t", numbered(i, kSize));
  for (size_t k = 0; k < slow.size(); ++k) {
    const std::string user = "slow" + std::to_string(k);
    std::vector<int> received;
    // Read until every message is accounted for; the drops are counted on the loop meanwhile.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (received.size() + dropped_count(user) < kMessages) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << user << " got " << received.size();
      try {
        Frame f = slow[k].client->read_frame(50);
        received.push_back(std::stoi(f.payload.substr(0, f.payload.find(':'))));
        ASSERT_EQ(f.payload, numbered(received.back(), kSize));
      } catch (const std::runtime_error&) {  // nothing yet
      }
    }
    std::vector<int> lost;
    {
      std::lock_guard lock(dropped_mutex);
      lost = dropped[user];
    }
    EXPECT_FALSE(lost.empty()) << user;
    EXPECT_FALSE(received.empty()) << user;
    std::vector<int> all(received);
    all.insert(all.end(), lost.begin(), lost.end());
    std::sort(all.begin(), all.end());
    std::vector<int> expected(kMessages);
    for (int i = 0; i < kMessages; ++i) expected[i] = i;
    EXPECT_EQ(all, expected) << user;
    EXPECT_TRUE(std::is_sorted(received.begin(), received.end())) << user;
    EXPECT_TRUE(std::is_sorted(lost.begin(), lost.end())) << user;
  }
  for (int i = 0; i < kMessages; ++i)
    ASSERT_EQ(fast.client->read_frame().payload, numbered(i, kSize));
  // Drained: later messages reach the slow ones again.
  s.server.publish("t", "after");
  for (Peer& p : slow) EXPECT_EQ(p.client->read_frame().payload, "after");
  EXPECT_EQ(fast.client->read_frame().payload, "after");
  slow.clear();
  fast.client.reset();
  s.stop();  // before `dropped`, which on_dropped uses, goes
}

// 2,000 subscribers of several topics, 50 users, over two loops, all gone: no count, member or
// user is left anywhere, and the next subscriber starts from zero.
TEST_F(TwoLoops, NothingIsLeftAfterAMassDisconnect) {
  constexpr int kConnections = 2000;
  constexpr int kUsers = 50;
  constexpr int kTopics = 4;
  Endpoint& everyone = endpoint("/", {.on_close = [](auto&&...) {}});
  s.start();
  std::vector<Peer> peers;
  std::map<std::string, std::set<std::string>> members;
  for (int i = 0; i < kConnections; ++i) {
    const std::string user = "u" + std::to_string(i % kUsers);
    const std::string topic = "t" + std::to_string(i % kTopics);
    peers.push_back(open_peer(s.port, "/?user=" + user + "&topics=all," + topic));
    members["all"].insert(user);
    members[topic].insert(user);
  }
  EXPECT_GT(on_loop(peers, 0), 0u);
  EXPECT_GT(on_loop(peers, 1), 0u);
  EXPECT_EQ(s.server.connection_count(), size_t{kConnections});
  EXPECT_EQ(everyone.connection_count(), size_t{kConnections});
  EXPECT_EQ(s.server.subscriber_count("all"), size_t{kConnections});
  for (const auto& [topic, users] : members) {
    if (topic != "all") {
      EXPECT_EQ(s.server.subscriber_count(topic), size_t{kConnections / kTopics});
    }
    EXPECT_EQ(s.server.members(topic), std::vector<std::string>(users.begin(), users.end()));
  }
  EXPECT_EQ(s.server.user_connection_count("u7"), size_t{kConnections / kUsers});

  // Half close properly, half just go.
  for (size_t i = 0; i < peers.size(); i += 2) peers[i].client->send_close(1000);
  peers.clear();
  EXPECT_TRUE(eventually([&] { return s.server.connection_count() == 0; }, 30s));
  EXPECT_EQ(everyone.connection_count(), 0u);
  for (const auto& [topic, users] : members) {
    EXPECT_EQ(s.server.subscriber_count(topic), 0u) << topic;
    EXPECT_EQ(s.server.members(topic), std::vector<std::string>{}) << topic;
  }
  for (int u = 0; u < kUsers; ++u) {
    EXPECT_EQ(s.server.user_connection_count("u" + std::to_string(u)), 0u) << u;
  }
  Peer again = open_peer(s.port, "/?user=u0&topics=all");
  EXPECT_EQ(s.server.subscriber_count("all"), 1u);
  EXPECT_EQ(s.server.members("all"), std::vector<std::string>{"u0"});
  EXPECT_EQ(s.server.user_connection_count("u0"), 1u);
}

// Publishes a sample of messages to "t" from this thread and one from a handler (the first
// client's), then checks that every client got each of them intact, in order.
void expect_every_client_gets_every_message(Server& server, Log& log,
                                            std::vector<ClientPeer>& clients) {
  std::string words;
  while (words.size() < 64 * 1024) words += "the same words again, " + std::to_string(words.size());
  const std::vector<std::string> sent = {words, patterned(1, 2048), std::string(100, 's'),
                                         words + "!", patterned(2, 70000)};
  for (size_t i = 0; i < sent.size(); ++i) {
    server.publish("t", sent[i], i % 2 ? MessageType::binary : MessageType::text);
  }
  clients.front().ws->send("pub t from a handler");
  EXPECT_TRUE(log.wait_for("done"));
  server.publish("t", "end");
  for (size_t i = 0; i < clients.size(); ++i) {
    std::vector<std::string> expected = sent;
    if (i != 0) expected.push_back("from a handler");  // not to its sender
    expected.push_back("end");
    EXPECT_TRUE(receive_until(*clients[i].ws, "end") == expected) << "client " << i;
  }
}

// Clients that agreed permessage-deflate get published messages compressed: those without
// context takeover share one frame per loop and window size, those with it compress on their
// own; plain clients get the plain frame. Every one gets every message intact, on every loop.
TEST_F(TwoLoops, PublishedMessagesReachCompressingAndPlainClientsOnEveryLoop) {
  endpoint("/shared", {.per_message_deflate = {.enabled = true, .mode = DeflateMode::shared}});
  endpoint("/own", {.per_message_deflate = {.enabled = true, .mode = DeflateMode::dedicated}});
  s.start();
  const std::string base = "ws://127.0.0.1:" + std::to_string(s.port);
  ClientOptions plain;
  plain.proxy = "";
  ClientOptions offer = plain;
  offer.per_message_deflate.enabled = true;
  ClientOptions offer10 = offer;
  offer10.per_message_deflate.server_max_window_bits = 10;
  std::vector<ClientPeer> clients;
  for (const auto& [target, options] :
       std::vector<std::pair<std::string, ClientOptions>>{{"/shared?topics=t", plain},
                                                          {"/shared?topics=t", offer},
                                                          {"/shared?topics=t", offer10},
                                                          {"/own?topics=t", offer}}) {
    for (ClientPeer& c : on_every_loop(2, 1, [&] { return open_client(base + target, options); })) {
      const std::string& agreed = c.ws->client().extensions();
      EXPECT_EQ(agreed.starts_with("permessage-deflate"), options.per_message_deflate.enabled)
          << agreed;
      EXPECT_EQ(agreed.find("server_max_window_bits=10") != std::string::npos,
                options.per_message_deflate.server_max_window_bits == 10)
          << agreed;
      clients.push_back(std::move(c));
    }
  }
  expect_every_client_gets_every_message(s.server, log, clients);
}

ServerOptions two_loops_over_tls() {
  ServerOptions options{.threads = 2};
  options.tls.cert_file = test::test_cert("server.pem");
  options.tls.key_file = test::test_cert("server.key");
  return options;
}

class TwoLoopsOverTls : public testing::Test, protected Loops {
 protected:
  TwoLoopsOverTls() : Loops(two_loops_over_tls()) {}
};

// Over TLS every frame is copied into the connection's own records; the result is the same.
TEST_F(TwoLoopsOverTls, PublishedMessagesReachEveryClientIntact) {
  endpoint("/", {.per_message_deflate = {.enabled = true, .mode = DeflateMode::shared}});
  s.start();
  ClientOptions options;
  options.proxy = "";
  options.ca_file = test::test_cert("ca.pem");
  ClientOptions compressing = options;
  compressing.per_message_deflate.enabled = true;
  const std::string url = "wss://127.0.0.1:" + std::to_string(s.port) + "/?topics=t";
  std::vector<ClientPeer> clients = on_every_loop(2, 2, [&] { return open_client(url, options); });
  for (ClientPeer& c : on_every_loop(2, 1, [&] { return open_client(url, compressing); })) {
    clients.push_back(std::move(c));
  }
  expect_every_client_gets_every_message(s.server, log, clients);
}

}  // namespace
}  // namespace duplex
