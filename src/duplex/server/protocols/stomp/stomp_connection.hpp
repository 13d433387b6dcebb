// Internal: one STOMP connection over a WebSocket or a SockJS session (the public
// stomp::Connection is its face), and what every connection of one stomp::Broker shares. It
// lives on its carrier's loop (a SockJS session's home loop) and is touched there only: frames
// come from the carrier, published messages from the hub (a
// Session of kind stomp), queue deliveries from Queues (posted to this loop). Its decisions
// come from core::stomp::SessionState; here are the subscriptions, the timers and the sends.
#pragma once

#include <any>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/stomp/frame_decoder.hpp"
#include "duplex/core/stomp/session_state.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/protocols/stomp/stomp_queues.hpp"
#include "duplex/server/session/session.hpp"
#include "duplex/server/sockjs_server.hpp"
#include "duplex/server/stomp_server.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex::detail {
class LoopPubSub;
class MessageEncodings;
class PubSubHub;
}  // namespace duplex::detail

namespace duplex::io {
class EventLoop;
}

namespace duplex::stomp::detail {

/// What a SEND to a destination came to.
enum class SendResult : uint8_t { sent, unknown_destination, queue_full };

/// What every connection of one Broker shares.
struct Shared {
  explicit Shared(Options opts);

  Options options;
  core::stomp::SessionOptions session_options;  // its server name points into `options`
  core::stomp::DecodeLimits limits;
  ::duplex::detail::PubSubHub* hub = nullptr;
  Queues queues;
  std::atomic<size_t> live{0};
  std::atomic<uint64_t> next_session{1};
  std::atomic<uint64_t> next_queued{1};

  /// A SEND to `destination` (from a client or Broker::send), from any thread.
  SendResult send(std::string_view destination, std::string_view body,
                  std::vector<std::pair<std::string, std::string>> headers,
                  std::string_view content_type);
};

class ConnectionImpl final : public Connection,
                             public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(Shared& shared, WebSocket& ws);
  /// Over SockJS: frames are text messages (a body that is not UTF-8 cannot be carried: such a
  /// MESSAGE is not sent, and a SEND of one is refused).
  ConnectionImpl(Shared& shared, sockjs::Session& session);
  ~ConnectionImpl();

  /// A WebSocket message: STOMP frames, whole or in pieces.
  void receive(std::string_view bytes);
  /// The WebSocket closed: the connection ends.
  void transport_closed();
  /// A published message (session_kinds.cpp): false when it was not sent.
  bool deliver(::duplex::detail::MessageEncodings& message);

  // --- stomp::Connection ---
  std::string_view session_id() const { return session_id_; }
  std::string_view version_name() const;
  std::string_view user_id() const { return session_.user_id(); }
  const io::PeerAddress& peer() const { return peer_; }
  void fail(std::string_view message, std::string_view body);
  std::any data;

 private:
  template <void (ConnectionImpl::*Fire)()>
  struct ConnectionTimer final : io::Timer {
    ConnectionImpl* self = nullptr;
    void on_timer() override { (self->*Fire)(); }
  };
  struct Sub {
    std::string id;
    std::string destination;
    std::string target;  // the server topic, or the queue's name
    bool queue = false;
    core::stomp::AckMode ack = core::stomp::AckMode::automatic;
    uint64_t consumer = 0;                              // a queue's key for it
    std::deque<std::pair<uint64_t, uint64_t>> pending;  // a queue's (ack id, delivery id)
  };

  void apply(const core::stomp::SessionStep& step);
  void authenticate(const core::stomp::Credentials& credentials);
  void connected(const core::stomp::SessionStep& step);
  void subscribe(const core::stomp::Subscription& subscription, std::string_view receipt);
  void unsubscribe(std::string_view id);
  void settle(const core::stomp::Deliveries& deliveries, bool ack);
  void publish(const core::stomp::Publish& publish, std::string_view receipt);
  /// A queue's delivery for subscription `id`, on this loop.
  void take(std::string_view id, uint64_t consumer, const QueueDelivery& delivery);
  /// Sends an ERROR (from the state's step, or the adapter's own) and closes after it.
  void send_error(std::string_view message, std::string_view body, std::string_view version,
                  std::optional<std::string_view> receipt_id);
  void send_receipt(std::string_view receipt_id);
  /// A STOMP frame as one message: over WebSocket text when it is UTF-8, else binary; over
  /// SockJS text only (false, nothing sent, when it is not UTF-8).
  bool send_frame(std::string_view frame);
  void close_after_output();
  void start();
  void finish(std::string_view reason);
  void on_send_timer();
  void on_receive_timer();
  uint64_t now() const;
  Sub* find(std::string_view id);

  Shared& shared_;
  WebSocket* ws_ = nullptr;            // the carrier: a WebSocket,
  sockjs::Session* sockjs_ = nullptr;  // or a SockJS session (null once it closed)
  io::EventLoop& loop_;
  io::PeerAddress peer_;
  ::duplex::detail::LoopPubSub& pubsub_;
  core::stomp::FrameDecoder decoder_;
  core::stomp::SessionState state_;
  ::duplex::detail::Session session_{::duplex::detail::SessionKind::stomp, this};
  std::vector<Sub> subs_;
  std::string session_id_;
  std::string close_reason_ = "connection lost";
  uint64_t next_ack_ = 1;
  uint64_t last_sent_ = 0;
  uint64_t last_received_ = 0;
  bool opened_ = false;
  bool finished_ = false;
  ConnectionTimer<&ConnectionImpl::on_send_timer> send_timer_;
  ConnectionTimer<&ConnectionImpl::on_receive_timer> receive_timer_;
};

}  // namespace duplex::stomp::detail
