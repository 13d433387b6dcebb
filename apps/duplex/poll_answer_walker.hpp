// How `duplex bench --poll` reads a long-poll answer: the body of a `GET /poll` answer as
// duplex serve writes it (src/duplex/server/long_poll_endpoint.hpp),
//
//   {"cursor":"<where to go on>","messages":[<message>,...],"lost":["<topic>",...]}
//
// with the keys in that order and nothing between the parts (no whitespace), as both servers
// benchmarked here write it. Each message is found as one JSON value and handed out whole, as a
// view into the body; it is walked only as far as finding its end takes (a string to its
// closing quote, escapes stepped over; an array or object to the bracket that closes it), not
// validated. The cursor and the lost topics are the contents of their JSON strings, as written.
// Sans-IO: the caller gathers the body (its framing is the HTTP answer's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace duplex::app {

struct PollAnswer {
  std::string_view cursor;             // escapes are an error: a cursor never needs one
  uint64_t messages = 0;               // handed out
  std::vector<std::string_view> lost;  // topics whose history no longer reached the cursor
  std::string_view error;              // not empty: the body is no such answer (or it stopped)

  bool ok() const { return error.empty(); }
};

namespace detail {
// The offset just past the JSON value that starts at `at` in `body`, or npos when none does or
// it does not end there.
size_t json_value_end(std::string_view body, size_t at);
// The offset of the quote that closes the JSON string whose contents start at `at`, or npos.
size_t json_string_end(std::string_view body, size_t at);

// Walks the JSON list whose first item (or closing bracket) is at `at`, handing each item to
// `on_item`, which returns why to stop or "" to go on. Returns the offset past the list, or npos
// with `error` set.
template <typename OnItem>
size_t walk_list(std::string_view body, size_t at, OnItem&& on_item, std::string_view& error) {
  if (at < body.size() && body[at] == ']') return at + 1;
  while (true) {
    const size_t end = json_value_end(body, at);
    if (end == std::string_view::npos) {
      error = "a list item that is no JSON value or never ends";
      return end;
    }
    error = on_item(body.substr(at, end - at));
    if (!error.empty()) return std::string_view::npos;
    if (end < body.size() && body[end] == ']') return end + 1;
    if (end >= body.size() || body[end] != ',') {
      error = "a list item not followed by , or ]";
      return std::string_view::npos;
    }
    at = end + 1;
  }
}
}  // namespace detail

/// Walks `body`, calling `on_message(message)` for each message in order; on_message returns
/// false to stop (the answer then has the error "stopped").
template <typename OnMessage>
PollAnswer walk_poll_answer(std::string_view body, OnMessage&& on_message) {
  static constexpr std::string_view kStart = "{\"cursor\":\"";
  static constexpr std::string_view kMessages = ",\"messages\":[";
  static constexpr std::string_view kLost = ",\"lost\":[";
  static constexpr size_t kNone = std::string_view::npos;
  PollAnswer answer;
  const auto fail = [&answer](std::string_view reason) {
    answer.error = reason;
    return answer;
  };
  if (!body.starts_with(kStart)) return fail("an answer starts with {\"cursor\":\"");
  size_t at = kStart.size();
  const size_t cursor_end = detail::json_string_end(body, at);
  if (cursor_end == kNone) return fail("the cursor does not end");
  answer.cursor = body.substr(at, cursor_end - at);
  if (answer.cursor.find('\\') != kNone) return fail("an escape in the cursor");
  at = cursor_end + 1;
  if (body.substr(at, kMessages.size()) != kMessages) {
    return fail("the cursor is not followed by ,\"messages\":[");
  }
  std::string_view error;
  at = detail::walk_list(
      body, at + kMessages.size(),
      [&](std::string_view message) -> std::string_view {
        ++answer.messages;
        return on_message(message) ? "" : "stopped";
      },
      error);
  if (at == kNone) return fail(error);
  if (body.substr(at, kLost.size()) != kLost) {
    return fail("the messages are not followed by ,\"lost\":[");
  }
  at = detail::walk_list(
      body, at + kLost.size(),
      [&](std::string_view topic) -> std::string_view {
        if (topic.front() != '"') return "a lost topic that is no JSON string";
        answer.lost.push_back(topic.substr(1, topic.size() - 2));
        return "";
      },
      error);
  if (at == kNone) return fail(error);
  if (body.substr(at) != "}") return fail("the answer does not end with ]}");
  return answer;
}

}  // namespace duplex::app
