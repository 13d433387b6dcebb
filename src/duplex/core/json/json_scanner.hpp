// A strict JSON validator that also splits an array into its elements. Socket.IO events and
// acks need the event name and each argument as the exact text it was sent as (a view, no copy),
// parsing an argument into a value (json_value.hpp) only when the application asks for it; SockJS
// payloads are arrays of strings, each unescaped (json_unescape.hpp) into a message.
//
// Why hand-written: measured with bench/micro/socketio_bench.cpp (release build, medians of
// five runs, ns per packet) on three typical event packets of 66, 206 and 1,733 bytes:
//                                        small   3 args   ~2 KB
//   scan_json (this), data after the type   38      149    1,316
//   decode() with it, header and name        52      168    1,324
//   nlohmann::json::parse + name, args      799    2,392   18,510
//   nlohmann::ordered_json (Json) the same  723    2,440   30,204
//   simdjson 3.0 DOM parse (strict)          50      157      941
//   simdjson 3.0 on-demand, raw_json views   44       75      591
// simdjson was measured out of tree (Debian's libsimdjson-dev; not a dependency). Its strict
// parse gives values, not the elements' text, and is no faster on small packets; its
// on-demand API gives the views but does not validate what it skips (["a",{"x":tru}] passes).
// Parsing every argument on demand with nlohmann costs about what parsing the whole data
// does, so an application that reads none or some of them saves all or part of it.
//
// What is valid is what JavaScript's JSON.parse accepts (RFC 8259): one value with optional
// whitespace (space, tab, LF, CR) around it; objects, arrays, strings, numbers
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), true, false, null. Inside strings a control
// character (below 0x20) is refused and every other byte is taken (the text is valid UTF-8, as
// the transport guarantees, and is not checked again); escapes are \" \\ \/ \b \f \n \r \t and
// \uXXXX, a lone surrogate included (JSON.parse takes it). Numbers of any size are taken
// (JSON.parse reads 1e400 as Infinity). Arrays and objects nested deeper than kMaxJsonDepth
// are refused, so the scan needs no memory beyond a fixed bit stack and never recurses.
//
// Where nlohmann::json::accept differs: it also takes a leading UTF-8 byte order mark, ends the
// text at a NUL byte, and refuses lone surrogate escapes and numbers beyond a double's range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace duplex::core::json {

/// Arrays and objects may nest this deep (the outermost counts as level 1).
inline constexpr size_t kMaxJsonDepth = 128;

enum class JsonType : uint8_t { null, boolean, number, string, array, object };

namespace json_reason {
inline constexpr std::string_view kNotJson = "data is not valid JSON";
inline constexpr std::string_view kTooDeep = "data is nested deeper than 128 levels";
}  // namespace json_reason

/// What scan_json() found.
struct JsonScan {
  std::string_view error;          // empty when the text is valid, else one of json_reason
  JsonType type = JsonType::null;  // the top-level value's type
  size_t size = 0;                 // an array's element count
  std::string_view first;          // an array's first element as written (empty for [])
  JsonType first_type = JsonType::null;
};

/// Validates `text` as one JSON text. When it is an array and `elements` is given, each element
/// after the first `skip` is appended to it: the element's exact text, without the whitespace
/// around it (views of `text`). On an error, what was appended is unspecified.
JsonScan scan_json(std::string_view text, std::vector<std::string_view>* elements = nullptr,
                   size_t skip = 0);

}  // namespace duplex::core::json
