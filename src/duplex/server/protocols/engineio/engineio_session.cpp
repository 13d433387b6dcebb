#include "duplex/server/protocols/engineio/engineio_session.hpp"

#include <utility>

#include "duplex/core/engineio/open_packet.hpp"
#include "duplex/core/engineio/packet.hpp"
#include "duplex/core/engineio/payload.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/protocols/engineio/engineio_errors.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::engineio::detail {

using core::engineio::CloseReason;
using core::engineio::PacketType;
using core::engineio::SessionPhase;
using core::engineio::SessionStep;
using core::engineio::TransportKind;
using ::duplex::detail::LoopPubSub;

namespace {

// A poll's answer: polling payloads are text.
const char* const kPayloadType = "text/plain; charset=UTF-8";
// POSTs are answered "ok" as text/html, as the reference does (some browsers offered a download
// for text/plain).
const char* const kPostType = "text/html";
// A forced close over polling waits this long for the client's next poll to carry it.
constexpr uint64_t kCloseTimeoutMs = 30'000;
// Packets one POST may carry (the body is bounded by max_payload too).
constexpr size_t kMaxPacketsPerPost = 10'000;

HttpHeaders no_store() { return {{"Cache-Control", "no-store"}}; }

}  // namespace

// --- Shared -----------------------------------------------------------------------------------

std::shared_ptr<Session> Shared::find(const std::string& sid) const {
  std::lock_guard lock(mutex);
  auto it = sessions.find(sid);
  return it == sessions.end() ? nullptr : it->second;
}

void Shared::add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex);
  sessions.emplace(session->sid(), session);
}

void Shared::remove(const std::string& sid) {
  std::shared_ptr<Session> last;  // released outside the lock
  std::lock_guard lock(mutex);
  auto it = sessions.find(sid);
  if (it == sessions.end()) return;
  last = std::move(it->second);
  sessions.erase(it);
}

// --- Session ----------------------------------------------------------------------------------

Session::Session(Shared& shared, std::string id, io::EventLoop& home, TransportKind kind,
                 io::PeerAddress peer)
    : shared_(shared),
      id_(std::move(id)),
      home_(home),
      peer_(std::move(peer)),
      state_(kind),
      transport_(kind) {
  ping_interval_timer_.self = this;
  ping_timeout_timer_.self = this;
  upgrade_timer_.self = this;
  close_timer_.self = this;
}

// finish() and abandon() disarm every timer on the home loop; the last reference may then go on
// any thread.
Session::~Session() = default;

void Session::run_home(std::function<void(Session&)> work) {
  if (LoopPubSub::current_event_loop() == &home_) {
    work(*this);
    return;
  }
  home_.post([self = shared_from_this(), work = std::move(work)] { work(*self); });
}

void Session::open(std::shared_ptr<WsLink> ws) {
  if (ws) ws_ = std::move(ws);
  const Options& options = shared_.options;
  core::engineio::OpenInfo info;
  info.sid = id_;
  info.websocket_upgrade = !ws_ && options.allow_upgrades && options.allow_websocket;
  info.ping_interval_ms = static_cast<uint32_t>(options.ping_interval.count());
  info.ping_timeout_ms = static_cast<uint32_t>(options.ping_timeout.count());
  info.max_payload = options.max_payload;
  queue(PacketType::open, core::engineio::open_packet_data(info), false);
  apply(state_.opened());
  auto self = shared_from_this();  // the handler may close the session
  if (shared_.on_connection) shared_.on_connection(*this);
}

void Session::poll(HeldResponse response, uint64_t poll_id) {
  if (finished_) {
    respond_error(response, ErrorCode::unknown_sid);
    return;
  }
  if (held_id_ != 0) {
    // Two polls at once: the reference refuses the second and ends the session.
    response.respond(400, {}, kPayloadType, no_store());
    finish(CloseReason::transport_error, "overlap from client");
    return;
  }
  held_ = std::move(response);
  held_id_ = poll_id;
  // While a probe is answered the client has paused polling: one that still comes is released
  // at once so the upgrade does not wait for it.
  if (close_when_flushed_ && waiting_.empty()) {
    answer_poll(true);
    finish(CloseReason::forced_close, "");
  } else if (!waiting_.empty() || close_when_flushed_ || state_.upgrading()) {
    answer_poll(false);
  }
}

