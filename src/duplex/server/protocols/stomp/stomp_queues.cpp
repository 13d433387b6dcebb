#include "duplex/server/protocols/stomp/stomp_queues.hpp"

#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex::stomp::detail {

using ::duplex::detail::LoopPubSub;

namespace {
size_t size_of(const QueuedMessage& message) {
  size_t bytes = message.body.size() + message.content_type.size();
  for (const auto& [name, value] : message.headers) bytes += name.size() + value.size();
  return bytes;
}
}  // namespace

Queues::Queue& Queues::find_or_make(std::string_view name) {
  auto it = queues_.find(name);
  if (it == queues_.end()) {
    it = queues_
             .emplace(std::string(name), Queue{core::stomp::QueueState<QueuedHandle>(limits_), {}})
             .first;
  }
  return it->second;
}

std::vector<Queues::Outgoing> Queues::collect(Queue& queue) {
  std::vector<Outgoing> outgoing;
  outgoing.reserve(deliveries_.size());
  for (QueueDelivery& delivery : deliveries_) {
    auto consumer = queue.consumers.find(delivery.consumer);
    if (consumer != queue.consumers.end()) {
      outgoing.push_back({consumer->second, std::move(delivery)});
    }
  }
  deliveries_.clear();
  return outgoing;
}

void Queues::hand_out(std::vector<Outgoing> outgoing) {
  io::EventLoop* here = LoopPubSub::current_event_loop();
  for (Outgoing& out : outgoing) {
    if (out.consumer.loop == here) {
      out.consumer.take(out.delivery);
    } else {
      out.consumer.loop->post([take = std::move(out.consumer.take),
                               delivery = std::move(out.delivery)] { take(delivery); });
    }
  }
}

void Queues::forget_if_idle(std::string_view name, Queue& queue) {
  if (queue.state.idle()) queues_.erase(queues_.find(name));
}

bool Queues::push(std::string_view name, QueuedHandle message) {
  std::vector<Outgoing> outgoing;
  {
    std::lock_guard lock(mutex_);
    Queue& queue = find_or_make(name);
    const size_t bytes = size_of(*message);
    if (queue.state.push(std::move(message), bytes, deliveries_) ==
        core::stomp::PushOutcome::refused) {
      forget_if_idle(name, queue);
      return false;
    }
    outgoing = collect(queue);
  }
  hand_out(std::move(outgoing));
  return true;
}

uint64_t Queues::add(std::string_view name, core::stomp::ConsumerOptions options,
                     QueueConsumer consumer) {
  std::vector<Outgoing> outgoing;
  uint64_t key;
  {
    std::lock_guard lock(mutex_);
    key = next_key_++;
    Queue& queue = find_or_make(name);
    queue.consumers.emplace(key, std::move(consumer));
    (void)queue.state.add_consumer(key, options, deliveries_);
    outgoing = collect(queue);
  }
  hand_out(std::move(outgoing));
  return key;
}

void Queues::remove(std::string_view name, uint64_t key) {
  std::vector<Outgoing> outgoing;
  {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(name);
    if (it == queues_.end()) return;
    Queue& queue = it->second;
    (void)queue.state.remove_consumer(key, deliveries_);
    queue.consumers.erase(key);
    outgoing = collect(queue);
    forget_if_idle(name, queue);
  }
  hand_out(std::move(outgoing));
}

bool Queues::ack(std::string_view name, uint64_t key, uint64_t delivery_id) {
  return settle(name, key, delivery_id, true);
}

bool Queues::nack(std::string_view name, uint64_t key, uint64_t delivery_id) {
  return settle(name, key, delivery_id, false);
}

bool Queues::settle(std::string_view name, uint64_t key, uint64_t delivery_id, bool ack) {
  std::vector<Outgoing> outgoing;
  {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(name);
    if (it == queues_.end()) return false;
    auto& state = it->second.state;
    if (!(ack ? state.ack(key, delivery_id, deliveries_)
              : state.nack(key, delivery_id, deliveries_))) {
      return false;
    }
    outgoing = collect(it->second);
  }
  hand_out(std::move(outgoing));
  return true;
}

size_t Queues::kept(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = queues_.find(name);
  return it == queues_.end() ? 0 : it->second.state.kept();
}

}  // namespace duplex::stomp::detail
