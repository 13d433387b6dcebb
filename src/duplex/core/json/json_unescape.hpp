// The value of a JSON string literal, as UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core::json {

/// Appends the value of the JSON string literal `quoted` (quotes included, one scan_json
/// accepted: json_scanner.hpp) to `out`, as UTF-8. A surrogate pair escape becomes its four-byte
/// character; a lone surrogate escape becomes the three bytes its code unit would have in UTF-8
/// (ED A0..BF xx, the generalized "WTF-8" form): not valid UTF-8, but what it stood for is kept,
/// and append_json_string (core/text/json_string.hpp) writes it back as the same escape. Other
/// bytes are copied; where a high surrogate half and a low one meet (escaped, or as WTF-8 bytes
/// in the text, which a JSON text read out of another JSON string can hold), they make the one
/// four-byte character that JavaScript's string holds as that pair, so the result is
/// well-formed WTF-8.
void append_unescaped(std::string& out, std::string_view quoted);

}  // namespace duplex::core::json
