// The STOMP broker's C++ API (stomp_server.hpp) with real connections over loopback, on two
// event loops: Broker::send from threads that are no loop's (to topics, queues and users, each
// frame exact, every sender's order kept, full queues and unknown destinations refused),
// Options::authorize refusing a SUBSCRIBE or a SEND (the ERROR frame, then the close, nobody else
// disturbed, nothing of the refused frame delivered), on_connect binding users, and the handlers'
// view of each connection.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "../support/websocket_peers.hpp"
#include "duplex/server/stomp_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::Log;
using test::RawClient;
using test::ServerThread;

// A server on two loops with a broker at /stomp; the server stops before the broker goes.
struct BrokerServer {
  explicit BrokerServer(stomp::Options options) : loops({.threads = 2}) {
    broker.emplace(loops.server, std::move(options));
    loops.start();
  }
  ~BrokerServer() { loops.stop(); }
  ServerThread loops;
  std::optional<stomp::Broker> broker;
};

// The message-id of a MESSAGE frame is the broker's own numbering; tests read it as "*".
std::string any_message_id(const std::string& frame) {
  return std::regex_replace(frame, std::regex("\nmessage-id:[0-9A-Za-z-]+\n"), "\nmessage-id:*\n");
}

std::string error_frame(std::string_view message, std::string_view body,
                        std::string_view receipt = {}) {
  std::string f = "ERROR\nmessage:" + std::string(message) + "\n";
  if (!receipt.empty()) f += "receipt-id:" + std::string(receipt) + "\n";
  f += "content-type:text/plain\ncontent-length:" + std::to_string(body.size()) + "\n\n" +
       std::string(body) + '\0';
  return f;
}

// A STOMP 1.2 client over a raw WebSocket: one frame per message each way.
class StompPeer {
 public:
  StompPeer(uint16_t port, std::string_view login) : ws_(std::make_unique<RawClient>(port)) {
    const std::string head = ws_->upgrade("/stomp", "Sec-WebSocket-Protocol: v12.stomp\r\n");
    if (!head.starts_with("HTTP/1.1 101 ") || head.find("v12.stomp") == std::string::npos) {
      throw std::runtime_error("no STOMP upgrade: " + head);
    }
    send("CONNECT\naccept-version:1.2\nhost:localhost\nlogin:" + std::string(login) +
         "\npasscode:x\nheart-beat:0,0\n\n");
    connected = next();
  }
  void send(const std::string& frame_without_nul) {
    ws_->send_frame(core::Opcode::text, frame_without_nul + '\0');
  }
  std::string next() {
    test::Frame f = ws_->read_frame();
    if (f.kind != test::Frame::message) {
      return "<close " + std::to_string(f.code) + " " + f.payload + ">";
    }
    return f.payload;
  }
  // Sends `frame` (its command and header lines) with a receipt and waits for it: whatever the
  // frame set up is in place.
  void settled(const std::string& frame, const std::string& receipt) {
    send(frame + "receipt:" + receipt + "\n\n");
    EXPECT_EQ(next(), "RECEIPT\nreceipt-id:" + receipt + "\n\n" + '\0');
  }
  // The WebSocket close after an ERROR: 1008 without a reason, answered, then the TCP close.
  bool closed_after_error() {
    const test::Frame f = ws_->read_frame();
    if (f.kind != test::Frame::close || f.code != 1008 || !f.payload.empty()) return false;
    ws_->send_close(1008);
    return ws_->wait_eof();
  }
  std::string connected;

 private:
  std::unique_ptr<RawClient> ws_;
};

std::string message_frame(std::string_view subscription, std::string_view destination,
                          std::string_view body, std::string_view extra = {}) {
  return "MESSAGE\nsubscription:" + std::string(subscription) +
         "\ndestination:" + std::string(destination) + "\nmessage-id:*\n" + std::string(extra) +
         "content-length:" + std::to_string(body.size()) + "\n\n" + std::string(body) + '\0';
}

stomp::Options users_from_login(Log* log = nullptr) {
  stomp::Options options;
  options.on_connect = [](stomp::ConnectRequest& request) {
    request.user_id = std::string(request.login.value_or(""));
    return true;
  };
  if (log) {
    options.on_close = [log](stomp::Connection& c, std::string_view reason) {
      log->add("close " + std::string(c.user_id()) + " " + std::string(reason));
    };
  }
  return options;
}

