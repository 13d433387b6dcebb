#include "duplex/core/pubsub/cursor.hpp"

#include <charconv>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/sse/event_stream.hpp"

namespace duplex::core {

void append_cursor(std::string& out, const std::vector<TopicPlace>& places) {
  char digits[20];
  const auto append_number = [&](uint64_t n) {
    out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
  };
  if (places.size() == 1) return append_number(places[0].seq);
  for (size_t i = 0; i < places.size(); ++i) {
    if (i) out += '&';
    form_encode(out, places[i].topic);
    out += '=';
    append_number(places[i].seq);
  }
}

std::optional<std::vector<std::optional<uint64_t>>> parse_cursor(
    std::string_view value, const std::vector<std::string>& topics) {
  std::vector<std::optional<uint64_t>> seqs(topics.size());
  if (topics.size() == 1) {
    seqs[0] = parse_last_event_id(value);  // the strict decimal that ids are written in
    if (!seqs[0]) return std::nullopt;
    return seqs;
  }
  while (!value.empty()) {
    const size_t amp = value.find('&');
    const std::string_view pair = value.substr(0, amp);
    value = amp == std::string_view::npos ? std::string_view{} : value.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto seq = parse_last_event_id(pair.substr(eq + 1));
    if (!seq) return std::nullopt;
    const std::string name = form_decode(pair.substr(0, eq));
    for (size_t i = 0; i < topics.size(); ++i) {
      if (topics[i] == name) seqs[i] = seq;
    }
  }
  return seqs;
}

}  // namespace duplex::core
