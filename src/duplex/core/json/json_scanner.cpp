#include "duplex/core/json/json_scanner.hpp"

#include <bit>
#include <cstring>

namespace duplex::core::json {

namespace {

constexpr bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes a string can hold as they are: everything but '"', '\\' and the control characters.
struct PlainTable {
  bool plain[256];
  constexpr PlainTable() : plain() {
    for (int c = 0; c < 256; ++c) plain[c] = c >= 0x20 && c != '"' && c != '\\';
  }
};
constexpr PlainTable kPlain;

// Eight bytes at a time: a mask with the high bit of each byte that is '"', '\\' or below 0x20
// set. Bytes above the first such byte may be flagged wrongly (a borrow runs upwards), so only
// the lowest flag, the first such byte in memory order, is exact.
inline uint64_t special_bytes(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  // A byte of x is zero exactly when x - 1 borrows into its high bit while x's is clear; the
  // same on `word` itself finds the bytes below 0x20 (the top three bits clear).
  return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
          ((word - kOnes * 0x20) & ~word)) &
         kHigh;
}

// After a string's opening quote: returns the end of the string (past the closing quote), or
// null when it is not a valid string.
const char* scan_string(const char* p, const char* end) {
  for (;;) {
    if constexpr (std::endian::native == std::endian::little) {
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        if (const uint64_t special = special_bytes(word)) {
          p += std::countr_zero(special) / 8;
          break;
        }
        p += 8;
      }
    }
    while (p != end && kPlain.plain[static_cast<unsigned char>(*p)]) ++p;
    if (p == end) return nullptr;
    const char c = *p++;
    if (c == '"') return p;
    if (c != '\\' || p == end) return nullptr;  // a control character, or the text ends
    switch (*p++) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        break;
      case 'u':
        if (end - p < 4) return nullptr;
        for (int i = 0; i < 4; ++i) {
          if (hex_value(*p++) < 0) return nullptr;
        }
        break;
      default:
        return nullptr;
    }
  }
}

// At '-' or a digit: returns the end of the number, or null when it is not a valid number.
const char* scan_number(const char* p, const char* end) {
  if (*p == '-' && ++p == end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    while (p != end && is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p != end && *p == '.') {
    if (++p == end || !is_digit(*p)) return nullptr;
    while (p != end && is_digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    if (++p != end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    while (p != end && is_digit(*p)) ++p;
  }
  return p;
}

inline const char* skip_space(const char* p, const char* end) {
  // Mostly there is none: one comparison tells (every whitespace byte is at most ' ').
  if (p == end || static_cast<unsigned char>(*p) > ' ') return p;
  while (p != end && is_space(*p)) ++p;
  return p;
}

inline const char* scan_literal(const char* p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0)
    return nullptr;
  return p + word.size();
}

// The scan, as one function so that the position and the current container stay in registers
// (a member pointer would be stored back after every byte: char reads may alias it).
JsonScan scan(const char* p, const char* const end, std::vector<std::string_view>* elements,
              size_t skip) {
  JsonScan scan;
  const auto fail = [&scan](std::string_view reason) {
    scan.error = reason;
    return scan;
  };
  uint64_t stack[kMaxJsonDepth / 64] = {};  // per level: 1 for an object, 0 for an array
  size_t depth = 0;
  bool in_object = false;  // the innermost open container is an object
  bool root_array = false;
  const char* element = nullptr;  // where the root array's current element starts
  JsonType type;
  const auto push = [&](bool object) {
    if (depth == kMaxJsonDepth) return false;
    const uint64_t bit = uint64_t{1} << (depth % 64);
    stack[depth / 64] = object ? stack[depth / 64] | bit : stack[depth / 64] & ~bit;
    ++depth;
    in_object = object;
    return true;
  };
  const auto pop = [&] {
    --depth;
    in_object = depth > 0 && ((stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1);
  };

value:  // a value is expected
  p = skip_space(p, end);
  if (p == end) return fail(json_reason::kNotJson);
  if (depth == 1 && root_array) element = p;
  switch (*p) {
    case '{':
    case '[': {
      const bool object = *p == '{';
      if (depth == 0) root_array = !object;
      if (!push(object)) return fail(json_reason::kTooDeep);
      p = skip_space(p + 1, end);
      if (p != end && *p == (object ? '}' : ']')) {  // empty
        ++p;
        pop();
        type = object ? JsonType::object : JsonType::array;
        goto after_value;
      }
      if (object) goto member;
      goto value;
    }
    case '"':
      p = scan_string(p + 1, end);
      type = JsonType::string;
      break;
    case 't':
      p = scan_literal(p, end, "true");
      type = JsonType::boolean;
      break;
    case 'f':
      p = scan_literal(p, end, "false");
      type = JsonType::boolean;
      break;
    case 'n':
      p = scan_literal(p, end, "null");
      type = JsonType::null;
      break;
    default:
      p = scan_number(p, end);
      type = JsonType::number;
      break;
  }
  if (!p) return fail(json_reason::kNotJson);
  goto after_value;

member:  // inside an object, a member's key is expected (whitespace skipped)
  if (p == end || *p != '"' || !(p = scan_string(p + 1, end))) return fail(json_reason::kNotJson);
  p = skip_space(p, end);
  if (p == end || *p != ':') return fail(json_reason::kNotJson);
  ++p;
  goto value;

after_value:  // a value of type `type` ended just before p
  if (depth == 0) {
    scan.type = type;
    if (skip_space(p, end) != end) return fail(json_reason::kNotJson);
    return scan;
  }
  if (depth == 1 && root_array) {
    const std::string_view text(element, static_cast<size_t>(p - element));
    if (scan.size == 0) {
      scan.first = text;
      scan.first_type = type;
    }
    if (elements && scan.size >= skip) elements->push_back(text);
    ++scan.size;
  }
  p = skip_space(p, end);
  if (p == end) return fail(json_reason::kNotJson);
  if (*p == ',') {
    p = skip_space(p + 1, end);
    if (in_object) goto member;
    goto value;
  }
  if (*p != (in_object ? '}' : ']')) return fail(json_reason::kNotJson);
  type = in_object ? JsonType::object : JsonType::array;
  ++p;
  pop();
  goto after_value;
}

}  // namespace

JsonScan scan_json(std::string_view text, std::vector<std::string_view>* elements, size_t skip) {
  return scan(text.data(), text.data() + text.size(), elements, skip);
}

}  // namespace duplex::core::json
