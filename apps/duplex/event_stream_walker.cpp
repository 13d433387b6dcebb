#include "event_stream_walker.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace duplex::app {

EventStreamWalker::EventStreamWalker(bool chunked, size_t head_bytes)
    : head_(std::make_unique<uint8_t[]>(std::max<size_t>(head_bytes, 1))), head_bytes_(head_bytes) {
  // A stream has no length: the only bound is the chunk line's.
  if (chunked) {
    chunks_.emplace(core::BodyFraming::chunked(),
                    core::BodyLimits{.max_body = std::numeric_limits<uint64_t>::max()});
  }
}

void EventStreamWalker::fail(std::string_view reason) {
  failed_ = true;
  error_ = reason;
}

bool EventStreamWalker::is_data_field() const {
  return name_len_ == 4 && std::memcmp(name_, "data", 4) == 0;
}

// The data of an event is its data lines joined with LF.
void EventStreamWalker::start_data_line() {
  if (has_data_) take("\n", 1);
  has_data_ = true;
}

void EventStreamWalker::take(const char* p, size_t len) {
  data_size_ += len;
  const size_t keep = std::min(len, head_bytes_ - head_len_);
  if (keep == 0) return;
  std::memcpy(head_.get() + head_len_, p, keep);
  head_len_ += keep;
}

size_t EventStreamWalker::scan(std::string_view piece) {
  const char* p = piece.data();
  const char* const end = p + piece.size();
  while (p < end) {
    switch (state_) {
      case State::line_start:
        if (*p == '\n') {  // a blank line: the event ends, and is one if it had data
          ++p;
          if (has_data_) {
            has_data_ = false;
            event_ready_ = true;
            return static_cast<size_t>(p - piece.data());
          }
        } else if (*p == ':') {  // a comment
          ++p;
          state_ = State::skip;
        } else {
          name_len_ = 0;
          state_ = State::name;
        }
        break;
      case State::name: {
        const char c = *p++;
        if (c == ':') {
          state_ = is_data_field() ? State::after_colon : State::skip;
        } else if (c == '\n') {  // a field without a value ("data" alone is an empty line)
          if (is_data_field()) start_data_line();
          state_ = State::line_start;
        } else if (name_len_ < sizeof name_) {
          name_[name_len_++] = c;
        }
        break;
      }
      case State::after_colon:  // one space after the colon is not part of the value
        start_data_line();
        if (*p == ' ') ++p;
        state_ = State::data;
        break;
      case State::data:
      case State::skip: {
        const auto* lf =
            static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        const char* line_end = lf ? lf : end;
        if (state_ == State::data) take(p, static_cast<size_t>(line_end - p));
        if (!lf) return piece.size();
        p = lf + 1;
        state_ = State::line_start;
        break;
      }
    }
  }
  return piece.size();
}

}  // namespace duplex::app
