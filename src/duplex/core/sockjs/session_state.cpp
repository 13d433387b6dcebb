#include "duplex/core/sockjs/session_state.hpp"

namespace duplex::core::sockjs {

SessionStep SessionState::attach(ReceiverKind kind, bool messages_waiting) {
  SessionStep step;
  if (phase_ == SessionPhase::closed) {
    step.send_close = true;
    step.end_receiver = true;
    return step;
  }
  if (has_receiver_) {
    step.refuse = true;
    return step;
  }
  if (phase_ == SessionPhase::closing) {
    // What was queued before the close goes first: a poll takes that alone, a stream the close
    // frame after it. The session stays another disconnect delay for the next one.
    step.send_messages = messages_waiting;
    step.send_close = !(messages_waiting && kind == ReceiverKind::polling);
    step.end_receiver = true;
    step.arm_disconnect = true;
    return step;
  }
  has_receiver_ = true;
  receiver_ = kind;
  written_ = 0;
  step.cancel_disconnect = true;
  if (phase_ == SessionPhase::connecting) {
    phase_ = SessionPhase::open;
    step.send_open = true;
    step.opened = true;
    // A poll carries the open frame alone; what the open handler queues waits for the next.
    if (kind == ReceiverKind::polling) {
      step.end_receiver = true;
    } else {
      step.arm_heartbeat = true;
    }
    return step;
  }
  if (messages_waiting) {
    step.send_messages = true;
    if (kind == ReceiverKind::polling) {
      step.end_receiver = true;
      return step;
    }
  }
  step.arm_heartbeat = true;
  return step;
}

SessionStep SessionState::detach() {
  SessionStep step;
  if (!has_receiver_) return step;
  has_receiver_ = false;
  step.cancel_heartbeat = true;
  if (phase_ == SessionPhase::closed) return step;
  if (receiver_ == ReceiverKind::websocket) {
    // A WebSocket session does not wait for a client to come back.
    phase_ = SessionPhase::closed;
    step.ended = true;
    return step;
  }
  step.arm_disconnect = true;
  return step;
}

SessionStep SessionState::receiver_lost() {
  SessionStep step;
  if (!has_receiver_) return step;
  has_receiver_ = false;
  step.cancel_heartbeat = true;
  if (phase_ == SessionPhase::closed) return step;
  phase_ = SessionPhase::closed;
  step.cancel_disconnect = true;
  step.ended = true;
  return step;
}

SessionStep SessionState::message_queued() {
  SessionStep step;
  if (!can_send_now()) return step;
  step.send_messages = true;
  if (receiver_ == ReceiverKind::polling) {
    step.end_receiver = true;
  } else {
    step.arm_heartbeat = true;
  }
  return step;
}

SessionStep SessionState::wrote(size_t bytes) {
  SessionStep step;
  if (!has_receiver_ || receiver_ != ReceiverKind::streaming) return step;
  written_ += bytes;
  if (written_ >= response_limit_) step.end_receiver = true;
  return step;
}

SessionStep SessionState::heartbeat_elapsed() {
  SessionStep step;
  if (!can_send_now()) return step;
  step.send_heartbeat = true;
  if (receiver_ == ReceiverKind::polling) {
    step.end_receiver = true;
  } else {
    step.arm_heartbeat = true;
  }
  return step;
}

SessionStep SessionState::disconnect_elapsed() {
  SessionStep step;
  if (has_receiver_ || phase_ == SessionPhase::closed) return step;
  phase_ = SessionPhase::closed;
  step.ended = true;
  return step;
}

SessionStep SessionState::close() {
  SessionStep step;
  if (phase_ != SessionPhase::open && phase_ != SessionPhase::connecting) return step;
  phase_ = SessionPhase::closing;
  if (has_receiver_) {
    step.send_close = true;
    step.end_receiver = true;
  }
  return step;
}

SessionStep SessionState::end() {
  SessionStep step;
  if (phase_ == SessionPhase::closed) return step;
  phase_ = SessionPhase::closed;
  step.cancel_heartbeat = true;
  step.cancel_disconnect = true;
  step.end_receiver = has_receiver_;
  step.ended = true;
  return step;
}

}  // namespace duplex::core::sockjs
