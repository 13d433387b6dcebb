#include "duplex/server/protocols/stomp/stomp_connection.hpp"

#include <algorithm>
#include <stdexcept>

#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/stomp/frame_encoder.hpp"
#include "duplex/core/stomp/message_frame.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"

namespace duplex::stomp::detail {

namespace st = core::stomp;
using ::duplex::detail::LoopPubSub;
using ::duplex::detail::MessageEncodings;
using ::duplex::detail::OutgoingMessage;

namespace {

constexpr std::string_view kTopic = "/topic/";
constexpr std::string_view kQueue = "/queue/";
constexpr std::string_view kUser = "/user/";

// The server topic of a user destination: "/user/<user>/queue/x" sent, "/user/queue/x"
// subscribed by a connection of <user>. Apart from every topic the /topic/ prefix makes.
std::string user_topic(std::string_view user, std::string_view rest) {
  std::string topic = "stomp-user:";
  topic += user;
  topic += ":/";
  topic += rest;
  return topic;
}

// The name after `prefix` in `destination`, or empty when it has none there.
std::string_view name_under(std::string_view destination, std::string_view prefix) {
  if (destination.size() <= prefix.size() || destination.substr(0, prefix.size()) != prefix) {
    return {};
  }
  return destination.substr(prefix.size());
}

std::vector<std::pair<std::string, std::string>> owned(std::span<const st::Header> headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(headers.size());
  for (const st::Header& h : headers) out.emplace_back(h.name, h.value);
  return out;
}

// Where frames are put together before they are sent: one per thread, not per connection (an
// idle connection keeps none). Nothing that writes it runs while a frame in it is being sent.
std::string& scratch() {
  thread_local std::string bytes;
  if (bytes.capacity() > (64u << 10)) std::string().swap(bytes);  // after a large frame
  bytes.clear();
  return bytes;
}

constexpr std::string_view kDestinations =
    "Destinations are /topic/<name> (every subscriber gets every message), /queue/<name> (each "
    "message to one subscriber) and /user/<user>/<name> (to the subscribers of /user/<name> that "
    "are that user's).";

}  // namespace

// An idle STOMP connection is this, its WebSocket's Connection and the decoder's header array:
// kept near 1 KiB in all.
static_assert(sizeof(ConnectionImpl) <= 520, "a STOMP connection outgrew its size guard");

// --- Shared -----------------------------------------------------------------------------------

Shared::Shared(Options opts)
    : options(std::move(opts)),
      queues({.max_messages = options.queue_max_messages, .max_bytes = options.queue_max_bytes}) {
  session_options.server = options.server_name;
  session_options.heart_beat_send_ms = static_cast<uint32_t>(options.heart_beat_send.count());
  session_options.heart_beat_receive_ms = static_cast<uint32_t>(options.heart_beat_receive.count());
  session_options.heart_beat_grace_ms = static_cast<uint32_t>(options.heart_beat_grace.count());
  limits.max_frame_bytes = static_cast<uint32_t>(options.max_frame);
}

SendResult Shared::send(std::string_view destination, std::string_view body,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::string_view content_type) {
  // A SEND to a server topic: the other protocols read the payload (the body, or a /pubsub
  // delivery of it), STOMP subscribers the SEND itself.
  const auto publish = [&](const std::string& topic, std::string_view pubsub_name) {
    const bool text = core::is_valid_utf8(body);
    std::shared_ptr<OutgoingMessage> made =
        !pubsub_name.empty() && text
            ? OutgoingMessage::make(
                  core::pubsub::delivery(pubsub_name, ::duplex::detail::json_value_of(body)),
                  core::MessageType::text, topic)
            : OutgoingMessage::make(
                  body, text ? core::MessageType::text : core::MessageType::binary, topic);
    made->set_stomp(std::make_shared<::duplex::detail::StompSend>(::duplex::detail::StompSend{
        std::string(body), std::string(content_type), std::move(headers)}));
    hub->publish(topic, std::move(made), ::duplex::detail::Skip{});
    return SendResult::sent;
  };
  if (const std::string_view name = name_under(destination, kTopic); !name.empty()) {
    return publish(options.topic_prefix + std::string(name),
                   options.publish_as_pubsub ? name : std::string_view{});
  }
  if (const std::string_view name = name_under(destination, kQueue); !name.empty()) {
    auto message = std::make_shared<QueuedMessage>(
        QueuedMessage{std::string(destination), std::string(body), std::string(content_type),
                      std::move(headers), next_queued.fetch_add(1, std::memory_order_relaxed)});
    return queues.push(name, std::move(message)) ? SendResult::sent : SendResult::queue_full;
  }
  if (const std::string_view rest = name_under(destination, kUser); !rest.empty()) {
    const size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) {
      return SendResult::unknown_destination;
    }
    return publish(user_topic(rest.substr(0, slash), rest.substr(slash + 1)), {});
  }
  return SendResult::unknown_destination;
}

