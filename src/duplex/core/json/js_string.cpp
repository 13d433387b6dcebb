#include "duplex/core/json/js_string.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>

#include "duplex/core/json/js_number.hpp"
#include "duplex/core/json/json_unescape.hpp"

// Every text here is one that scan_json accepted, so the walk below checks nothing: a string
// ends at its closing quote, brackets match, and literals are spelt out.

namespace duplex::core::json {

namespace {

constexpr bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char* skip_space(const char* p, const char* end) {
  while (p != end && is_space(*p)) ++p;
  return p;
}

// At a string's opening quote (in a text scan_json accepted, which ends at `end`): past its
// closing one. The quotes are found with memchr, a quote after an odd run of backslashes being
// escaped (each backslash run is read once, so this stays linear): a byte-by-byte walk is a
// chain of dependent loads, some 2.4 ns a byte, most of a 512-byte SockJS message's decode.
const char* string_end(const char* p, const char* end) {
  const char* q = p + 1;
  for (;;) {
    q = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end - q)));
    size_t slashes = 0;
    for (const char* b = q - 1; *b == '\\'; --b) ++slashes;  // the opening quote stops it
    if (slashes % 2 == 0) return q + 1;
    ++q;
  }
}

// At an object or an array: past its closing bracket.
const char* container_end(const char* p, const char* end) {
  size_t depth = 0;
  for (;;) {
    switch (*p) {
      case '"':
        p = string_end(p, end);
        continue;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        if (--depth == 0) return p + 1;
        break;
      default:
        break;
    }
    ++p;
  }
}

const char* number_end(const char* p, const char* end) {
  while (p != end &&
         (is_digit(*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E')) {
    ++p;
  }
  return p;
}

// For a number beyond a double's range either way: whether its magnitude is at least 1 (it
// overflows to an infinity) rather than below it (it underflows to zero).
bool at_least_one(std::string_view number) {
  size_t i = number[0] == '-' ? 1 : 0;
  int64_t magnitude = 0;  // the decimal exponent of the first digit that is not zero
  bool leading = false;
  for (; i < number.size() && is_digit(number[i]); ++i) {
    if (leading || number[i] != '0') {
      if (leading) ++magnitude;
      leading = true;
    }
  }
  if (i < number.size() && number[i] == '.') {
    for (++i; i < number.size() && is_digit(number[i]); ++i) {
      if (!leading) --magnitude;
      if (number[i] != '0') leading = true;
    }
  }
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    const bool negative = number[i] == '-';
    if (number[i] == '-' || number[i] == '+') ++i;
    int64_t exponent = 0;
    for (; i < number.size() && exponent < 1'000'000'000; ++i) {
      exponent = exponent * 10 + (number[i] - '0');
    }
    magnitude += negative ? -exponent : exponent;
  }
  return magnitude >= 0;
}

void append_number(std::string& out, std::string_view number) {
  double value = 0;
  const auto result = std::from_chars(number.data(), number.data() + number.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    if (!at_least_one(number)) {
      out += '0';  // -0 too
    } else {
      out += number[0] == '-' ? "-Infinity" : "Infinity";
    }
    return;
  }
  append_js_number(out, value);
}

// At a value that is not an array: appends its String() and returns its end. A null is written
// "null" at the top and nothing inside an array, as join() writes it.
const char* append_scalar(std::string& out, const char* p, const char* end, bool in_array) {
  switch (*p) {
    case '"': {
      const char* const e = string_end(p, end);
      append_unescaped(out, std::string_view(p, static_cast<size_t>(e - p)));
      return e;
    }
    case '{':
      out += "[object Object]";
      return container_end(p, end);
    case 't':
      out += "true";
      return p + 4;
    case 'f':
      out += "false";
      return p + 5;
    case 'n':
      if (!in_array) out += "null";
      return p + 4;
    default: {
      const char* const e = number_end(p, end);
      append_number(out, std::string_view(p, static_cast<size_t>(e - p)));
      return e;
    }
  }
}

// At an array: appends its join(",") and returns its end. Nested arrays are joined in place,
// so one walk with a depth count does it: every ',' at any level is written, brackets are not.
const char* append_joined(std::string& out, const char* p, const char* end) {
  size_t depth = 0;
  for (;;) {
    p = skip_space(p, end);
    switch (*p) {
      case '[':
        ++depth;
        ++p;
        break;
      case ']':
        ++p;
        if (--depth == 0) return p;
        break;
      case ',':
        out += ',';
        ++p;
        break;
      default:
        p = append_scalar(out, p, end, true);
    }
  }
}

const char* append_value(std::string& out, const char* p, const char* end) {
  return *p == '[' ? append_joined(out, p, end) : append_scalar(out, p, end, false);
}

}  // namespace

void append_js_string(std::string& out, std::string_view json) {
  const char* const end = json.data() + json.size();
  append_value(out, skip_space(json.data(), end), end);
}

void append_js_strings_of_elements(std::vector<std::string>& out, std::string_view json) {
  const char* const end = json.data() + json.size();
  const char* p = skip_space(json.data(), end) + 1;  // past the '['
  for (;;) {
    p = skip_space(p, end);
    if (*p == ']') return;
    if (*p == ',') p = skip_space(p + 1, end);
    out.emplace_back();
    p = append_value(out.back(), p, end);
  }
}

}  // namespace duplex::core::json
