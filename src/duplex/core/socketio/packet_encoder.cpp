#include "duplex/core/socketio/packet_encoder.hpp"

#include "duplex/core/json/js_number.hpp"
#include "duplex/core/socketio/json_writer.hpp"
#include "duplex/core/text/json_string.hpp"

namespace duplex::core::socketio {

using json::append_decimal;
using json::Json;

namespace {

// `[<arg>,...]`.
void append_array(std::string& out, std::span<const std::string_view> args) {
  out += '[';
  bool comma = false;
  for (const auto arg : args) {
    if (comma) out += ',';
    comma = true;
    out += arg;
  }
  out += ']';
}

// The elements of `args` written after `out`'s '[' and any name: `,<arg>,...]` or `<arg>,...]`.
void append_values(std::string& out, std::vector<std::string_view>& buffers, const Json& args,
                   bool after_name) {
  bool comma = after_name;
  for (const auto& arg : args) {
    if (comma) out += ',';
    comma = true;
    write_json(out, arg, &buffers);
  }
  out += ']';
}

}  // namespace

void encode_header(std::string& out, PacketType type, std::string_view nsp,
                   std::optional<uint64_t> id, size_t attachments) {
  out += static_cast<char>('0' + static_cast<int>(type));
  if (is_binary(type)) {
    append_decimal(out, attachments);
    out += '-';
  }
  if (!nsp.empty() && nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (id) append_decimal(out, *id);
}

void encode_event(std::string& out, std::string_view nsp, std::string_view name,
                  std::span<const std::string_view> args, std::optional<uint64_t> id) {
  encode_header(out, PacketType::event, nsp, id);
  out += '[';
  append_json_string(out, name);
  for (const auto arg : args) {
    out += ',';
    out += arg;
  }
  out += ']';
}

void encode_ack(std::string& out, std::string_view nsp, uint64_t id,
                std::span<const std::string_view> args) {
  encode_header(out, PacketType::ack, nsp, id);
  append_array(out, args);
}

void encode_connect(std::string& out, std::string_view nsp, std::string_view sid,
                    std::optional<std::string_view> pid) {
  encode_header(out, PacketType::connect, nsp);
  out += R"({"sid":)";
  append_json_string(out, sid);
  if (pid) {
    out += R"(,"pid":)";
    append_json_string(out, *pid);
  }
  out += '}';
}

void encode_connect_request(std::string& out, std::string_view nsp, std::string_view auth,
                            std::optional<std::string_view> pid,
                            std::optional<std::string_view> offset) {
  encode_header(out, PacketType::connect, nsp);
  if (!pid) {
    out += auth;
    return;
  }
  out += R"({"pid":)";
  append_json_string(out, *pid);
  if (offset) {
    out += R"(,"offset":)";
    append_json_string(out, *offset);
  }
  // The auth object's members, if it has any, after ours: its text without the braces.
  const size_t open = auth.find('{');
  const size_t close = auth.rfind('}');
  if (open != std::string_view::npos && close != std::string_view::npos) {
    const std::string_view members = auth.substr(open + 1, close - open - 1);
    if (members.find_first_not_of(" \t\n\r") != std::string_view::npos) {
      out += ',';
      out += members;
    }
  }
  out += '}';
}

void encode_connect_error(std::string& out, std::string_view nsp, std::string_view message,
                          std::string_view data) {
  encode_header(out, PacketType::connect_error, nsp);
  out += R"({"message":)";
  append_json_string(out, message);
  if (!data.empty()) {
    out += R"(,"data":)";
    out += data;
  }
  out += '}';
}

void encode_disconnect(std::string& out, std::string_view nsp) {
  encode_header(out, PacketType::disconnect, nsp);
}

void encode_event(std::string& out, std::vector<std::string_view>& buffers, std::string_view nsp,
                  std::string_view name, const Json& args, std::optional<uint64_t> id) {
  buffers.clear();
  const size_t count = count_binary(args);
  encode_header(out, count ? PacketType::binary_event : PacketType::event, nsp, id, count);
  out += '[';
  append_json_string(out, name);
  append_values(out, buffers, args, /*after_name=*/true);
}

void encode_ack(std::string& out, std::vector<std::string_view>& buffers, std::string_view nsp,
                uint64_t id, const Json& args) {
  buffers.clear();
  const size_t count = count_binary(args);
  encode_header(out, count ? PacketType::binary_ack : PacketType::ack, nsp, id, count);
  out += '[';
  append_values(out, buffers, args, /*after_name=*/false);
}

}  // namespace duplex::core::socketio
