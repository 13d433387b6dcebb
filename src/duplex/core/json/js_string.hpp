// JavaScript's String() of a JSON value: the text a JavaScript program has when it parses a JSON
// text and then uses the value as a string. (SockJS's reference server hands every message it
// parses to its application as the value JSON.parse made, and an application that echoes writes
// it back as '' + message.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duplex::core::json {

/// Appends String(JSON.parse(json)) to `out`, where `json` is one JSON text scan_json accepted
/// (json_scanner.hpp):
/// - a string: its value (json_unescape.hpp: UTF-8, lone surrogates as WTF-8);
/// - a number: Number.prototype.toString of the double JSON.parse reads (js_number.hpp), so
///   "1.50" gives "1.5" and 12345678901234567890 "12345678901234567000"; beyond a double's range
///   "Infinity" or "-Infinity" (1e400), and "0" where it rounds to zero (1e-400);
/// - true, false and null: "true", "false" and "null";
/// - an object: "[object Object]", whatever its members (a JavaScript program would call an own
///   "toString" member, which JSON cannot make a function, and throw);
/// - an array: Array.prototype.join(","): each element's String(), but null as "", so
///   [1,[2,[]],null,"a"] gives "1,2,,,a" and [[]] gives "".
void append_js_string(std::string& out, std::string_view json);

/// For the JSON array `json` (scan_json accepted it, and found an array), appends String() of
/// each element to `out` as a string of its own, in order.
void append_js_strings_of_elements(std::vector<std::string>& out, std::string_view json);

}  // namespace duplex::core::json
