#include "duplex/core/socketio/packet_decoder.hpp"

#include <array>

#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_unescape.hpp"

namespace duplex::core::socketio {

namespace {

constexpr std::array<std::string_view, 6> kReservedEventNames = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The value of a string literal scan_json accepted: a view of its text when it holds no
// escapes, else unescaped into `storage`.
std::string_view string_value(std::string_view quoted, std::string& storage) {
  const std::string_view body = quoted.substr(1, quoted.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body;
  storage.clear();
  json::append_unescaped(storage, quoted);
  return storage;
}

// Checks the data of an event or ack (binary or not); with `args`, fills it.
std::string_view check_array_data(PacketType type, std::string_view data, PacketArgs* args) {
  const bool event = type == PacketType::event || type == PacketType::binary_event;
  const json::JsonScan scan = json::scan_json(data, args ? &args->args : nullptr, event ? 1 : 0);
  if (!scan.error.empty()) return scan.error;
  if (scan.type != json::JsonType::array) return reason::kNotArray;
  if (!event) return {};
  if (scan.size == 0) return reason::kNoEventName;
  if (scan.first_type == json::JsonType::number) {
    if (args) args->name_json = scan.first;
    return {};
  }
  if (scan.first_type != json::JsonType::string) return reason::kBadEventName;
  std::string local;
  std::string& storage = args ? args->name : local;
  const std::string_view name = string_value(scan.first, storage);
  if (is_reserved_event_name(name)) return reason::kReservedEventName;
  if (args) {
    args->name_json = scan.first;
    if (name.data() != storage.data()) storage.assign(name);
    args->name_is_string = true;
  }
  return {};
}

std::string_view check_data(PacketType type, std::string_view data, PacketArgs* args) {
  if (type == PacketType::disconnect) return reason::kDisconnectData;
  if (type != PacketType::connect && type != PacketType::connect_error) {
    return check_array_data(type, data, args);
  }
  const json::JsonScan scan = json::scan_json(data);
  if (!scan.error.empty()) return scan.error;
  if (scan.type == json::JsonType::object) return {};
  if (type == PacketType::connect) return reason::kConnectData;
  return scan.type == json::JsonType::string ? std::string_view() : reason::kConnectErrorData;
}

Decoded decode_packet(std::string_view text, PacketArgs* args, const DecodeOptions& options) {
  Decoded out;
  Packet& packet = out.packet;
  const auto clear_args = [args] {
    if (!args) return;
    args->args.clear();
    args->name_json = {};
    args->name.clear();
    args->name_is_string = false;
  };
  clear_args();
  const auto fail = [&](std::string_view why) {
    out.error = why;
    clear_args();
    return out;
  };
  if (text.empty()) return fail(reason::kEmpty);
  if (text[0] < '0' || text[0] > '6') return fail(reason::kUnknownType);
  packet.type = static_cast<PacketType>(text[0] - '0');
  size_t i = 1;

  if (is_binary(packet.type)) {
    const size_t start = i;
    size_t count = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (count < 1'000'000'000) count = count * 10 + static_cast<size_t>(text[i] - '0');
    }
    if (i == start || i == text.size() || text[i] != '-' || count == 0) {
      return fail(reason::kIllegalAttachments);
    }
    if (count > options.max_attachments) return fail(reason::kTooManyAttachments);
    packet.attachments = count;
    ++i;
  }

  if (i < text.size() && text[i] == '/') {
    const size_t comma = text.find(',', i);
    if (comma == std::string_view::npos) {
      packet.nsp = text.substr(i);
      i = text.size();
    } else {
      packet.nsp = text.substr(i, comma - i);
      i = comma + 1;
    }
  }

  if (i < text.size() && is_digit(text[i])) {
    uint64_t id = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      id = id * 10 + static_cast<uint64_t>(text[i] - '0');
      if (id > kMaxAckId) return fail(reason::kIdTooLarge);
    }
    packet.id = id;
  }

  if (i < text.size() && is_json_space(text[i])) return fail(reason::kSpaceBeforeData);
  packet.data = text.substr(i);
  if (packet.data.empty()) return out;
  if (const auto why = check_data(packet.type, packet.data, args); !why.empty()) return fail(why);
  return out;
}

}  // namespace

bool is_reserved_event_name(std::string_view name) {
  for (const auto reserved : kReservedEventNames) {
    if (name == reserved) return true;
  }
  return false;
}

Decoded decode(std::string_view text, const DecodeOptions& options) {
  return decode_packet(text, nullptr, options);
}

Decoded decode(std::string_view text, PacketArgs& args, const DecodeOptions& options) {
  return decode_packet(text, &args, options);
}

}  // namespace duplex::core::socketio
