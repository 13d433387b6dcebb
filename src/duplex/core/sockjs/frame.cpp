#include "duplex/core/sockjs/frame.hpp"

#include <cstring>

#include "duplex/core/json/js_number.hpp"
#include "duplex/core/text/json_string.hpp"

namespace duplex::core::sockjs {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_unit(std::string& out, uint32_t unit) {
  out += "\\u";
  out += kHex[unit >> 12];
  out += kHex[(unit >> 8) & 0xF];
  out += kHex[(unit >> 4) & 0xF];
  out += kHex[unit & 0xF];
}

constexpr bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The length of the character at s[i] when it is one the reference escapes beyond what
// JSON.stringify does (see append_quoted), with its code point; else 0.
size_t escapable_at(std::string_view s, size_t i, uint32_t& code_point) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0xE2) return 0;
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b0 < 0xF0) {  // three bytes: U+2xxx and U+FFFx
    if (i + 2 >= s.size() || !is_continuation(at(1)) || !is_continuation(at(2))) return 0;
    code_point = (b0 & 0x0Fu) << 12 | (at(1) & 0x3Fu) << 6 | (at(2) & 0x3Fu);
    const bool escaped = (code_point >= 0x200C && code_point <= 0x200F) ||
                         (code_point >= 0x2028 && code_point <= 0x202F) ||
                         (code_point >= 0x2060 && code_point <= 0x206F) || code_point >= 0xFFF0;
    return escaped && code_point >= 0x800 ? 3 : 0;
  }
  if (b0 > 0xF4 || i + 3 >= s.size() || !is_continuation(at(1)) || !is_continuation(at(2)) ||
      !is_continuation(at(3))) {
    return 0;
  }
  code_point = (b0 & 0x07u) << 18 | (at(1) & 0x3Fu) << 12 | (at(2) & 0x3Fu) << 6 | (at(3) & 0x3Fu);
  return code_point >= 0x10000 && code_point <= 0x10FFFF ? 4 : 0;
}

// Whether any byte of `s` is 0xE2 or above: only those start a character append_quoted escapes
// beyond JSON.stringify. Eight bytes at a time while they are all ASCII.
bool has_high_bytes(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0xE2) return true;
  }
  return false;
}

}  // namespace

void append_quoted(std::string& out, std::string_view message) {
  const size_t start = out.size();
  append_json_string(out, message);
  if (!has_high_bytes(message)) return;
  // JSON.stringify's escapes are ASCII, so the characters to escape now are in what was just
  // written as they were in the message; the rest is written again from the first of them.
  const std::string_view written = std::string_view(out).substr(start);
  uint32_t code_point = 0;
  size_t first = 0;
  while (first < written.size() && escapable_at(written, first, code_point) == 0) ++first;
  if (first == written.size()) return;
  const std::string tail(written.substr(first));
  out.resize(start + first);
  for (size_t i = 0; i < tail.size();) {
    const size_t length = escapable_at(tail, i, code_point);
    if (length == 0) {
      out += tail[i++];
      continue;
    }
    if (code_point >= 0x10000) {  // its UTF-16 pair
      append_unit(out, 0xD800 + ((code_point - 0x10000) >> 10));
      append_unit(out, 0xDC00 + ((code_point - 0x10000) & 0x3FF));
    } else {
      append_unit(out, code_point);
    }
    i += length;
  }
}

void append_array_frame(std::string& out, std::span<const std::string_view> quoted) {
  out += "a[";
  for (size_t i = 0; i < quoted.size(); ++i) {
    if (i) out += ',';
    out += quoted[i];
  }
  out += ']';
}

void append_message_frame(std::string& out, std::string_view message) {
  out += "a[";
  append_quoted(out, message);
  out += ']';
}

void append_close_frame(std::string& out, uint16_t code, std::string_view reason) {
  out += "c[";
  json::append_decimal(out, code);
  out += ',';
  append_json_string(out, reason);
  out += ']';
}

}  // namespace duplex::core::sockjs
