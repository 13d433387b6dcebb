#include "duplex/core/engineio/open_packet.hpp"

#include <cassert>
#include <charconv>

#include "duplex/core/engineio/session_id.hpp"

namespace duplex::core::engineio {

namespace {

void append_member(std::string& out, std::string_view key, uint64_t value) {
  out.append(",\"").append(key).append("\":");
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

std::string open_packet_data(const OpenInfo& info) {
  assert(valid_sid(info.sid));
  std::string out;
  out.reserve(128 + info.sid.size());
  out.append("{\"sid\":\"").append(info.sid).append("\",\"upgrades\":");
  out.append(info.websocket_upgrade ? "[\"websocket\"]" : "[]");
  append_member(out, "pingInterval", info.ping_interval_ms);
  append_member(out, "pingTimeout", info.ping_timeout_ms);
  append_member(out, "maxPayload", info.max_payload);
  out.push_back('}');
  return out;
}

}  // namespace duplex::core::engineio
