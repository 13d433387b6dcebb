#include "duplex/core/http/header_values.hpp"

#include <cstddef>

namespace duplex::core {

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// qdtext / quoted-pair characters (RFC 9110 5.6.4); obs-text (0x80-0xFF) is allowed.
bool is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

bool is_quoted_pair_char(unsigned char c) {
  return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

// Cursor over an extension header value. Each parse step leaves pos_ after what it consumed.
class ExtensionCursor {
 public:
  explicit ExtensionCursor(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void advance() { ++pos_; }

  void skip_ows() {
    while (!at_end() && is_ows(s_[pos_])) ++pos_;
  }

  // Consumes a token; empty if there is none at the cursor.
  std::string_view token() {
    const size_t start = pos_;
    while (!at_end() && is_tchar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // Consumes a quoted-string starting at the cursor's DQUOTE, appending its unescaped content.
  bool quoted_string(std::string& out) {
    ++pos_;  // opening DQUOTE
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end() || !is_quoted_pair_char(static_cast<unsigned char>(s_[pos_]))) return false;
        out.push_back(s_[pos_++]);
      } else if (is_qdtext(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        return false;
      }
    }
    return false;  // unterminated
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Parses `param` at the cursor (after ";" and OWS).
bool parse_param(ExtensionCursor& cur, ExtensionParam& param) {
  const std::string_view name = cur.token();
  if (name.empty()) return false;
  param.name.assign(name);
  cur.skip_ows();
  if (cur.at_end() || cur.peek() != '=') return true;
  cur.advance();
  cur.skip_ows();
  if (cur.at_end()) return false;
  std::string value;
  if (cur.peek() == '"') {
    if (!cur.quoted_string(value)) return false;
    // RFC 6455 9.1: the quoted form is only an alternative spelling of a token.
    if (!is_token(value)) return false;
  } else {
    const std::string_view tok = cur.token();
    if (tok.empty()) return false;
    value.assign(tok);
  }
  param.value = std::move(value);
  return true;
}

}  // namespace

bool is_tchar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;  // would overflow
    n = n * 10 + digit;
  }
  return n;
}

std::optional<std::vector<std::string_view>> parse_token_list(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) {
      if (!is_token(element)) return std::nullopt;
      out.push_back(element);
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::vector<Extension>> parse_extensions(std::string_view value) {
  std::vector<Extension> out;
  ExtensionCursor cur(value);
  while (true) {
    cur.skip_ows();
    if (cur.at_end()) break;
    if (cur.peek() == ',') {  // empty list element
      cur.advance();
      continue;
    }
    Extension ext;
    const std::string_view name = cur.token();
    if (name.empty()) return std::nullopt;
    ext.name.assign(name);
    cur.skip_ows();
    while (!cur.at_end() && cur.peek() == ';') {
      cur.advance();
      cur.skip_ows();
      ExtensionParam param;
      if (!parse_param(cur, param)) return std::nullopt;
      ext.params.push_back(std::move(param));
      cur.skip_ows();
    }
    out.push_back(std::move(ext));
    if (cur.at_end()) break;
    if (cur.peek() != ',') return std::nullopt;
    cur.advance();
  }
  if (out.empty()) return std::nullopt;  // 1#: at least one extension
  return out;
}

std::string serialize_extensions(const std::vector<Extension>& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out += ", ";
    out += list[i].name;
    for (const ExtensionParam& p : list[i].params) {
      out += "; ";
      out += p.name;
      if (!p.value) continue;
      out += '=';
      if (is_token(*p.value)) {
        out += *p.value;
        continue;
      }
      out += '"';
      for (char c : *p.value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
  }
  return out;
}

}  // namespace duplex::core