// --- ConnectionImpl ---------------------------------------------------------------------------

ConnectionImpl::ConnectionImpl(Shared& shared, WebSocket& ws)
    : shared_(shared),
      ws_(&ws),
      loop_(*LoopPubSub::current_event_loop()),
      peer_(ws.remote_address()),
      pubsub_(*LoopPubSub::current()),
      decoder_(st::Version::v1_2, shared.limits),
      state_(shared.session_options) {
  start();
}

ConnectionImpl::ConnectionImpl(Shared& shared, sockjs::Session& session)
    : shared_(shared),
      sockjs_(&session),
      loop_(*LoopPubSub::current_event_loop()),
      peer_(session.remote_address()),
      pubsub_(*LoopPubSub::current()),
      decoder_(st::Version::v1_2, shared.limits),
      state_(shared.session_options) {
  start();
}

void ConnectionImpl::start() {
  send_timer_.self = this;
  receive_timer_.self = this;
  last_sent_ = last_received_ = now();
  shared_.live.fetch_add(1, std::memory_order_relaxed);
}

ConnectionImpl::~ConnectionImpl() { finish(close_reason_); }

uint64_t ConnectionImpl::now() const { return loop_.now_ms(); }

std::string_view ConnectionImpl::version_name() const { return st::version_name(state_.version()); }

ConnectionImpl::Sub* ConnectionImpl::find(std::string_view id) {
  for (Sub& sub : subs_) {
    if (sub.id == id) return &sub;
  }
  return nullptr;
}

void ConnectionImpl::receive(std::string_view bytes) {
  if (finished_) return;
  last_received_ = now();
  while (state_.phase() != st::SessionPhase::closed) {
    const st::DecodeEvent event = decoder_.next(bytes);
    switch (event.kind) {
      case st::DecodeEvent::Kind::need_more:
        return;
      case st::DecodeEvent::Kind::heart_beat:
        break;
      case st::DecodeEvent::Kind::frame:
        apply(state_.on_frame(event.frame));
        break;
      case st::DecodeEvent::Kind::error:
        apply(state_.decode_error(st::decode_error_reason(event.error), event.unknown_command));
        return;
    }
  }
}

void ConnectionImpl::apply(const st::SessionStep& step) {
  switch (step.action) {
    case st::SessionAction::none:
      break;
    case st::SessionAction::authenticate:
      return authenticate(step.credentials);
    case st::SessionAction::connected:
      connected(step);
      break;
    case st::SessionAction::subscribe:
      subscribe(step.subscription, step.send_receipt ? step.receipt_id : std::string_view{});
      if (state_.phase() == st::SessionPhase::closed) return;
      break;
    case st::SessionAction::unsubscribe:
      unsubscribe(step.subscription.id);
      break;
    case st::SessionAction::acknowledge:
    case st::SessionAction::nack:
      settle(step.deliveries, step.action == st::SessionAction::acknowledge);
      break;
    case st::SessionAction::publish:
      publish(step.publish, step.send_receipt ? step.receipt_id : std::string_view{});
      if (state_.phase() == st::SessionPhase::closed) return;
      break;
    case st::SessionAction::commit:
      for (const st::Operation& op : step.operations) {
        if (op.action == st::SessionAction::publish) {
          publish(op.publish, {});
          if (state_.phase() == st::SessionPhase::closed) return;
        } else {
          settle(op.deliveries, op.action == st::SessionAction::acknowledge);
        }
      }
      break;
    case st::SessionAction::send_heart_beat:
      send_frame("\n");
      break;
  }
  if (step.send_receipt) send_receipt(step.receipt_id);
  if (step.send_error) {
    send_error(step.error_message, step.error_body, step.error_version, step.error_receipt_id);
  } else if (step.close) {
    close_reason_ = "DISCONNECT";
    close_after_output();
  }
}

void ConnectionImpl::authenticate(const st::Credentials& credentials) {
  ConnectRequest request{credentials.login, credentials.passcode, credentials.host, {}};
  if (shared_.options.on_connect && !shared_.options.on_connect(request)) {
    return apply(state_.reject({}));
  }
  if (!request.user_id.empty()) pubsub_.bind_user(session_, std::move(request.user_id));
  session_id_ =
      "session-" + std::to_string(shared_.next_session.fetch_add(1, std::memory_order_relaxed));
  apply(state_.accept(session_id_));
}

