// Internal: one Server-Sent Events stream (sse_endpoint.hpp) as a session: subscribed to its
// topics, it writes each published message as an event on its HTTP exchange, with its cursor as
// the id. Messages of one topic are written in the topic's order (Sequence::prev): one that
// arrives before its predecessor (two publishers on two threads) waits for it, and one the
// stream has already written (replayed on resume, then arriving live) is skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/server/http_exchange.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

class LoopPubSub;

class SseStream {
 public:
  /// `topics` are the full names (prefix included); `shown` the names the client asked for.
  SseStream(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
            std::vector<std::string> shown);
  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  Session& session() { return session_; }
  /// Subscribes to every topic, first writing what was missed since each cursor (null: nothing
  /// to resume), or a "lost" event for a topic whose history no longer reaches back.
  void start(const std::vector<const uint64_t*>& cursors);
  /// A published message (session_kinds.cpp). False when the stream is no longer writable.
  bool deliver(MessageEncodings& message);
  /// Writes a heartbeat comment if nothing was written for `quiet_ms`.
  void heartbeat(uint64_t now_ms, uint64_t quiet_ms);
  /// Leaves every topic (the exchange is ending).
  void stop();

 private:
  struct Cursor {
    std::string topic;  // full name
    std::string shown;  // as the client named it
    uint64_t last = 0;  // seq of the last message written (or replayed past)
  };
  Cursor* cursor_for(const std::string& topic);
  void write_event(Cursor& cursor, uint64_t seq, std::string_view event);
  // Writes what waited for a predecessor that has now been written.
  void write_waiting();

  HttpExchange& exchange_;
  LoopPubSub& pubsub_;
  Session session_{SessionKind::sse_stream, this};
  std::vector<Cursor> cursors_;
  // Messages that came before their predecessor, with their events.
  struct Waiting {
    size_t cursor;
    uint64_t seq;
    uint64_t prev;
    std::string event;
  };
  std::vector<Waiting> waiting_;
  std::string scratch_;
  std::vector<core::TopicPlace> places_;
  uint64_t last_write_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace duplex::detail
