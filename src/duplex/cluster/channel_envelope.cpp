#include "duplex/cluster/channel_envelope.hpp"

#include <vector>

#include "duplex/server/pubsub/outgoing_message.hpp"

namespace duplex::cluster::detail {

namespace {

using ::duplex::detail::SocketIoPacket;
using ::duplex::detail::StompSend;

constexpr uint8_t kSocketIoPart = 1, kStompPart = 2;
constexpr uint8_t kVolatile = 1, kSocketIoOnly = 2, kEngineMessage = 4;
constexpr uint8_t kBodyIsPayload = 1;

void put_number(std::string& out, uint64_t n, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>(n >> (8 * i));
}
void put_string(std::string& out, std::string_view s) {
  put_number(out, s.size(), 4);
  out += s;
}
template <class List, class Put>
void put_list(std::string& out, const List& list, Put put) {
  put_number(out, list.size(), 4);
  for (const auto& item : list) put(item);
}

// Reads the parts' fields off the front of `rest`; once one is missing, every later read fails.
class Reader {
 public:
  explicit Reader(std::string_view rest) : rest_(rest) {}
  bool number(uint64_t& n, size_t bytes) {
    if (!ok_ || rest_.size() < bytes) return ok_ = false;
    n = 0;
    for (size_t i = 0; i < bytes; ++i) n = n << 8 | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(bytes);
    return true;
  }
  bool string(std::string& s) {
    uint64_t size = 0;
    if (!number(size, 4) || rest_.size() < size) return ok_ = false;
    s.assign(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return true;
  }
  // A list of `read(item)`s; its count is checked against what is left (each item takes at
  // least 4 bytes), so a forged count cannot make it reserve much.
  template <class T, class Read>
  bool list(std::vector<T>& items, Read read) {
    uint64_t count = 0;
    if (!number(count, 4) || count > rest_.size() / 4) return ok_ = false;
    items.resize(count);
    for (T& item : items) {
      if (!read(item)) return false;
    }
    return true;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

void append_envelope_head(std::string& out, uint64_t node, core::MessageType type,
                          std::string_view payload, const SocketIoPacket* socketio,
                          const StompSend* stomp) {
  out += kEnvelopeVersion;
  out += type == core::MessageType::binary ? 'b' : 't';
  put_number(out, node, 8);
  out += static_cast<char>((socketio ? kSocketIoPart : 0) | (stomp ? kStompPart : 0));
  if (socketio) {
    const bool in_payload = socketio->payload_is_engine_message;
    out += static_cast<char>((socketio->is_volatile ? kVolatile : 0) |
                             (socketio->socketio_only ? kSocketIoOnly : 0) |
                             (in_payload ? kEngineMessage : 0));
    put_number(out, socketio->id, 8);
    if (!in_payload) put_string(out, socketio->text);
    put_list(out, socketio->attachments, [&](const std::string& a) { put_string(out, a); });
    put_list(out, socketio->except, [&](const std::string& t) { put_string(out, t); });
  }
  if (stomp) {
    const bool body_is_payload = stomp->body == payload;
    out += static_cast<char>(body_is_payload ? kBodyIsPayload : 0);
    if (!body_is_payload) put_string(out, stomp->body);
    put_string(out, stomp->content_type);
    put_list(out, stomp->headers, [&](const auto& header) {
      put_string(out, header.first);
      put_string(out, header.second);
    });
  }
}

std::optional<Envelope> read_envelope(std::string_view message) {
  if (message.size() < kEnvelopeHeaderSize || message[0] != kEnvelopeVersion) return std::nullopt;
  Envelope envelope;
  if (message[1] == 'b') {
    envelope.type = core::MessageType::binary;
  } else if (message[1] != 't') {
    return std::nullopt;
  }
  // The size was checked: the node id and the parts byte are there.
  Reader in(message.substr(2));
  uint64_t parts = 0;
  in.number(envelope.node, 8);
  in.number(parts, 1);
  if (parts & ~uint64_t{kSocketIoPart | kStompPart}) return std::nullopt;
  uint64_t flags = 0;
  std::shared_ptr<SocketIoPacket> socketio;
  bool text_in_payload = false;
  if (parts & kSocketIoPart) {
    socketio = std::make_shared<SocketIoPacket>();
    if (!in.number(flags, 1) || (flags & ~uint64_t{kVolatile | kSocketIoOnly | kEngineMessage}) ||
        !in.number(socketio->id, 8)) {
      return std::nullopt;
    }
    socketio->is_volatile = flags & kVolatile;
    socketio->socketio_only = flags & kSocketIoOnly;
    socketio->payload_is_engine_message = text_in_payload = flags & kEngineMessage;
    const auto string = [&](std::string& s) { return in.string(s); };
    if ((!text_in_payload && !in.string(socketio->text)) ||
        !in.list(socketio->attachments, string) || !in.list(socketio->except, string)) {
      return std::nullopt;
    }
  }
  std::shared_ptr<StompSend> stomp;
  bool body_is_payload = false;
  if (parts & kStompPart) {
    stomp = std::make_shared<StompSend>();
    if (!in.number(flags, 1) || (flags & ~uint64_t{kBodyIsPayload})) return std::nullopt;
    body_is_payload = flags & kBodyIsPayload;
    const auto header = [&](std::pair<std::string, std::string>& h) {
      return in.string(h.first) && in.string(h.second);
    };
    if ((!body_is_payload && !in.string(stomp->body)) || !in.string(stomp->content_type) ||
        !in.list(stomp->headers, header)) {
      return std::nullopt;
    }
  }
  envelope.payload = in.rest();
  if (socketio && text_in_payload) {
    // The Engine.IO message packet: "4" and the Socket.IO packet text.
    if (!envelope.payload.starts_with('4')) return std::nullopt;
    socketio->text = envelope.payload.substr(1);
  }
  if (stomp && body_is_payload) stomp->body = envelope.payload;
  envelope.socketio = std::move(socketio);
  envelope.stomp = std::move(stomp);
  return envelope;
}

}  // namespace duplex::cluster::detail
