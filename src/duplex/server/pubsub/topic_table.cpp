#include "duplex/server/pubsub/topic_table.hpp"

namespace duplex::detail {

TopicTable::~TopicTable() = default;

Topic* TopicTable::find(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

bool TopicTable::subscribe(Session& session, std::string_view name) {
  Topic* topic = find(name);
  if (!topic) {
    auto created = std::make_unique<Topic>(std::string(name));
    topic = created.get();
    topics_.emplace(std::string_view(topic->name), std::move(created));
  } else if (session.find(topic)) {
    return false;
  }
  session.slots_.push_back({topic, static_cast<uint32_t>(topic->subscribers.size())});
  topic->subscribers.push_back(&session);
  return true;
}

bool TopicTable::unsubscribe(Session& session, std::string_view name) {
  Topic* topic = find(name);
  Session::Slot* slot = topic ? session.find(topic) : nullptr;
  if (!slot) return false;
  const uint32_t index = slot->index;
  session.slots_.erase(session.slots_.begin() + (slot - session.slots_.data()));
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
  Session* last = topic.subscribers.back();
  topic.subscribers.pop_back();
  if (index < topic.subscribers.size()) {
    topic.subscribers[index] = last;
    last->find(&topic)->index = index;
  }
  if (topic.subscribers.empty()) topics_.erase(std::string_view(topic.name));
}

void TopicTable::settle(Topic& topic) {
  if (topic.has_holes) {
    topic.has_holes = false;
    uint32_t kept = 0;
    for (Session* s : topic.subscribers) {
      if (!s) continue;
      s->find(&topic)->index = kept;
      topic.subscribers[kept++] = s;
    }
    topic.subscribers.resize(kept);
  }
  if (topic.subscribers.empty()) topics_.erase(std::string_view(topic.name));
}

}  // namespace duplex::detail
