// libFuzzer target for the SockJS codec (core/sockjs).
//
// Input: any bytes, read as every kind of thing a SockJS client sends: an xhr_send body, a
// jsonp_send body of each content type the reference reads (the first byte picks the types
// tried with decode_xhr_send), a websocket message (text and binary), a form body, a request
// path after the service prefix and a query. Checked:
// - a refused body appends nothing and gives one of error_text; an accepted one gives
//   well-formed WTF-8 messages (UTF-8 but for lone surrogate halves, never a high half right
//   before a low one);
// - round trip: the decoded messages quoted into an array frame decode again to the same list;
// - a quoted UTF-8 input is a JSON string whose value is the input, and holds none of the
//   characters the reference escapes;
// - a route's parts are views of the path that write it back; a read callback is a valid one;
//   form values are UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/sockjs/callback.hpp"
#include "duplex/core/sockjs/form_body.hpp"
#include "duplex/core/sockjs/frame.hpp"
#include "duplex/core/sockjs/messages.hpp"
#include "duplex/core/sockjs/route.hpp"
#include "duplex/core/sockjs/transport_framing.hpp"
#include "duplex/core/text/utf8.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core::sockjs;
namespace json = duplex::core::json;
using duplex::core::is_valid_utf8;
using duplex::fuzz::check;

using Messages = std::vector<std::string>;

// A surrogate half's code unit at s[i] (ED A0..BF xx), else 0.
uint32_t surrogate_at(std::string_view s, size_t i) {
  if (i + 2 >= s.size() || static_cast<unsigned char>(s[i]) != 0xED) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  const auto b2 = static_cast<unsigned char>(s[i + 2]);
  if (b1 < 0xA0 || b1 > 0xBF || (b2 & 0xC0) != 0x80) return 0;
  return 0xD000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
}

bool is_well_formed_wtf8(std::string_view s) {
  std::string utf8;  // the halves as U+FFFD, which must then be valid UTF-8
  bool after_high = false;
  for (size_t i = 0; i < s.size();) {
    const uint32_t unit = surrogate_at(s, i);
    if (unit == 0) {
      utf8 += s[i++];
      after_high = false;
      continue;
    }
    if (after_high && unit >= 0xDC00) return false;
    after_high = unit < 0xDC00;
    utf8 += "\xEF\xBF\xBD";
    i += 3;
  }
  return is_valid_utf8(utf8);
}

std::string array_frame_of(const Messages& messages) {
  std::vector<std::string> quoted(messages.size());
  std::vector<std::string_view> views;
  for (size_t i = 0; i < messages.size(); ++i) {
    append_quoted(quoted[i], messages[i]);
    views.push_back(quoted[i]);
  }
  std::string frame;
  append_array_frame(frame, views);
  return frame;
}

