// Internal: the seam between publish/subscribe and the transports. A Session is one recipient
// of published messages, whatever carries its bytes: it lives on one loop, may be bound to a
// user id, subscribes to topics, and is sent messages in its own wire format. Topics, users and
// the hub hold Sessions and never know the transport behind one; a WebSocket connection is one
// kind (and more come: SSE streams, long polls, Engine.IO and SockJS sessions, STOMP
// subscriptions, peers through a broker).
//
// A Session is a small record its transport owns, not a base class: an idle WebSocket that never
// subscribes and has no user id pays nothing for it (its Connection makes one on first need), and
// delivery dispatches on the kind tag (deliver(), defined where the kinds are known), with no
// virtual table. Membership is kept by LoopPubSub (pubsub/loop_pubsub.hpp), which is the only
// one to change `user_id` and `slots`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace duplex::detail {

struct Topic;
class MessageEncodings;

enum class SessionKind : uint8_t {
  websocket,   // detail::Connection, once upgraded
  sse_stream,  // detail::SseStream (protocols/sse_stream.hpp)
  long_poll,   // detail::LongPoll (protocols/long_poll.hpp)
  socketio,    // socketio::detail::SocketImpl (protocols/socketio/socketio_socket.hpp)
  sockjs,      // sockjs::detail::SessionImpl (protocols/sockjs/sockjs_session.hpp)
  stomp,       // stomp::detail::ConnectionImpl (protocols/stomp/stomp_connection.hpp)
};

class Session {
 public:
  /// A topic this session is subscribed to, with its place in the topic's subscriber list.
  struct Slot {
    Topic* topic;
    uint32_t index;
  };

  Session(SessionKind kind, void* transport) : transport_(transport), kind_(kind) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  SessionKind kind() const { return kind_; }
  /// The object behind the session, of the type its kind names.
  template <class T>
  T& transport() const {
    return *static_cast<T*>(transport_);
  }

  /// Empty when not bound to a user.
  const std::string& user_id() const { return user_id_; }
  /// In the order subscribed.
  const std::vector<Slot>& slots() const { return slots_; }
  Slot* find(const Topic* topic) {
    for (Slot& slot : slots_) {
      if (slot.topic == topic) return &slot;
    }
    return nullptr;
  }

 private:
  friend class LoopPubSub;
  friend class TopicTable;
  void* transport_;
  std::string user_id_;
  std::vector<Slot> slots_;
  SessionKind kind_;
};

/// Queues a published message to `session` in the form its transport needs, taking the
/// encoding from `message` (made there on first need, shared by every session of that form).
/// False when it was not queued: the session is closing, or dropped it as a slow reader. It may
/// run handlers that close sessions or change subscriptions (see TopicTable::for_each_subscriber).
/// Defined above every transport (server/session_kinds.cpp), so this header knows none of them.
bool deliver(Session& session, MessageEncodings& message);

}  // namespace duplex::detail
