// Reading a text/event-stream as a browser's EventSource does (WHATWG HTML, "Interpreting an
// event stream"), for clients and for checking what event_stream.hpp writes. Sans-IO: the caller
// feeds bytes as they arrive and gets each dispatched message.
//
// - Lines end in CRLF, LF or CR (a CR at the end of the input waits for the next byte, so a
//   CRLF split across reads is one line break); one leading byte order mark is skipped.
// - Fields follow the algorithm: "event" sets the type, "data" adds a line to the data, "id"
//   sets the last event ID unless it holds a NUL, "retry" sets the reconnection time if it is
//   only ASCII digits (a value over 64 bits is ignored, as an empty one), comments (":") and
//   other fields are ignored, one space after the colon is dropped. A blank line dispatches:
//   the last event ID is updated, and a message comes out if any data line came before it.
// - Bytes are not decoded: the spec decodes UTF-8 first and turns invalid bytes into U+FFFD, so
//   for valid UTF-8 the results are the same, and otherwise they differ in those bytes only.
// - An event still open when the stream ends is never dispatched; the caller just stops feeding.
// - It buffers what spans reads (a partial line, the event's data, type and id), bounded by
//   max_event_bytes; a line or an event's data over it fails the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::core {

struct SseMessage {
  std::string_view type;           // the event field's value, or "message" when there was none
  std::string_view data;           // the data lines joined with LF
  std::string_view last_event_id;  // the last event ID when the message was dispatched
};

enum class SseReadStatus : uint8_t {
  need_more,  // every byte of the input was read, and no message is complete
  message,    // a message was dispatched `consumed` bytes into the input; feed the rest next
  error,      // over max_event_bytes; the reader stays failed
};

struct SseRead {
  SseReadStatus status = SseReadStatus::need_more;
  size_t consumed = 0;  // bytes of the input read (0 on error)
  SseMessage message;   // with status message: views into the reader, valid until the next feed
  std::string_view error_reason;
};

class EventStreamReader {
 public:
  explicit EventStreamReader(size_t max_event_bytes = 1 << 20) : max_(max_event_bytes) {}

  /// Reads `in` up to the end of the first message dispatched in it, or all of it.
  SseRead feed(std::string_view in);

  /// The last event ID string: what a reconnecting client sends as Last-Event-ID.
  std::string_view last_event_id() const { return last_id_; }
  /// The reconnection time the stream set, in milliseconds.
  std::optional<uint64_t> retry_ms() const { return retry_; }

 private:
  // Returns true when the line dispatched a message, which is then in `out`.
  bool on_line(std::string_view line, SseMessage& out);
  void on_field(std::string_view field, std::string_view value);
  SseRead fail(std::string_view reason);

  size_t max_;
  std::string line_;  // a line that spans reads
  std::string data_;
  std::string type_;
  std::string id_buffer_;
  std::string last_id_;
  std::optional<uint64_t> retry_;
  std::string_view error_reason_;
  uint8_t bom_ = 0;          // bytes of a leading byte order mark seen; 3 once past the start
  bool after_cr_ = false;    // the last line ended in CR: a LF next is part of its line break
  bool dispatched_ = false;  // the last feed returned a message, whose buffers are still held
};

}  // namespace duplex::core
