#include "duplex/server/protocols/sockjs/sockjs_session.hpp"

#include <stdexcept>
#include <utility>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/sockjs/frame.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/protocols/sockjs/sockjs_framing.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"

namespace duplex::sockjs::detail {

using core::sockjs::ReceiverKind;
using core::sockjs::SessionPhase;
using core::sockjs::SessionStep;
using core::sockjs::Transport;
using ::duplex::detail::LoopPubSub;

namespace {

// Runs `work(receiver)` on the receiver's loop: now when that is the caller's, else posted.
template <class Work>
void on_receiver_loop(const std::shared_ptr<Receiver>& receiver, Work work) {
  if (receiver->loop == LoopPubSub::current_event_loop()) {
    work(*receiver);
    return;
  }
  receiver->loop->post([receiver, work = std::move(work)]() mutable { work(*receiver); });
}

}  // namespace

ReceiverKind Receiver::kind() const {
  switch (transport) {
    case Transport::websocket:
      return ReceiverKind::websocket;
    case Transport::xhr:
    case Transport::jsonp:
      return ReceiverKind::polling;
    default:
      return ReceiverKind::streaming;
  }
}

// --- Shared -----------------------------------------------------------------------------------

std::shared_ptr<SessionImpl> Shared::find(const std::string& id) const {
  std::lock_guard lock(mutex);
  auto it = sessions.find(id);
  return it == sessions.end() ? nullptr : it->second;
}

std::shared_ptr<SessionImpl> Shared::find_or_make(const std::string& id, const HttpExchange& ex,
                                                  const io::PeerAddress& peer) {
  std::lock_guard lock(mutex);
  auto it = sessions.find(id);
  if (it != sessions.end()) return it->second;
  io::EventLoop* loop = LoopPubSub::current_event_loop();
  if (!loop) throw std::logic_error("sockjs: a request off the server's loops");
  auto session = std::make_shared<SessionImpl>(*this, id, *loop, peer);
  std::string url(ex.path());
  if (!ex.query().empty()) {
    url += '?';
    url += ex.query();
  }
  HttpHeaders kept;
  for (std::string_view name :
       {"Origin", "Referer", "User-Agent", "Host", "Cookie", "X-Forwarded-For", "Authorization"}) {
    if (auto value = ex.header(name)) kept.emplace_back(name, *value);
  }
  session->set_request(std::move(url), std::move(kept));
  sessions.emplace(id, session);
  return session;
}

void Shared::remove(const std::string& id, const SessionImpl* which) {
  std::shared_ptr<SessionImpl> last;  // released outside the lock
  std::lock_guard lock(mutex);
  auto it = sessions.find(id);
  if (it == sessions.end() || it->second.get() != which) return;
  last = std::move(it->second);
  sessions.erase(it);
}

// --- SessionImpl ------------------------------------------------------------------------------

SessionImpl::SessionImpl(Shared& shared, std::string id, io::EventLoop& home, io::PeerAddress peer)
    : shared_(shared),
      id_(std::move(id)),
      home_(home),
      peer_(std::move(peer)),
      pubsub_(LoopPubSub::current()),
      state_(shared.options.response_limit) {
  heartbeat_timer_.self = this;
  disconnect_timer_.self = this;
  shared_.live.fetch_add(1, std::memory_order_relaxed);
}

// finish() disarms both timers on the home loop; the last reference may then go on any thread.
SessionImpl::~SessionImpl() = default;

void SessionImpl::run_home(std::function<void(SessionImpl&)> work) {
  if (LoopPubSub::current_event_loop() == &home_) {
    work(*this);
    return;
  }
  home_.post([self = shared_from_this(), work = std::move(work)] { work(*self); });
}

void SessionImpl::attach(std::shared_ptr<Receiver> receiver) {
  if (finished_) {
    // Ended already (a request that raced the end): it gets a close frame and ends.
    if (close_frame_.empty()) core::sockjs::append_close_frame(close_frame_, 3000, "Go away!");
    answer_alone(std::move(receiver), close_frame_);
    return;
  }
  const SessionStep step = state_.attach(receiver->kind(), !waiting_.empty());
  if (step.refuse) {
    // Only the newcomer hears of it; the session and its receiver go on.
    std::string frame;
    core::sockjs::append_close_frame(frame, 2010, "Another connection still open");
    answer_alone(std::move(receiver), frame);
    return;
  }
  if (step.end_receiver && !state_.has_receiver()) {
    // Closing: every request gets what was queued, then the close frame, until the session
    // ends.
    std::swap(receiver_, receiver);
    if (step.send_messages) send_waiting();
    if (step.send_close) send_frame(close_frame_, false);
    end_receiver();
    receiver_ = std::move(receiver);
    if (step.arm_disconnect) arm(disconnect_timer_, shared_.options.disconnect_delay.count());
    return;
  }
  receiver_ = std::move(receiver);
  last_transport_ = receiver_->raw
                        ? "raw_websocket"
                        : std::string(core::sockjs::transport_name(receiver_->transport));
  apply(step);
}

void SessionImpl::answer_alone(std::shared_ptr<Receiver> receiver, std::string_view frame) {
  std::swap(receiver_, receiver);
  send_frame(frame, false);
  end_receiver();
  receiver_ = std::move(receiver);
}

void SessionImpl::receiver_gone(const std::shared_ptr<Receiver>& receiver) {
  if (finished_ || receiver != receiver_) return;
  receiver_.reset();
  // A WebSocket that closed ends its session; so does a request its client dropped.
  apply(receiver->kind() == ReceiverKind::websocket ? state_.detach() : state_.receiver_lost());
}

void SessionImpl::receive(const std::vector<std::string>& messages) {
  auto self = shared_from_this();  // a handler may close the session
  for (const std::string& message : messages) {
    if (finished_ || state_.phase() != SessionPhase::open) return;
    if (shared_.options.on_message) shared_.options.on_message(*this, message);
  }
}

void SessionImpl::end(uint16_t code, std::string_view reason) {
  if (finished_) return;
  close_code_ = code;
  close_reason_ = std::string(reason);
  apply(state_.end());
}

bool SessionImpl::deliver(::duplex::detail::MessageEncodings& message) {
  if (finished_ || state_.phase() != SessionPhase::open) return false;
  // A WebSocket on this loop with nothing waiting takes the frame made once for every session.
  if (waiting_.empty() && websocket_here() && !receiver_->raw) {
    return static_cast<::duplex::detail::Connection&>(*receiver_->ws)
        .send_prepared(message.sockjs_ws_frame(), message);
  }
  if (receiver_ && receiver_->raw) return queue(message.message());
  waiting_.emplace_back(message.sockjs_quoted());
  schedule_flush();
  return true;
}

bool SessionImpl::queue(std::string_view message) {
  if (finished_ || state_.phase() != SessionPhase::open) return false;
  if (receiver_ && receiver_->raw) {
    on_receiver_loop(receiver_, [text = std::string(message)](Receiver& r) {
      if (r.ws) r.ws->send(text);
    });
    return true;
  }
  if (waiting_.empty() && websocket_here()) {
    // The usual case over WebSocket: one frame, no copy kept.
    std::string frame;
    core::sockjs::append_message_frame(frame, message);
    receiver_->ws->send(frame);
    return true;
  }
  std::string quoted;
  core::sockjs::append_quoted(quoted, message);
  waiting_.push_back(std::move(quoted));
  schedule_flush();
  return true;
}

void SessionImpl::schedule_flush() {
  if (!state_.can_send_now() || flush_scheduled_) return;
  // What is queued in one loop iteration goes out in one frame (one poll's answer).
  flush_scheduled_ = true;
  home_.at_iteration_end([weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->flush_scheduled_ = false;
      if (!self->finished_ && !self->waiting_.empty()) self->apply(self->state_.message_queued());
    }
  });
}

