#include "duplex/server/protocols/sse_stream.hpp"

#include <algorithm>
#include <cstdint>

#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex::detail {

SseStream::SseStream(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
                     std::vector<std::string> shown)
    : exchange_(exchange), pubsub_(pubsub), follower_(std::move(topics), shown) {}

SseStream::~SseStream() { stop(); }

void SseStream::start(const std::vector<const uint64_t*>& from) {
  const auto missed = follower_.join(pubsub_, session_, from);
  std::string event;
  for (const auto& place : follower_.places()) {
    if (!place.lost) continue;
    // Said first, with the id where the client was: what follows is all that is kept.
    std::string data = "{\"topic\":";
    core::pubsub::append_json_string(data, TopicFollower<std::string>::shown(place));
    data += '}';
    event.clear();
    [[maybe_unused]] auto error = core::append_event(event, {.data = data, .event = "lost"});
    write_event(event, true);
  }
  for (const auto& m : missed) {
    follower_.take(m.place, m.message->sequence().seq);
    event.clear();
    [[maybe_unused]] auto error = core::append_event(event, {.data = m.message->payload()});
    write_event(event, true);
  }
  follower_.caught_up();
}

bool SseStream::deliver(MessageEncodings& message) {
  if (stopped_ || exchange_.finished()) return false;
  size_t place;
  switch (follower_.arrive(message.outgoing(), place)) {
    case TopicFollower<std::string>::Arrival::duplicate:
      return true;
    case TopicFollower<std::string>::Arrival::early:
      if (follower_.hold(place, message.outgoing().sequence(), std::string(message.sse_event()))) {
        return true;
      }
      // Too far behind to keep the order in memory: the stream ends, and the client resumes
      // from the history with its Last-Event-ID (or is told what it lost).
      stop();
      exchange_.end();
      return false;
    case TopicFollower<std::string>::Arrival::next:
      break;
  }
  ExchangeState& ex = state_of(exchange_);
  if (follower_.places().size() == 1 && ex.chunked) {
    // One topic: the id is the message's sequence, so the whole chunk is the same for every
    // such stream of the loop, made once and shared.
    last_write_ms_ = pubsub_.loop().now_ms();
    ex.conn.exchange_write_chunk(ex, message.sse_chunk(),
                                 ex.route.options.max_buffered + replay_bytes_);
  } else {
    write_event(message.sse_event());
  }
  follower_.release([&](size_t, const std::string& event) { write_event(event); });
  return !exchange_.finished();
}

void SseStream::write_event(std::string_view event, bool replay) {
  // One buffer per thread, not per stream: an idle stream keeps none.
  thread_local std::string scratch;
  scratch.assign("id: ");
  follower_.append_cursor(scratch);
  scratch += '\n';
  scratch.append(event);
  last_write_ms_ = pubsub_.loop().now_ms();
  ExchangeState& ex = state_of(exchange_);
  if (replay) {
    replay_bytes_ = static_cast<uint32_t>(
        std::min<uint64_t>(UINT32_MAX, uint64_t{replay_bytes_} + scratch.size() + 32));
    ex.conn.exchange_write(ex, scratch, SIZE_MAX);
  } else {
    ex.conn.exchange_write(ex, scratch, ex.route.options.max_buffered + replay_bytes_);
  }
}

void SseStream::heartbeat(uint64_t now_ms, uint64_t quiet_ms) {
  // Bytes still queued keep the line busy enough; a heartbeat on top could only drop the stream.
  if (stopped_ || now_ms - last_write_ms_ < quiet_ms || exchange_.buffered_amount() > 0) return;
  last_write_ms_ = now_ms;
  exchange_.write(": heartbeat\n\n");
}

void SseStream::stop() {
  if (stopped_) return;
  stopped_ = true;
  pubsub_.leave(session_);
}

}  // namespace duplex::detail
