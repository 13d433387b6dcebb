// The data of Engine.IO's open packet (type 0), the server's first packet on a new session,
// written byte for byte as Node's engine.io 6 writes it (JSON.stringify, keys in this order):
// {"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,
// "pingTimeout":20000,"maxPayload":1000000}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::core::engineio {

struct OpenInfo {
  /// The session id; valid_sid (session_id.hpp) must hold, so it needs no JSON escaping (it is
  /// asserted in debug builds, and written as it is otherwise).
  std::string_view sid;
  /// Whether "upgrades" lists "websocket" (a polling session that may upgrade) or is [] (a
  /// session opened over WebSocket, or a server that allows no upgrade).
  bool websocket_upgrade = true;
  uint32_t ping_interval_ms = 25000;
  uint32_t ping_timeout_ms = 20000;
  /// The most bytes the server takes in one polling body or WebSocket message.
  uint64_t max_payload = 1000000;
};

/// The open packet's data (without the type digit), numbers in plain decimal. JSON.stringify
/// writes them the same way up to 10^21, which a uint64_t passes only above 2^53 (beyond which
/// JavaScript numbers are no longer exact anyway).
std::string open_packet_data(const OpenInfo& info);

}  // namespace duplex::core::engineio