void SessionImpl::start_close(uint16_t code, std::string_view reason) {
  if (code != 1000 && (code < 3000 || code > 4999)) {
    throw std::invalid_argument("sockjs: close code must be 1000 or 3000-4999");
  }
  if (finished_) return;
  const SessionPhase before = state_.phase();
  if (before != SessionPhase::open && before != SessionPhase::connecting) return;
  close_code_ = code;
  close_reason_ = std::string(reason);
  close_frame_.clear();
  core::sockjs::append_close_frame(close_frame_, code, reason);
  if (receiver_ && receiver_->raw) {
    on_receiver_loop(receiver_, [code, text = std::string(reason)](Receiver& r) {
      if (r.ws) r.ws->close(code, text);
    });
  }
  // What was queued before the close goes first.
  if (!waiting_.empty() && state_.can_send_now()) apply(state_.message_queued());
  if (!finished_) apply(state_.close());
}

std::string_view SessionImpl::transport_name() const { return last_transport_; }

std::string_view SessionImpl::request_header(std::string_view name) const {
  for (const auto& [key, value] : request_headers_) {
    if (core::iequals(key, name)) return value;
  }
  return {};
}

void SessionImpl::apply(const SessionStep& step) {
  if (step.send_open) send_frame(core::sockjs::kOpenFrame);
  if (step.send_messages) send_waiting();
  if (step.send_heartbeat) send_frame(core::sockjs::kHeartbeatFrame);
  if (step.send_close) send_frame(close_frame_);
  if (step.cancel_heartbeat) disarm(heartbeat_timer_);
  if (step.arm_heartbeat) arm(heartbeat_timer_, shared_.options.heartbeat_delay.count());
  if (step.cancel_disconnect) disarm(disconnect_timer_);
  if (step.arm_disconnect) arm(disconnect_timer_, shared_.options.disconnect_delay.count());
  if (step.end_receiver) {
    end_receiver();
    if (finished_) return;
    apply(state_.detach());
    if (finished_) return;
  }
  if (step.opened && shared_.options.on_open) {
    auto self = shared_from_this();  // the handler may close the session
    shared_.options.on_open(*this);
  }
  if (step.ended) finish();
}

