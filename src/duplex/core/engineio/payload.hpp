// Engine.IO protocol v4 long-polling payloads, sans IO: the body of a POST from the client or of
// the answer to a GET is one or more packets joined by the record separator '\x1e' (which
// cannot occur in a packet: text is UTF-8 and binary goes as base64). A packet is in text form
// (packet.hpp), or 'b' and the base64 of a binary message's data: "4hello\x1ebAQID" is the
// message "hello", then the binary message 01 02 03.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/engineio/packet.hpp"

namespace duplex::core::engineio {

inline constexpr char kRecordSeparator = '\x1e';

struct PayloadResult {
  bool ok = false;
  std::string_view error;  // when not ok: one of engineio::reason
};

/// Reads a whole payload into `packets`, in order. Text packets' data are views into `body`;
/// binary data (standard base64 with padding, as core/text/base64.hpp's append_base64_decoded
/// takes it) is decoded into `scratch`, which is cleared and reserved to body.size() first so
/// that it never moves while it is filled: those views stay valid until `scratch` is changed.
/// A fault anywhere refuses the whole payload, with `packets` left empty: an empty packet (so an
/// empty body and a separator at either end or doubled are refused), a type other than '0' to
/// '6' or 'b' (kUnknownType), bad base64 (kBadBase64), or more than `max_packets` packets
/// (kTooManyPackets, found before the packet past the limit is read).
[[nodiscard]] PayloadResult decode_payload(std::string_view body, std::string& scratch,
                                           std::vector<Packet>& packets, size_t max_packets);

/// Appends `packet` to the payload being written in `payload`, after a record separator unless
/// `payload` is empty (so it must hold nothing but this payload's packets): a binary packet as
/// 'b' and the base64 of its data (its type is not written: it is a message), any other in
/// text form.
void append_payload_packet(std::string& payload, const Packet& packet);

}  // namespace duplex::core::engineio