void ConnectionImpl::connected(const st::SessionStep& step) {
  decoder_.set_version(step.version);
  const st::ConnectedHeaders headers(step);
  std::string& frame_bytes = scratch();
  st::append_frame(frame_bytes, st::Frame{st::Command::connected, headers.headers(), {}},
                   step.version);
  send_frame(frame_bytes);
  if (step.send_interval_ms) loop_.schedule(send_timer_, step.send_interval_ms);
  if (step.receive_timeout_ms) loop_.schedule(receive_timer_, step.receive_timeout_ms);
  opened_ = true;
  if (shared_.options.on_open) shared_.options.on_open(*this);
}

void ConnectionImpl::subscribe(const st::Subscription& subscription, std::string_view receipt) {
  const std::string_view destination = subscription.destination;
  if (shared_.options.authorize &&
      !shared_.options.authorize(*this, Access::subscribe, destination)) {
    return send_error("Access refused",
                      "SUBSCRIBE to " + std::string(destination) + " is not allowed.", {},
                      receipt.empty() ? std::nullopt : std::optional(receipt));
  }
  Sub sub{.id = std::string(subscription.id),
          .destination = std::string(destination),
          .ack = subscription.ack};
  if (const std::string_view name = name_under(destination, kTopic); !name.empty()) {
    sub.target = shared_.options.topic_prefix + std::string(name);
    pubsub_.subscribe(session_, sub.target);  // false when another subscription has it: fine
    subs_.push_back(std::move(sub));
    return;
  }
  if (const std::string_view rest = name_under(destination, kUser); !rest.empty()) {
    // A connection without a user id is its session's own user.
    sub.target = user_topic(user_id().empty() ? std::string_view(session_id_) : user_id(), rest);
    pubsub_.subscribe(session_, sub.target);
    subs_.push_back(std::move(sub));
    return;
  }
  if (const std::string_view name = name_under(destination, kQueue); !name.empty()) {
    sub.queue = true;
    sub.target = std::string(name);
    const st::ConsumerOptions options{.ack = subscription.ack == st::AckMode::automatic
                                                 ? st::ConsumerAck::automatic
                                                 : st::ConsumerAck::client,
                                      .prefetch = subscription.prefetch};
    std::weak_ptr<ConnectionImpl> self = weak_from_this();
    // The subscription is in place before add(), which hands out what the queue kept (on this
    // loop: now).
    subs_.push_back(std::move(sub));
    const size_t index = subs_.size() - 1;
    const std::string id = subs_[index].id;
    subs_[index].consumer =
        shared_.queues.add(name, options, {&loop_, [self, id](const QueueDelivery& delivery) {
                                             if (auto connection = self.lock())
                                               connection->take(id, delivery.consumer, delivery);
                                           }});
    return;
  }
  send_error("Unknown destination",
             "SUBSCRIBE to " + std::string(destination) + ": " + std::string(kDestinations), {},
             receipt.empty() ? std::nullopt : std::optional(receipt));
}

void ConnectionImpl::unsubscribe(std::string_view id) {
  auto it = std::find_if(subs_.begin(), subs_.end(), [id](const Sub& s) { return s.id == id; });
  if (it == subs_.end()) return;
  Sub sub = std::move(*it);
  subs_.erase(it);
  if (sub.queue) {
    shared_.queues.remove(sub.target, sub.consumer);  // what it held goes to the others
    return;
  }
  const bool still = std::any_of(subs_.begin(), subs_.end(),
                                 [&](const Sub& s) { return !s.queue && s.target == sub.target; });
  if (!still) pubsub_.unsubscribe(session_, sub.target);
}

void ConnectionImpl::settle(const st::Deliveries& deliveries, bool ack) {
  Sub* sub = find(deliveries.subscription);
  if (!sub || !sub->queue) return;  // a topic's message is not kept: nothing to settle
  for (uint64_t ack_id : deliveries.ack_ids) {
    auto it = std::find_if(sub->pending.begin(), sub->pending.end(),
                           [ack_id](const auto& p) { return p.first == ack_id; });
    if (it == sub->pending.end()) continue;
    const uint64_t delivery_id = it->second;
    sub->pending.erase(it);
    if (ack) {
      shared_.queues.ack(sub->target, sub->consumer, delivery_id);
    } else {
      shared_.queues.nack(sub->target, sub->consumer, delivery_id);
    }
    sub = find(deliveries.subscription);  // a delivery handed out meanwhile may move subs_
    if (!sub) return;
  }
}

