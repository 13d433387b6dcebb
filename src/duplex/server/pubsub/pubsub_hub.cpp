#include "duplex/server/pubsub/pubsub_hub.hpp"

#include <algorithm>
#include <chrono>

#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::detail {

namespace {
uint64_t steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
}  // namespace

void PubSubHub::set_loops(std::vector<LoopPubSub*> loops) { loops_ = std::move(loops); }

void PubSubHub::set_broker(Broker* broker) {
  std::lock_guard lock(mutex_);
  broker_ = broker;
  if (!broker_) return;
  for (const auto& [topic, counts] : topics_) {
    broker_->interest_changed(Broker::Interest::topic, topic, true);
  }
  for (const auto& [user, counts] : users_) {
    broker_->interest_changed(Broker::Interest::user, user, true);
  }
}

void PubSubHub::tell_broker(Broker::Interest kind, std::string_view name, const LoopCounts& counts,
                            int delta) {
  if (!broker_) return;
  if (delta > 0 && counts.total == static_cast<size_t>(delta)) {
    broker_->interest_changed(kind, name, true);
  } else if (delta < 0 && counts.total == 0) {
    broker_->interest_changed(kind, name, false);
  }
}

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
  tell_broker(Broker::Interest::topic, topic, counts, delta);
  if (!user.empty()) {
    auto member = counts.members.find(user);
    if (member == counts.members.end()) member = counts.members.emplace(user, 0).first;
    member->second += delta;
    if (member->second == 0) counts.members.erase(member);
  }
  if (counts.total == 0) topics_.erase(it);
}

TopicHistory::Replay PubSubHub::count_subscription_since(size_t core, std::string_view topic,
                                                         std::string_view user,
                                                         const uint64_t* after_seq) {
  const uint64_t now = steady_ms();
  std::lock_guard lock(mutex_);
  history_.follow(topic);
  TopicHistory::Replay replay;
  if (after_seq) {
    replay = history_.since(topic, *after_seq, now);
  } else {
    replay.last_seq = history_.last_seq(topic);
  }
  auto it = add(topics_, topic, core, +1);
  tell_broker(Broker::Interest::topic, topic, it->second, +1);
  if (!user.empty()) ++it->second.members[std::string(user)];
  return replay;
}

void PubSubHub::count_user(size_t core, std::string_view user, int delta) {
  std::lock_guard lock(mutex_);
  auto it = add(users_, user, core, delta);
  if (it == users_.end()) return;
  tell_broker(Broker::Interest::user, user, it->second, delta);
  if (it->second.total == 0) users_.erase(it);
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
  publish_made(topic, OutgoingMessage::make(message, type, topic), except, true);
}

void PubSubHub::publish(std::string_view topic, std::shared_ptr<OutgoingMessage> made,
                        Skip except) {
  publish_made(topic, std::move(made), except, true);
}

void PubSubHub::publish_from_broker(std::string_view topic, std::string_view message,
                                    core::MessageType type) {
  publish_made(topic, OutgoingMessage::make(message, type, topic), {}, false);
}

void PubSubHub::publish_from_broker(std::string_view topic, std::shared_ptr<OutgoingMessage> made) {
  publish_made(topic, std::move(made), {}, false);
}

void PubSubHub::publish_made(std::string_view topic, std::shared_ptr<OutgoingMessage> made,
                             Skip except, bool forward) {
  const uint64_t now = steady_ms();
  LoopPubSub* here = LoopPubSub::current();
  bool deliver_here = false;
  std::shared_ptr<const OutgoingMessage> outgoing = made;
  const auto deliver = [outgoing, name = std::string(topic)](LoopPubSub& loop, const void* skip) {
    return loop.deliver_topic(name, *outgoing, skip);
  };
  {
    // The sequence is given, the message kept and the other loops' deliveries queued in one
    // step: a subscriber that joins with a replay gets it there or live (it tells them apart by
    // Sequence), and every loop's queue holds a topic's messages in the order of their sequence.
    std::lock_guard lock(mutex_);
    if (!made->socketio_only()) history_.record(made, now);
    // In the order of the sequences, so every process gets this one's messages in the order
    // its own subscribers do.
    if (forward && broker_) broker_->forward_publish(topic, outgoing);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (size_t i = 0; i < loops_.size(); ++i) {
      if (it->second.per_core[i] == 0) continue;
      LoopPubSub* loop = loops_[i];
      const void* skip = i == except.loop ? except.recipient : nullptr;
      if (loop == here && here->may_deliver_at_once()) {
        deliver_here = true;
        continue;
      }
      // Behind what is queued there already, even on the caller's own loop: a message that
      // other threads published before waits there, and this one must not overtake it.
      loop->queue_delivery([skip, deliver](LoopPubSub& l) { deliver(l, skip); });
    }
  }
  // On the caller's own loop at once, outside the lock: its handlers may publish again.
  if (deliver_here) deliver(*here, here->index() == except.loop ? except.recipient : nullptr);
}

void PubSubHub::send_to_users(const std::vector<std::string>& user_ids, std::string_view message,
                              core::MessageType type) {
  send_made(user_ids, message, type, true);
}

void PubSubHub::send_to_users_from_broker(const std::vector<std::string>& user_ids,
                                          std::string_view message, core::MessageType type) {
  send_made(user_ids, message, type, false);
}

void PubSubHub::send_made(const std::vector<std::string>& user_ids, std::string_view message,
                          core::MessageType type, bool forward) {
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
  Broker* broker = forward ? broker_ : nullptr;
  if (!any && !broker) return;
  auto outgoing = OutgoingMessage::make(message, type);
  if (broker) broker->forward_to_users(users, outgoing);
  if (!any) return;
  route(cores, {}, [outgoing, users](LoopPubSub& loop, const void*) {
    return loop.deliver_users(users, *outgoing);
  });
}

}  // namespace duplex::detail
