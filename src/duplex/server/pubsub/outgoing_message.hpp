// Internal: a message sent to many sessions (publish, send to users, broadcast), encoded once per
// wire format. OutgoingMessage is the payload and its plain WebSocket frame, made once and shared
// by every loop and every recipient's send queue; each loop's MessageEncodings adds the other
// encodings its recipients need on first need (compressed frames once per window size), so a
// publish to many sessions of mixed kinds encodes once per kind, never once per recipient.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/stomp/version.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/io/output_buffer.hpp"

namespace duplex::detail {

class EndpointDeflate;

/// Bytes [begin, end) of a shared buffer that make one frame: a whole frame, or one laid in a
/// topic's batch buffer (which later frames of the iteration continue).
struct FrameSlice {
  const io::SharedBytes& bytes;
  size_t begin;
  size_t end;
  bool batched;

  static FrameSlice whole(const io::SharedBytes& frame) { return {frame, 0, frame->size(), false}; }
  size_t size() const { return end - begin; }
  std::string_view view() const { return std::string_view(*bytes).substr(begin, size()); }
};

/// Where a message published to a topic stands in it: `seq` is unique and grows with every
/// publish (to any topic) of this server; `prev` is the seq of the topic's message before it (0
/// when the hub knows none), so a recipient can tell whether one is still on its way.
struct Sequence {
  uint64_t seq = 0;
  uint64_t prev = 0;
};

/// A Socket.IO event emitted to many sockets (a room, a namespace), encoded once: what each of
/// them queues to its Engine.IO session.
struct SocketIoPacket {
  /// Unique per emit: a socket reached through several of its rooms takes it once.
  uint64_t id = 0;
  /// The Socket.IO packet text ("2/admin,[\"ev\",...]"), and its binary attachments.
  std::string text;
  std::vector<std::string> attachments;
  /// Topics whose subscribers skip it (Broadcast::except).
  std::vector<std::string> except;
  /// Skipped by sockets that could not send it now.
  bool is_volatile = false;
  /// Only Socket.IO sockets take it; otherwise the message's payload (the one argument of a
  /// "message" event) goes to the topic's other subscribers as any published message.
  bool socketio_only = true;
  /// The message's payload is the Engine.IO message ("4" and `text`), and its frame that as a
  /// WebSocket frame, ready for every socket on WebSocket (socketio_only, no attachments).
  bool payload_is_engine_message = false;
};

/// A STOMP SEND published to a topic: what STOMP subscribers get of it (the message's payload is
/// what every other recipient gets: the body, or a /pubsub delivery of it).
struct StompSend {
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // passed on, in order
};

/// The message and its plain frame, immutable once shared: loops share it across threads.
class OutgoingMessage {
 public:
  static std::shared_ptr<OutgoingMessage> make(std::string_view payload, core::MessageType type,
                                               std::string_view topic = {},
                                               std::shared_ptr<const SocketIoPacket> socketio = {});

  core::MessageType type() const { return type_; }
  /// The payload, inside the frame.
  std::string_view payload() const { return std::string_view(*frame_).substr(header_size_); }
  const io::SharedBytes& frame() const { return frame_; }
  /// The topic it was published to (empty for a broadcast or a send to users).
  const std::string& topic() const { return topic_; }
  const Sequence& sequence() const { return sequence_; }
  /// Set by the hub before the message is shared.
  void set_sequence(Sequence sequence) { sequence_ = sequence; }
  /// The Socket.IO event it carries when a Socket.IO emit made it, else null.
  const SocketIoPacket* socketio() const { return socketio_.get(); }
  /// The STOMP SEND it carries when a STOMP client (or the broker's API) published it, else null.
  const StompSend* stomp() const { return stomp_.get(); }
  /// Set by the publisher before the message is shared.
  void set_stomp(std::shared_ptr<const StompSend> send) { stomp_ = std::move(send); }
  /// Whether sessions other than Socket.IO sockets skip it.
  bool socketio_only() const { return socketio_ && socketio_->socketio_only; }
  /// The payload as one JSON value (json_value_of), made once on first need, from any thread:
  /// long polls answer with it, also when they replay the message from a topic's history.
  const std::string& json_value() const;

