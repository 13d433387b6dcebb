// The value of a JSON string literal, as UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core::json {

/// Appends the value of the JSON string literal `quoted` (quotes included, one scan_json
/// accepted: json_scanner.hpp) to `out`, as UTF-8. A surrogate pair escape becomes its four-byte
/// character; a lone surrogate escape becomes the three bytes its code unit would have in UTF-8
/// (ED A0..BF xx, the generalized "WTF-8" form): not valid UTF-8, but what it stood for is kept,
/// and append_json_string (core/text/json_string.hpp) writes it back as the same escape.
void append_unescaped(std::string& out, std::string_view quoted);

}  // namespace duplex::core::json
