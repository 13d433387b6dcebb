#include "duplex/cluster/redis_broker.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "duplex/cluster/channel_envelope.hpp"
#include "duplex/cluster/resp_command.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"

namespace duplex::cluster::detail {

namespace {

constexpr uintptr_t kPublishTag = 1;
constexpr uintptr_t kReadyTag = 2;  // the publisher's first command (PING, or SELECT)

uint64_t random_node_id() {
  std::random_device device;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t{device()} << 32) ^ device();
  return id;
}

std::string hex(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

bool is_numeric_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The first address `host` resolves to, as text; empty with `error` set when none.
std::string resolve(const std::string& host, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* where = found->ai_family == AF_INET6
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(found->ai_addr)->sin6_addr)
                          : &reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  inet_ntop(found->ai_family, where, text, sizeof text);
  freeaddrinfo(found);
  return text;
}

}  // namespace

RedisBroker::RedisBroker(io::EventLoop& loop, ::duplex::detail::PubSubHub& hub,
                         RedisAddress address, RedisOptions options)
    : loop_(loop),
      hub_(hub),
      address_(std::move(address)),
      options_(std::move(options)),
      node_id_(random_node_id()),
      node_channel_(options_.channel_prefix + "node:" + hex(node_id_)),
      topic_prefix_(options_.channel_prefix + "topic:"),
      user_prefix_(options_.channel_prefix + "user:"),
      alive_(std::make_shared<RedisBroker*>(this)),
      publisher_(loop, {.on_reply =
                            [this](uintptr_t tag, bool ok, std::string_view error) {
                              if (tag == kReadyTag) {
                                on_ready_reply(ok, error);
                              } else if (!ok) {
                                unconfirmed_.fetch_add(1, std::memory_order_relaxed);
                              } else {
                                answered_ = true;
                              }
                            },
                        .on_lost = [this](std::string_view reason) { fail(reason); }}),
      subscriber_(loop,
                  {.on_subscribed =
                       [this](std::string_view channel) {
                         if (channel == node_channel_ && state_ == State::connecting) {
                           subscriber_ready_ = true;
                           maybe_connected();
                         }
                       },
                   .on_message = [this](std::string_view channel,
                                        std::string_view message) { on_message(channel, message); },
                   .on_lost = [this](std::string_view reason) { fail(reason); }}),
      rng_(std::random_device{}()) {}

RedisBroker::~RedisBroker() {
  state_ = State::stopped;
  loop_.cancel(retry_timer_);
  loop_.cancel(connect_timer_);
  loop_.cancel(slow_timer_);
  publisher_.close();
  subscriber_.close();
}

void RedisBroker::start() {
  loop_.post([alive = std::weak_ptr<RedisBroker*>(alive_)] {
    if (auto self = alive.lock()) (*self)->attempt();
  });
}

RedisStats RedisBroker::stats() const {
  return {.connected = connected_.load(std::memory_order_relaxed),
          .connections = connections_.load(std::memory_order_relaxed),
          .published = published_.load(std::memory_order_relaxed),
          .dropped = dropped_.load(std::memory_order_relaxed),
          .unconfirmed = unconfirmed_.load(std::memory_order_relaxed),
          .received = received_.load(std::memory_order_relaxed)};
}

std::string RedisBroker::channel(Interest kind, std::string_view name) const {
  std::string channel = kind == Interest::topic ? topic_prefix_ : user_prefix_;
  channel += name;
  return channel;
}

// --- from the hub, any thread ------------------------------------------------------------

void RedisBroker::forward_publish(
    std::string_view topic,
    const std::shared_ptr<const ::duplex::detail::OutgoingMessage>& message) {
  // A Socket.IO emit and a STOMP SEND travel with their parts (channel_envelope.hpp).
  hand_over({Item::Kind::publish, channel(Interest::topic, topic), message});
}

void RedisBroker::forward_to_users(
    const std::vector<std::string>& users,
    const std::shared_ptr<const ::duplex::detail::OutgoingMessage>& message) {
  for (const std::string& user : users) {
    hand_over({Item::Kind::publish, channel(Interest::user, user), message});
  }
}

void RedisBroker::interest_changed(Interest kind, std::string_view name, bool wanted) {
  hand_over({wanted ? Item::Kind::wanted : Item::Kind::unwanted, channel(kind, name), nullptr});
}

void RedisBroker::hand_over(Item item) {
  bool first;
  {
    std::lock_guard lock(mutex_);
    first = queue_.empty();
    queue_.push_back(std::move(item));
  }
  if (first) {
    loop_.post([alive = std::weak_ptr<RedisBroker*>(alive_)] {
      if (auto self = alive.lock()) (*self)->drain();
    });
  }
}

// --- on the loop ---------------------------------------------------------------------------

