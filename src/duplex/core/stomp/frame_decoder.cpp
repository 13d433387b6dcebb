#include "duplex/core/stomp/frame_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace duplex::core::stomp {

namespace {

constexpr std::string_view kContentLength = "content-length";
constexpr uint8_t kNoMatch = 0xFF;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The second byte of an escape `version` defines.
bool valid_escape(char c, Version version) {
  return c == 'n' || c == 'c' || c == '\\' || (c == 'r' && version == Version::v1_2);
}

char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 'c':
      return ':';
    default:
      return '\\';
  }
}

}  // namespace

std::string_view decode_error_reason(DecodeError error) {
  switch (error) {
    case DecodeError::unknown_command:
      return "Unknown command";
    case DecodeError::bare_cr:
      return "CR not followed by LF";
    case DecodeError::header_without_colon:
      return "Header line without a colon";
    case DecodeError::empty_header_name:
      return "Header with an empty name";
    case DecodeError::bad_escape:
      return "Undefined escape sequence in a header";
    case DecodeError::content_length_not_a_number:
      return "content-length is not a number";
    case DecodeError::content_length_too_large:
      return "content-length is larger than the frame size limit";
    case DecodeError::missing_nul:
      return "No NUL after the content-length bytes of body";
    case DecodeError::frame_too_large:
      return "Frame too large";
    case DecodeError::too_many_headers:
      return "Too many headers";
    case DecodeError::line_too_long:
      return "Command or header line too long";
  }
  return "Malformed frame";
}

FrameDecoder::FrameDecoder(Version version, DecodeLimits limits)
    : limits_(limits), version_(version) {}

bool FrameDecoder::mid_frame() const {
  return state_ != State::between && state_ != State::between_cr && state_ != State::failed;
}

size_t FrameDecoder::memory_held() const {
  const size_t inline_capacity = std::string().capacity();
  const size_t buffer = buffer_.capacity() > inline_capacity ? buffer_.capacity() + 1 : 0;
  return buffer + headers_.capacity() * sizeof(Header);
}

void FrameDecoder::release_memory() {
  if (release_) std::string().swap(buffer_);
  if (headers_.capacity() > kKeptHeaders) std::vector<Header>().swap(headers_);
  release_ = false;
}

bool FrameDecoder::fail(DecodeError error) {
  error_ = error;
  state_ = State::failed;
  return false;
}

DecodeEvent FrameDecoder::failure(std::string_view unknown_command) const {
  return {.kind = DecodeEvent::Kind::error, .error = error_, .unknown_command = unknown_command};
}

DecodeEvent FrameDecoder::next(std::string_view& in) {
  if (state_ == State::failed) return failure();
  if (release_ || headers_.capacity() > kKeptHeaders) release_memory();
  appended_ = 0;
  // Between frames: heart-beats, until a frame's first byte.
  for (size_t i = 0; state_ == State::between || state_ == State::between_cr; ++i) {
    if (i == in.size()) {
      // The input is used up between frames: an idle decoder keeps no header array either.
      if (headers_.capacity() > 0) std::vector<Header>().swap(headers_);
      in = {};
      return {};
    }
    const char c = in[i];
    if (c == '\n') {
      state_ = State::between;
      in.remove_prefix(i + 1);
      return {.kind = DecodeEvent::Kind::heart_beat};
    }
    if (state_ == State::between_cr) {
      fail(DecodeError::bare_cr);
      return failure();
    }
    if (c == '\r') {
      state_ = State::between_cr;
      continue;
    }
    in.remove_prefix(i);
    state_ = State::command;
    frame_bytes_ = 0;
    line_bytes_ = 0;
    header_count_ = 0;
    content_length_ = 0;
    has_content_length_ = false;
    in_content_length_ = false;
    content_length_digits_ = false;
    has_escapes_ = false;
  }
  if (in.empty()) return {};
  size_t used = 0;
  if (!scan(in, used)) {
    if (failed()) {
      if (error_ != DecodeError::unknown_command) return failure();
      // The command line is the frame's first line_bytes_ bytes.
      return failure((split_ ? std::string_view(buffer_) : in).substr(0, line_bytes_));
    }
    if (state_ == State::counted_body || state_ == State::nul) {
      // The frame's size is known: hold it in one piece (and its unescaped headers after it).
      buffer_.reserve(head_bytes_ + content_length_ + 1 + (has_escapes_ ? head_bytes_ : 0));
    }
    buffer_.append(in.substr(appended_));
    split_ = true;
    in = {};
    return {};
  }
  if (split_) buffer_.append(in.substr(appended_, used - appended_));
  // Unescaped text goes after the frame's bytes; reserved now, so that no view into the buffer
  // moves while it is written.
  if (has_escapes_) buffer_.reserve(buffer_.size() + head_bytes_);
  const char* frame = split_ ? buffer_.data() : in.data();
  release_ = split_ || has_escapes_;
  split_ = false;
  state_ = State::between;
  const DecodeEvent event{.kind = DecodeEvent::Kind::frame, .frame = build(frame)};
  in.remove_prefix(used);
  return event;
}

