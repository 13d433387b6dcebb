// Internal: one Server-Sent Events stream (sse_endpoint.hpp) as a session: subscribed to its
// topics, it writes each published message as an event on its HTTP exchange, with its cursor as
// the id, in each topic's order (TopicFollower).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "duplex/server/http_exchange.hpp"
#include "duplex/server/protocols/topic_follower.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

class LoopPubSub;
class MessageEncodings;

class SseStream {
 public:
  /// `topics` are the full names (prefix included); `shown` the names the client asked for.
  SseStream(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
            std::vector<std::string> shown);
  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  /// Subscribes to every topic, first writing what was missed since each cursor (null: nothing
  /// to resume), or a "lost" event for a topic whose history no longer reaches back.
  void start(const std::vector<const uint64_t*>& from);
  /// A published message (session_kinds.cpp). False when the stream is no longer writable.
  bool deliver(MessageEncodings& message);
  /// Writes a heartbeat comment if nothing was written for `quiet_ms`.
  void heartbeat(uint64_t now_ms, uint64_t quiet_ms);
  /// Leaves every topic (the exchange is ending).
  void stop();

 private:
  // Writes an event (without its id line) with the stream's cursor as its id; `replay` events
  // are not held to the stream's limit (what a replay holds is bounded by the history).
  void write_event(std::string_view event, bool replay = false);

  HttpExchange& exchange_;
  LoopPubSub& pubsub_;
  Session session_{SessionKind::sse_stream, this};
  TopicFollower<std::string> follower_;  // held items: events that came early
  uint64_t last_write_ms_ = 0;
  // What the replay queued: a live event may find it still queued, on top of the route's limit.
  uint32_t replay_bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace duplex::detail