void RedisBroker::drain() {
  {
    std::lock_guard lock(mutex_);
    taken_.swap(queue_);
  }
  touched_.clear();
  for (const Item& item : taken_) {
    switch (item.kind) {
      case Item::Kind::publish:
        publish_now(item);
        break;
      case Item::Kind::wanted:
        wanted_.insert(item.channel);
        touched_.push_back(item.channel);
        break;
      case Item::Kind::unwanted:
        wanted_.erase(item.channel);
        touched_.push_back(item.channel);
        break;
    }
  }
  taken_.clear();
  reconcile(touched_);
}

void RedisBroker::publish_now(const Item& item) {
  if (state_ != State::connected) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t waiting = publisher_.pending_bytes();
  if (waiting > options_.max_buffered) {
    if (!slow_) {
      slow_ = true;
      answered_ = false;
      loop_.schedule(slow_timer_, 1000);
      dropped_at_slow_ = dropped_.load(std::memory_order_relaxed);
      log("redis: Redis is not keeping up (" + std::to_string(waiting) +
          " bytes waiting for it); publishes for other nodes are dropped until it does");
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto& message = *item.message;
  head_.clear();
  append_envelope_head(head_, node_id_, message.type(), message.payload(), message.socketio(),
                       message.stomp());
  scratch_.clear();
  append_command_header(scratch_, 3);
  append_argument(scratch_, "PUBLISH");
  append_argument(scratch_, item.channel);
  append_argument(scratch_, {head_, message.payload()});
  if (publisher_.command(scratch_, kPublishTag)) {
    published_.fetch_add(1, std::memory_order_relaxed);
  } else {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void RedisBroker::check_caught_up() {
  if (!slow_) return;
  if (!answered_ || publisher_.pending_bytes() > options_.max_buffered / 2) {
    answered_ = false;
    loop_.schedule(slow_timer_, 1000);
    return;
  }
  slow_ = false;
  log("redis: Redis keeps up again; " +
      std::to_string(dropped_.load(std::memory_order_relaxed) - dropped_at_slow_) +
      " publishes dropped while it did not");
}

void RedisBroker::reconcile(const std::vector<std::string>& touched) {
  // The subscriber is told of every wanted channel when it connects; until then, nothing.
  if (!subscriber_.open()) return;
  std::vector<std::string> subscribe, unsubscribe;
  for (const std::string& channel : touched) {
    const bool wanted = wanted_.count(channel) > 0;
    const bool asked = subscribed_.count(channel) > 0;
    if (wanted && !asked) {
      subscribed_.insert(channel);
      subscribe.push_back(channel);
    } else if (!wanted && asked) {
      subscribed_.erase(channel);
      unsubscribe.push_back(channel);
    }
  }
  subscriber_.subscribe(subscribe);
  subscriber_.unsubscribe(unsubscribe);
}

void RedisBroker::attempt() {
  if (state_ == State::stopped) return;
  // Whatever is left of the last attempt goes (its pending publishes count as unconfirmed).
  publisher_.close();
  subscriber_.close();
  subscribed_.clear();
  const uint64_t id = ++attempt_id_;
  if (is_numeric_address(address_.host)) {
    connect_to(address_.host);
    return;
  }
  state_ = State::resolving;
  loop_.schedule(connect_timer_, static_cast<uint64_t>(options_.connect_timeout.count()));
  auto answer = std::make_shared<std::pair<std::string, std::string>>();  // address, error
  loop_.offload([host = address_.host, answer] { answer->first = resolve(host, answer->second); },
                [alive = std::weak_ptr<RedisBroker*>(alive_), answer, id] {
                  auto self = alive.lock();
                  if (!self) return;
                  RedisBroker& broker = **self;
                  if (broker.state_ != State::resolving || broker.attempt_id_ != id) return;
                  if (answer->first.empty()) {
                    broker.fail("cannot resolve " + broker.address_.host + ": " + answer->second);
                  } else {
                    broker.connect_to(answer->first);
                  }
                });
}

void RedisBroker::connect_to(const std::string& ip) {
  state_ = State::connecting;
  publisher_ready_ = subscriber_ready_ = false;
  loop_.schedule(connect_timer_, static_cast<uint64_t>(options_.connect_timeout.count()));
  std::string error;
  if (!publisher_.connect(ip, address_.port, error) ||
      !subscriber_.connect(ip, address_.port, error)) {
    fail(error);
    return;
  }
  // Queued now, sent once connected: Redis's first answers are what "connected" waits for.
  scratch_.clear();
  if (address_.db != 0) {
    append_command_header(scratch_, 2);
    append_argument(scratch_, "SELECT");
    append_argument(scratch_, std::to_string(address_.db));
  } else {
    append_command_header(scratch_, 1);
    append_argument(scratch_, "PING");
  }
  publisher_.command(scratch_, kReadyTag);
  std::vector<std::string> channels{node_channel_};
  for (const std::string& channel : wanted_) channels.push_back(channel);
  subscribed_ = wanted_;
  subscriber_.subscribe(channels);
}

void RedisBroker::on_ready_reply(bool ok, std::string_view error) {
  if (ok) {
    publisher_ready_ = true;
    maybe_connected();
  } else if (!error.empty()) {
    // A Redis that answers but refuses (no such database, a password needed, ...).
    fail(std::string(address_.db != 0 ? "SELECT " + std::to_string(address_.db) : "PING") +
         " refused: " + std::string(error));
  }
  // No error: the connection went first, and on_lost says so.
}

void RedisBroker::maybe_connected() {
  if (state_ != State::connecting || !publisher_ready_ || !subscriber_ready_) return;
  state_ = State::connected;
  loop_.cancel(connect_timer_);
  failures_ = 0;
  connected_.store(true, std::memory_order_relaxed);
  connections_.fetch_add(1, std::memory_order_relaxed);
  std::string line = "redis: connected to " + address_.to_string();
  if (ever_connected_) {
    const uint64_t dropped = dropped_.load(std::memory_order_relaxed) - dropped_at_outage_;
    const uint64_t unconfirmed =
        unconfirmed_.load(std::memory_order_relaxed) - unconfirmed_at_outage_;
    line += " again; " + std::to_string(dropped) + " publishes dropped while disconnected, " +
            std::to_string(unconfirmed) + " unconfirmed when the connection went";
  }
  ever_connected_ = true;
  failure_logged_ = false;
  // Publishes left unanswered when a connection goes are counted as hiredis gives them up,
  // which can be before or after the loss is known: counted from here to the next connect.
  unconfirmed_at_outage_ = unconfirmed_.load(std::memory_order_relaxed);
  log(line);
}

void RedisBroker::on_message(std::string_view channel, std::string_view message) {
  std::optional<Envelope> envelope = read_envelope(message);
  if (!envelope || envelope->node == node_id_) return;
  if (channel.starts_with(topic_prefix_)) {
    received_.fetch_add(1, std::memory_order_relaxed);
    const std::string_view topic = channel.substr(topic_prefix_.size());
    if (!envelope->socketio && !envelope->stomp) {
      hub_.publish_from_broker(topic, envelope->payload, envelope->type);
      return;
    }
    // As its publisher made it: an emit only Socket.IO sockets take is no topic's message.
    const bool socketio_only = envelope->socketio && envelope->socketio->socketio_only;
    auto made = ::duplex::detail::OutgoingMessage::make(envelope->payload, envelope->type,
                                                        socketio_only ? std::string_view() : topic,
                                                        std::move(envelope->socketio));
    if (envelope->stomp) made->set_stomp(std::move(envelope->stomp));
    hub_.publish_from_broker(topic, std::move(made));
  } else if (channel.starts_with(user_prefix_)) {
    received_.fetch_add(1, std::memory_order_relaxed);
    hub_.send_to_users_from_broker({std::string(channel.substr(user_prefix_.size()))},
                                   envelope->payload, envelope->type);
  }
}

void RedisBroker::fail(std::string_view reason) {
  if (state_ == State::waiting || state_ == State::stopped) return;
  const bool was_connected = state_ == State::connected;
  state_ = State::waiting;
  slow_ = false;  // the outage's own lines count what is dropped from here
  loop_.cancel(slow_timer_);
  loop_.cancel(connect_timer_);
  connected_.store(false, std::memory_order_relaxed);
  if (was_connected) {
    dropped_at_outage_ = dropped_.load(std::memory_order_relaxed);
    log("redis: connection lost (" + std::string(reason) + "); retrying");
    failure_logged_ = true;
  } else if (!failure_logged_) {
    if (!ever_connected_) dropped_at_outage_ = dropped_.load(std::memory_order_relaxed);
    log("redis: cannot connect to " + address_.to_string() + " (" + std::string(reason) +
        "); retrying");
    failure_logged_ = true;
  }
  // Exponential backoff, each delay shortened by up to a half at random, so that nodes that
  // lost Redis together do not all come back in the same millisecond. The connections are
  // closed when it fires, outside any of hiredis's callbacks (this may run inside one).
  const double base =
      std::min(static_cast<double>(options_.reconnect_max_delay.count()),
               static_cast<double>(options_.reconnect_delay.count()) * std::pow(2.0, failures_));
  ++failures_;
  const double cut = std::uniform_real_distribution<double>(0, 0.5)(rng_);
  loop_.schedule(retry_timer_, static_cast<uint64_t>(base * (1 - cut)));
}

void RedisBroker::log(const std::string& line) const {
  if (options_.on_log) options_.on_log(line);
}

}  // namespace duplex::cluster::detail
