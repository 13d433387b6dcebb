// Internal: one Engine.IO session (the public engineio::Socket is its face) and what it shares
// with the routes that feed it. The session lives on its home loop and is touched there only;
// HTTP requests and WebSocket messages that arrive on other loops are posted to it (run_home).
// Its decisions come from core::engineio::SessionState; here are the transports, the timers and
// the packets waiting for a poll.
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

#include "duplex/core/engineio/session_state.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/engineio_server.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex::detail {
class MessageEncodings;
}

namespace duplex::engineio::detail {

class Session;

/// A WebSocket carrying (or probing for) a session. Made on the WebSocket's loop; `ws` is read
/// and cleared there only. The session reaches it through send_frame / close_ws, which post to
/// that loop when it is not the caller's.
struct WsLink {
  WebSocket* ws = nullptr;
  io::EventLoop* loop = nullptr;
  std::weak_ptr<Session> session;  // set once the session has it
  bool probe = false;              // still probing (not yet the session's transport)
};

/// What every session and route of one engineio::Server share.
struct Shared {
  Options options;
  Server::ConnectionHandler on_connection;
  std::string open_suffix;  // the open packet's fields after the sid, made once

  mutable std::mutex mutex;  // guards `sessions`
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions;

  std::shared_ptr<Session> find(const std::string& sid) const;
  void add(const std::shared_ptr<Session>& session);
  void remove(const std::string& sid);
};

class Session final : public Socket, public std::enable_shared_from_this<Session> {
 public:
  Session(Shared& shared, std::string id, io::EventLoop& home, core::engineio::TransportKind kind,
          io::PeerAddress peer);
  ~Session();

  const std::string& sid() const { return id_; }
  io::EventLoop& home() const { return home_; }
  /// The transport as other loops see it (for a request's transport check).
  core::engineio::TransportKind current_transport() const {
    return transport_.load(std::memory_order_acquire);
  }
  bool closed() const { return state_.phase() == core::engineio::SessionPhase::closed; }
  bool can_send_now() const {
    if (finished_ || state_.phase() != core::engineio::SessionPhase::open) return false;
    return state_.transport() == core::engineio::TransportKind::websocket ? ws_ != nullptr
                                                                          : held_id_ != 0;
  }

  /// Runs `work` on the home loop: now when called there, else posted (keeping this alive).
  void run_home(std::function<void(Session&)> work);

  // --- on the home loop ---
  /// Sends the open packet (over `ws` when the session starts on WebSocket) and starts the
  /// heartbeat; the application's connection handler runs here.
  void open(std::shared_ptr<WsLink> ws);
  /// A GET: answered now with what waits, else held until there is something.
  void poll(HeldResponse response, uint64_t poll_id);
  /// The client of held poll `poll_id` went away before its answer.
  void poll_lost(uint64_t poll_id);
  /// A POST's packets; answers "ok" (or the error) through `response`.
  void post(std::string body, HeldResponse response);
  /// A WebSocket message from the transport or the probe `from`.
  void ws_message(const std::shared_ptr<WsLink>& from, std::string_view data, bool binary);
  /// A WebSocket asks to take over; refused (closed) unless the session may upgrade.
  void probe(std::shared_ptr<WsLink> link);
  void ws_closed(const std::shared_ptr<WsLink>& link);
  /// Ends the session for `reason` (a request against the protocol).
  void finish_for(core::engineio::CloseReason reason, std::string_view description) {
    finish(reason, description);
  }
  /// Headers for the first poll's answer (the handshake's cookie).
  void set_first_headers(HttpHeaders headers) { first_headers_ = std::move(headers); }
  /// Ends the session at once, without callbacks on the transports (server teardown).
  void abandon();

  // --- engineio::Socket ---
  const std::string& socket_id() const { return id_; }
  bool queue(core::engineio::PacketType type, std::string_view data, bool binary);
  /// Queues a text message already written as its Engine.IO packet ("4..."): over a WebSocket
  /// on this loop it goes straight into the connection's queue, with no copy of its own (what a
  /// Socket.IO emit to many sockets shares).
  bool queue_encoded_message(std::string_view packet);
  /// Queues a published message whose payload is an Engine.IO message: over a WebSocket on
  /// this loop as the shared frame (a slice of its topic's batch), as publish/subscribe sends
  /// it; otherwise as queue_encoded_message.
  bool queue_shared_message(::duplex::detail::MessageEncodings& message);
  void start_close();
  const io::PeerAddress& peer() const { return peer_; }
  std::function<void(std::string_view, MessageType)> message_handler;
  std::function<void(std::string_view, std::string_view)> close_handler;
  std::function<void()> upgrade_handler;
  std::any data;

 private:
  struct Outgoing {
    core::engineio::PacketType type;
    bool binary;
    std::string data;
  };
  template <void (Session::*Fire)()>
  struct SessionTimer final : io::Timer {
    Session* self = nullptr;
    void on_timer() override { (self->*Fire)(); }
  };

  void apply(const core::engineio::SessionStep& step, std::string_view data = {},
             bool binary = false);
  void finish(core::engineio::CloseReason reason, std::string_view description);
  void schedule_flush();
  void flush();
  /// Answers the held poll with what waits (and a close packet when `closing`), or a noop.
  void answer_poll(bool closing);
  void send_ws(const std::shared_ptr<WsLink>& link, std::string frame, bool binary);
  void send_ws_view(const std::shared_ptr<WsLink>& link, std::string_view frame);
  void close_ws(const std::shared_ptr<WsLink>& link);
  void arm(io::Timer& timer, uint64_t ms);
  void disarm(io::Timer& timer);
  void on_ping_interval();
  void on_ping_timeout();
  void on_upgrade_timeout();
  void on_close_timeout();

  Shared& shared_;
  std::string id_;
  io::EventLoop& home_;
  io::PeerAddress peer_;
  core::engineio::SessionState state_;
  std::atomic<core::engineio::TransportKind> transport_;
  std::shared_ptr<WsLink> ws_;     // the WebSocket transport
  std::shared_ptr<WsLink> probe_;  // a WebSocket probing for the upgrade
  std::vector<Outgoing> waiting_;  // packets not yet sent (polling)
  HeldResponse held_;
  HttpHeaders first_headers_;
  uint64_t held_id_ = 0;  // 0: no poll held
  bool flush_scheduled_ = false;
  bool close_when_flushed_ = false;  // a forced close waits for the next poll
  bool finished_ = false;
  SessionTimer<&Session::on_ping_interval> ping_interval_timer_;
  SessionTimer<&Session::on_ping_timeout> ping_timeout_timer_;
  SessionTimer<&Session::on_upgrade_timeout> upgrade_timer_;
  SessionTimer<&Session::on_close_timeout> close_timer_;
};

}  // namespace duplex::engineio::detail