void SessionImpl::send_frame(std::string_view frame, bool counted) {
  if (!receiver_) return;
  Receiver& r = *receiver_;
  if (r.raw) return;  // a plain WebSocket has no SockJS frames
  if (r.kind() == ReceiverKind::polling) {
    append_transport_frame(r.body, r.transport, frame, r.callback);
    return;
  }
  std::string bytes;
  append_transport_frame(bytes, r.transport, frame, r.callback);
  const size_t size = bytes.size();
  on_receiver_loop(receiver_, [bytes = std::move(bytes)](Receiver& rr) {
    if (rr.ws) {
      rr.ws->send(bytes);
    } else if (rr.ex) {
      rr.ex->write(bytes);
    }
  });
  if (!counted) return;
  const SessionStep step = state_.wrote(size);
  if (step.end_receiver) {
    // Past the response limit: this stream ends and the client opens the next.
    end_receiver();
    if (!finished_) apply(state_.detach());
  }
}

void SessionImpl::send_waiting() {
  if (waiting_.empty() || !receiver_) return;
  std::vector<std::string_view> quoted(waiting_.begin(), waiting_.end());
  std::string frame;
  core::sockjs::append_array_frame(frame, quoted);
  waiting_.clear();
  send_frame(frame);
}

void SessionImpl::end_receiver() {
  std::shared_ptr<Receiver> receiver = std::move(receiver_);
  receiver_.reset();
  if (!receiver) return;
  if (receiver->kind() == ReceiverKind::polling) {
    std::string body = std::move(receiver->body);
    receiver->body.clear();
    receiver->held.respond(200, std::move(body), std::string(content_type(receiver->transport)),
                           receiver->headers);
    return;
  }
  on_receiver_loop(receiver, [](Receiver& r) {
    if (r.ws) {
      WebSocket* ws = r.ws;
      r.ws = nullptr;
      ws->close(1000);
    } else if (r.ex) {
      HttpExchange* ex = r.ex;
      r.ex = nullptr;
      ex->end();
    }
  });
}

