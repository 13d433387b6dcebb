#include "duplex/server/topic_table.hpp"

#include "duplex/server/connection.hpp"

namespace duplex::detail {

TopicTable::~TopicTable() = default;

Topic* TopicTable::find(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

bool TopicTable::subscribe(Connection& conn, Membership& m, std::string_view name) {
  Topic* topic = find(name);
  if (!topic) {
    auto created = std::make_unique<Topic>(std::string(name));
    topic = created.get();
    topics_.emplace(std::string_view(topic->name), std::move(created));
  } else if (m.find(topic)) {
    return false;
  }
  m.topics.push_back({topic, static_cast<uint32_t>(topic->subscribers.size())});
  topic->subscribers.push_back(&conn);
  return true;
}

bool TopicTable::unsubscribe(Membership& m, std::string_view name) {
  Topic* topic = find(name);
  Membership::Slot* slot = topic ? m.find(topic) : nullptr;
  if (!slot) return false;
  const uint32_t index = slot->index;
  m.topics.erase(m.topics.begin() + (slot - m.topics.data()));
  remove(*topic, index);
  return true;
}

void TopicTable::remove(Topic& topic, uint32_t index) {
  if (topic.delivering > 0) {
    // A delivery is walking the list by position: leave a hole, compacted when it ends.
    topic.subscribers[index] = nullptr;
    topic.has_holes = true;
    return;
  }
  Connection* last = topic.subscribers.back();
  topic.subscribers.pop_back();
  if (index < topic.subscribers.size()) {
    topic.subscribers[index] = last;
    last->membership()->find(&topic)->index = index;
  }
  if (topic.subscribers.empty()) topics_.erase(std::string_view(topic.name));
}

void TopicTable::settle(Topic& topic) {
  if (topic.has_holes) {
    topic.has_holes = false;
    uint32_t kept = 0;
    for (Connection* c : topic.subscribers) {
      if (!c) continue;
      c->membership()->find(&topic)->index = kept;
      topic.subscribers[kept++] = c;
    }
    topic.subscribers.resize(kept);
  }
  if (topic.subscribers.empty()) topics_.erase(std::string_view(topic.name));
}

}  // namespace duplex::detail
