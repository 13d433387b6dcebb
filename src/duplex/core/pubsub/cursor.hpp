// A recipient's place in the topics it follows, as Server-Sent Event ids and long-poll cursors
// carry it: for one topic, the sequence of the last message it got, in decimal ("42"); for
// several, each topic's, form-encoded as a query string is ("news=42&sport+live=7"). Sans-IO.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::core {

struct TopicPlace {
  std::string_view topic;
  uint64_t seq;
};

/// Appends the cursor of `places` (the decimal form when there is one place).
void append_cursor(std::string& out, const std::vector<TopicPlace>& places);

/// Reads a cursor written for `topics` (in the same order as append_cursor was given them):
/// each topic's sequence, or nullopt for a topic the cursor does not name. Nullopt as a whole
/// when it cannot be read: not a decimal for one topic; for several, a pair without '=' or with
/// a value that is not a decimal. Names it lists that are not among `topics` are ignored.
std::optional<std::vector<std::optional<uint64_t>>> parse_cursor(
    std::string_view value, const std::vector<std::string>& topics);

}  // namespace duplex::core
