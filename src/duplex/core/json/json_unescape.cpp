#include "duplex/core/json/json_unescape.hpp"

#include <cstdint>

#include "duplex/core/text/utf8.hpp"

namespace duplex::core::json {

namespace {

// Four hex digits the scanner accepted: '0'-'9' are 0x30-0x39, 'A'-'F' 0x41-0x46 and 'a'-'f'
// 0x61-0x66, so the low four bits are the value, plus 9 for a letter (bit 6 set).
uint32_t hex4(const char* p) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const auto c = static_cast<uint32_t>(static_cast<unsigned char>(p[i]));
    value = value << 4 | ((c & 0xF) + (c >> 6) * 9);
  }
  return value;
}

// The three bytes of a surrogate half in WTF-8 at `p` (ED A0..BF xx): its code unit, else 0.
uint32_t surrogate_at(const std::string& s, size_t p) {
  if (p + 3 > s.size() || static_cast<unsigned char>(s[p]) != 0xED) return 0;
  const auto b1 = static_cast<unsigned char>(s[p + 1]);
  const auto b2 = static_cast<unsigned char>(s[p + 2]);
  if (b1 < 0xA0 || b1 > 0xBF || (b2 & 0xC0) != 0x80) return 0;
  return 0xD000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
}

// Where a high surrogate half is followed by a low one (from the text as it was, or from escapes
// next to such bytes), JavaScript's string holds a pair, one character: makes each such six
// bytes from `from` on the character's four.
void join_surrogate_halves(std::string& s, size_t from) {
  size_t to = from;
  for (size_t i = from; i < s.size();) {
    const uint32_t high = surrogate_at(s, i);
    const uint32_t low = high >= 0xD800 && high < 0xDC00 ? surrogate_at(s, i + 3) : 0;
    if (low >= 0xDC00) {
      std::string character;
      append_utf8(character, 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
      s.replace(to, character.size(), character);
      to += character.size();
      i += 6;
    } else {
      s[to++] = s[i++];
    }
  }
  s.resize(to);
}

void append_body(std::string& out, std::string_view body) {
  size_t i = 0;
  while (i < body.size()) {
    const size_t slash = body.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(body, i);
      return;
    }
    out.append(body, i, slash - i);
    const char c = body[slash + 1];
    i = slash + 2;
    switch (c) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t unit = hex4(body.data() + i);
        i += 4;
        if (unit >= 0xD800 && unit < 0xDC00 && i + 6 <= body.size() && body[i] == '\\' &&
            body[i + 1] == 'u') {
          const uint32_t low = hex4(body.data() + i + 2);
          if (low >= 0xDC00 && low < 0xE000) {
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, unit);
        break;
      }
      default:  // '"', '\\' and '/' stand for themselves
        out += c;
    }
  }
}

}  // namespace

void append_unescaped(std::string& out, std::string_view quoted) {
  const size_t start = out.size();
  append_body(out, quoted.substr(1, quoted.size() - 2));
  if (out.find('\xED', start) != std::string::npos) join_surrogate_halves(out, start);
}

}  // namespace duplex::core::json
