// The /pubsub JSON protocol (docs/pubsub-protocol.md), sans IO: a client's text message becomes
// a command or an error reason; answers and deliveries are built here byte for byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "duplex/core/text/json_string.hpp"

namespace duplex::core::pubsub {

inline constexpr size_t kMaxTopicBytes = 256;
inline constexpr size_t kMaxTopicsPerConnection = 1000;
/// Arrays and objects nested deeper than this are refused (the message object is level 1), so
/// a message cannot make the server recurse or allocate per level without bound.
inline constexpr size_t kMaxDepth = 64;

/// The reasons of {"type":"error","reason":...}, one per fault.
namespace reason {
inline constexpr std::string_view kNotJson = "message is not valid JSON";
inline constexpr std::string_view kTooDeep = "message is nested deeper than 64 levels";
inline constexpr std::string_view kNotObject = "message is not a JSON object";
inline constexpr std::string_view kBinary = "binary messages are not accepted";
inline constexpr std::string_view kMissingType = "missing type";
inline constexpr std::string_view kUnknownType = "unknown type";
inline constexpr std::string_view kMissingTopic = "missing topic";
inline constexpr std::string_view kTopicNotString = "topic is not a string";
inline constexpr std::string_view kTopicEmpty = "topic is empty";
inline constexpr std::string_view kTopicTooLong = "topic is longer than 256 bytes";
inline constexpr std::string_view kMissingData = "publish without data";
inline constexpr std::string_view kExcludeSelfNotBoolean = "exclude_self is not a boolean";
inline constexpr std::string_view kTooManyTopics = "too many topics (at most 1000 per connection)";
}  // namespace reason

enum class CommandType { subscribe, unsubscribe, publish };

struct Command {
  CommandType type;
  std::string topic;  // decoded: the topic's UTF-8 bytes
  std::string data;   // publish: the data value serialized compactly
  bool exclude_self = false;
};

struct Error {
  std::string_view reason;  // one of pubsub::reason
};

/// What is wrong with a topic name (one of pubsub::reason, or "topic is not UTF-8"), checked in
/// that order: empty, over kMaxTopicBytes, not UTF-8; empty when nothing is.
std::string_view topic_problem(std::string_view topic);

/// Reads one client text message (already valid UTF-8, as the WebSocket layer guarantees).
/// Members other than type, topic, data and exclude_self are ignored; a repeated member counts
/// once, with its last value.
std::variant<Command, Error> parse_command(std::string_view text);

/// The `data` of a message published as plain text (an HTTP body, say): the text itself,
/// compacted, when it is one JSON value, else the text as a JSON string. Too deep a value is an
/// Error (kTooDeep). `text` must be valid UTF-8.
std::variant<std::string, Error> data_from_text(std::string_view text);

/// {"type":"message","topic":<topic>,"data":<data>}; `data` is compact JSON as in Command.
std::string delivery(std::string_view topic, std::string_view data);
/// {"type":"subscribed","topic":<topic>} or {"type":"unsubscribed","topic":<topic>}.
std::string answer(CommandType type, std::string_view topic);
/// {"type":"error","reason":<reason>}.
std::string error_message(std::string_view reason);

/// Appends `text` as a JSON string, as JSON.stringify writes it (core/text/json_string.hpp).
using core::append_json_string;

}  // namespace duplex::core::pubsub