bool FrameDecoder::scan(std::string_view in, size_t& i) {
  const size_t n = in.size();
  while (i < n) {
    switch (state_) {
      case State::body: {
        const size_t look = std::min<size_t>(n - i, limits_.max_frame_bytes - frame_bytes_);
        const void* nul = std::memchr(in.data() + i, '\0', look);
        const size_t take = nul ? static_cast<const char*>(nul) - (in.data() + i) + 1 : look;
        frame_bytes_ += static_cast<uint32_t>(take);
        i += take;
        if (nul) return true;
        if (i < n) return fail(DecodeError::frame_too_large);
        return false;
      }
      case State::counted_body: {
        const uint64_t body_end = head_bytes_ + content_length_;
        const size_t take = static_cast<size_t>(std::min<uint64_t>(n - i, body_end - frame_bytes_));
        frame_bytes_ += static_cast<uint32_t>(take);
        i += take;
        if (frame_bytes_ == body_end) state_ = State::nul;
        break;
      }
      case State::nul:
        if (in[i] != '\0') return fail(DecodeError::missing_nul);
        ++frame_bytes_;
        ++i;
        return true;
      default:
        if (!head_byte(in, i)) return false;
    }
  }
  return false;
}

bool FrameDecoder::count_line_byte() {
  if (line_bytes_ == limits_.max_line_bytes) return fail(DecodeError::line_too_long);
  ++line_bytes_;
  return true;
}

// One byte of the command or header lines, in[i] (i is then moved past it), or a run of
// ordinary bytes of a value.
bool FrameDecoder::head_byte(std::string_view in, size_t& i) {
  if (frame_bytes_ == limits_.max_frame_bytes) return fail(DecodeError::frame_too_large);
  const char c = in[i++];
  ++frame_bytes_;
  const bool escapes = escaping_ != Version::v1_0;
  switch (state_) {
    case State::command:
      if (c == '\n') return end_command(in, i);
      if (c == '\r') {
        state_ = State::command_cr;
        return true;
      }
      return count_line_byte();
    case State::command_cr:
      if (c != '\n') return fail(DecodeError::bare_cr);
      return end_command(in, i);
    case State::line_start:
      if (c == '\n') return end_head();
      if (c == '\r') {
        state_ = State::blank_cr;
        return true;
      }
      if (header_count_ == limits_.max_headers) return fail(DecodeError::too_many_headers);
      ++header_count_;
      name_match_ = 0;
      state_ = State::name;
      [[fallthrough]];
    case State::name:
      if (c == '\n') return fail(DecodeError::header_without_colon);
      if (c == '\r') {
        state_ = State::name_cr;
        return true;
      }
      if (!count_line_byte()) return false;
      if (c == ':') {
        if (line_bytes_ == 1) return fail(DecodeError::empty_header_name);
        in_content_length_ = name_match_ == kContentLength.size() && !has_content_length_;
        has_content_length_ = has_content_length_ || in_content_length_;
        state_ = State::value;
        return true;
      }
      if (c == '\\' && escapes) {
        has_escapes_ = true;
        name_match_ = kNoMatch;
        state_ = State::name_escape;
        return true;
      }
      name_match_ = name_match_ < kContentLength.size() && kContentLength[name_match_] == c
                        ? name_match_ + 1
                        : kNoMatch;
      return true;
    case State::name_cr:
      return fail(c == '\n' ? DecodeError::header_without_colon : DecodeError::bare_cr);
    case State::name_escape:
    case State::value_escape:
      if (c == '\n' || c == '\r') return fail(DecodeError::bad_escape);
      if (!count_line_byte()) return false;
      if (!valid_escape(c, escaping_)) return fail(DecodeError::bad_escape);
      state_ = state_ == State::name_escape ? State::name : State::value;
      return true;
    case State::value:
      if (c == '\n') break;
      if (c == '\r') {
        state_ = State::value_cr;
        return true;
      }
      if (!count_line_byte()) return false;
      if (in_content_length_) {
        if (!is_digit(c)) return fail(DecodeError::content_length_not_a_number);
        content_length_ = content_length_ * 10 + static_cast<uint64_t>(c - '0');
        content_length_digits_ = true;
        if (content_length_ > limits_.max_frame_bytes) {
          return fail(DecodeError::content_length_too_large);
        }
        return true;
      }
      if (c == '\\' && escapes) {
        has_escapes_ = true;
        state_ = State::value_escape;
        return true;
      }
      {
        // The ordinary bytes after it, as far as the limits allow.
        const size_t room = std::min<size_t>({in.size() - i, limits_.max_frame_bytes - frame_bytes_,
                                              limits_.max_line_bytes - line_bytes_});
        size_t k = i;
        const size_t end = i + room;
        while (k < end && in[k] != '\n' && in[k] != '\r' && !(in[k] == '\\' && escapes)) ++k;
        frame_bytes_ += static_cast<uint32_t>(k - i);
        line_bytes_ += static_cast<uint32_t>(k - i);
        i = k;
      }
      return true;
    case State::value_cr:
      if (c != '\n') return fail(DecodeError::bare_cr);
      break;
    case State::blank_cr:
      if (c != '\n') return fail(DecodeError::bare_cr);
      return end_head();
    default:
      return true;
  }
  // A header line's LF.
  if (in_content_length_ && !content_length_digits_) {
    return fail(DecodeError::content_length_not_a_number);
  }
  in_content_length_ = false;
  content_length_digits_ = false;
  line_bytes_ = 0;
  state_ = State::line_start;
  return true;
}

