// A SockJS (protocol 0.3) session's state, as the reference server (Node's sockjs 0.3) keeps
// it: which request receives its frames, when the open, heartbeat and close frames go out, and
// when a session whose client stopped coming back ends. Sans-IO, in the manner of
// ws/close_handshake.hpp: each event returns a Step saying what the caller does; the caller owns
// the requests, the timers and the messages waiting to be sent.
//
// A session has at most one receiver: the request (or WebSocket) its frames go to. A polling
// receiver (xhr, jsonp) takes one batch and its response ends; a streaming one (xhr_streaming,
// eventsource, htmlfile) takes frames until it has carried `response_limit` bytes; a WebSocket
// takes frames until it closes. The first receiver gets the open frame ("o"), and the
// application learns of the session then. A second receiver while one is attached is refused
// with c[2010,"Another connection still open"] and the session goes on undisturbed.
//
// Heartbeat: a receiver that has been sent nothing for `heartbeat_delay` gets "h". Disconnect:
// once its receiver has ended, an HTTP session waits `disconnect_delay` for the next one and
// ends if none comes; a WebSocket session ends when its WebSocket does, and any session whose
// receiving request was dropped by its client ends at once. A session the application
// closed answers every later receiver with what it had queued, then its close frame, until no
// request has come for that delay.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duplex::core::sockjs {

enum class ReceiverKind : uint8_t {
  polling,    // one batch per request (xhr, jsonp)
  streaming,  // frames until the response limit (xhr_streaming, eventsource, htmlfile)
  websocket,  // frames until the WebSocket closes (the websocket transport)
};

enum class SessionPhase : uint8_t {
  connecting,  // made by a request, the open frame not yet sent
  open,
  closing,  // closed by the application: later receivers get its close frame
  closed,   // ended: forgotten by the server
};

/// The caller's part after an event, done in the order of the fields.
struct SessionStep {
  bool refuse = false;          // the new receiver gets c[2010,...] and ends; nothing else changes
  bool send_open = false;       // "o" to the receiver
  bool send_messages = false;   // what waits goes to the receiver, as one array frame
  bool send_heartbeat = false;  // "h" to the receiver
  bool send_close = false;      // the session's close frame to the receiver
  bool arm_heartbeat = false;   // (re)arm: a heartbeat timer already armed starts again
  bool cancel_heartbeat = false;
  bool arm_disconnect = false;
  bool cancel_disconnect = false;
  bool end_receiver = false;  // the receiver ends after what this step sent: the caller ends it
                              // and reports detach() (and does that step) before going on
  bool opened = false;        // the application's open handler runs (after the open frame went out)
  bool ended = false;  // the session is over: forget it, the application's close handler runs
};

class SessionState {
 public:
  /// `response_limit`: the bytes a streaming receiver carries before it is ended.
  explicit SessionState(size_t response_limit) : response_limit_(response_limit) {}

  SessionPhase phase() const { return phase_; }
  bool has_receiver() const { return has_receiver_; }
  ReceiverKind receiver_kind() const { return receiver_; }
  /// Whether a message queued now goes out at once.
  bool can_send_now() const { return has_receiver_ && phase_ == SessionPhase::open; }

  /// A request (or WebSocket) that receives frames arrived; `messages_waiting`: the session
  /// has messages queued for its next receiver. A receiver refused, or answered by a closing
  /// session, is not the session's: the caller sends it the step's frames and ends it, and
  /// reports no detach() for it.
  SessionStep attach(ReceiverKind kind, bool messages_waiting);
  /// The receiver ended: its response went out whole (or, for a WebSocket, it closed).
  SessionStep detach();
  /// The receiver's client went away before its response ended (an aborted request): as the
  /// protocol has it, the session ends at once rather than waiting for the client's return.
  SessionStep receiver_lost();
  /// The application queued a message.
  SessionStep message_queued();
  /// `bytes` went to the receiver (a streaming one ends past the response limit).
  SessionStep wrote(size_t bytes);
  SessionStep heartbeat_elapsed();
  SessionStep disconnect_elapsed();
  /// The application closes the session (the caller keeps its code and reason).
  SessionStep close();
  /// The session ends now, whatever its state (a WebSocket carrying a broken message, the
  /// server going down).
  SessionStep end();

 private:
  size_t response_limit_;
  size_t written_ = 0;  // bytes the current streaming receiver carried
  SessionPhase phase_ = SessionPhase::connecting;
  ReceiverKind receiver_ = ReceiverKind::polling;
  bool has_receiver_ = false;
};

}  // namespace duplex::core::sockjs
