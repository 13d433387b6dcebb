#include "duplex/core/sse/event_stream_reader.hpp"

#include <charconv>

namespace duplex::core {

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

SseRead EventStreamReader::fail(std::string_view reason) {
  error_reason_ = reason;
  return {.status = SseReadStatus::error, .error_reason = reason};
}

SseRead EventStreamReader::feed(std::string_view in) {
  if (!error_reason_.empty())
    return {.status = SseReadStatus::error, .error_reason = error_reason_};
  if (dispatched_) {
    data_.clear();
    type_.clear();
    dispatched_ = false;
  }
  size_t pos = 0;
  for (; bom_ < kBom.size() && pos < in.size(); ++pos) {
    if (in[pos] != kBom[bom_]) {
      line_.append(kBom.substr(0, bom_));  // it only looked like one: those bytes are text
      bom_ = kBom.size();
      break;
    }
    ++bom_;
  }
  while (pos < in.size()) {
    if (after_cr_) {
      after_cr_ = false;
      if (in[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    const size_t end = in.find_first_of("\r\n", pos);
    const std::string_view piece = in.substr(pos, end - pos);
    if (line_.size() + piece.size() > max_) return fail("line too long");
    if (end == std::string_view::npos) {
      line_.append(piece);
      return {.consumed = in.size()};
    }
    after_cr_ = in[end] == '\r';
    pos = end + 1;
    std::string_view line = piece;
    if (!line_.empty()) {
      line_.append(piece);
      line = line_;
    }
    SseMessage message;
    const bool dispatched = on_line(line, message);
    line_.clear();
    if (data_.size() > max_) return fail("event data too large");
    if (dispatched) {
      dispatched_ = true;
      return {.status = SseReadStatus::message, .consumed = pos, .message = message};
    }
  }
  return {.consumed = pos};
}

bool EventStreamReader::on_line(std::string_view line, SseMessage& out) {
  if (line.empty()) {
    last_id_ = id_buffer_;
    if (data_.empty()) {
      type_.clear();
      return false;
    }
    out.type = type_.empty() ? std::string_view("message") : std::string_view(type_);
    out.data = std::string_view(data_).substr(0, data_.size() - 1);  // the last LF
    out.last_event_id = last_id_;
    return true;
  }
  if (line.front() == ':') return false;  // a comment
  const size_t colon = line.find(':');
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  on_field(line.substr(0, colon), value);
  return false;
}

void EventStreamReader::on_field(std::string_view field, std::string_view value) {
  if (field == "event") {
    type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    // Only ASCII digits (which is all from_chars takes for an unsigned number), within 64 bits.
    uint64_t ms = 0;
    const char* end = value.data() + value.size();
    const auto [stop, error] = std::from_chars(value.data(), end, ms);
    if (error == std::errc() && stop == end) retry_ = ms;
  }
}

}  // namespace duplex::core
