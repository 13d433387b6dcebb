#include "duplex/server/protocols/socketio/socketio_values.hpp"

#include <stdexcept>

#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/json_writer.hpp"
#include "duplex/core/socketio/packet_decoder.hpp"
#include "duplex/core/socketio/packet_encoder.hpp"

namespace duplex::socketio::detail {

namespace {

bool holds_binary(const std::vector<Value>& args) {
  for (const Value& v : args) {
    if (!v.is_raw() && core::socketio::count_binary(v.json()) > 0) return true;
  }
  return false;
}

// The arguments as JSON texts, for the packet encoder's raw form.
std::vector<std::string> texts_of(const std::vector<Value>& args) {
  std::vector<std::string> texts;
  texts.reserve(args.size());
  for (const Value& v : args) {
    if (v.is_raw()) {
      texts.push_back(v.raw_text());
    } else {
      std::string text;
      core::socketio::write_json(text, v.json());
      texts.push_back(std::move(text));
    }
  }
  return texts;
}

// The arguments as one array value (raw ones parsed), for the binary form.
Json array_of(const std::vector<Value>& args) {
  Json array = Json::array();
  for (const Value& v : args) {
    if (v.is_raw()) {
      auto parsed = core::json::parse_json(v.raw_text());
      if (!parsed) throw std::invalid_argument("socketio: a raw argument is not JSON");
      array.push_back(std::move(*parsed));
    } else {
      array.push_back(v.json());
    }
  }
  return array;
}

template <class EncodeRaw, class EncodeBinary>
void encode(std::vector<std::string>& attachments, const std::vector<Value>& args, EncodeRaw raw,
            EncodeBinary binary) {
  attachments.clear();
  if (!holds_binary(args)) {
    const std::vector<std::string> texts = texts_of(args);
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    raw(views);
    return;
  }
  const Json array = array_of(args);
  std::vector<std::string_view> buffers;
  binary(array, buffers);
  attachments.assign(buffers.begin(), buffers.end());
}

}  // namespace

void check_event_name(std::string_view event) {
  if (core::socketio::is_reserved_event_name(event)) {
    throw std::invalid_argument("socketio: \"" + std::string(event) +
                                "\" is a reserved event name");
  }
}

void encode_event_values(std::string& out, std::vector<std::string>& attachments,
                         std::string_view nsp, std::string_view event,
                         const std::vector<Value>& args, std::optional<uint64_t> id) {
  encode(
      attachments, args,
      [&](std::span<const std::string_view> views) {
        core::socketio::encode_event(out, nsp, event, views, id);
      },
      [&](const Json& array, std::vector<std::string_view>& buffers) {
        core::socketio::encode_event(out, buffers, nsp, event, array, id);
      });
}

void encode_ack_values(std::string& out, std::vector<std::string>& attachments,
                       std::string_view nsp, uint64_t id, const std::vector<Value>& args) {
  encode(
      attachments, args,
      [&](std::span<const std::string_view> views) {
        core::socketio::encode_ack(out, nsp, id, views);
      },
      [&](const Json& array, std::vector<std::string_view>& buffers) {
        core::socketio::encode_ack(out, buffers, nsp, id, array);
      });
}

std::optional<std::string> payload_for_others(std::string_view event,
                                              const std::vector<Value>& args) {
  if (event != "message" || args.size() != 1 || holds_binary(args)) return std::nullopt;
  const Value& v = args.front();
  if (v.is_raw()) {
    const std::string& text = v.raw_text();
    if (!text.empty() && text.front() == '"') {
      std::string out;
      core::json::append_unescaped(out, text);
      return out;
    }
    return text;
  }
  if (v.json().is_string()) return v.json().get<std::string>();
  std::string text;
  core::socketio::write_json(text, v.json());
  return text;
}

}  // namespace duplex::socketio::detail
