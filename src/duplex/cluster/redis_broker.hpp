// Internal: the hub's Broker (server/pubsub/broker.hpp) over Redis pub/sub, behind
// RedisBackplane (its header says what it does). The hub calls it from any thread; it hands
// each call over to its loop (the server's first) through one queue under its own lock, and
// there keeps two RedisConnections: one that publishes (so one node's messages reach Redis in
// one order) and one subscribed to the channels the node has recipients for. Its state, the
// connections' and the set of wanted channels live on that loop only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "duplex/cluster/redis_backplane.hpp"
#include "duplex/cluster/redis_connection.hpp"
#include "duplex/cluster/redis_url.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/pubsub/broker.hpp"

namespace duplex::detail {
class PubSubHub;
}

namespace duplex::cluster::detail {

class RedisBroker final : public ::duplex::detail::Broker {
 public:
  RedisBroker(io::EventLoop& loop, ::duplex::detail::PubSubHub& hub, RedisAddress address,
              RedisOptions options);
  ~RedisBroker();

  /// Starts the first attempt on the loop (once it runs).
  void start();
  RedisStats stats() const;
  uint64_t node_id() const { return node_id_; }

  void forward_publish(
      std::string_view topic,
      const std::shared_ptr<const ::duplex::detail::OutgoingMessage>& message) override;
  void forward_to_users(
      const std::vector<std::string>& users,
      const std::shared_ptr<const ::duplex::detail::OutgoingMessage>& message) override;
  void interest_changed(Interest kind, std::string_view name, bool wanted) override;

 private:
  enum class State { idle, resolving, connecting, connected, waiting, stopped };
  // What the hub handed over, in its order, for the loop.
  struct Item {
    enum class Kind : uint8_t { publish, wanted, unwanted } kind;
    std::string channel;
    std::shared_ptr<const ::duplex::detail::OutgoingMessage> message;  // publish only
  };
  struct RetryTimer final : io::Timer {
    explicit RetryTimer(RedisBroker& b) : broker(b) {}
    void on_timer() override { broker.attempt(); }
    RedisBroker& broker;
  };
  // Every second while Redis is slow: has it caught up?
  struct SlowTimer final : io::Timer {
    explicit SlowTimer(RedisBroker& b) : broker(b) {}
    void on_timer() override { broker.check_caught_up(); }
    RedisBroker& broker;
  };
  struct ConnectTimer final : io::Timer {
    explicit ConnectTimer(RedisBroker& b) : broker(b) {}
    void on_timer() override { broker.fail("no answer within the connect timeout"); }
    RedisBroker& broker;
  };

  std::string channel(Interest kind, std::string_view name) const;
  void hand_over(Item item);  // any thread
  void drain();
  void publish_now(const Item& item);
  // Once Redis answers again and the bytes waiting for it are back under half of max_buffered:
  // says so, with what was dropped meanwhile (checked each second, so a Redis that keeps
  // falling behind gives at most a pair of lines a second).
  void check_caught_up();
  void reconcile(const std::vector<std::string>& touched);
  void attempt();
  void connect_to(const std::string& ip);
  void on_ready_reply(bool ok, std::string_view error);
  void on_message(std::string_view channel, std::string_view message);
  void maybe_connected();
  void fail(std::string_view reason);
  void log(const std::string& line) const;

  io::EventLoop& loop_;
  ::duplex::detail::PubSubHub& hub_;
  const RedisAddress address_;
  const RedisOptions options_;
  const uint64_t node_id_;
  const std::string node_channel_;
  const std::string topic_prefix_;  // <prefix>topic:
  const std::string user_prefix_;   // <prefix>user:
  // Posted work checks it is still there (a resolve finishing as the broker goes, say).
  std::shared_ptr<RedisBroker*> alive_;

  std::mutex mutex_;
  std::vector<Item> queue_;  // under mutex_

  // The loop's own.
  std::vector<Item> taken_;
  std::vector<std::string> touched_;
  State state_ = State::idle;
  RedisConnection publisher_;
  RedisConnection subscriber_;
  bool publisher_ready_ = false;
  bool subscriber_ready_ = false;
  unsigned failures_ = 0;        // attempts failed in a row
  bool failure_logged_ = false;  // the current outage has been reported
  bool slow_ = false;            // past max_buffered: publishes dropped, reported once
  bool ever_connected_ = false;
  uint64_t attempt_id_ = 0;  // tells a resolve's answer for an attempt given up from a later one
  std::unordered_set<std::string> wanted_;      // channels the node has recipients for
  std::unordered_set<std::string> subscribed_;  // those asked of the current subscriber
  std::string scratch_;
  std::string head_;  // an envelope's head, before the payload
  std::mt19937_64 rng_;
  RetryTimer retry_timer_{*this};
  ConnectTimer connect_timer_{*this};
  SlowTimer slow_timer_{*this};
  bool answered_ = false;  // a PUBLISH was answered since the slow timer last looked
  uint64_t dropped_at_outage_ = 0;
  uint64_t dropped_at_slow_ = 0;
  uint64_t unconfirmed_at_outage_ = 0;  // at the last connect

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> unconfirmed_{0};
  std::atomic<uint64_t> received_{0};
};

}  // namespace duplex::cluster::detail
