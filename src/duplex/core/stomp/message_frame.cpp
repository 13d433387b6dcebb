#include "duplex/core/stomp/message_frame.hpp"

#include "duplex/core/stomp/frame_encoder.hpp"

namespace duplex::core::stomp {

void append_message_frame(std::string& out, const MessageFields& fields, Version version) {
  append_command(out, Command::message);
  append_header(out, "subscription", fields.subscription, version);
  append_header(out, "destination", fields.destination, version);
  append_header(out, "message-id", fields.message_id, version);
  if (!fields.ack.empty()) append_header(out, "ack", fields.ack, version);
  if (fields.redelivered) append_header(out, "redelivered", "true", version);
  if (!fields.content_type.empty()) {
    append_header(out, "content-type", fields.content_type, version);
  }
  for (const Header& header : fields.headers) {
    append_header(out, header.name, header.value, version);
  }
  append_content_length(out, fields.body.size());
  append_frame_end(out, fields.body);
}

}  // namespace duplex::core::stomp
