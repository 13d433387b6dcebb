// What a SockJS 0.3 client sends: messages, in the bodies of xhr_send and jsonp_send requests and
// in the text messages of the websocket transport, read as the reference server (Node's sockjs
// 0.3.24) reads them. "reference:" below is what it answers, from its lib/trans-xhr.js,
// trans-jsonp.js, trans-websocket.js and webjs.js and checked against it running.
//
// The reference hands its application each message as the value JSON.parse made of it, and does
// not check that it is a string: ["a",1,null,{}] is four messages, the string "a", the number 1,
// null and an object. Here every message is a string, the one JavaScript's String() makes of the
// value ("a", "1", "null", "[object Object]"; core/json/js_string.hpp has every rule), which is
// what an application that treats messages as text has (and what an echo service sends back).
//
// Bodies are read as the reference reads them, as UTF-8 with every invalid sequence replaced by
// U+FFFD (core/text/utf8.hpp). Messages come out as UTF-8, a lone surrogate escape ("\ud800")
// as its three WTF-8 bytes (core/json/json_unescape.hpp), which append_quoted (frame.hpp) writes
// back as the same escape, as the reference does with a JavaScript string holding it.
//
// On an error nothing is appended to `out`. Where this is stricter than the reference:
// - JSON nested deeper than 128 levels (core/json/json_scanner.hpp) is broken JSON here; the
//   reference parses any depth.
// - An object is never an array here. The reference takes for an array whatever has an own
//   "__proto__" member that is an array ({"__proto__":[]} is a 204 with no message, and then
//   reads messages from its "length" and "0", "1", ... members); {"__proto__":null} makes it
//   throw (500 "500 - Internal Server Error"). Here both are kPayloadExpected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::core::sockjs {

/// The reference's answers to a bad xhr_send or jsonp_send body: status 500 with this text as
/// the body.
namespace error_text {
inline constexpr std::string_view kPayloadExpected = "Payload expected.";
inline constexpr std::string_view kBrokenJson = "Broken JSON encoding.";
}  // namespace error_text

struct MessagesResult {
  bool ok = true;
  std::string_view error;  // when not ok: one of error_text
};

/// The reference closes a websocket transport's WebSocket with this code and reason when a
/// message is not JSON (decode_ws_message's ok=false), without a close frame before.
inline constexpr uint16_t kBrokenFramingCode = 3000;
inline constexpr std::string_view kBrokenFramingReason = "Broken framing.";

/// An xhr_send payload (the body, once its Content-Type says it is one: decode_xhr_send), or a
/// jsonp_send one (but see decode_jsonp_send): a JSON array; each element, as a string (see
/// above), is appended to `out`. reference:
/// - "" (an empty body): kPayloadExpected;
/// - not JSON (`["x`, " ", "[1,]"): kBrokenJson;
/// - JSON that is not an array ({}, "x", "", 0, 1, null, true, false): kPayloadExpected;
/// - an array: ok, each element a message ([] is ok and adds none; `["a",1,[2,[3]],null,{}]`
///   adds "a", "1", "2,3", "null", "[object Object]"). Whitespace around it is allowed.
MessagesResult decode_messages(std::string_view json, std::vector<std::string>& out);

/// One text message of the `websocket` transport (SockJS framing over WebSocket). reference:
/// - "" adds nothing and is ok (the reference ignores empty messages);
/// - not JSON (`["a`, "x", " "): ok=false, error kBrokenJson; the server then closes the
///   WebSocket with kBrokenFramingCode and kBrokenFramingReason (3000 "Broken framing.");
/// - text whose first character is '[' (an array): each element is a message, as for
///   decode_messages ([] adds none);
/// - any other JSON is one message: a bare string ("\"x\"" adds "x"), and also a number, null,
///   an object, or an array after whitespace (" [\"a\",\"b\"]" adds the one message "a,b").
/// `text` is valid UTF-8 (the WebSocket layer checked it); bytes that are not are read as above.
MessagesResult decode_ws_message(std::string_view text, std::vector<std::string>& out);

/// One binary message of the `websocket` transport. The reference reads its bytes as UTF-8 text
/// and as decode_ws_message does, except that it never splits an array (it looks for '[' in the
/// first byte's number): it is one message whatever it holds (["a","b"] adds "a,b").
MessagesResult decode_ws_binary_message(std::string_view bytes, std::vector<std::string>& out);

/// An xhr_send body: decode_messages when the Content-Type, up to its first ';' and compared
/// exactly, is one the reference reads ("text/plain", "T", "application/json",
/// "application/xml", "text/xml", or none: ""; so "application/json; charset=utf-8" is one,
/// "Text/Plain" and "application/json ;charset=utf-8" are not); any other: kPayloadExpected.
MessagesResult decode_xhr_send(std::string_view content_type, std::string_view body,
                               std::vector<std::string>& out);

/// A jsonp_send body, by its Content-Type (up to its first ';', compared exactly). reference:
/// - "application/x-www-form-urlencoded": the `d` field (form_payload). None, or an empty one
///   ("", "d=", "p=p"): kPayloadExpected; one: decode_messages of it ("d=%5B%22x%22%5D" adds "x",
///   "d=%5B%22x" is kBrokenJson, `d="x"` kPayloadExpected); several `d` fields: each field's
///   text is one message as it is, not read as JSON ("d=a&d=b" adds "a" and "b").
/// - "text/plain" or none (""): the body is JSON: "" is kPayloadExpected, not JSON kBrokenJson;
///   a JSON string that is not empty is read again as the JSON text it holds (the body
///   "\"[\\\"x\\\"]\"" adds "x"; "\"x\"" is then kBrokenJson, "\"\"" kPayloadExpected); then as
///   decode_messages takes an array.
/// - any other: kPayloadExpected.
MessagesResult decode_jsonp_send(std::string_view content_type, std::string_view body,
                                 std::vector<std::string>& out);

/// A jsonp_send body with Content-Type application/x-www-form-urlencoded: the `d` field, percent-
/// and '+'-decoded as the reference decodes it (form_body.hpp); nullopt when there is none. With
/// several, the first (decode_jsonp_send takes them all, as the reference does). (Other content
/// types: the raw body.)
std::optional<std::string> form_payload(std::string_view body);

}  // namespace duplex::core::sockjs