// The command line's LF was in[i - 1].
bool FrameDecoder::end_command(std::string_view in, size_t i) {
  std::string_view line;
  if (split_) {
    buffer_.append(in.substr(appended_, i - appended_));
    appended_ = static_cast<uint32_t>(i);
    line = std::string_view(buffer_).substr(0, line_bytes_);
  } else {
    line = in.substr(0, line_bytes_);
  }
  const std::optional<Command> command = parse_command(line);
  if (!command) return fail(DecodeError::unknown_command);
  command_ = *command;
  escaping_ = escaping_of(command_, version_);
  line_bytes_ = 0;
  state_ = State::line_start;
  return true;
}

bool FrameDecoder::end_head() {
  head_bytes_ = frame_bytes_;
  if (!has_content_length_) {
    state_ = State::body;
    return true;
  }
  if (frame_bytes_ + content_length_ + 1 > limits_.max_frame_bytes) {
    return fail(DecodeError::frame_too_large);
  }
  state_ = content_length_ == 0 ? State::nul : State::counted_body;
  return true;
}

std::string_view FrameDecoder::unescaped(std::string_view text) {
  if (text.find('\\') == std::string_view::npos) return text;
  const size_t start = buffer_.size();
  for (size_t k = 0; k < text.size(); ++k) {
    buffer_ += text[k] == '\\' ? unescape(text[++k]) : text[k];
  }
  return std::string_view(buffer_).substr(start);
}

// The frame's bytes, checked by scan, are at `frame`: the command line, header lines, the blank
// line (each ending in LF or CRLF), the body and its NUL.
Frame FrameDecoder::build(const char* frame) {
  const char* const head_end = frame + head_bytes_;
  const char* line = static_cast<const char*>(std::memchr(frame, '\n', head_bytes_)) + 1;
  headers_.clear();
  headers_.reserve(header_count_);
  while (true) {
    const char* lf = static_cast<const char*>(std::memchr(line, '\n', head_end - line));
    const char* end = lf > line && lf[-1] == '\r' ? lf - 1 : lf;
    if (end == line) break;
    const char* colon = static_cast<const char*>(std::memchr(line, ':', end - line));
    std::string_view name(line, colon - line);
    std::string_view value(colon + 1, end - colon - 1);
    if (has_escapes_) {
      name = unescaped(name);
      value = unescaped(value);
    }
    headers_.push_back({name, value});
    line = lf + 1;
  }
  return {.command = command_,
          .headers = headers_,
          .body = std::string_view(head_end, frame_bytes_ - head_bytes_ - 1)};
}

}  // namespace duplex::core::stomp