void SessionImpl::abandon() {
  if (finished_) return;
  finished_ = true;
  shared_.live.fetch_sub(1, std::memory_order_relaxed);
  disarm(heartbeat_timer_);
  disarm(disconnect_timer_);
  receiver_.reset();
  waiting_.clear();
}

void SessionImpl::finish() {
  if (finished_) return;
  auto self = shared_from_this();
  finished_ = true;
  shared_.live.fetch_sub(1, std::memory_order_relaxed);
  disarm(heartbeat_timer_);
  disarm(disconnect_timer_);
  if (receiver_) end_receiver();
  waiting_.clear();
  if (pubsub_) pubsub_->leave(session_);
  shared_.remove(id_, this);
  if (shared_.options.on_close) shared_.options.on_close(*this, close_code_, close_reason_);
}

void SessionImpl::on_heartbeat() { apply(state_.heartbeat_elapsed()); }
void SessionImpl::on_disconnect() { apply(state_.disconnect_elapsed()); }

void SessionImpl::arm(io::Timer& timer, uint64_t ms) { home_.schedule(timer, ms); }

void SessionImpl::disarm(io::Timer& timer) {
  if (timer.armed()) home_.cancel(timer);
}

}  // namespace duplex::sockjs::detail

// --- sockjs::Session, the session's face --------------------------------------------------------

namespace duplex::sockjs {

namespace {
detail::SessionImpl& impl(Session& s) { return static_cast<detail::SessionImpl&>(s); }
const detail::SessionImpl& impl(const Session& s) {
  return static_cast<const detail::SessionImpl&>(s);
}
}  // namespace

bool Session::send(std::string_view message) { return impl(*this).queue(message); }
void Session::close(uint16_t code, std::string_view reason) {
  impl(*this).start_close(code, reason);
}
bool Session::is_open() const { return impl(*this).open(); }
std::string_view Session::transport() const { return impl(*this).transport_name(); }
std::string_view Session::url() const { return impl(*this).url(); }
std::string_view Session::header(std::string_view name) const {
  return impl(*this).request_header(name);
}
const io::PeerAddress& Session::remote_address() const { return impl(*this).peer(); }
io::EventLoop& Session::loop() const { return impl(*this).home(); }

bool Session::subscribe(std::string_view topic) {
  detail::SessionImpl& s = impl(*this);
  if (!s.open() || topic.empty()) return false;
  return s.pubsub().subscribe(s.session(), topic);
}
bool Session::unsubscribe(std::string_view topic) {
  detail::SessionImpl& s = impl(*this);
  return s.pubsub().unsubscribe(s.session(), topic);
}
bool Session::is_subscribed(std::string_view topic) const {
  detail::SessionImpl& s = const_cast<detail::SessionImpl&>(impl(*this));
  return s.pubsub().is_subscribed(s.session(), topic);
}
std::vector<std::string> Session::topics() const {
  std::vector<std::string> names;
  for (const auto& slot : const_cast<detail::SessionImpl&>(impl(*this)).session().slots()) {
    names.push_back(slot.topic->name);
  }
  return names;
}
void Session::publish(std::string_view topic, std::string_view message) {
  detail::SessionImpl& s = impl(*this);
  s.shared().hub->publish(topic, message, core::MessageType::text,
                          ::duplex::detail::Skip{&s.session(), s.pubsub().index()});
}
void Session::set_user_id(std::string user) {
  detail::SessionImpl& s = impl(*this);
  if (!s.open()) return;
  s.pubsub().bind_user(s.session(), std::move(user));
}
std::string_view Session::user_id() const {
  return const_cast<detail::SessionImpl&>(impl(*this)).session().user_id();
}
std::any& Session::user_data() { return impl(*this).data; }

}  // namespace duplex::sockjs
