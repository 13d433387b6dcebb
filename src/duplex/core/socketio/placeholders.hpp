// The attachments of binary packets put back in place: a binary_event or binary_ack's data
// holds a placeholder {"_placeholder":true,"num":N} where the sender had binary data, and the
// binary messages that follow the text are the attachments 0, 1, ... in order. (The other way,
// binary values written as placeholders, is write_json's: json_writer.hpp.)
//
// As the reference's reconstructPacket: an object whose "_placeholder" member is true is a
// placeholder, whatever other members it has, and is replaced whole; its "num" must be a
// number from 0 to the attachment count - 1; one attachment may be used more than once.
// Stricter than the reference: a num that is not a whole number is refused (the reference
// puts undefined in its place), and so is an attachment that no placeholder uses.
#pragma once

#include <span>
#include <string_view>

#include "duplex/core/json/json_value.hpp"

namespace duplex::core::socketio {

namespace reason {
inline constexpr std::string_view kAttachmentDataNotJson =
    "binary packet data is not JSON nlohmann can hold";
inline constexpr std::string_view kBadPlaceholder =
    "placeholder num is not the index of an attachment";
inline constexpr std::string_view kUnusedAttachment = "attachment not used by any placeholder";
}  // namespace reason

/// Replaces every placeholder in `value` by a binary value holding a copy of its attachment.
/// Returns empty, or one of the reasons above (`value` is then partly replaced).
std::string_view fill_placeholders(json::Json& value,
                                   std::span<const std::string_view> attachments);

struct Reconstructed {
  json::Json value;        // the data with binary values in place of the placeholders
  std::string_view error;  // empty, or one of the reasons above
  bool ok() const { return error.empty(); }
};

/// Parses `data` (parse_json) and fills its placeholders from `attachments`.
Reconstructed reconstruct(std::string_view data, std::span<const std::string_view> attachments);

}  // namespace duplex::core::socketio
