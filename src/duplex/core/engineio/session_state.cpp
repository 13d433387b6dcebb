#include "duplex/core/engineio/session_state.hpp"

#include "duplex/core/engineio/packet.hpp"

namespace duplex::core::engineio {

std::string_view close_reason_text(CloseReason reason) {
  switch (reason) {
    case CloseReason::none:
      return "";
    case CloseReason::transport_close:
      return "transport close";
    case CloseReason::transport_error:
      return "transport error";
    case CloseReason::ping_timeout:
      return "ping timeout";
    case CloseReason::parse_error:
      return "parse error";
    case CloseReason::forced_close:
      return "forced close";
  }
  return "";
}

SessionStep SessionState::close(CloseReason reason) {
  SessionStep step;
  if (phase_ == SessionPhase::closed) return step;
  phase_ = SessionPhase::closed;
  step.close = reason;
  step.cancel_ping_timeout = awaiting_pong_;
  awaiting_pong_ = false;
  if (probe_ != Probe::none) {
    probe_ = Probe::none;
    step.drop_probe = true;
    step.cancel_upgrade_timeout = true;
  }
  return step;
}

SessionStep SessionState::opened() {
  SessionStep step;
  step.arm_ping_interval = phase_ != SessionPhase::closed;
  return step;
}

SessionStep SessionState::received(PacketType type, std::string_view /*data*/) {
  SessionStep step;
  if (phase_ == SessionPhase::closed) return step;
  if (awaiting_pong_ && !stretched_ && type != PacketType::pong) {
    stretched_ = true;
    step.arm_ping_timeout = true;
  }
  switch (type) {
    case PacketType::ping:
      // In v4 only the server pings.
      return close(CloseReason::transport_error);
    case PacketType::pong:
      step.arm_ping_timeout = false;
      step.cancel_ping_timeout = awaiting_pong_;
      awaiting_pong_ = false;
      step.arm_ping_interval = true;
      return step;
    case PacketType::message:
      step.deliver = true;
      return step;
    case PacketType::close:
      // Over polling the client says goodbye this way; a WebSocket just closes.
      if (transport_ == TransportKind::polling) return close(CloseReason::transport_close);
      return step;
    case PacketType::open:
    case PacketType::upgrade:
    case PacketType::noop:
      return step;
  }
  return step;
}

SessionStep SessionState::ping_interval_elapsed() {
  SessionStep step;
  if (phase_ == SessionPhase::closed) return step;
  step.send_ping = true;
  step.arm_ping_timeout = true;
  awaiting_pong_ = true;
  stretched_ = false;
  return step;
}

SessionStep SessionState::ping_timeout_elapsed() {
  if (!awaiting_pong_) return {};
  return close(CloseReason::ping_timeout);
}

bool SessionState::probe_opened(SessionStep& step) {
  if (phase_ != SessionPhase::open || transport_ != TransportKind::polling ||
      probe_ != Probe::none) {
    return false;
  }
  probe_ = Probe::opened;
  step.arm_upgrade_timeout = true;
  return true;
}

SessionStep SessionState::probe_received(PacketType type, std::string_view data) {
  SessionStep step;
  if (probe_ == Probe::none) return step;
  if (type == PacketType::ping && data == "probe" && probe_ == Probe::opened) {
    probe_ = Probe::answered;
    step.send_probe_pong = true;
    step.release_poll = true;
    return step;
  }
  step.cancel_upgrade_timeout = true;
  if (type == PacketType::upgrade && phase_ != SessionPhase::closed) {
    probe_ = Probe::none;
    transport_ = TransportKind::websocket;
    upgraded_ = true;
    step.switch_transport = true;
    return step;
  }
  probe_ = Probe::none;
  step.drop_probe = true;
  return step;
}

SessionStep SessionState::upgrade_timeout_elapsed() {
  SessionStep step;
  if (probe_ == Probe::none) return step;
  probe_ = Probe::none;
  step.drop_probe = true;
  return step;
}

SessionStep SessionState::probe_closed() {
  SessionStep step;
  if (probe_ == Probe::none) return step;
  probe_ = Probe::none;
  step.cancel_upgrade_timeout = true;
  return step;
}

SessionStep SessionState::transport_lost(bool error) {
  return close(error ? CloseReason::transport_error : CloseReason::transport_close);
}

SessionStep SessionState::fail(CloseReason reason) { return close(reason); }

}  // namespace duplex::core::engineio
