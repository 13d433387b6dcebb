// Collecting the attachments of a binary packet, sans IO. A binary_event or binary_ack text
// (decoded with packet_decoder.hpp) announces how many binary messages follow it; they arrive
// as the connection's next messages, and the packet is complete with the last of them.
//
// As the reference decoder, the caller treats as a protocol error a text message while
// waiting() ("got plaintext data when reconstructing a packet") and a binary message that is
// not awaited (add() says so); the socket.io server closes the connection on either.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/socketio/packet.hpp"

namespace duplex::core::socketio {

namespace reason {
inline constexpr std::string_view kUnexpectedBinary = "binary message without a binary packet";
}  // namespace reason

enum class ReassemblyStatus : uint8_t {
  need_more,  // the attachment was taken; more are to come
  complete,   // that was the last one: the packet and its attachments are in the result
  error,      // no binary packet waits for attachments
};

struct Reassembly {
  ReassemblyStatus status = ReassemblyStatus::need_more;
  /// With status complete: the packet (its namespace and data are views of the reassembler's
  /// copies) and its attachments in order (views too). Both stay valid until the next start(),
  /// add() or reset().
  Packet packet;
  std::span<const std::string_view> attachments;
  std::string_view error;  // with status error: reason::kUnexpectedBinary
};

class BinaryReassembler {
 public:
  /// Begins collecting the attachments of `packet`, a decoded binary_event or binary_ack (so
  /// with at least one attachment). Its namespace and data are copied: the text may go.
  /// Whatever was being collected before is dropped. (With no attachments, nothing waits.)
  void start(const Packet& packet);

  /// One binary message: the next attachment (copied).
  Reassembly add(std::string_view attachment);

  /// Whether a packet waits for attachments.
  bool waiting() const { return waiting_; }

  /// Drops the packet being collected, if any.
  void reset();

 private:
  Packet packet_;
  std::string nsp_;
  std::string data_;
  std::vector<std::string> buffers_;
  std::vector<std::string_view> views_;
  size_t received_ = 0;
  bool waiting_ = false;
};

}  // namespace duplex::core::socketio