TEST(StompBrokerApi, SendFromOtherThreadsReachesTopicSubscribersOnEveryLoopInEachSendersOrder) {
  std::mutex mutex;
  std::set<std::thread::id> loops_seen;
  stomp::Options options = users_from_login();
  options.on_open = [&](stomp::Connection&) {
    std::lock_guard lock(mutex);
    loops_seen.insert(std::this_thread::get_id());
  };
  BrokerServer s(std::move(options));
  // Connections until both loops have some (the kernel spreads them by a hash: bounded, not
  // exact), and at least four.
  std::vector<std::unique_ptr<StompPeer>> peers;
  const auto both_loops = [&] {
    std::lock_guard lock(mutex);
    return loops_seen.size() == 2;
  };
  while (peers.size() < 4 || !both_loops()) {
    ASSERT_LT(peers.size(), 64u) << "every connection lands on one loop";
    peers.push_back(std::make_unique<StompPeer>(s.loops.port, "u" + std::to_string(peers.size())));
    peers.back()->settled("SUBSCRIBE\nid:news\ndestination:/topic/news\n", "sub");
  }
  ASSERT_EQ(s.broker->connection_count(), peers.size());

  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(s.broker->send("/topic/news", std::to_string(t) + ":" + std::to_string(i),
                                   {{"x-sender", std::to_string(t)}}, "text/plain"));
      }
    });
  }
  for (std::thread& t : senders) t.join();

  for (auto& peer : peers) {
    std::map<int, int> next_of;  // sender -> the index it must send next
    for (int n = 0; n < kThreads * kEach; ++n) {
      const std::string frame = any_message_id(peer->next());
      const std::regex shape(
          "MESSAGE\nsubscription:news\ndestination:/topic/news\nmessage-id:\\*\n"
          "content-type:text/plain\nx-sender:([0-9])\ncontent-length:[0-9]+\n\n([0-9]):([0-9]+)");
      std::smatch m;
      const std::string text = frame.substr(0, frame.size() - 1);
      ASSERT_TRUE(std::regex_match(text, m, shape)) << frame;
      ASSERT_EQ(frame.back(), '\0');
      EXPECT_EQ(m[1], m[2]) << "x-sender names the thread that sent the body";
      const int sender = std::stoi(m[2]), index = std::stoi(m[3]);
      EXPECT_EQ(index, next_of[sender]++) << "sender " << sender << " out of order";
    }
  }
}

TEST(StompBrokerApi, SendReachesQueuesAndUsersAndRefusesWhatItCannotPlace) {
  stomp::Options options = users_from_login();
  options.queue_max_messages = 2;
  BrokerServer s(std::move(options));

  // A queue keeps what is sent while nobody is subscribed, up to its bound.
  std::thread([&] {
    EXPECT_TRUE(s.broker->send("/queue/jobs", "j1"));
    EXPECT_TRUE(s.broker->send("/queue/jobs", "j2", {}, "application/json"));
    EXPECT_FALSE(s.broker->send("/queue/jobs", "j3")) << "the queue holds 2";
    for (std::string_view bad : {"/elsewhere/x", "/topic/", "/queue/", "/user/alice", "/user//x",
                                 "/user/alice/", "topic/x", ""}) {
      EXPECT_FALSE(s.broker->send(bad, "lost")) << bad;
    }
  }).join();

  StompPeer worker(s.loops.port, "worker");
  worker.send("SUBSCRIBE\nid:w\ndestination:/queue/jobs\n\n");
  EXPECT_EQ(any_message_id(worker.next()), message_frame("w", "/queue/jobs", "j1"));
  EXPECT_EQ(any_message_id(worker.next()),
            message_frame("w", "/queue/jobs", "j2", "content-type:application/json\n"));

  // /user/<user>/<name> reaches that user's subscriptions of /user/<name>, and nobody else's.
  StompPeer alice(s.loops.port, "alice");
  StompPeer bob(s.loops.port, "bob");
  alice.settled("SUBSCRIBE\nid:in\ndestination:/user/inbox\n", "a");
  bob.settled("SUBSCRIBE\nid:in\ndestination:/user/inbox\n", "b");
  std::thread([&] {
    EXPECT_TRUE(s.broker->send("/user/alice/inbox", "for alice", {{"from", "the server"}}));
    EXPECT_TRUE(s.broker->send("/user/bob/inbox", "for bob"));
  }).join();
  EXPECT_EQ(any_message_id(alice.next()),
            message_frame("in", "/user/inbox", "for alice", "from:the server\n"));
  EXPECT_EQ(any_message_id(bob.next()), message_frame("in", "/user/inbox", "for bob"));

  // Once the queue has room again, it takes more.
  EXPECT_TRUE(s.broker->send("/queue/jobs", "j4"));
  EXPECT_EQ(any_message_id(worker.next()), message_frame("w", "/queue/jobs", "j4"));
}

