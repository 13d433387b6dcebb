#include "duplex/server/pubsub/loop_pubsub.hpp"

#include <algorithm>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"

namespace duplex::detail {

namespace {
thread_local LoopPubSub* current_loop = nullptr;
}  // namespace

LoopPubSub* LoopPubSub::current() { return current_loop; }

void LoopPubSub::set_current(LoopPubSub* loop) { current_loop = loop; }

bool LoopPubSub::subscribe(Session& session, std::string_view topic) {
  if (!topics_.subscribe(session, topic)) return false;
  hub_.count_subscription(index_, topic, session.user_id_, +1);
  return true;
}

std::optional<TopicHistory::Replay> LoopPubSub::subscribe_since(Session& session,
                                                                std::string_view topic,
                                                                const uint64_t* after_seq) {
  if (!topics_.subscribe(session, topic)) return std::nullopt;
  return hub_.count_subscription_since(index_, topic, session.user_id_, after_seq);
}

bool LoopPubSub::unsubscribe(Session& session, std::string_view topic) {
  if (!topics_.unsubscribe(session, topic)) return false;
  hub_.count_subscription(index_, topic, session.user_id_, -1);
  return true;
}

bool LoopPubSub::is_subscribed(Session& session, std::string_view topic) const {
  const Topic* t = topics_.find(topic);
  return t && session.find(t);
}

void LoopPubSub::bind_user(Session& session, std::string user) {
  if (user.empty() || !session.user_id_.empty()) return;
  session.user_id_ = std::move(user);
  auto it = users_.find(session.user_id_);
  if (it == users_.end()) {
    it = users_.emplace(session.user_id_, std::vector<Session*>{}).first;
  }
  it->second.push_back(&session);
  hub_.count_user(index_, session.user_id_, +1);
}

void LoopPubSub::leave(Session& session) {
  topics_.unsubscribe_all(session, [&](std::string_view topic) {
    hub_.count_subscription(index_, topic, session.user_id_, -1);
  });
  if (session.user_id_.empty()) return;
  if (auto it = users_.find(session.user_id_); it != users_.end()) {
    auto& sessions = it->second;
    sessions.erase(std::find(sessions.begin(), sessions.end(), &session));
    hub_.count_user(index_, session.user_id_, -1);
    if (sessions.empty()) users_.erase(it);
  }
}

size_t LoopPubSub::deliver_topic(std::string_view name, const OutgoingMessage& message,
                                 const void* except) {
  Topic* topic = topics_.find(name);
  if (!topic) return 0;
  MessageEncodings encodings(message);
  if (batching_) {
    // Lay the frame after this iteration's earlier ones to the topic (see Topic::batch).
    if (!topic->batch || topic->batch_iteration != loop_.iteration()) {
      if (topic->batch && topic->batch.use_count() == 1) {
        topic->batch->clear();  // no queue holds the last one: reuse its storage
      } else {
        topic->batch = std::make_shared<std::string>();
      }
      topic->batch_iteration = loop_.iteration();
    }
    const std::string& frame = *message.frame();
    const size_t begin = topic->batch->size();
    topic->batch->append(frame);
    encodings.set_batch_slice(topic->batch, begin, begin + frame.size());
  }
  size_t sent = 0;
  topics_.for_each_subscriber(*topic, [&](Session& s) {
    if (&s != except && deliver(s, encodings)) ++sent;
  });
  return sent;
}

size_t LoopPubSub::deliver_users(const std::vector<std::string>& users,
                                 const OutgoingMessage& message) {
  MessageEncodings encodings(message);
  size_t sent = 0;
  for (const std::string& user : users) {
    auto it = users_.find(user);
    if (it == users_.end()) continue;
    // A copy: a send may close a session, which leaves this list.
    const std::vector<Session*> sessions = it->second;
    for (Session* s : sessions) {
      if (deliver(*s, encodings)) ++sent;
    }
  }
  return sent;
}

}  // namespace duplex::detail