void Session::poll_lost(uint64_t poll_id) {
  if (finished_ || poll_id != held_id_) return;
  held_id_ = 0;
  held_ = {};
  finish(CloseReason::transport_error, "poll connection closed prematurely");
}

void Session::post(std::string body, HeldResponse response) {
  if (finished_) {
    respond_error(response, ErrorCode::unknown_sid);
    return;
  }
  std::string scratch;
  std::vector<core::engineio::Packet> packets;
  const core::engineio::PayloadResult decoded =
      core::engineio::decode_payload(body, scratch, packets, kMaxPacketsPerPost);
  if (!decoded.ok) {
    // The reference drops the connection; a clear answer serves the client better.
    respond_error(response, ErrorCode::bad_request, decoded.error);
    finish(CloseReason::parse_error, decoded.error);
    return;
  }
  auto self = shared_from_this();  // handlers may close the session
  for (const core::engineio::Packet& packet : packets) {
    apply(state_.received(packet.type, packet.data), packet.data, packet.binary);
    if (finished_) break;
  }
  response.respond(200, "ok", kPostType, no_store());
}

void Session::ws_message(const std::shared_ptr<WsLink>& from, std::string_view data, bool binary) {
  if (finished_) return;
  const core::engineio::DecodeResult decoded = core::engineio::decode_ws_message(data, binary);
  if (from == probe_) {
    if (!decoded.ok) {
      apply(state_.probe_received(PacketType::noop, {}));  // anything but the probe drops it
      return;
    }
    apply(state_.probe_received(decoded.packet.type, decoded.packet.data));
    return;
  }
  if (from != ws_) return;
  if (!decoded.ok) {
    finish(CloseReason::parse_error, decoded.error);
    return;
  }
  auto self = shared_from_this();
  apply(state_.received(decoded.packet.type, decoded.packet.data), decoded.packet.data,
        decoded.packet.binary);
}

void Session::probe(std::shared_ptr<WsLink> link) {
  SessionStep step;
  if (finished_ || !state_.probe_opened(step)) {
    close_ws(link);
    return;
  }
  probe_ = std::move(link);
  apply(step);
}

void Session::ws_closed(const std::shared_ptr<WsLink>& link) {
  if (finished_) return;
  if (link == probe_) {
    probe_.reset();
    apply(state_.probe_closed());
  } else if (link == ws_) {
    ws_.reset();
    finish(CloseReason::transport_close, "");
  }
}

void Session::abandon() {
  finished_ = true;
  disarm(ping_interval_timer_);
  disarm(ping_timeout_timer_);
  disarm(upgrade_timer_);
  disarm(close_timer_);
  held_ = {};
  ws_.reset();
  probe_.reset();
}

bool Session::queue(PacketType type, std::string_view data, bool binary) {
  if (finished_ || state_.phase() != SessionPhase::open) return false;
  if (state_.transport() == TransportKind::websocket && ws_) {
    std::string frame;
    if (binary) {
      frame.assign(data);
    } else {
      core::engineio::append_packet(frame, type, data);
    }
    send_ws(ws_, std::move(frame), binary);
    return true;
  }
  waiting_.push_back({type, binary, std::string(data)});
  schedule_flush();
  return true;
}

bool Session::queue_encoded_message(std::string_view packet) {
  if (finished_ || state_.phase() != SessionPhase::open) return false;
  if (state_.transport() == TransportKind::websocket && ws_) {
    send_ws_view(ws_, packet);
    return true;
  }
  waiting_.push_back({PacketType::message, false, std::string(packet.substr(1))});
  schedule_flush();
  return true;
}

bool Session::queue_shared_message(::duplex::detail::MessageEncodings& message) {
  if (finished_ || state_.phase() != SessionPhase::open) return false;
  // The link's `ws` is read only on its own loop.
  if (state_.transport() == TransportKind::websocket && ws_ &&
      ws_->loop == LoopPubSub::current_event_loop() && ws_->ws) {
    return static_cast<::duplex::detail::Connection&>(*ws_->ws).send_broadcast(message);
  }
  return queue_encoded_message(message.message());
}

