// Internal: publish/subscribe across the server's loops. Each loop keeps its own subscribers
// (TopicTable) and users; the hub counts them per loop, so a message goes only to the loops that
// have recipients: at once on the caller's own loop, through the others' wake-up queues (posted
// work runs in order, so one publisher's messages to a topic keep their order everywhere).
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
#include "duplex/server/topic_table.hpp"

namespace duplex {
class Endpoint;
class WebSocket;
}  // namespace duplex

namespace duplex::detail {

class ServerCore;
class OutgoingMessage;

class PubSubHub {
 public:
  PubSubHub() = default;
  PubSubHub(const PubSubHub&) = delete;
  PubSubHub& operator=(const PubSubHub&) = delete;

  /// The loops, indexed like ServerCore::index(); set once before any traffic.
  void set_cores(std::vector<ServerCore*> cores);
  size_t core_count() const { return cores_.size(); }

  // Bookkeeping, called on the loop that changed.
  void count_subscription(size_t core, std::string_view topic, std::string_view user, int delta);
  void count_user(size_t core, std::string_view user, int delta);

  // Queries, from any thread.
  size_t subscriber_count(std::string_view topic) const;
  std::vector<std::string> members(std::string_view topic) const;
  size_t user_connection_count(std::string_view user) const;

  // Delivery, from any thread. `except` is skipped (the publisher, say).
  void publish(std::string_view topic, std::string_view message, core::MessageType type,
               const WebSocket* except);
  void send_to_users(const std::vector<std::string>& users, std::string_view message,
                     core::MessageType type);
  /// Every open connection of `endpoint`, or of every endpoint when null. Returns how many
  /// connections it was queued to on the calling loop (others get it through their loops).
  size_t broadcast(Endpoint* endpoint, std::string_view message, core::MessageType type,
                   const WebSocket* except);

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
  // Runs `deliver(core, except_there)` on each core marked in `cores`: directly on the calling
  // loop (its count is returned), posted to the others. `except` only matters on its own loop.
  template <class Deliver>
  size_t route(const std::vector<bool>& cores, const WebSocket* except, Deliver deliver);

  std::vector<ServerCore*> cores_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, TopicCounts, StringHash, std::equal_to<>> topics_;
  std::unordered_map<std::string, UserCounts, StringHash, std::equal_to<>> users_;
};

}  // namespace duplex::detail
