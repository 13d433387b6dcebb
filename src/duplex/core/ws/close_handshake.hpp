// The closing handshake (RFC 6455 sections 5.5.1, 7.1): which close frame to send, when the
// transport may be closed, and the connection's readyState. Sans-IO: the caller sends frames,
// runs the close timer and closes the transport as told.
#pragma once

#include <cstdint>

#include "duplex/core/ws/receiver.hpp"

namespace duplex::core {

/// The browser's WebSocket.readyState values.
enum class ReadyState : uint8_t { connecting = 0, open = 1, closing = 2, closed = 3 };

/// What to do after a close event.
struct CloseStep {
  bool send_close = false;  // send a close frame with `code` (kNoStatus: empty body)
  uint16_t code = 0;
  bool close_transport = false;  // close the transport once queued output is flushed
  bool await_peer = false;       // keep reading (bounded by the close timer) for the peer's part
};

class CloseHandshake {
 public:
  explicit CloseHandshake(Role role) : role_(role) {}

  ReadyState state() const { return state_; }
  void open() {
    if (state_ == ReadyState::connecting) state_ = ReadyState::open;
  }

  /// The local side starts the close. Only an open connection sends a close frame; it then waits
  /// for the peer's close frame.
  CloseStep close(uint16_t code);
  /// The peer's close frame arrived. An open connection echoes the peer's code. The server
  /// closes TCP once the frames are exchanged; the client waits for the server to do so.
  CloseStep peer_closed(uint16_t code);
  /// A protocol violation: send the close code (if no close was sent yet) and close the
  /// transport without waiting for the peer's reply.
  CloseStep fail(uint16_t code);
  /// The close timer ran out before the handshake finished.
  CloseStep timed_out();
  void transport_closed() { state_ = ReadyState::closed; }

  bool close_sent() const { return sent_; }
  bool close_received() const { return received_; }
  /// Both close frames were exchanged.
  bool clean() const { return sent_ && received_; }

 private:
  Role role_;
  ReadyState state_ = ReadyState::connecting;
  bool sent_ = false;
  bool received_ = false;
};

}  // namespace duplex::core
