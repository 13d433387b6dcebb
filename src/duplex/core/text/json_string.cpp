#include "duplex/core/text/json_string.hpp"

namespace duplex::core {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t plain = 0;  // start of the run of bytes copied as they are
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0xED) continue;
    if (c == 0xED) {
      // ED 80..9F is an ordinary character (U+D000..U+D7FF); ED A0..BF starts a surrogate.
      if (i + 2 >= text.size()) continue;
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      const auto b2 = static_cast<unsigned char>(text[i + 2]);
      if (b1 < 0xA0 || b1 > 0xBF || (b2 & 0xC0) != 0x80) continue;
      out.append(text, plain, i - plain);
      const unsigned unit = 0xD000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
      out += "\\u";
      out += kHex[unit >> 12];
      out += kHex[(unit >> 8) & 0xf];
      out += kHex[(unit >> 4) & 0xf];
      out += kHex[unit & 0xf];
      i += 2;
      plain = i + 1;
      continue;
    }
    out.append(text, plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(text, plain, text.size() - plain);
  out += '"';
}

}  // namespace duplex::core
