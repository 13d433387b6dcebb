// What a node reads off a Redis channel (cluster/channel_envelope.hpp), which anyone with access
// to that Redis can publish to: any bytes are read or refused without harm, and an envelope that
// reads is written again (with the same node, type, parts and payload) into bytes that read back
// to the same envelope.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/cluster/channel_envelope.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "fuzz_common.hpp"

namespace {

using duplex::cluster::detail::Envelope;
using duplex::cluster::detail::read_envelope;
using duplex::fuzz::check;

void check_same(const Envelope& a, const Envelope& b) {
  check(a.node == b.node && a.type == b.type && a.payload == b.payload);
  check((a.socketio == nullptr) == (b.socketio == nullptr));
  if (a.socketio) {
    const auto &x = *a.socketio, &y = *b.socketio;
    check(x.id == y.id && x.text == y.text && x.attachments == y.attachments &&
          x.except == y.except && x.is_volatile == y.is_volatile &&
          x.socketio_only == y.socketio_only &&
          x.payload_is_engine_message == y.payload_is_engine_message);
  }
  check((a.stomp == nullptr) == (b.stomp == nullptr));
  if (a.stomp) {
    check(a.stomp->body == b.stomp->body && a.stomp->content_type == b.stomp->content_type &&
          a.stomp->headers == b.stomp->headers);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string message(reinterpret_cast<const char*>(data), size);
  const std::optional<Envelope> read = read_envelope(message);
  if (!read) return 0;
  check(read->payload.size() <= message.size());
  if (read->socketio && read->socketio->payload_is_engine_message) {
    check(read->payload.size() >= 1 && read->socketio->text == read->payload.substr(1));
  }
  std::string again;
  duplex::cluster::detail::append_envelope_head(again, read->node, read->type, read->payload,
                                                read->socketio.get(), read->stomp.get());
  check(again.size() <= message.size());  // never longer: a body equal to the payload goes once
  again += read->payload;
  const std::optional<Envelope> back = read_envelope(again);
  check(back.has_value());
  check_same(*read, *back);
  return 0;
}
