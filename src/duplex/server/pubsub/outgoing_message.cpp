#include "duplex/server/pubsub/outgoing_message.hpp"

#include <string>
#include <variant>

#include "duplex/core/http/chunked_writer.hpp"
#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/server/deflate_session.hpp"

namespace duplex::detail {

std::shared_ptr<OutgoingMessage> OutgoingMessage::make(std::string_view payload,
                                                       core::MessageType type,
                                                       std::string_view topic) {
  auto frame = std::make_shared<std::string>();
  core::append_frame(*frame, static_cast<core::Opcode>(type), payload);
  const size_t header_size = frame->size() - payload.size();
  return std::shared_ptr<OutgoingMessage>(
      new OutgoingMessage(std::move(frame), header_size, type, topic));
}

const io::SharedBytes& MessageEncodings::compressed(int window_bits, EndpointDeflate& deflate) {
  io::SharedBytes& slot = compressed_[static_cast<size_t>(window_bits)];
  if (!slot) {
    auto frame = std::make_shared<std::string>();  // stays empty when compressing does not help
    std::string payload;
    const std::string_view message = message_.payload();
    if (deflate.shared_deflater(window_bits).compress(message, payload) &&
        payload.size() < message.size()) {
      core::append_frame(*frame, static_cast<core::Opcode>(message_.type()), payload, true, true);
    }
    slot = std::move(frame);
  }
  return slot->empty() ? message_.frame() : slot;
}

std::string_view MessageEncodings::sse_event() {
  if (sse_event_.empty()) {
    // No id and no event type: nothing in them can be refused.
    [[maybe_unused]] const core::SseError error =
        core::append_event(sse_event_, {.data = message_.payload()});
  }
  return sse_event_;
}

const io::SharedBytes& MessageEncodings::sse_chunk() {
  if (!sse_chunk_) {
    std::string id = "id: ";
    core::append_cursor(id, {{{}, message_.sequence().seq}});
    id += '\n';
    const std::string_view event = sse_event();
    auto chunk = std::make_shared<std::string>();
    char header[core::kMaxChunkHeader];
    chunk->append(header, core::write_chunk_header(header, id.size() + event.size()));
    chunk->append(id);
    chunk->append(event);
    chunk->append(core::kChunkEnd);
    sse_chunk_ = std::move(chunk);
  }
  return sse_chunk_;
}

std::string json_value_of(std::string_view payload) {
  auto data = core::pubsub::data_from_text(payload);
  if (auto* json = std::get_if<std::string>(&data)) return std::move(*json);
  std::string quoted;  // too deep to pass as it is
  core::pubsub::append_json_string(quoted, payload);
  return quoted;
}

std::string_view MessageEncodings::json_value() {
  if (json_value_.empty()) json_value_ = json_value_of(message_.payload());
  return json_value_;
}

}  // namespace duplex::detail
