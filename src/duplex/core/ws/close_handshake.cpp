#include "duplex/core/ws/close_handshake.hpp"

namespace duplex::core {

CloseStep CloseHandshake::close(uint16_t code) {
  CloseStep step;
  if (state_ != ReadyState::open) return step;
  state_ = ReadyState::closing;
  sent_ = true;
  step.send_close = true;
  step.code = code;
  step.await_peer = true;
  return step;
}

CloseStep CloseHandshake::peer_closed(uint16_t code) {
  CloseStep step;
  if (received_ || state_ == ReadyState::closed) return step;
  received_ = true;
  if (!sent_) {
    sent_ = true;
    step.send_close = true;
    step.code = code;
  }
  state_ = ReadyState::closing;
  // RFC 6455 7.1.1: the server closes the TCP connection first; a client waits for it.
  step.close_transport = role_ == Role::server;
  step.await_peer = role_ == Role::client;
  return step;
}

CloseStep CloseHandshake::fail(uint16_t code) {
  CloseStep step;
  if (state_ == ReadyState::closed) return step;
  if (!sent_ && state_ != ReadyState::connecting) {
    sent_ = true;
    step.send_close = true;
    step.code = code;
  }
  state_ = ReadyState::closing;
  step.close_transport = true;
  return step;
}

CloseStep CloseHandshake::timed_out() {
  CloseStep step;
  if (state_ == ReadyState::closed) return step;
  state_ = ReadyState::closing;
  step.close_transport = true;
  return step;
}

}  // namespace duplex::core