TEST(StompBrokerApi, AuthorizeRefusingASubscribeSendsErrorThenClosesThatConnectionOnly) {
  Log log;
  stomp::Options options = users_from_login(&log);
  options.authorize = [&log](stomp::Connection& c, stomp::Access access,
                             std::string_view destination) {
    log.add(std::string(access == stomp::Access::subscribe ? "subscribe " : "send ") +
            std::string(c.user_id()) + " " + std::string(destination));
    return !destination.starts_with("/topic/secret");
  };
  BrokerServer s(std::move(options));

  StompPeer bystander(s.loops.port, "carol");
  bystander.settled("SUBSCRIBE\nid:n\ndestination:/topic/news\n", "n");
  StompPeer snoop(s.loops.port, "mallory");
  snoop.send("SUBSCRIBE\nid:s\ndestination:/topic/secret/plans\nreceipt:r1\n\n");
  EXPECT_EQ(snoop.next(), error_frame("Access refused",
                                      "SUBSCRIBE to /topic/secret/plans is not allowed.", "r1"));
  EXPECT_TRUE(snoop.closed_after_error());
  EXPECT_TRUE(log.wait_for("close mallory Access refused"));
  EXPECT_EQ(log.count("subscribe mallory /topic/secret/plans"), 1u);
  EXPECT_EQ(log.count("subscribe carol /topic/news"), 1u);

  // The refused subscription holds nothing: the topic's messages reach the bystander alone.
  EXPECT_TRUE(s.broker->send("/topic/secret/plans", "p"));
  EXPECT_TRUE(s.broker->send("/topic/news", "still here"));
  EXPECT_EQ(any_message_id(bystander.next()), message_frame("n", "/topic/news", "still here"));
  EXPECT_TRUE(eventually([&] { return s.broker->connection_count() == 1; }));
}

TEST(StompBrokerApi, AuthorizeRefusingASendDeliversNothingOfItAndClosesTheSender) {
  Log log;
  stomp::Options options = users_from_login(&log);
  options.authorize = [](stomp::Connection& c, stomp::Access access, std::string_view destination) {
    return access != stomp::Access::send || destination != "/queue/orders" ||
           c.user_id() == "admin";
  };
  BrokerServer s(std::move(options));

  StompPeer shop(s.loops.port, "shop");
  shop.settled("SUBSCRIBE\nid:o\ndestination:/queue/orders\n", "o");
  StompPeer intruder(s.loops.port, "intruder");
  intruder.send("SEND\ndestination:/queue/orders\ncontent-length:4\n\nfake");
  EXPECT_EQ(intruder.next(),
            error_frame("Access refused", "SEND to /queue/orders is not allowed."));
  EXPECT_TRUE(intruder.closed_after_error());
  EXPECT_TRUE(log.wait_for("close intruder Access refused"));

  // The admin may send there.
  StompPeer admin(s.loops.port, "admin");
  admin.send("SEND\ndestination:/queue/orders\nreceipt:sent\ncontent-length:4\n\nreal");
  EXPECT_EQ(admin.next(), std::string("RECEIPT\nreceipt-id:sent\n\n") + '\0');
  EXPECT_EQ(any_message_id(shop.next()), message_frame("o", "/queue/orders", "real"))
      << "the refused SEND was not queued";
  // The C++ API is the server's own voice: authorize does not stand in its way.
  EXPECT_TRUE(s.broker->send("/queue/orders", "from the server"));
  EXPECT_EQ(any_message_id(shop.next()), message_frame("o", "/queue/orders", "from the server"));
}

}  // namespace
}  // namespace duplex