void ConnectionImpl::publish(const st::Publish& publish, std::string_view receipt) {
  const auto receipt_id = receipt.empty() ? std::nullopt : std::optional(receipt);
  if (shared_.options.authorize &&
      !shared_.options.authorize(*this, Access::send, publish.destination)) {
    return send_error("Access refused",
                      "SEND to " + std::string(publish.destination) + " is not allowed.", {},
                      receipt_id);
  }
  switch (shared_.send(publish.destination, publish.body, owned(publish.headers),
                       publish.content_type)) {
    case SendResult::sent:
      return;
    case SendResult::unknown_destination:
      return send_error(
          "Unknown destination",
          "SEND to " + std::string(publish.destination) + ": " + std::string(kDestinations), {},
          receipt_id);
    case SendResult::queue_full:
      return send_error("Queue full",
                        "SEND to " + std::string(publish.destination) + ": the queue keeps " +
                            std::to_string(shared_.options.queue_max_messages) +
                            " messages at most and is full; the message was not taken.",
                        {}, receipt_id);
  }
}

bool ConnectionImpl::deliver(MessageEncodings& message) {
  if (finished_ || !opened_ || state_.phase() != st::SessionPhase::connected) return false;
  const std::string& topic = message.outgoing().topic();
  bool sent = false;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Sub& sub = subs_[i];
    if (sub.queue || sub.target != topic) continue;
    if (sub.ack == st::AckMode::automatic && ws_) {
      const io::SharedBytes& frame =
          message.stomp_ws_frame(sub.id, sub.destination, state_.version());
      sent |= static_cast<::duplex::detail::Connection&>(*ws_).send_prepared(frame, message);
      last_sent_ = now();
      continue;
    }
    // Its own frame: a client-ack subscription (its ack id), or a carrier that is no WebSocket.
    const bool acked = sub.ack != st::AckMode::automatic;
    // A topic keeps nothing for a subscriber, so its unacknowledged deliveries are only counted:
    // a client that never acknowledges is stopped at the queue bound, not left to grow.
    if (acked && state_.unacknowledged(sub.id) >= shared_.options.queue_max_messages) {
      fail("Too many unacknowledged messages",
           "Subscription " + sub.id + " to " + sub.destination + " holds " +
               std::to_string(shared_.options.queue_max_messages) +
               " unacknowledged messages (queue_max_messages): ACK them as they come.");
      return sent;
    }
    const uint64_t ack_id = acked ? next_ack_++ : 0;
    const std::string id = acked ? std::to_string(ack_id) : message.stomp_message_id();
    std::string& frame_bytes = scratch();
    message.append_stomp_frame(
        frame_bytes, sub.id, sub.destination, state_.version(), id,
        acked && state_.version() == st::Version::v1_2 ? std::string_view(id) : std::string_view{});
    if (!send_frame(frame_bytes)) continue;
    if (sub.ack != st::AckMode::automatic) state_.delivered(sub.id, ack_id);
    sent = true;
  }
  return sent;
}

void ConnectionImpl::take(std::string_view id, uint64_t consumer, const QueueDelivery& delivery) {
  Sub* sub = find(id);
  // Gone (its remove() put the delivery back), or for an earlier subscription of the same id.
  // A consumer still 0 is being added: add() hands out what was kept before it returns.
  if (finished_ || !sub || (sub->consumer != consumer && sub->consumer != 0)) return;
  const QueuedMessage& m = *delivery.message;
  std::vector<st::Header> headers;
  headers.reserve(m.headers.size());
  for (const auto& [name, value] : m.headers) headers.push_back({name, value});
  const bool acked = sub->ack != st::AckMode::automatic;
  const uint64_t ack_id = acked ? next_ack_ : 0;
  const std::string message_id = acked ? std::to_string(ack_id) : "q-" + std::to_string(m.id);
  std::string& frame_bytes = scratch();
  st::append_message_frame(
      frame_bytes,
      {.subscription = sub->id,
       .destination = m.destination,
       .message_id = message_id,
       .ack = acked && state_.version() == st::Version::v1_2 ? std::string_view(message_id)
                                                             : std::string_view{},
       .redelivered = delivery.redelivered(),
       .content_type = m.content_type,
       .headers = headers,
       .body = m.body},
      state_.version());
  if (!send_frame(frame_bytes)) {
    // A body SockJS cannot carry (not UTF-8): settled here, as no SockJS client could take it.
    if (acked) shared_.queues.ack(sub->target, consumer, delivery.delivery_id);
    return;
  }
  if (acked) {
    ++next_ack_;
    state_.delivered(sub->id, ack_id);
    sub->pending.emplace_back(ack_id, delivery.delivery_id);
  }
}

