// Helpers for tests that drive a server's pub/sub over RawClient connections: words and query
// strings, opening a WebSocket, reading messages up to a marker.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "raw_client.hpp"

namespace duplex::test {

inline std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

inline std::string join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) joined += (joined.empty() ? "" : ",") + part;
  return joined;
}

/// The value of `key` in a query string "a=1&b=2", or empty.
inline std::string query_value(std::string_view query, std::string_view key) {
  for (const std::string& pair : split(query, '&')) {
    if (pair.size() > key.size() && pair.starts_with(key) && pair[key.size()] == '=') {
      return pair.substr(key.size() + 1);
    }
  }
  return {};
}

/// Message `index` of a series: its number, then filler up to `size` bytes.
inline std::string numbered(int index, size_t size) {
  std::string m = std::to_string(index) + ":";
  m.resize(size, static_cast<char>('a' + index % 26));
  return m;
}

/// `size` bytes of message `index`, each depending on its position (so a piece written twice,
/// skipped or out of place shows), all below 0x80: valid as text too.
inline std::string patterned(int index, size_t size) {
  std::string m(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    m[i] = static_cast<char>((i * 31 + static_cast<size_t>(index) * 7 + i / 251) & 0x7f);
  }
  return m;
}

/// A connection upgraded to a WebSocket at `target` (path and query); throws if refused.
inline std::unique_ptr<RawClient> open_websocket(uint16_t port, std::string_view target) {
  auto c = std::make_unique<RawClient>(port);
  const std::string response = c->upgrade(target);
  if (!response.starts_with("HTTP/1.1 101 ")) {
    throw std::runtime_error("upgrade refused: " + response.substr(0, response.find('\r')));
  }
  return c;
}

/// Messages up to `last` (included); a close frame ends the list as "<close CODE REASON>".
inline std::vector<std::string> read_until(RawClient& c, const std::string& last) {
  std::vector<std::string> got;
  for (;;) {
    Frame f = c.read_frame();
    if (f.kind != Frame::message) {
      got.push_back("<close " + std::to_string(f.code) + " " + f.payload + ">");
      return got;
    }
    got.push_back(f.payload);
    if (f.payload == last) return got;
  }
}

}  // namespace duplex::test
