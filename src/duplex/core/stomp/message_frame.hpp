// The MESSAGE frame a broker sends a subscriber (STOMP 1.2 "MESSAGE"): one function writes every
// one of them, for a topic's subscribers (made once per subscription id and shared) and for a
// queue's deliveries alike, so their headers come in one order: subscription, destination,
// message-id, ack, redelivered, content-type, the sender's own headers, content-length.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {

struct MessageFields {
  std::string_view subscription;
  std::string_view destination;
  std::string_view message_id;
  /// Written as the `ack` header when nonempty (a 1.2 subscription that needs acknowledgements).
  std::string_view ack;
  /// `redelivered:true` (a queue's message handed out again after a NACK or a consumer leaving).
  bool redelivered = false;
  std::string_view content_type;    // empty: none
  std::span<const Header> headers;  // the sender's, passed on in order
  std::string_view body;
};

/// Appends the MESSAGE frame, its headers escaped as `version` escapes them; content-length is
/// always written (bodies may hold NULs, and readers need not scan for the end).
void append_message_frame(std::string& out, const MessageFields& fields, Version version);

}  // namespace duplex::core::stomp