void Session::start_close() {
  if (finished_ || state_.phase() != SessionPhase::open) return;
  state_.start_closing();
  if (state_.transport() == TransportKind::websocket) {
    // Frames already queued go out ahead of the close frame.
    finish(CloseReason::forced_close, "");
    return;
  }
  // As the reference: what waits goes out first, and the close packet in a poll of its own
  // (the client handles the last messages before it learns the session is gone).
  if (held_id_ != 0 && waiting_.empty()) {
    answer_poll(true);
    finish(CloseReason::forced_close, "");
    return;
  }
  if (held_id_ != 0) answer_poll(false);
  close_when_flushed_ = true;
  arm(close_timer_, kCloseTimeoutMs);
}

void Session::apply(const SessionStep& step, std::string_view data, bool binary) {
  if (step.deliver && message_handler) {
    auto self = shared_from_this();
    message_handler(data, binary ? MessageType::binary : MessageType::text);
    if (finished_) return;
  }
  if (step.send_ping) queue(PacketType::ping, {}, false);
  if (step.send_probe_pong && probe_) {
    std::string pong;
    core::engineio::append_packet(pong, PacketType::pong, "probe");
    send_ws(probe_, std::move(pong), false);
  }
  if (step.release_poll && held_id_ != 0) answer_poll(false);
  if (step.switch_transport) {
    ws_ = std::move(probe_);
    ws_->probe = false;
    transport_.store(TransportKind::websocket, std::memory_order_release);
    // What waited for a poll goes out on the WebSocket, in order; a poll still held is ended.
    std::vector<Outgoing> waiting = std::move(waiting_);
    waiting_.clear();
    if (held_id_ != 0) answer_poll(false);
    for (Outgoing& out : waiting) {
      if (out.binary) {
        send_ws(ws_, std::move(out.data), true);
      } else {
        std::string frame;
        core::engineio::append_packet(frame, out.type, out.data);
        send_ws(ws_, std::move(frame), false);
      }
    }
    if (close_when_flushed_) {
      finish(CloseReason::forced_close, "");
      return;
    }
    if (upgrade_handler) upgrade_handler();
    if (finished_) return;
  }
  if (step.drop_probe && probe_) {
    close_ws(probe_);
    probe_.reset();
  }
  if (step.cancel_ping_timeout) disarm(ping_timeout_timer_);
  if (step.cancel_upgrade_timeout) disarm(upgrade_timer_);
  if (step.arm_ping_interval) {
    arm(ping_interval_timer_, static_cast<uint64_t>(shared_.options.ping_interval.count()));
  }
  if (step.arm_ping_timeout) {
    arm(ping_timeout_timer_, static_cast<uint64_t>(shared_.options.ping_timeout.count()));
  }
  if (step.arm_upgrade_timeout) {
    arm(upgrade_timer_, static_cast<uint64_t>(shared_.options.upgrade_timeout.count()));
  }
  if (step.close != CloseReason::none) finish(step.close, "");
}

void Session::finish(CloseReason reason, std::string_view description) {
  if (finished_) return;
  auto self = shared_from_this();
  const bool polling = state_.transport() == TransportKind::polling;
  state_.fail(reason);
  finished_ = true;
  disarm(ping_interval_timer_);
  disarm(ping_timeout_timer_);
  disarm(upgrade_timer_);
  disarm(close_timer_);
  if (polling && held_id_ != 0) {
    // The reference ends a held poll with a noop when the client said goodbye over polling,
    // and with a close packet otherwise.
    if (reason == CloseReason::transport_close) {
      waiting_.clear();
      answer_poll(false);
    } else {
      waiting_.clear();
      held_.respond(200, "1", kPayloadType, no_store());
      held_ = {};
      held_id_ = 0;
    }
  }
  waiting_.clear();
  if (ws_) close_ws(ws_);
  if (probe_) close_ws(probe_);
  ws_.reset();
  probe_.reset();
  shared_.remove(id_);
  if (close_handler) {
    const std::string text(description);  // the handler may outlive the caller's view
    close_handler(core::engineio::close_reason_text(reason), text);
  }
  message_handler = nullptr;
  close_handler = nullptr;
  upgrade_handler = nullptr;
}

