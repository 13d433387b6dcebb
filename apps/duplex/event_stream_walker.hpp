// How `duplex bench` reads a Server-Sent Events stream (the body of a `GET /sse` answer) as
// lean as it walks WebSocket frames: the chunked framing is read by core::BodyReader (strict
// CRLFs, sizes and extensions checked, the data handed out as views), and the events in it
// are walked line by line, where each line's end is found with memchr and nothing is copied
// but the first `head_bytes` of each event's data. For each event that has data (a blank line
// after one or more `data` lines) it gives the data's size (its lines joined with LF, as
// EventSource does) and its first bytes; comments (heartbeats), `id`, `event`, `retry` and
// other fields are stepped over. Lines end in LF, as every server here writes them; a CR is
// taken as part of the line, so a stream with CRLF line ends shows up as data of the wrong
// size, not as other data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "duplex/core/http/body_reader.hpp"

namespace duplex::app {

class EventStreamWalker {
 public:
  /// `chunked`: the body is in the chunked transfer coding; otherwise it runs to the end of the
  /// connection. `head_bytes` of each event's data are kept for the caller.
  EventStreamWalker(bool chunked, size_t head_bytes);

  /// Walks the next bytes of the body, calling `on_event(size, head, head_size)` for each event
  /// that ends in them; on_event returns false to stop. Returns false when it stopped, on a
  /// framing error (error() says which) or at the body's last chunk.
  template <typename OnEvent>
  bool feed(std::string_view in, OnEvent&& on_event);

  std::string_view error() const { return error_; }
  /// Events handed out so far.
  uint64_t events() const { return events_; }

 private:
  enum class State : uint8_t { line_start, name, after_colon, data, skip };

  template <typename OnEvent>
  bool walk(std::string_view piece, OnEvent& on_event);
  // Reads `piece` up to the end of the first event in it (then event_ready_), or all of it.
  // Returns the bytes read.
  size_t scan(std::string_view piece);
  bool is_data_field() const;
  void start_data_line();
  void take(const char* p, size_t len);  // bytes of a data line
  void fail(std::string_view reason);

  std::optional<core::BodyReader> chunks_;  // none: the body runs to the end of the connection
  std::unique_ptr<uint8_t[]> head_;
  size_t head_bytes_;
  size_t head_len_ = 0;
  uint64_t data_size_ = 0;  // of the event being read
  uint64_t events_ = 0;
  std::string_view error_;
  char name_[6] = {};  // the field name being read, its first bytes
  uint8_t name_len_ = 0;
  State state_ = State::line_start;
  bool has_data_ = false;     // a data line came in the event being read
  bool event_ready_ = false;  // scan() stopped at an event's end
  bool failed_ = false;
};

template <typename OnEvent>
bool EventStreamWalker::feed(std::string_view in, OnEvent&& on_event) {
  if (failed_) return false;
  if (!chunks_) return walk(in, on_event);
  while (!in.empty()) {
    const core::BodyResult r = chunks_->feed(in);
    if (r.status == core::BodyStatus::error) {
      fail(r.error_reason);
      return false;
    }
    in.remove_prefix(r.consumed);
    if (!r.data.empty() && !walk(r.data, on_event)) return false;
    if (r.status == core::BodyStatus::complete) {
      fail("the stream ended (last chunk)");
      return false;
    }
  }
  return true;
}

template <typename OnEvent>
bool EventStreamWalker::walk(std::string_view piece, OnEvent& on_event) {
  while (!piece.empty()) {
    piece.remove_prefix(scan(piece));
    if (failed_) return false;
    if (event_ready_) {
      event_ready_ = false;
      ++events_;
      const uint64_t size = data_size_;
      const size_t head_size = head_len_;
      data_size_ = 0;
      head_len_ = 0;
      if (!on_event(size, static_cast<const uint8_t*>(head_.get()), head_size)) return false;
    }
  }
  return true;
}

}  // namespace duplex::app
