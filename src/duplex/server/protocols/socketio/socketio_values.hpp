// Internal: emitted values made into Socket.IO packets. Arguments given as raw JSON (what Args
// hands on) are copied as they are; values are written as JSON.stringify writes them; when any
// holds binary, the packet becomes a binary_event / binary_ack with placeholders and the
// attachments (copied out).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/server/socketio_server.hpp"

namespace duplex::socketio::detail {

/// Throws std::invalid_argument for the names the protocol reserves ("connect", "disconnect",
/// ...), as the reference's emit does.
void check_event_name(std::string_view event);

void encode_event_values(std::string& out, std::vector<std::string>& attachments,
                         std::string_view nsp, std::string_view event,
                         const std::vector<Value>& args, std::optional<uint64_t> id);
void encode_ack_values(std::string& out, std::vector<std::string>& attachments,
                       std::string_view nsp, uint64_t id, const std::vector<Value>& args);

/// What an emit of `event` with `args` means to subscribers that are not Socket.IO sockets:
/// the one argument of a "message" event (a string's text, else its JSON), or nothing.
std::optional<std::string> payload_for_others(std::string_view event,
                                              const std::vector<Value>& args);

}  // namespace duplex::socketio::detail
