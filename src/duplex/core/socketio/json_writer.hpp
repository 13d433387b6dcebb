// Writing a Json value as JavaScript's JSON.stringify writes the same value, byte for byte, for
// what a JavaScript value can hold:
// - no whitespace; null, true, false;
// - integers (int64, uint64) in decimal. Beyond 2^53 JavaScript would hold a rounded double;
//   the exact digits are written, which JSON.parse reads to that same double;
// - doubles as Number.prototype.toString writes them (core/json/js_number.hpp); NaN and the
//   infinities as "null";
// - strings as core/text/json_string.hpp writes them (JSON.stringify's escapes);
// - object members in JavaScript's own key order: the keys that are array indices ("0" to
//   "4294967294" without leading zeros) first, in ascending numeric order, then the others in
//   the order the object holds them (insertion order: Json is nlohmann::ordered_json);
// - a binary value as a placeholder {"_placeholder":true,"num":N}, numbered 0, 1, 2, ... in the
//   order written (depth first, as the reference's deconstructPacket numbers them); with a
//   buffer list, N counts on from its size and the value's bytes are appended to it;
// - a discarded value (nlohmann's parse failure) as "null".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/json/json_value.hpp"

namespace duplex::core::socketio {

/// Appends `value` as JSON.stringify writes it (see above). With `buffers`, each binary value's
/// bytes are appended to it as a view of the value (valid while the value lives unchanged).
void write_json(std::string& out, const json::Json& value,
                std::vector<std::string_view>* buffers = nullptr);

/// How many binary values `value` holds, at any depth.
size_t count_binary(const json::Json& value);

}  // namespace duplex::core::socketio
