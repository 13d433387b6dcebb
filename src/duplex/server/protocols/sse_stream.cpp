#include "duplex/server/protocols/sse_stream.hpp"

#include <algorithm>

#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex::detail {

namespace {
// Messages that may wait for a predecessor. A topic's messages reach a loop in the order of their
// sequence (PubSubHub::publish), except that the loop's own publishes go out at once, ahead of
// what other threads queued for it before: only those can overtake, so this is generous.
constexpr size_t kMaxWaiting = 4096;
}  // namespace

SseStream::SseStream(HttpExchange& exchange, LoopPubSub& pubsub, std::vector<std::string> topics,
                     std::vector<std::string> shown)
    : exchange_(exchange), pubsub_(pubsub) {
  for (size_t i = 0; i < topics.size(); ++i) {
    cursors_.push_back({std::move(topics[i]), std::move(shown[i]), 0});
  }
}

SseStream::~SseStream() { stop(); }

void SseStream::start(const std::vector<const uint64_t*>& cursors) {
  // What each topic missed, merged in sequence order, then the live messages.
  struct Replayed {
    size_t cursor;
    std::shared_ptr<const OutgoingMessage> message;
  };
  std::vector<Replayed> replayed;
  std::vector<uint64_t> chain_at(cursors_.size(), 0);
  for (size_t i = 0; i < cursors_.size(); ++i) {
    auto replay = pubsub_.subscribe_since(session_, cursors_[i].topic, cursors[i]);
    if (!replay) continue;  // named twice
    chain_at[i] = replay->last_seq;
    // Ids count from the client's cursor through what is replayed.
    cursors_[i].last = cursors[i] ? std::min(*cursors[i], replay->last_seq) : replay->last_seq;
    if (replay->lost) {
      std::string data = "{\"topic\":";
      core::pubsub::append_json_string(data, cursors_[i].shown);
      data += '}';
      std::string event;
      [[maybe_unused]] auto error = core::append_event(event, {.data = data, .event = "lost"});
      write_event(cursors_[i], cursors_[i].last, event);  // the id stays where the client was
    }
    for (auto& message : replay->messages) replayed.push_back({i, std::move(message)});
  }
  std::sort(replayed.begin(), replayed.end(), [](const Replayed& a, const Replayed& b) {
    return a.message->sequence().seq < b.message->sequence().seq;
  });
  std::string event;
  for (const Replayed& r : replayed) {
    event.clear();
    [[maybe_unused]] auto error = core::append_event(event, {.data = r.message->payload()});
    write_event(cursors_[r.cursor], r.message->sequence().seq, event);
  }
  // The cursors now stand at the topics' last messages, so one that also arrives live (it was
  // on its way when the stream subscribed) is skipped.
  for (size_t i = 0; i < cursors_.size(); ++i) {
    cursors_[i].last = std::max(cursors_[i].last, chain_at[i]);
  }
}

SseStream::Cursor* SseStream::cursor_for(const std::string& topic) {
  for (Cursor& c : cursors_) {
    if (c.topic == topic) return &c;
  }
  return nullptr;
}

bool SseStream::deliver(MessageEncodings& message) {
  if (stopped_ || exchange_.finished()) return false;
  const OutgoingMessage& outgoing = message.outgoing();
  Cursor* cursor = cursor_for(outgoing.topic());
  if (!cursor) return false;
  const Sequence& sequence = outgoing.sequence();
  if (sequence.seq <= cursor->last) return true;  // written already (replayed)
  if (sequence.prev > cursor->last) {
    // Its predecessor is still on its way (published first, on another thread): wait for it.
    if (waiting_.size() == kMaxWaiting) {
      // Too far behind to keep the order in memory: the stream ends, and the client resumes
      // from the history with its Last-Event-ID (or is told what it lost).
      stop();
      exchange_.end();
      return false;
    }
    waiting_.push_back({static_cast<size_t>(cursor - cursors_.data()), sequence.seq, sequence.prev,
                        std::string(message.sse_event())});
    return true;
  }
  write_event(*cursor, sequence.seq, message.sse_event());
  if (!waiting_.empty()) write_waiting();
  return !exchange_.finished();
}

void SseStream::write_waiting() {
  bool progress = true;
  while (progress && !waiting_.empty()) {
    progress = false;
    for (size_t i = 0; i < waiting_.size(); ++i) {
      Cursor& cursor = cursors_[waiting_[i].cursor];
      if (waiting_[i].seq <= cursor.last) {
        waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
        progress = true;
        break;
      }
      if (waiting_[i].prev == cursor.last) {
        const Waiting next = std::move(waiting_[i]);
        waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
        write_event(cursor, next.seq, next.event);
        progress = true;
        break;
      }
    }
  }
}

void SseStream::write_event(Cursor& cursor, uint64_t seq, std::string_view event) {
  cursor.last = std::max(cursor.last, seq);
  scratch_.assign("id: ");
  places_.clear();
  for (const Cursor& c : cursors_) places_.push_back({c.shown, c.last});
  core::append_cursor(scratch_, places_);
  scratch_ += '\n';
  scratch_.append(event);
  last_write_ms_ = pubsub_.loop().now_ms();
  exchange_.write(scratch_);
}

void SseStream::heartbeat(uint64_t now_ms, uint64_t quiet_ms) {
  if (stopped_ || now_ms - last_write_ms_ < quiet_ms) return;
  last_write_ms_ = now_ms;
  exchange_.write(": heartbeat\n\n");
}

void SseStream::stop() {
  if (stopped_) return;
  stopped_ = true;
  pubsub_.leave(session_);
}

}  // namespace duplex::detail
