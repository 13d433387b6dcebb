// Heart-beat negotiation (STOMP 1.2 "Heart-beating"; 1.1 has the same, 1.0 none). Each side's
// CONNECT or CONNECTED frame carries `heart-beat:<send>,<receive>`: the smallest interval in
// milliseconds at which it can send something (0: it cannot), and the interval at which it wants
// to receive something (0: it does not). A side sends at MAX(its send, the peer's receive) unless
// either is 0, and expects to receive at MAX(its receive, the peer's send) unless either is 0.
// A heart-beat is an EOL; any frame counts as well.
//
// The rule is the same seen from either side, so one function serves both: a server passes the
// client's CONNECT header and its own (sx, sy) wishes, a client the server's CONNECTED header
// and its own (cx, cy).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace duplex::core::stomp {

/// A heart-beat header's two numbers, or what one side agreed to do.
struct HeartBeat {
  uint32_t send_ms = 0;     // sends something at least this often; 0: never
  uint32_t receive_ms = 0;  // wants (expects) something at least this often; 0: never

  bool operator==(const HeartBeat&) const = default;
};

/// Reads a heart-beat header value: two decimal numbers of milliseconds, each 1*DIGIT within 32
/// bits, separated by one comma ("10000,10000", "0,0"). Anything else ("", "1", "1,", " 1,2",
/// "1, 2", "-1,0", "1,2,3", "4294967296,0") is malformed: none.
std::optional<HeartBeat> parse_heart_beat(std::string_view value);

/// What this side agrees to, from the peer's heart-beat header (nullopt when the frame has none,
/// which means "0,0") and its own wishes: send_ms is the interval it sends at, receive_ms the one
/// it expects to receive at (0: none). A malformed peer header gives none (the server answers an
/// ERROR frame).
std::optional<HeartBeat> negotiate_heart_beat(std::optional<std::string_view> peer_header,
                                              HeartBeat own);

}  // namespace duplex::core::stomp
