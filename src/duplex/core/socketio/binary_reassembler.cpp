#include "duplex/core/socketio/binary_reassembler.hpp"

namespace duplex::core::socketio {

void BinaryReassembler::start(const Packet& packet) {
  packet_ = packet;
  nsp_.assign(packet.nsp);
  data_.assign(packet.data);
  packet_.nsp = nsp_;
  packet_.data = data_;
  if (buffers_.size() < packet.attachments) buffers_.resize(packet.attachments);
  received_ = 0;
  waiting_ = packet.attachments > 0;
}

Reassembly BinaryReassembler::add(std::string_view attachment) {
  if (!waiting_) return {.status = ReassemblyStatus::error, .error = reason::kUnexpectedBinary};
  buffers_[received_++].assign(attachment);
  if (received_ < packet_.attachments) return {};
  waiting_ = false;
  views_.assign(buffers_.begin(), buffers_.begin() + static_cast<ptrdiff_t>(received_));
  return {.status = ReassemblyStatus::complete, .packet = packet_, .attachments = views_};
}

void BinaryReassembler::reset() {
  waiting_ = false;
  received_ = 0;
}

}  // namespace duplex::core::socketio
