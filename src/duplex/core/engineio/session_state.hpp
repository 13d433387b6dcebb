// An Engine.IO v4 session's state: its heartbeat, the upgrade from polling to WebSocket and why
// it closed, as the reference server (Node's engine.io 6) behaves. Sans-IO, in the manner of
// ws/close_handshake.hpp: each event returns a Step saying what the caller does (send a ping,
// answer the probe, release a held poll, switch transports, arm or cancel a timer, close); the
// caller owns the transports, the timers and the packets waiting to be sent.
//
// Heartbeat: the server pings `ping_interval` after the session opens and `ping_interval` after
// each pong; a pong must come within `ping_timeout` of the ping, else the session closes with
// "ping timeout". Any other packet from the client stretches that wait once per ping (a busy
// client whose pong is queued behind its messages is not dropped).
//
// Upgrade: a WebSocket that names a polling session is a probe. Its "2probe" is answered
// "3probe" and the held poll (if any) is released at once, so the client can pause polling; its
// "5" makes it the session's transport, and the packets still waiting go out on it. A probe that
// sends anything else, or sends nothing for `upgrade_timeout`, is closed and the session stays
// on polling.
#pragma once

#include <cstdint>
#include <string_view>

namespace duplex::core::engineio {

enum class PacketType : uint8_t;

enum class TransportKind : uint8_t { polling, websocket };

/// Why a session closed: the strings are those the reference server reports.
enum class CloseReason : uint8_t {
  none,
  transport_close,  // the client closed its transport (or sent a close packet over polling)
  transport_error,  // a poll cut short, a packet against the protocol, overlapping polls
  ping_timeout,     // no pong within ping_timeout
  parse_error,      // a packet that does not decode
  forced_close,     // the server closed it
};
std::string_view close_reason_text(CloseReason reason);

enum class SessionPhase : uint8_t { open, closing, closed };

/// The caller's part after an event, done in the order of the fields.
struct SessionStep {
  bool deliver = false;           // hand the packet's data to the application (a message)
  bool send_ping = false;         // queue a ping ("2") on the current transport
  bool send_probe_pong = false;   // answer the probe with "3probe"
  bool release_poll = false;      // answer the held poll now: what waits, else a noop ("6")
  bool switch_transport = false;  // the probe becomes the transport: send what waits on it, then
                                  // end polling (later polls are refused)
  bool drop_probe = false;        // close the probing WebSocket; the session stays on polling
  bool arm_ping_interval = false;
  bool arm_ping_timeout = false;  // (re)arm: a timeout already armed starts again
  bool cancel_ping_timeout = false;
  bool arm_upgrade_timeout = false;
  bool cancel_upgrade_timeout = false;
  CloseReason close = CloseReason::none;  // close the session for this reason
};

struct SessionTimings {
  uint32_t ping_interval_ms = 25'000;
  uint32_t ping_timeout_ms = 20'000;
  uint32_t upgrade_timeout_ms = 10'000;
};

class SessionState {
 public:
  explicit SessionState(TransportKind transport) : transport_(transport) {}

  TransportKind transport() const { return transport_; }
  SessionPhase phase() const { return phase_; }
  /// A probe is under way (a WebSocket named the session and has not yet switched or failed).
  bool upgrading() const { return probe_ != Probe::none; }
  /// The session moved from polling to WebSocket.
  bool upgraded() const { return upgraded_; }

  /// The open packet went out: the heartbeat starts.
  SessionStep opened();
  /// A packet from the current transport.
  SessionStep received(PacketType type, std::string_view data);
  SessionStep ping_interval_elapsed();
  SessionStep ping_timeout_elapsed();

  /// A WebSocket asks to take over the session. False when it must be refused (the session is
  /// not open, already on WebSocket, or another probe is under way); else the probe starts and
  /// `step` says to arm the upgrade timeout.
  bool probe_opened(SessionStep& step);
  /// A packet from the probing WebSocket.
  SessionStep probe_received(PacketType type, std::string_view data);
  SessionStep upgrade_timeout_elapsed();
  /// The probing WebSocket went away before switching.
  SessionStep probe_closed();

  /// The current transport went away: a WebSocket closed, or a held poll's client left
  /// (`error`: the reference calls that a transport error).
  SessionStep transport_lost(bool error);
  /// The session must close for this reason (a parse error, overlapping polls, the server).
  SessionStep fail(CloseReason reason);
  /// The server closes the session: "forced close" once what waits has gone out.
  void start_closing() {
    if (phase_ == SessionPhase::open) phase_ = SessionPhase::closing;
  }

 private:
  enum class Probe : uint8_t { none, opened, answered };
  SessionStep close(CloseReason reason);

  TransportKind transport_;
  SessionPhase phase_ = SessionPhase::open;
  Probe probe_ = Probe::none;
  bool upgraded_ = false;
  bool awaiting_pong_ = false;
  bool stretched_ = false;  // the ping timeout was stretched once since the last ping
};

}  // namespace duplex::core::engineio
