// A STOMP frame (STOMP 1.2, with 1.0 and 1.1 as the specification allows): its command, its
// headers in the order they came (a repeated header kept, the first one counting) and its body.
// The views belong to whoever made the frame (frame_decoder.hpp documents how long they last).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace duplex::core::stomp {

enum class Command : uint8_t {
  // client frames
  connect,
  stomp,
  send,
  subscribe,
  unsubscribe,
  ack,
  nack,
  begin,
  commit,
  abort,
  disconnect,
  // server frames
  connected,
  message,
  receipt,
  error,
};

/// The command as it is written on the wire ("CONNECT", "MESSAGE", ...).
std::string_view command_name(Command command);
/// The command named `name` (case-sensitive, as the specification has it), or none.
std::optional<Command> parse_command(std::string_view name);

/// A header, its name and value unescaped (where the frame's version escapes them).
struct Header {
  std::string_view name;
  std::string_view value;
};

struct Frame {
  Command command = Command::send;
  std::span<const Header> headers;
  std::string_view body;

  /// The first header named `name` (STOMP 1.2: a repeated header's first value counts), or none.
  std::optional<std::string_view> header(std::string_view name) const {
    for (const Header& h : headers) {
      if (h.name == name) return h.value;
    }
    return std::nullopt;
  }
};

}  // namespace duplex::core::stomp
