#include "duplex/core/sockjs/form_body.hpp"

#include "duplex/core/text/utf8.hpp"

namespace duplex::core::sockjs {

namespace {

// The form's limit on pieces, as querystring.parse's default maxKeys.
constexpr int kMaxPieces = 1000;

int hex_digit(char16_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf16(std::u16string& out, uint32_t cp) {
  if (cp >= 0x10000) {
    out += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
    out += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
  } else {
    out += static_cast<char16_t>(cp);
  }
}

// Valid UTF-8 (or WTF-8) as UTF-16 code units.
std::u16string utf16_of(std::string_view utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    const int length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = length == 1 ? b : length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07;
    for (int k = 1; k < length && i + static_cast<size_t>(k) < utf8.size(); ++k) {
      cp = cp << 6 | (static_cast<unsigned char>(utf8[i + static_cast<size_t>(k)]) & 0x3F);
    }
    i += static_cast<size_t>(length);
    append_utf16(out, cp);
  }
  return out;
}

// UTF-16 code units as UTF-8; a lone surrogate as its three WTF-8 bytes.
std::string utf8_of(std::u16string_view units) {
  std::string out;
  out.reserve(units.size());
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t cp = units[i];
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
        units[i + 1] < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (units[++i] - 0xDC00);
    }
    append_utf8(out, cp);
  }
  return out;
}

// The text as the reference holds it (see the header).
std::u16string units_of(std::string_view text, FormText kind) {
  if (kind == FormText::query) {
    std::u16string units(text.size(), u'\0');
    for (size_t i = 0; i < text.size(); ++i) units[i] = static_cast<unsigned char>(text[i]);
    return units;
  }
  if (is_valid_utf8(text)) return utf16_of(text);
  std::string replaced;
  append_utf8_replacing_invalid(replaced, text);
  return utf16_of(replaced);
}

// The byte of the escape "%XX" at s[i] ('%' there), or -1.
int escaped_byte(std::u16string_view s, size_t i) {
  if (i + 2 >= s.size()) return -1;
  const int high = hex_digit(s[i + 1]);
  const int low = hex_digit(s[i + 2]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// decodeURIComponent: false where it would throw (a '%' without two hex digits, or escaped
// bytes that are not one UTF-8 character each: a stray continuation, an overlong form, a
// surrogate, beyond U+10FFFF, a character cut short).
bool decode_uri_component(std::u16string_view s, std::u16string& out) {
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '%') {
      out += s[i++];
      continue;
    }
    const int lead = escaped_byte(s, i);
    if (lead < 0) return false;
    i += 3;
    if (lead < 0x80) {
      out += static_cast<char16_t>(lead);
      continue;
    }
    const int length = (lead & 0xE0) == 0xC0   ? 2
                       : (lead & 0xF0) == 0xE0 ? 3
                       : (lead & 0xF8) == 0xF0 ? 4
                                               : 0;
    if (length == 0) return false;
    uint32_t cp = static_cast<uint32_t>(lead) & (0xFFu >> (length + 1));
    for (int k = 1; k < length; ++k) {
      if (i >= s.size() || s[i] != '%') return false;
      const int next = escaped_byte(s, i);
      if (next < 0 || (next & 0xC0) != 0x80) return false;
      cp = cp << 6 | (static_cast<uint32_t>(next) & 0x3F);
      i += 3;
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    append_utf16(out, cp);
  }
  return true;
}

// querystring's way when decodeURIComponent throws: bytes, then read as UTF-8.
std::u16string decode_bytewise(std::u16string_view s) {
  std::string bytes;
  for (size_t i = 0; i < s.size();) {
    const int escaped = s[i] == '%' ? escaped_byte(s, i) : -1;
    if (escaped >= 0) {
      bytes += static_cast<char>(escaped);
      i += 3;
    } else {
      bytes += static_cast<char>(s[i++] & 0xFF);
    }
  }
  std::string text;
  append_utf8_replacing_invalid(text, bytes);
  return utf16_of(text);
}

std::u16string decoded(std::u16string component, bool escaped) {
  if (component.empty() || !escaped) return component;
  std::u16string out;
  if (decode_uri_component(component, out)) return out;
  return decode_bytewise(component);
}

bool equals_ascii(std::u16string_view units, std::string_view ascii) {
  if (units.size() != ascii.size()) return false;
  for (size_t i = 0; i < units.size(); ++i) {
    if (units[i] != static_cast<unsigned char>(ascii[i])) return false;
  }
  return true;
}

// One piece being read: its name, its value once its '=' has come, and whether each holds an
// escape (querystring's check: a '%' then two hex digits, looked for until one is found).
struct Piece {
  std::u16string name;
  std::u16string value;
  bool in_value = false;
  bool name_escaped = false;
  bool value_escaped = false;
  int hex_run = 0;  // 0: no '%' pending; 1: after '%'; 2: after '%' and one hex digit
};

// Follows one character (not '&', not the piece's first '=', not '+') through the escape check
// of the value; the name's own check runs first while it is read (see form_values).
void check_value_escape(Piece& piece, char16_t c) {
  if (piece.value_escaped) return;
  if (c == '%') {
    piece.hex_run = 1;
  } else if (piece.hex_run > 0) {
    if (hex_digit(c) < 0) {
      piece.hex_run = 0;
    } else if (++piece.hex_run == 3) {
      piece.value_escaped = true;
    }
  }
}

}  // namespace

std::vector<std::string> form_values(std::string_view text, std::string_view name, FormText kind) {
  const std::u16string units = units_of(text, kind);
  std::vector<std::string> values;
  Piece piece;
  size_t from = 0;  // start of the characters not yet added to the name or the value
  int pieces_left = kMaxPieces;
  const auto add_to_piece = [&](size_t to) {
    std::u16string& part = piece.in_value ? piece.value : piece.name;
    part.append(units, from, to - from);
  };
  const auto finish_piece = [&] {
    if (equals_ascii(decoded(piece.name, piece.name_escaped), name)) {
      values.push_back(utf8_of(decoded(piece.value, piece.value_escaped)));
    }
    piece = Piece();
  };
  for (size_t i = 0; i < units.size(); ++i) {
    const char16_t c = units[i];
    if (c == '&') {
      if (from < i) {
        add_to_piece(i);
      } else if (!piece.in_value && piece.name.empty()) {  // an empty piece
        from = i + 1;
        if (--pieces_left == 0) return values;
        continue;
      }
      finish_piece();
      from = i + 1;
      if (--pieces_left == 0) return values;
      continue;
    }
    if (!piece.in_value) {
      if (c == '=') {
        add_to_piece(i);
        piece.in_value = true;
        piece.hex_run = 0;
        from = i + 1;
        continue;
      }
      if (!piece.name_escaped) {
        if (c == '%') {
          piece.hex_run = 1;
          continue;
        }
        if (piece.hex_run > 0) {
          if (hex_digit(c) >= 0) {
            if (++piece.hex_run == 3) piece.name_escaped = true;
            continue;
          }
          piece.hex_run = 0;
        }
      }
    }
    if (c == '+') {
      add_to_piece(i);
      (piece.in_value ? piece.value : piece.name) += u' ';
      from = i + 1;
      continue;
    }
    check_value_escape(piece, c);
  }
  if (from < units.size()) {
    add_to_piece(units.size());
  } else if (!piece.in_value && piece.name.empty()) {
    return values;  // the text ends with an empty piece
  }
  finish_piece();
  return values;
}

}  // namespace duplex::core::sockjs