 private:
  OutgoingMessage(io::SharedBytes frame, size_t header_size, core::MessageType type,
                  std::string_view topic, std::shared_ptr<const SocketIoPacket> socketio)
      : frame_(std::move(frame)),
        header_size_(header_size),
        type_(type),
        topic_(topic),
        socketio_(std::move(socketio)) {}
  io::SharedBytes frame_;
  size_t header_size_;
  core::MessageType type_;
  std::string topic_;
  std::shared_ptr<const SocketIoPacket> socketio_;
  std::shared_ptr<const StompSend> stomp_;
  Sequence sequence_;
  mutable std::once_flag json_once_;
  mutable std::string json_value_;
};

/// `payload` as one JSON value: itself (compacted) when it is one, else a JSON string.
std::string json_value_of(std::string_view payload);

/// One loop's encodings of an OutgoingMessage, made on first need: the shared plain frame (or its
/// slice of a topic's batch), and compressed frames made with the recipient endpoint's shared
/// compressor (connections without context takeover; those with it compress the payload
/// themselves).
class MessageEncodings {
 public:
  explicit MessageEncodings(const OutgoingMessage& message) : message_(message) {}

  std::string_view message() const { return message_.payload(); }
  core::MessageType type() const { return message_.type(); }
  const OutgoingMessage& outgoing() const { return message_; }
  /// The plain frame: in the topic's batch buffer once laid there, else the message's own.
  FrameSlice plain() const {
    return batch_ ? FrameSlice{batch_, batch_begin_, batch_end_, true}
                  : FrameSlice::whole(message_.frame());
  }
  /// Records where the plain frame was laid in a topic's batch buffer.
  void set_batch_slice(io::SharedBytes batch, size_t begin, size_t end) {
    batch_ = std::move(batch);
    batch_begin_ = begin;
    batch_end_ = end;
  }
  /// The compressed frame for `window_bits`, or the plain one if compressing did not help.
  const io::SharedBytes& compressed(int window_bits, EndpointDeflate& deflate);
  /// The message as a Server-Sent Event without its id line (each stream puts its own cursor
  /// before it): "data: ..." lines and the blank line.
  std::string_view sse_event();
  /// The event as a whole chunk of a chunked stream of one topic, id line included (for such a
  /// stream the id is the message's sequence): the same bytes for every such stream, made once.
  const io::SharedBytes& sse_chunk();
  /// The message as one JSON value (itself when it is one, else a JSON string), as a long poll
  /// answers it.
  std::string_view json_value();
  /// The message as a Socket.IO packet for namespace `nsp`: the emit's own packet, or for any
  /// other published message the event "message" with the payload as one JSON value
  /// (`2["message",...]`; a topic belongs to one namespace, so the first caller's is kept).
  std::string_view socketio_text(std::string_view nsp);
  /// The same as an Engine.IO message packet ("4" and the Socket.IO packet), made once.
  std::string_view engineio_message(std::string_view nsp);
  /// The message as a SockJS client gets it, quoted as the protocol quotes it (an element of an
  /// a[...] frame), made once: the payload, or of a /pubsub delivery envelope its data (a JSON
  /// string's text, any other value's JSON).
  std::string_view sockjs_quoted();
  /// The WebSocket text frame of a["<the message>"], made once for every SockJS session on a
  /// WebSocket.
  const io::SharedBytes& sockjs_ws_frame();
  /// The STOMP MESSAGE frame for a subscription `subscription` to `destination` that needs no
  /// acknowledgement, as a WebSocket message (text when the frame is UTF-8, else binary): made
  /// once per subscription id, destination and version, so that the many clients whose first
  /// subscription is "sub-0" share one. Its body is the SEND's (stomp()), or else the payload,
  /// of a /pubsub delivery its data (as for SockJS). The reference stays valid as long as this.
  const io::SharedBytes& stomp_ws_frame(std::string_view subscription, std::string_view destination,
                                        core::stomp::Version version);
  /// The same MESSAGE's STOMP text for one subscriber (an acknowledgement header of its own, a
  /// transport that is not a WebSocket), made anew each call into `out`.
  void append_stomp_frame(std::string& out, std::string_view subscription,
                          std::string_view destination, core::stomp::Version version,
                          std::string_view message_id, std::string_view ack);
  /// The message-id of its MESSAGE frames that need no acknowledgement ("m-<sequence>").
  std::string stomp_message_id() const;

 private:
  const OutgoingMessage& message_;
  std::array<io::SharedBytes, 16> compressed_;
  std::string sse_event_;         // made on first need
  io::SharedBytes sse_chunk_;     // made on first need
  std::string socketio_text_;     // made on first need
  std::string engineio_message_;  // made on first need
  std::string sockjs_quoted_;     // made on first need
  io::SharedBytes sockjs_ws_frame_;
  struct StompFrame {
    std::string subscription;
    std::string destination;
    core::stomp::Version version;
    io::SharedBytes frame;
  };
  // Made on first need, a few at most; a deque, so the frames handed out stay where they are.
  std::deque<StompFrame> stomp_frames_;
  std::string stomp_body_;  // of a message no STOMP SEND made, on first need
  bool stomp_body_made_ = false;
  io::SharedBytes batch_;
  size_t batch_begin_ = 0;
  size_t batch_end_ = 0;
};

}  // namespace duplex::detail
