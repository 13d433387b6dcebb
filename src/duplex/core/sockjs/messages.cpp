#include "duplex/core/sockjs/messages.hpp"

#include <array>

#include "duplex/core/json/js_string.hpp"
#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/sockjs/form_body.hpp"
#include "duplex/core/text/utf8.hpp"

namespace duplex::core::sockjs {

namespace {

constexpr MessagesResult kPayloadExpected{false, error_text::kPayloadExpected};
constexpr MessagesResult kBrokenJson{false, error_text::kBrokenJson};

// Bytes as the reference reads a body: as UTF-8, invalid sequences replaced.
std::string_view as_text(std::string_view bytes, std::string& storage) {
  if (is_valid_utf8(bytes)) return bytes;
  append_utf8_replacing_invalid(storage, bytes);
  return storage;
}

// The media type of a Content-Type as the reference takes it: up to the first ';', untrimmed.
std::string_view media_type(std::string_view content_type) {
  return content_type.substr(0, content_type.find(';'));
}

constexpr bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view json) {
  while (!json.empty() && is_json_space(json.front())) json.remove_prefix(1);
  while (!json.empty() && is_json_space(json.back())) json.remove_suffix(1);
  return json;
}

// decode_messages on text already read as UTF-8 (or WTF-8).
MessagesResult decode_array(std::string_view text, std::vector<std::string>& out) {
  if (text.empty()) return kPayloadExpected;
  const json::JsonScan scan = json::scan_json(text);
  if (!scan.error.empty()) return kBrokenJson;
  if (scan.type != json::JsonType::array) return kPayloadExpected;
  json::append_js_strings_of_elements(out, text);
  return {};
}

// A websocket message's text: one message, or an array's elements when `split_array`.
MessagesResult decode_ws(std::string_view bytes, bool split_array, std::vector<std::string>& out) {
  if (bytes.empty()) return {};
  std::string storage;
  const std::string_view text = as_text(bytes, storage);
  if (!json::scan_json(text).error.empty()) return kBrokenJson;
  if (split_array && text[0] == '[') {
    json::append_js_strings_of_elements(out, text);
  } else {
    out.emplace_back();
    json::append_js_string(out.back(), text);
  }
  return {};
}

}  // namespace

MessagesResult decode_messages(std::string_view json, std::vector<std::string>& out) {
  std::string storage;
  return decode_array(as_text(json, storage), out);
}

MessagesResult decode_ws_message(std::string_view text, std::vector<std::string>& out) {
  return decode_ws(text, true, out);
}

MessagesResult decode_ws_binary_message(std::string_view bytes, std::vector<std::string>& out) {
  return decode_ws(bytes, false, out);
}

MessagesResult decode_xhr_send(std::string_view content_type, std::string_view body,
                               std::vector<std::string>& out) {
  static constexpr std::array<std::string_view, 6> kRead = {
      "text/plain", "T", "application/json", "application/xml", "", "text/xml"};
  const std::string_view type = media_type(content_type);
  for (const std::string_view read : kRead) {
    if (type == read) return decode_messages(body, out);
  }
  return kPayloadExpected;
}

MessagesResult decode_jsonp_send(std::string_view content_type, std::string_view body,
                                 std::vector<std::string>& out) {
  const std::string_view type = media_type(content_type);
  if (type == "application/x-www-form-urlencoded") {
    std::vector<std::string> fields = form_values(body, "d", FormText::body);
    if (fields.empty()) return kPayloadExpected;
    if (fields.size() > 1) {  // the reference has an array of strings: each one a message
      for (std::string& field : fields) out.push_back(std::move(field));
      return {};
    }
    return decode_array(fields[0], out);
  }
  if (type != "text/plain" && !type.empty()) return kPayloadExpected;
  std::string storage;
  const std::string_view text = as_text(body, storage);
  if (text.empty()) return kPayloadExpected;
  const json::JsonScan scan = json::scan_json(text);
  if (!scan.error.empty()) return kBrokenJson;
  if (scan.type != json::JsonType::string) {
    return scan.type == json::JsonType::array ? decode_array(text, out) : kPayloadExpected;
  }
  // A JSON string: the JSON text it holds, read again.
  std::string inner;
  json::append_unescaped(inner, trimmed(text));
  return decode_array(inner, out);
}

std::optional<std::string> form_payload(std::string_view body) {
  std::vector<std::string> fields = form_values(body, "d", FormText::body);
  if (fields.empty()) return std::nullopt;
  return std::move(fields[0]);
}

}  // namespace duplex::core::sockjs
