#include "duplex/server/pubsub_hub.hpp"

#include <algorithm>

#include "duplex/server/connection.hpp"
#include "duplex/server/fanout.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex::detail {

void PubSubHub::set_cores(std::vector<ServerCore*> cores) { cores_ = std::move(cores); }

template <class Map>
typename Map::iterator PubSubHub::add(Map& map, std::string_view key, size_t core, int delta) {
  auto it = map.find(key);
  if (it == map.end()) {
    if (delta < 0) return it;
    it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
    it->second.per_core.resize(cores_.size());
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

template <class Deliver>
size_t PubSubHub::route(const std::vector<bool>& cores, const WebSocket* except, Deliver deliver) {
  ServerCore* here = ServerCore::current();
  size_t delivered_here = 0;
  const ServerCore* owner =
      except ? &static_cast<const Connection*>(except)->server_core() : nullptr;
  for (size_t i = 0; i < cores_.size(); ++i) {
    if (!cores[i]) continue;
    ServerCore* core = cores_[i];
    const WebSocket* skip = core == owner ? except : nullptr;
    if (core == here) {
      delivered_here = deliver(*core, skip);
    } else {
      core->loop().post([core, skip, deliver] { deliver(*core, skip); });
    }
  }
  return delivered_here;
}

void PubSubHub::publish(std::string_view topic, std::string_view message, core::MessageType type,
                        const WebSocket* except) {
  std::vector<bool> cores(cores_.size());
  {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (size_t i = 0; i < cores.size(); ++i) cores[i] = it->second.per_core[i] > 0;
  }
  auto outgoing = OutgoingMessage::make(message, type);
  route(cores, except,
        [outgoing, name = std::string(topic)](ServerCore& core, const WebSocket* skip) {
          return core.deliver_topic(name, *outgoing, skip);
        });
}

void PubSubHub::send_to_users(const std::vector<std::string>& user_ids, std::string_view message,
                              core::MessageType type) {
  // A user listed twice still gets the message once.
  std::vector<std::string> users = user_ids;
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<bool> cores(cores_.size());
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
  route(cores, nullptr, [outgoing, users](ServerCore& core, const WebSocket*) {
    return core.deliver_users(users, *outgoing);
  });
}

size_t PubSubHub::broadcast(Endpoint* endpoint, std::string_view message, core::MessageType type,
                            const WebSocket* except) {
  auto outgoing = OutgoingMessage::make(message, type);
  return route(std::vector<bool>(cores_.size(), true), except,
               [outgoing, endpoint](ServerCore& core, const WebSocket* skip) {
                 return core.deliver_endpoint(endpoint, *outgoing, skip);
               });
}

}  // namespace duplex::detail
