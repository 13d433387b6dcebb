#include "duplex/core/sse/event_stream.hpp"

#include <charconv>

namespace duplex::core {

namespace {

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

// "<name>: <value>\n", or "<name>:\n" for an empty value.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  if (value.empty()) {
    out.append(":\n");
    return;
  }
  out.append(": ");
  out.append(value);
  out.push_back('\n');
}

// One field line per line of `text`; LF, CR and CRLF each end a line.
void append_lines(std::string& out, std::string_view name, std::string_view text) {
  size_t start = 0;
  while (true) {
    const size_t end = text.find_first_of("\r\n", start);
    append_field(out, name, text.substr(start, end - start));
    if (end == text.npos) return;
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
}

void append_number(std::string& out, std::string_view name, uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  append_field(out, name, std::string_view(digits, static_cast<size_t>(end - digits)));
}

}  // namespace

std::string_view sse_error_text(SseError error) {
  switch (error) {
    case SseError::none:
      return "";
    case SseError::id_has_line_break:
      return "line break in the event id";
    case SseError::id_has_nul:
      return "NUL in the event id";
    case SseError::event_has_line_break:
      return "line break in the event type";
  }
  return "";
}

SseError append_event(std::string& out, const SseEvent& event) {
  if (event.id && has_line_break(*event.id)) return SseError::id_has_line_break;
  if (event.id && event.id->find('\0') != std::string_view::npos) return SseError::id_has_nul;
  if (has_line_break(event.event)) return SseError::event_has_line_break;
  if (event.id) append_field(out, "id", *event.id);
  if (!event.event.empty()) append_field(out, "event", event.event);
  if (event.retry_ms) append_number(out, "retry", *event.retry_ms);
  append_lines(out, "data", event.data);
  out.push_back('\n');
  return SseError::none;
}

void append_comment(std::string& out, std::string_view text) { append_lines(out, "", text); }

void append_retry(std::string& out, uint64_t ms) {
  append_number(out, "retry", ms);
  out.push_back('\n');
}

std::optional<uint64_t> parse_last_event_id(std::string_view value) {
  if (value.empty() || value.size() > 20 || (value[0] == '0' && value.size() > 1)) {
    return std::nullopt;
  }
  uint64_t n = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return n;
}

}  // namespace duplex::core
