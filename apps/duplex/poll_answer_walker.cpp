#include "poll_answer_walker.hpp"

#include <cstring>

namespace duplex::app::detail {

namespace {
constexpr size_t kNone = std::string_view::npos;

// What ends a number or literal: the next part of a list or an object, or whitespace.
bool ends_scalar(char c) {
  return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
}  // namespace

size_t json_string_end(std::string_view body, size_t at) {
  const char* const begin = body.data();
  const char* const end = begin + body.size();
  const char* p = begin + at;
  while (p < end) {
    // The closing quote, unless a backslash comes first: then step over its escape.
    const auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (!quote) return kNone;
    const auto* escape =
        static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(quote - p)));
    if (!escape) return static_cast<size_t>(quote - begin);
    p = escape + 2;
  }
  return kNone;
}

size_t json_value_end(std::string_view body, size_t at) {
  if (at >= body.size()) return kNone;
  const char first = body[at];
  if (first == '"') {
    const size_t close = json_string_end(body, at + 1);
    return close == kNone ? kNone : close + 1;
  }
  if (first == '{' || first == '[') {
    size_t depth = 0;
    for (size_t i = at; i < body.size(); ++i) {
      const char c = body[i];
      if (c == '"') {
        i = json_string_end(body, i + 1);
        if (i == kNone) return kNone;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return kNone;
  }
  // A number, true, false or null.
  if (ends_scalar(first)) return kNone;
  size_t i = at;
  while (i < body.size() && !ends_scalar(body[i])) ++i;
  return i < body.size() ? i : kNone;
}

}  // namespace duplex::app::detail