// The checks every decode's result gets (`before` is what `out` held before the call).
void check_result(const MessagesResult& result, const Messages& out, size_t before) {
  check(out.size() >= before);
  if (!result.ok) {
    check(out.size() == before);
    check(result.error == error_text::kPayloadExpected || result.error == error_text::kBrokenJson);
    return;
  }
  check(result.error.empty());
  const Messages added(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
  for (const std::string& m : added) check(is_well_formed_wtf8(m));
  // Round trip through an array frame.
  const std::string frame = array_frame_of(added);
  check(frame.size() >= 3 && frame[0] == 'a');
  Messages again;
  check(decode_messages(std::string_view(frame).substr(1), again).ok);
  check(again == added);
  // The same frame over WebSocket.
  Messages over_ws;
  check(decode_ws_message(std::string_view(frame).substr(1), over_ws).ok);
  check(over_ws == added);
}

template <class Decode>
void decode_checked(Decode decode) {
  Messages out = {"before"};
  const MessagesResult result = decode(out);
  check_result(result, out, 1);
  check(out[0] == "before");
}

void read_messages(std::string_view input, uint8_t pick) {
  static constexpr std::string_view kXhrTypes[] = {"text/plain", "application/json", "",
                                                   "application/x-www-form-urlencoded"};
  decode_checked([&](Messages& out) { return decode_messages(input, out); });
  decode_checked([&](Messages& out) { return decode_ws_message(input, out); });
  decode_checked([&](Messages& out) { return decode_ws_binary_message(input, out); });
  decode_checked([&](Messages& out) { return decode_xhr_send(kXhrTypes[pick % 4], input, out); });
  decode_checked([&](Messages& out) {
    return decode_jsonp_send("application/x-www-form-urlencoded", input, out);
  });
  decode_checked([&](Messages& out) { return decode_jsonp_send("text/plain", input, out); });

  // An empty websocket message is nothing; any other is refused exactly when it is not JSON.
  Messages ws;
  const MessagesResult r = decode_ws_message(input, ws);
  if (input.empty()) check(r.ok && ws.empty());
  if (is_valid_utf8(input) && !input.empty()) {
    const json::JsonScan scan = json::scan_json(input);
    check(r.ok == scan.error.empty());
    Messages xhr;
    const MessagesResult x = decode_messages(input, xhr);
    check(x.ok == (scan.error.empty() && scan.type == json::JsonType::array));
    if (x.ok && input[0] == '[') check(xhr == ws);
  }
}

void read_form(std::string_view input) {
  for (const std::string& value : form_values(input, "d", FormText::body)) {
    check(is_valid_utf8(value));
  }
  const auto payload = form_payload(input);
  const Messages all = form_values(input, "d", FormText::body);
  check(payload.has_value() == !all.empty());
  if (payload) check(*payload == all[0]);
  form_values(input, input.substr(0, 3), FormText::query);
}

void read_route(std::string_view input) {
  const Route route = parse_route(input);
  const std::string_view methods = allowed_methods(route);
  check((route.kind == RouteKind::not_found) == methods.empty());
  check(method_allowed(route, "GET") == (methods.find("GET") != std::string_view::npos));
  check(method_allowed(route, "POST") == (methods.find("POST") != std::string_view::npos));
  check(!method_allowed(route, "HEAD"));
  check(allow_header(route).size() == methods.size());
  if (route.kind != RouteKind::session) {
    check(route.server.empty() && route.session.empty());
    return;
  }
  check(!route.server.empty() && !route.session.empty());
  check(route.server.find_first_of("/.") == std::string_view::npos);
  check(route.session.find_first_of("/.") == std::string_view::npos);
  check(route.server.data() == input.data() + 1);
  std::string path = "/" + std::string(route.server) + "/" + std::string(route.session) + "/" +
                     std::string(transport_name(route.transport));
  check(input == path || input == path + "/");
}

void read_callback_and_frames(std::string_view input) {
  for (const Transport t : {Transport::jsonp, Transport::htmlfile}) {
    const Callback callback = read_callback(input, t);
    check(callback.ok() ? is_valid_callback(callback.name, t)
                        : (callback.error == callback_error::kRequired ||
                           callback.error == callback_error::kInvalid));
  }
  // Quoting: any bytes go; UTF-8 comes back through the JSON string it makes.
  std::string quoted;
  append_quoted(quoted, input);
  if (is_valid_utf8(input)) {
    const json::JsonScan scan = json::scan_json(quoted);
    check(scan.error.empty() && scan.type == json::JsonType::string);
    std::string value;
    json::append_unescaped(value, quoted);
    check(value == input);
    check(quoted.find("\xE2\x80\xA8") == std::string::npos);  // U+2028
    for (const char c : quoted) check(static_cast<unsigned char>(c) < 0xF0);
  }
  std::string out;
  append_message_frame(out, input);
  append_close_frame(out, static_cast<uint16_t>(input.size()), input);
  append_xhr_frame(out, input);
  append_eventsource_frame(out, input);
  append_htmlfile_frame(out, input);
  append_jsonp_frame(out, "cb", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  read_messages(input, size > 0 ? data[0] : 0);
  read_form(input);
  read_route(input);
  read_callback_and_frames(input);
  return 0;
}
