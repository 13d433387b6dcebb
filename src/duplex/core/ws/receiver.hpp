// The receiving half of a WebSocket endpoint (RFC 6455 section 5): parses frames from bytes as
// they arrive, unmasks them in place, reassembles fragmented messages, validates text as UTF-8
// incrementally and close frames, and reports complete messages and control frames. Sans-IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/mask.hpp"

namespace duplex::core {

/// What the receiver reports. Payload views are valid only during the call: they point into the
/// caller's buffer (a message that arrived whole, the zero-copy path) or the reassembly buffer.
class ReceiverEvents {
 public:
  virtual void on_message(MessageType type, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  /// A valid close frame; `code` is close_code::kNoStatus (1005) when the frame had no payload.
  /// The receiver halts: nothing after a close frame is processed.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
  /// The peer broke the protocol; the connection must be failed with `code` (1002, 1007, 1009;
  /// 1011 when memory for decompression ran out).
  /// The receiver halts.
  virtual void on_protocol_error(uint16_t code, std::string_view reason) = 0;

 protected:
  ~ReceiverEvents() = default;
};

enum class Role : uint8_t { server, client };

class Receiver {
 public:
  /// A server receives masked frames, a client unmasked ones. Messages larger than
  /// `max_payload` bytes (all fragments together) fail with 1009.
  Receiver(Role role, uint64_t max_payload);
  ~Receiver();
  Receiver(Receiver&&) noexcept;
  Receiver& operator=(Receiver&&) noexcept;

  /// Consumes `data`, which is unmasked in place. Returns the bytes consumed: all of them unless
  /// the receiver halted on the way (close frame, protocol error, or halt() from a handler).
  size_t feed(char* data, size_t len, ReceiverEvents& events);

  /// Stops delivering events; later input is ignored. Handlers call it when they close.
  void halt() { halted_ = true; }
  bool halted() const { return halted_; }

  void set_max_payload(uint64_t max_payload) { max_payload_ = max_payload; }
  /// permessage-deflate was negotiated: RSV1 on the first frame of a data message marks it
  /// compressed, and it is inflated with `inflater` (not owned) before delivery, bounded by
  /// max_payload. A `shared` inflater serves other connections too: it is only given whole
  /// messages (compressed bytes that span reads are gathered first). Null turns RSV1 back into a
  /// protocol error.
  void set_inflater(Inflater* inflater, bool shared = false) {
    inflater_ = inflater;
    inflater_shared_ = shared;
  }
  /// True while a message is partly received (bytes are held in the reassembly buffer).
  bool mid_message() const { return in_message_ || stage_ == Stage::payload; }

 private:
  enum class Stage : uint8_t { header, payload };
  struct Spill;  // lazily allocated buffers for data that spans reads

  size_t read_whole_message(char* data, size_t len, ReceiverEvents& events);
  size_t read_header(const char* data, size_t len, ReceiverEvents& events);
  bool parse_header(const uint8_t* h, ReceiverEvents& events);
  size_t read_payload(char* data, size_t len, ReceiverEvents& events);
  // `ascii`: the unmasking pass found only bytes < 0x80.
  void on_data(char* data, size_t take, bool frame_done, bool ascii, ReceiverEvents& events);
  void on_compressed(const char* data, size_t take, bool message_done, ReceiverEvents& events);
  void on_control(std::string_view payload, ReceiverEvents& events);
  void fail(ReceiverEvents& events, uint16_t code, std::string_view reason);
  Spill& spill();
  void release_message_buffer();

  uint64_t max_payload_;
  uint64_t frame_remaining_ = 0;  // payload bytes of the current frame not yet seen
  uint64_t message_size_ = 0;     // bytes of the current message so far, all fragments
  std::unique_ptr<Spill> spill_;
  Inflater* inflater_ = nullptr;
  MaskKey mask_{};
  Utf8Validator utf8_;
  uint8_t header_[kMaxFrameHeader];  // a header split across reads
  uint8_t header_len_ = 0;
  uint8_t mask_offset_ = 0;
  Opcode frame_opcode_ = Opcode::continuation;
  MessageType message_type_ = MessageType::binary;
  Stage stage_ = Stage::header;
  Role role_;
  // One bit each: a receiver lives in every connection, so its size counts.
  bool frame_fin_ : 1 = false;
  bool frame_masked_ : 1 = false;
  bool in_message_ : 1 = false;  // a fragmented message awaits continuation frames
  bool spilled_ : 1 = false;     // the current message has bytes in the reassembly buffer
  bool halted_ : 1 = false;
  bool compressed_ : 1 = false;  // the current message has RSV1 (permessage-deflate)
  bool inflater_shared_ : 1 = false;
};

}  // namespace duplex::core
