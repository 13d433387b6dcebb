#include "duplex/server/pubsub/outgoing_message.hpp"

#include <optional>
#include <string>
#include <variant>

#include "duplex/core/http/chunked_writer.hpp"
#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sockjs/frame.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/core/stomp/message_frame.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/server/deflate_session.hpp"

namespace duplex::detail {

std::shared_ptr<OutgoingMessage> OutgoingMessage::make(
    std::string_view payload, core::MessageType type, std::string_view topic,
    std::shared_ptr<const SocketIoPacket> socketio) {
  auto frame = std::make_shared<std::string>();
  core::append_frame(*frame, static_cast<core::Opcode>(type), payload);
  const size_t header_size = frame->size() - payload.size();
  return std::shared_ptr<OutgoingMessage>(
      new OutgoingMessage(std::move(frame), header_size, type, topic, std::move(socketio)));
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

// What a /pubsub delivery envelope carries: V of {"type":"message","topic":"...","data":V}, as
// core::pubsub::delivery writes it (compact, in that order); any other value as it is.
namespace {
// V when `json` is such an envelope, else nullopt.
std::optional<std::string_view> envelope_data(std::string_view json) {
  constexpr std::string_view kEnvelope = R"({"type":"message","topic":")";
  constexpr std::string_view kData = R"(,"data":)";
  if (json.substr(0, kEnvelope.size()) != kEnvelope || json.back() != '}') return std::nullopt;
  size_t i = kEnvelope.size();
  while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;  // the topic's end
  if (i >= json.size() || json.substr(i + 1, kData.size()) != kData) return std::nullopt;
  const size_t begin = i + 1 + kData.size();
  return json.substr(begin, json.size() - 1 - begin);
}

std::string pubsub_data_of(std::string_view json) {
  return std::string(envelope_data(json).value_or(json));
}

// The text a SockJS or STOMP client gets: of a /pubsub delivery, its data (the string itself when
// it is a JSON string, so a chat line published through /pubsub or POST /publish reads as it was
// sent; else its JSON text); any other payload as it is.
std::string delivered_text_of(std::string_view payload) {
  const std::optional<std::string_view> data = envelope_data(payload);
  if (!data) return std::string(payload);
  if (data->size() >= 2 && data->front() == '"') {
    std::string text;
    core::json::append_unescaped(text, *data);
    return text;
  }
  return std::string(*data);
}
}  // namespace

std::string json_value_of(std::string_view payload) {
  auto data = core::pubsub::data_from_text(payload);
  if (auto* json = std::get_if<std::string>(&data)) return std::move(*json);
  std::string quoted;  // too deep to pass as it is
  core::pubsub::append_json_string(quoted, payload);
  return quoted;
}

const std::string& OutgoingMessage::json_value() const {
  std::call_once(json_once_, [this] { json_value_ = json_value_of(payload()); });
  return json_value_;
}

std::string_view MessageEncodings::json_value() { return message_.json_value(); }

std::string_view MessageEncodings::socketio_text(std::string_view nsp) {
  if (const SocketIoPacket* packet = message_.socketio()) return packet->text;
  if (socketio_text_.empty()) {
    socketio_text_ = '2';
    if (nsp != "/") {
      socketio_text_ += nsp;
      socketio_text_ += ',';
    }
    socketio_text_ += "[\"message\",";
    socketio_text_ += pubsub_data_of(json_value());
    socketio_text_ += ']';
  }
  return socketio_text_;
}

std::string_view MessageEncodings::engineio_message(std::string_view nsp) {
  if (engineio_message_.empty()) {
    const std::string_view text = socketio_text(nsp);
    engineio_message_.reserve(text.size() + 1);
    engineio_message_ = '4';
    engineio_message_ += text;
  }
  return engineio_message_;
}

std::string_view MessageEncodings::sockjs_quoted() {
  if (sockjs_quoted_.empty()) {
    core::sockjs::append_quoted(sockjs_quoted_, delivered_text_of(message_.payload()));
  }
  return sockjs_quoted_;
}

const io::SharedBytes& MessageEncodings::sockjs_ws_frame() {
  if (!sockjs_ws_frame_) {
    const std::string_view quoted = sockjs_quoted();
    std::string payload;
    payload.reserve(quoted.size() + 3);
    payload = "a[";
    payload += quoted;
    payload += ']';
    auto frame = std::make_shared<std::string>();
    core::append_frame(*frame, core::Opcode::text, payload);
    sockjs_ws_frame_ = std::move(frame);
  }
  return sockjs_ws_frame_;
}

std::string MessageEncodings::stomp_message_id() const {
  return "m-" + std::to_string(message_.sequence().seq);
}

void MessageEncodings::append_stomp_frame(std::string& out, std::string_view subscription,
                                          std::string_view destination,
                                          core::stomp::Version version, std::string_view message_id,
                                          std::string_view ack) {
  core::stomp::MessageFields fields{.subscription = subscription,
                                    .destination = destination,
                                    .message_id = message_id,
                                    .ack = ack};
  std::vector<core::stomp::Header> headers;
  if (const StompSend* send = message_.stomp()) {
    headers.reserve(send->headers.size());
    for (const auto& [name, value] : send->headers) headers.push_back({name, value});
    fields.content_type = send->content_type;
    fields.headers = headers;
    fields.body = send->body;
  } else {
    if (!stomp_body_made_) {
      stomp_body_ = delivered_text_of(message_.payload());
      stomp_body_made_ = true;
    }
    fields.body = stomp_body_;
  }
  core::stomp::append_message_frame(out, fields, version);
}

const io::SharedBytes& MessageEncodings::stomp_ws_frame(std::string_view subscription,
                                                        std::string_view destination,
                                                        core::stomp::Version version) {
  for (const StompFrame& made : stomp_frames_) {
    if (made.version == version && made.subscription == subscription &&
        made.destination == destination) {
      return made.frame;
    }
  }
  std::string text;
  append_stomp_frame(text, subscription, destination, version, stomp_message_id(), {});
  auto frame = std::make_shared<std::string>();
  core::append_frame(*frame, core::is_valid_utf8(text) ? core::Opcode::text : core::Opcode::binary,
                     text);
  stomp_frames_.push_back(
      {std::string(subscription), std::string(destination), version, std::move(frame)});
  return stomp_frames_.back().frame;
}

}  // namespace duplex::detail