void Session::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  home_.at_iteration_end([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->flush();
  });
}

void Session::flush() {
  flush_scheduled_ = false;
  if (finished_ || held_id_ == 0 || waiting_.empty()) return;
  if (state_.transport() != TransportKind::polling) return;
  // During a probe the packets wait for the switch, unless a poll is held anyway.
  answer_poll(false);
}

void Session::answer_poll(bool closing) {
  std::string body;
  for (const Outgoing& out : waiting_) {
    core::engineio::append_payload_packet(body, {out.type, out.data, out.binary});
  }
  waiting_.clear();
  if (closing) core::engineio::append_payload_packet(body, {PacketType::close, {}, false});
  if (body.empty()) core::engineio::append_payload_packet(body, {PacketType::noop, {}, false});
  HttpHeaders headers = no_store();
  for (auto& header : first_headers_) headers.push_back(std::move(header));
  first_headers_.clear();
  held_.respond(200, std::move(body), kPayloadType, std::move(headers));
  held_ = {};
  held_id_ = 0;
}

void Session::send_ws(const std::shared_ptr<WsLink>& link, std::string frame, bool binary) {
  const MessageType type = binary ? MessageType::binary : MessageType::text;
  if (link->loop == LoopPubSub::current_event_loop()) {
    if (link->ws) link->ws->send(frame, type);
    return;
  }
  link->loop->post([link, frame = std::move(frame), type] {
    if (link->ws) link->ws->send(frame, type);
  });
}

void Session::send_ws_view(const std::shared_ptr<WsLink>& link, std::string_view frame) {
  if (link->loop == LoopPubSub::current_event_loop()) {
    if (link->ws) link->ws->send(frame, MessageType::text);
    return;
  }
  send_ws(link, std::string(frame), false);
}

void Session::close_ws(const std::shared_ptr<WsLink>& link) {
  if (link->loop == LoopPubSub::current_event_loop()) {
    if (link->ws) link->ws->close(1000);
    return;
  }
  link->loop->post([link] {
    if (link->ws) link->ws->close(1000);
  });
}

void Session::arm(io::Timer& timer, uint64_t ms) { home_.schedule(timer, ms); }

void Session::disarm(io::Timer& timer) {
  if (timer.armed()) home_.cancel(timer);
}

void Session::on_ping_interval() { apply(state_.ping_interval_elapsed()); }
void Session::on_ping_timeout() { apply(state_.ping_timeout_elapsed()); }
void Session::on_upgrade_timeout() { apply(state_.upgrade_timeout_elapsed()); }
void Session::on_close_timeout() { finish(CloseReason::forced_close, ""); }

// --- engineio::Socket, the session's face ----------------------------------------------------

}  // namespace duplex::engineio::detail

namespace duplex::engineio {

namespace {
detail::Session& session(Socket& s) { return static_cast<detail::Session&>(s); }
const detail::Session& session(const Socket& s) { return static_cast<const detail::Session&>(s); }
}  // namespace

const std::string& Socket::id() const { return session(*this).sid(); }
Transport Socket::transport() const {
  return session(*this).current_transport() == core::engineio::TransportKind::websocket
             ? Transport::websocket
             : Transport::polling;
}
bool Socket::send(std::string_view data, MessageType type) {
  return session(*this).queue(core::engineio::PacketType::message, data,
                              type == MessageType::binary);
}
void Socket::close() { session(*this).start_close(); }
bool Socket::is_open() const { return !session(*this).closed(); }
bool Socket::writable() const { return session(*this).can_send_now(); }
const io::PeerAddress& Socket::remote_address() const { return session(*this).peer(); }
io::EventLoop& Socket::loop() const { return session(*this).home(); }
void Socket::on_message(std::function<void(std::string_view, MessageType)> handler) {
  session(*this).message_handler = std::move(handler);
}
void Socket::on_close(std::function<void(std::string_view, std::string_view)> handler) {
  session(*this).close_handler = std::move(handler);
}
void Socket::on_upgrade(std::function<void()> handler) {
  session(*this).upgrade_handler = std::move(handler);
}
std::any& Socket::user_data() { return session(*this).data; }

}  // namespace duplex::engineio
