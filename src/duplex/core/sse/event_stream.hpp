// Writing Server-Sent Events (WHATWG HTML, "Server-sent events": the text/event-stream format),
// and reading the Last-Event-ID request header a reconnecting client sends. No IO: events are
// appended to the caller's buffer, one field a line, lines ending in LF, and every event ends
// with the blank line that makes the client dispatch it.
//
// - The data is written as one "data:" line per line of the payload; LF, CR and CRLF each end a
//   line, so a payload that ends in a line break gets an empty last data line. A client joins
//   the lines with LF: the data reads back byte for byte, except that each CR and CRLF in it
//   arrives as LF (the format has no other way to carry them).
// - Values are written after ": ". A client strips one space after the colon, so a value that
//   itself starts with a space keeps it.
// - The stream is UTF-8: a client decodes it and replaces invalid bytes with U+FFFD. Nothing here
//   checks that; give it text (core/text/utf8.hpp validates).
// - Appending never allocates anything but the growth of `out`, and never writes a partial event:
//   an event that is refused leaves `out` as it was.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::core {

struct SseEvent {
  std::string_view data;   // the message; always written, so "" is a message with empty data
  std::string_view event;  // the event type; "" writes no event line (a client's "message")
  /// The event's id, which becomes the client's last event ID (sent back as Last-Event-ID when it
  /// reconnects). nullopt writes no id line, so the last ID stays; "" clears it.
  std::optional<std::string_view> id;
  /// The client's reconnection time in milliseconds; nullopt writes no retry line.
  std::optional<uint64_t> retry_ms;
};

enum class SseError : uint8_t {
  none,
  id_has_line_break,     // CR or LF in the id: it would end the line early
  id_has_nul,            // NUL in the id: a client ignores such an id
  event_has_line_break,  // CR or LF in the event type
};

/// Short static text for an error, e.g. "line break in the event id".
std::string_view sse_error_text(SseError error);

/// Appends the event's lines, in the order id, event, retry, data, then the blank line. Returns
/// SseError::none, or what is wrong with the id or the event type (then nothing is appended).
[[nodiscard]] SseError append_event(std::string& out, const SseEvent& event);

/// Appends a comment: ": <text>" (":" alone for empty text), one comment line per line of
/// `text`. Clients ignore comments; sent every few seconds, one keeps an idle stream and the
/// proxies on its way from timing out (": heartbeat").
void append_comment(std::string& out, std::string_view text);

/// Appends "retry: <ms>" and a blank line: sets the client's reconnection time without sending
/// an event (the blank line dispatches nothing, as no data came before it).
void append_retry(std::string& out, uint64_t ms);

/// Reads a Last-Event-ID header value as the ids this server sends: a decimal unsigned 64-bit
/// number as written by std::to_chars, so 1 to 20 ASCII digits, no sign, no spaces and no
/// leading zero (but "0" itself). nullopt for anything else, including a number over
/// UINT64_MAX.
std::optional<uint64_t> parse_last_event_id(std::string_view value);

}  // namespace duplex::core
