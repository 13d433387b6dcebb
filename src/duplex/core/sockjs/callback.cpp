#include "duplex/core/sockjs/callback.hpp"

#include <vector>

#include "duplex/core/sockjs/form_body.hpp"

namespace duplex::core::sockjs {

namespace {

// The longest jsonp callback the reference takes.
constexpr size_t kMaxJsonpCallback = 32;

constexpr bool is_callback_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

bool is_valid_callback(std::string_view name, Transport transport) {
  if (transport == Transport::jsonp && name.size() > kMaxJsonpCallback) return false;
  for (const char c : name) {
    if (!is_callback_char(c)) return false;
  }
  return true;
}

Callback read_callback(std::string_view query, Transport transport) {
  std::vector<std::string> values = form_values(query, "c", FormText::query);
  if (values.empty()) values = form_values(query, "callback", FormText::query);
  Callback callback;
  if (values.empty()) {
    callback.error = callback_error::kRequired;
  } else if (values.size() > 1 || !is_valid_callback(values[0], transport)) {
    callback.error = callback_error::kInvalid;
  } else {
    callback.name = std::move(values[0]);
  }
  return callback;
}

}  // namespace duplex::core::sockjs
