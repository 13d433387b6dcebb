// Internal: one Socket.IO socket (a client's connection to one namespace), the public
// socketio::Socket's face. It is a session of the hub (SessionKind::socketio): its rooms and its
// namespace are topics it subscribes to, and deliver() queues what is published there to its
// Engine.IO session. It lives on its client's loop and is used there only, but for the room
// names it keeps for queries from other threads.
#pragma once

#include <any>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "duplex/io/timers.hpp"
#include "duplex/server/protocols/socketio/socketio_state.hpp"
#include "duplex/server/session/session.hpp"
#include "duplex/server/socketio_server.hpp"

namespace duplex::detail {
class LoopPubSub;
class MessageEncodings;
struct SocketIoPacket;
}  // namespace duplex::detail

namespace duplex::socketio::detail {

class ClientImpl;

class SocketImpl final : public Socket, public std::enable_shared_from_this<SocketImpl> {
 public:
  SocketImpl(std::shared_ptr<NamespaceImpl> nsp, std::shared_ptr<ClientImpl> client, std::string id,
             Json auth);
  ~SocketImpl();

  const std::string& socket_id() const { return id_; }
  NamespaceImpl& nsp_impl() const { return *nsp_; }
  const std::shared_ptr<NamespaceImpl>& nsp_ptr() const { return nsp_; }
  const Json& auth_payload() const { return auth_; }
  engineio::Socket& engine() const;
  io::EventLoop& loop() const;
  size_t loop_index() const { return loop_index_; }
  bool is_connected() const { return connected_; }
  bool was_recovered() const { return recovered_; }
  /// Makes this socket the one a saved session comes back as (before connect()).
  void restore(RecoveryLog::RestoredCopy restored);
  ::duplex::detail::Session& session() { return session_; }

  /// Runs `work` on the socket's loop (now when called there), if the socket is still there.
  void run_on_loop(std::function<void(SocketImpl&)> work);

  // --- on the socket's loop ---
  /// Middleware passed: joins the namespace, sends CONNECT, runs the connection handlers.
  void connect();
  /// An EVENT, ACK or DISCONNECT from the client. `args` are views valid during the call.
  void on_event(std::string_view name, std::vector<std::string_view> args,
                std::optional<uint64_t> ack_id, std::span<const std::string_view> attachments);
  void on_ack(uint64_t id, std::vector<std::string_view> args,
              std::span<const std::string_view> attachments);
  /// Leaves everything and reports `reason` (once).
  void close(std::string_view reason);

  /// A published message (session_kinds.cpp): false when it was not queued.
  bool deliver(::duplex::detail::MessageEncodings& message);
  /// An emit aimed at this socket by id (Broadcast::to(socket id)).
  bool deliver_packet(const ::duplex::detail::SocketIoPacket& packet);
  /// Whether this socket takes `packet` (not seen yet through another room, not in an except
  /// room, and, volatile, not when it could not send now).
  bool takes(const ::duplex::detail::SocketIoPacket& packet);

  // --- socketio::Socket ---
  bool send_event(std::string_view event, const std::vector<Value>& args,
                  std::optional<uint64_t> ack_id);
  bool send_with_ack(std::string_view event, const std::vector<Value>& args,
                     std::function<void(const AckReply&)> callback,
                     std::chrono::milliseconds timeout);
  void send_ack(uint64_t id, const std::vector<Value>& args);
  bool join_room(std::string_view room);
  bool leave_room(std::string_view room);
  std::vector<std::string> room_names() const;
  bool in_room(std::string_view room) const;
  void disconnect(bool close_client);

  std::unordered_map<std::string, std::vector<EventHandler>> handlers;
  std::vector<AnyHandler> any_handlers;
  std::vector<std::function<void(Socket&, std::string_view)>> disconnect_handlers;
  std::any data;

 private:
  struct PendingAck final : io::Timer {
    SocketImpl* self = nullptr;
    uint64_t id = 0;
    std::function<void(const AckReply&)> callback;
    void on_timer() override { self->ack_timed_out(id); }
  };
  void ack_timed_out(uint64_t id);
  static bool recoverable(std::string_view reason);
  bool seen(uint64_t packet_id);
  void send_text(std::string_view text, std::span<const std::string> attachments = {});

  std::shared_ptr<NamespaceImpl> nsp_;
  std::weak_ptr<ClientImpl> client_;
  engineio::Socket* engine_;
  ::duplex::detail::LoopPubSub& pubsub_;
  size_t loop_index_;
  std::string id_;
  Json auth_;
  ::duplex::detail::Session session_{::duplex::detail::SessionKind::socketio, this};
  bool connected_ = false;
  bool recovered_ = false;
  std::string pid_;                           // with recovery: the private session id
  std::vector<RecoveryLog::Packet> missed_;   // with recovery: sent after the CONNECT
  std::array<uint64_t, 4> recent_packets_{};  // emits taken lately (several rooms, one emit)
  size_t recent_next_ = 0;
  std::map<uint64_t, std::unique_ptr<PendingAck>> acks_;
  mutable std::mutex rooms_mutex_;
  std::vector<std::string> rooms_;  // joined rooms, in order (the id's own room not listed)
};

}  // namespace duplex::socketio::detail
