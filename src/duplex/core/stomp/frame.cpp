#include "duplex/core/stomp/frame.hpp"

#include <array>

namespace duplex::core::stomp {

namespace {

// In the order of Command.
constexpr std::array<std::string_view, 15> kNames = {
    "CONNECT", "STOMP", "SEND",       "SUBSCRIBE", "UNSUBSCRIBE", "ACK",     "NACK",  "BEGIN",
    "COMMIT",  "ABORT", "DISCONNECT", "CONNECTED", "MESSAGE",     "RECEIPT", "ERROR",
};
static_assert(static_cast<size_t>(Command::error) + 1 == kNames.size());

}  // namespace

std::string_view command_name(Command command) { return kNames[static_cast<size_t>(command)]; }

std::optional<Command> parse_command(std::string_view name) {
  // string_view's == compares the lengths first, so this is mostly integer compares.
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Command>(i);
  }
  return std::nullopt;
}

}  // namespace duplex::core::stomp