void ConnectionImpl::send_receipt(std::string_view receipt_id) {
  const st::Header header{"receipt-id", receipt_id};
  std::string& frame_bytes = scratch();
  st::append_frame(frame_bytes, st::Frame{st::Command::receipt, {&header, 1}, {}},
                   state_.version());
  send_frame(frame_bytes);
}

void ConnectionImpl::send_error(std::string_view message, std::string_view body,
                                std::string_view version,
                                std::optional<std::string_view> receipt_id) {
  if (finished_) return;
  std::vector<st::Header> headers{{"message", message}};
  if (!version.empty()) headers.push_back({"version", version});
  if (receipt_id) headers.push_back({"receipt-id", *receipt_id});
  headers.push_back({"content-type", "text/plain"});
  std::string& frame_bytes = scratch();
  st::append_frame(frame_bytes, st::Frame{st::Command::error, headers, body}, state_.version(),
                   true);
  send_frame(frame_bytes);
  close_reason_ = std::string(message);
  // The state is told (when the error is the adapter's own) so later frames are ignored.
  if (state_.phase() != st::SessionPhase::closed) state_.end();
  close_after_output();
}

void ConnectionImpl::fail(std::string_view message, std::string_view body) {
  send_error(message, body, {}, std::nullopt);
}

bool ConnectionImpl::send_frame(std::string_view frame) {
  const bool text = core::is_valid_utf8(frame);
  if (ws_) {
    ws_->send(frame, text ? core::MessageType::text : core::MessageType::binary);
  } else if (sockjs_ && text) {
    sockjs_->send(frame);
  } else {
    return false;
  }
  last_sent_ = now();
  return true;
}

void ConnectionImpl::close_after_output() {
  const bool disconnect = close_reason_ == "DISCONNECT";
  if (ws_ && ws_->ready_state() == ReadyState::open) {
    ws_->close(disconnect ? 1000 : 1008);
  } else if (sockjs_ && sockjs_->is_open()) {
    // SockJS closes with 1000 or 3000-4999: 3008 stands for 1008.
    sockjs_->close(disconnect ? 1000 : 3008, disconnect ? "Normal closure" : "STOMP error");
  }
}

void ConnectionImpl::transport_closed() {
  ws_ = nullptr;
  sockjs_ = nullptr;
  finish(close_reason_);
}

void ConnectionImpl::finish(std::string_view reason) {
  if (finished_) return;
  finished_ = true;
  state_.end();
  if (send_timer_.armed()) loop_.cancel(send_timer_);
  if (receive_timer_.armed()) loop_.cancel(receive_timer_);
  for (const Sub& sub : subs_) {
    if (sub.queue) shared_.queues.remove(sub.target, sub.consumer);
  }
  subs_.clear();
  pubsub_.leave(session_);
  shared_.live.fetch_sub(1, std::memory_order_relaxed);
  if (opened_ && shared_.options.on_close) shared_.options.on_close(*this, reason);
}

void ConnectionImpl::on_send_timer() {
  const st::SessionStep step = state_.send_timer_elapsed(static_cast<uint32_t>(now() - last_sent_));
  apply(step);
  if (step.timer_ms && !finished_) loop_.schedule(send_timer_, step.timer_ms);
}

void ConnectionImpl::on_receive_timer() {
  const st::SessionStep step =
      state_.receive_timer_elapsed(static_cast<uint32_t>(now() - last_received_));
  apply(step);
  if (step.timer_ms && !finished_) loop_.schedule(receive_timer_, step.timer_ms);
}

}  // namespace duplex::stomp::detail

// --- stomp::Connection, the connection's face ---------------------------------------------------

namespace duplex::stomp {

namespace {
detail::ConnectionImpl& impl(Connection& c) { return static_cast<detail::ConnectionImpl&>(c); }
const detail::ConnectionImpl& impl(const Connection& c) {
  return static_cast<const detail::ConnectionImpl&>(c);
}
}  // namespace

std::string_view Connection::session_id() const { return impl(*this).session_id(); }
std::string_view Connection::version() const { return impl(*this).version_name(); }
std::string_view Connection::user_id() const { return impl(*this).user_id(); }
const io::PeerAddress& Connection::remote_address() const { return impl(*this).peer(); }
void Connection::close(std::string_view message) { impl(*this).fail(message, message); }
std::any& Connection::user_data() { return impl(*this).data; }

}  // namespace duplex::stomp
