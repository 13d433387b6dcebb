// Internal: one SockJS session (the public sockjs::Session is its face), the requests and
// WebSockets that receive its frames, and what every session of one sockjs::Service shares.
// The session lives on its home loop and is touched there only; requests and WebSocket messages
// that arrive on other loops are posted to it (run_home). Its decisions come from
// core::sockjs::SessionState; here are the receivers, the timers and the messages waiting.
#pragma once

#include <any>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/core/sockjs/route.hpp"
#include "duplex/core/sockjs/session_state.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/http_exchange.hpp"
#include "duplex/server/session/session.hpp"
#include "duplex/server/sockjs_server.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex::detail {
class LoopPubSub;
class MessageEncodings;
class PubSubHub;
}  // namespace duplex::detail

namespace duplex::sockjs::detail {

class SessionImpl;

/// A request or WebSocket that receives a session's frames, made on its own loop. `ex` and
/// `ws` are read and cleared on that loop only; the session writes through send_to / end,
/// which post there when it is not the caller's. A polling receiver is answered through `held`
/// (from any thread) with what the session gathered in `body`.
struct Receiver {
  core::sockjs::Transport transport = core::sockjs::Transport::xhr;
  bool raw = false;  // a plain WebSocket at <prefix>/websocket: messages unframed
  io::EventLoop* loop = nullptr;
  HttpExchange* ex = nullptr;  // a streaming response
  WebSocket* ws = nullptr;     // the websocket transports
  HeldResponse held;           // a polling response
  HttpHeaders headers;         // a polling answer's headers (CORS, cookie)
  std::string callback;        // htmlfile and jsonp: the page's callback
  std::string body;            // home loop: a polling answer gathered so far
  std::weak_ptr<SessionImpl> session;
  core::sockjs::ReceiverKind kind() const;
};

/// What every session and route of one sockjs::Service share.
struct Shared {
  Options options;
  ::duplex::detail::PubSubHub* hub = nullptr;
  std::string info_suffix;  // /info's JSON after the entropy, made once
  std::string iframe_page;  // made once
  std::string iframe_etag;

  mutable std::mutex mutex;  // guards `sessions`
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> sessions;
  std::atomic<size_t> live{0};  // sessions not yet ended (WebSocket ones are not in `sessions`)

  std::shared_ptr<SessionImpl> find(const std::string& id) const;
  /// The session `id`, made on the calling loop (with `ex` as its opening request) when there
  /// is none yet.
  std::shared_ptr<SessionImpl> find_or_make(const std::string& id, const HttpExchange& ex,
                                            const io::PeerAddress& peer);
  void remove(const std::string& id, const SessionImpl* which);
};

class SessionImpl final : public Session, public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(Shared& shared, std::string id, io::EventLoop& home, io::PeerAddress peer);
  ~SessionImpl();

  const std::string& id() const { return id_; }
  io::EventLoop& home() const { return home_; }
  /// Runs `work` on the home loop: now when called there, else posted (keeping this alive).
  void run_home(std::function<void(SessionImpl&)> work);
  /// The opening request's path, query and headers (before the session is shared).
  void set_request(std::string url, HttpHeaders headers) {
    url_ = std::move(url);
    request_headers_ = std::move(headers);
  }

  // --- on the home loop ---
  /// A request or WebSocket that receives frames.
  void attach(std::shared_ptr<Receiver> receiver);
  /// `receiver` ended before the session ended it: its client dropped the request (the session
  /// ends at once), or its WebSocket closed.
  void receiver_gone(const std::shared_ptr<Receiver>& receiver);
  /// Messages from the client (xhr_send, jsonp_send, the WebSocket).
  void receive(const std::vector<std::string>& messages);
  /// Ends the session now, its receiver with it (a broken WebSocket message, server teardown).
  void end(uint16_t code, std::string_view reason);

  /// Ends the session at once, without callbacks on its receivers (server teardown).
  void abandon();

  /// A published message (session_kinds.cpp): false when it was not queued.
  bool deliver(::duplex::detail::MessageEncodings& message);

  // --- sockjs::Session ---
  bool queue(std::string_view message);
  void start_close(uint16_t code, std::string_view reason);
  bool open() const { return state_.phase() == core::sockjs::SessionPhase::open; }
  std::string_view transport_name() const;
  std::string_view url() const { return url_; }
  std::string_view request_header(std::string_view name) const;
  const io::PeerAddress& peer() const { return peer_; }
  ::duplex::detail::Session& session() { return session_; }
  ::duplex::detail::LoopPubSub& pubsub() const { return *pubsub_; }
  Shared& shared() const { return shared_; }
  std::any data;

 private:
  template <void (SessionImpl::*Fire)()>
  struct SessionTimer final : io::Timer {
    SessionImpl* self = nullptr;
    void on_timer() override { (self->*Fire)(); }
  };

  void apply(const core::sockjs::SessionStep& step);
  /// Sends `frame` ("o", "h", "a[...]", "c[...]") to the receiver in its transport's form.
  /// `counted`: the bytes count against the session's receiver's response limit.
  void send_frame(std::string_view frame, bool counted = true);
  /// Sends `frame` to a receiver that is not the session's and ends it.
  void answer_alone(std::shared_ptr<Receiver> receiver, std::string_view frame);
  void send_waiting();
  /// The receiver is a WebSocket on the home loop that may be sent to now (what the session
  /// queues then goes straight to it).
  bool websocket_here() const {
    return receiver_ && receiver_->ws && receiver_->loop == &home_ && state_.can_send_now();
  }
  /// Sends what waits at the end of this loop iteration, when a receiver can take it.
  void schedule_flush();
  void end_receiver();
  void finish();
  void on_heartbeat();
  void on_disconnect();
  void arm(io::Timer& timer, uint64_t ms);
  void disarm(io::Timer& timer);

  Shared& shared_;
  std::string id_;
  io::EventLoop& home_;
  io::PeerAddress peer_;
  ::duplex::detail::LoopPubSub* pubsub_;
  core::sockjs::SessionState state_;
  std::shared_ptr<Receiver> receiver_;
  std::vector<std::string> waiting_;  // quoted messages not yet sent
  std::string close_frame_;
  uint16_t close_code_ = 1006;
  std::string close_reason_ = "client went away";
  std::string url_;
  HttpHeaders request_headers_;
  std::string last_transport_;
  bool finished_ = false;
  bool flush_scheduled_ = false;
  ::duplex::detail::Session session_{::duplex::detail::SessionKind::sockjs, this};
  SessionTimer<&SessionImpl::on_heartbeat> heartbeat_timer_;
  SessionTimer<&SessionImpl::on_disconnect> disconnect_timer_;
};

}  // namespace duplex::sockjs::detail
