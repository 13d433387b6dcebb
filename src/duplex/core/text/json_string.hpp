// JSON string literals written as JavaScript's JSON.stringify writes them.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core {

/// Appends `text` as a JSON string, byte for byte what JSON.stringify writes for the same
/// characters: '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00xx (lowercase
/// hex), everything else (UTF-8, U+007F, U+2028 and U+2029 included) as it is. A lone UTF-16
/// surrogate held in three bytes (ED A0..BF xx, the generalized "WTF-8" form, which valid UTF-8
/// never contains) is written as \udxxx, as JSON.stringify writes a lone surrogate. Other bytes
/// that are not UTF-8 are copied as they are.
void append_json_string(std::string& out, std::string_view text);

}  // namespace duplex::core
