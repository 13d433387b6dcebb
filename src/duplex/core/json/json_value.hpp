// The JSON value type (nlohmann), and parsing one JSON text into it on demand.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace duplex::core::json {

/// nlohmann::ordered_json: objects keep their members in the order they were read or added, as
/// JavaScript objects do for keys that are not array indices (nlohmann::json would sort them).
/// Binary values (Json::binary_t) are not JSON; Socket.IO uses them for the attachments of
/// binary packets (core/socketio/json_writer.hpp writes them as placeholders).
using Json = nlohmann::ordered_json;

/// Parses one JSON text, such as an element scan_json split out (json_scanner.hpp), with
/// nlohmann's parser; nothing when it refuses the text. For text scan_json accepted that
/// happens only where nlohmann holds less than JSON.parse: a lone surrogate escape ("\ud800")
/// and a number beyond the range of a double (1e400, Infinity to JSON.parse). Integers are read
/// as int64 or uint64 when they fit (JSON.parse reads every number as a double); a repeated
/// member keeps its first place and its last value, as with JSON.parse.
std::optional<Json> parse_json(std::string_view text);

}  // namespace duplex::core::json
