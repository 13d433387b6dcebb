// Socket.IO protocol v5 packets (https://github.com/socketio/socket.io-protocol): the types and
// the header every packet text starts with. Sans IO: packet_decoder.hpp reads a text into a
// Packet, packet_encoder.hpp writes one; Engine.IO (the transport below) is not involved here.
//
// A packet is written `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`:
//   0{"sid":"x"}                        connect to "/" (the default namespace is not written)
//   2/admin,12["chat message","hi"]     event in /admin asking for an ack with id 12
//   51-["upload",{"_placeholder":true,"num":0}]   binary event; one binary message follows
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace duplex::core::socketio {

enum class PacketType : uint8_t {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

/// binary_event and binary_ack: the types whose header holds an attachment count.
constexpr bool is_binary(PacketType type) {
  return type == PacketType::binary_event || type == PacketType::binary_ack;
}

/// The ack ids JavaScript numbers hold exactly (Number.MAX_SAFE_INTEGER, 2^53 - 1).
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;

/// A packet's header and its data, as views of the packet text.
struct Packet {
  PacketType type = PacketType::connect;
  std::string_view nsp = "/";  // the namespace; "/" when the text names none
  std::optional<uint64_t> id;  // the ack id, when there is one
  size_t attachments = 0;      // binary types: how many binary messages follow (at least 1)
  std::string_view data;       // the JSON data exactly as written (may be empty: no data)
};

}  // namespace duplex::core::socketio
