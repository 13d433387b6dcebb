#include "duplex/server/pubsub/pubsub_hub.hpp"

#include <algorithm>

#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::detail {

void PubSubHub::set_loops(std::vector<LoopPubSub*> loops) { loops_ = std::move(loops); }

template <class Map>
typename Map::iterator PubSubHub::add(Map& map, std::string_view key, size_t core, int delta) {
  auto it = map.find(key);
  if (it == map.end()) {
    if (delta < 0) return it;
    it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
    it->second.per_core.resize(loops_.size());
  }
  it->second.per_core[core] += delta;
  it->second.total += delta;
  return it;
}

void PubSubHub::count_subscription(size_t core, std::string_view topic, std::string_view user,
                                   int delta) {
  std::lock_guard lock(mutex_);
  auto it = add(topics_, topic, core, delta);
  if (it == topics_.end()) return;
  TopicCounts& counts = it->second;
  if (!user.empty()) {
    auto member = counts.members.find(user);
    if (member == counts.members.end()) member = counts.members.emplace(user, 0).first;
    member->second += delta;
    if (member->second == 0) counts.members.erase(member);
  }
  if (counts.total == 0) topics_.erase(it);
}

void PubSubHub::count_user(size_t core, std::string_view user, int delta) {
  std::lock_guard lock(mutex_);
  auto it = add(users_, user, core, delta);
  if (it != users_.end() && it->second.total == 0) users_.erase(it);
}

size_t PubSubHub::subscriber_count(std::string_view topic) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.total;
}

std::vector<std::string> PubSubHub::members(std::string_view topic) const {
  std::vector<std::string> ids;
  std::lock_guard lock(mutex_);
  if (auto it = topics_.find(topic); it != topics_.end()) {
    for (const auto& [id, count] : it->second.members) ids.push_back(id);
  }
  return ids;
}

size_t PubSubHub::user_connection_count(std::string_view user) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user);
  return it == users_.end() ? 0 : it->second.total;
}

void PubSubHub::publish(std::string_view topic, std::string_view message, core::MessageType type,
                        Skip except) {
  std::vector<bool> cores(loops_.size());
  {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (size_t i = 0; i < cores.size(); ++i) cores[i] = it->second.per_core[i] > 0;
  }
  auto outgoing = OutgoingMessage::make(message, type);
  route(cores, except, [outgoing, name = std::string(topic)](LoopPubSub& loop, const void* skip) {
    return loop.deliver_topic(name, *outgoing, skip);
  });
}

void PubSubHub::send_to_users(const std::vector<std::string>& user_ids, std::string_view message,
                              core::MessageType type) {
  // A user listed twice still gets the message once.
  std::vector<std::string> users = user_ids;
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<bool> cores(loops_.size());
  bool any = false;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& user : users) {
      auto it = users_.find(user);
      if (it == users_.end()) continue;
      for (size_t i = 0; i < cores.size(); ++i) {
        if (it->second.per_core[i] > 0) cores[i] = any = true;
      }
    }
  }
  if (!any) return;
  auto outgoing = OutgoingMessage::make(message, type);
  route(cores, {}, [outgoing, users](LoopPubSub& loop, const void*) {
    return loop.deliver_users(users, *outgoing);
  });
}

}  // namespace duplex::detail
