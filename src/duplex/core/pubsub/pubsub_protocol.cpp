#include "duplex/core/pubsub/pubsub_protocol.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "duplex/core/text/utf8.hpp"

namespace duplex::core::pubsub {

namespace {

using Json = nlohmann::json;

// Reads the message in one pass with nlohmann's SAX parser: the members that matter are kept,
// `data` is re-written compactly as it streams by (numbers keep the digits they were sent with),
// and nothing is built for anything else. Refusing to open level kMaxDepth + 1 stops the parse.
class CommandReader : public nlohmann::json_sax<Json> {
 public:
  std::variant<Command, Error> read(std::string_view text) {
    const bool parsed = Json::sax_parse(text.begin(), text.end(), this);
    if (too_deep_) return Error{reason::kTooDeep};
    if (!parsed) return Error{reason::kNotJson};
    if (!root_is_object_) return Error{reason::kNotObject};

    Command command{};
    if (type_ == TypeState::missing) return Error{reason::kMissingType};
    if (type_ == TypeState::unknown) return Error{reason::kUnknownType};
    command.type = type_ == TypeState::subscribe     ? CommandType::subscribe
                   : type_ == TypeState::unsubscribe ? CommandType::unsubscribe
                                                     : CommandType::publish;
    if (topic_ == TopicState::missing) return Error{reason::kMissingTopic};
    if (topic_ == TopicState::not_string) return Error{reason::kTopicNotString};
    // A JSON string reads as UTF-8, so only the first two of topic_problem's checks can fail.
    if (const auto problem = topic_problem(topic_text_); !problem.empty()) return Error{problem};
    command.topic = std::move(topic_text_);
    if (command.type == CommandType::publish) {
      if (!has_data_) return Error{reason::kMissingData};
      if (exclude_self_ == FlagState::not_boolean) return Error{reason::kExcludeSelfNotBoolean};
      command.exclude_self = exclude_self_ == FlagState::on;
      command.data = std::move(data_);
    }
    return command;
  }

  bool null() override {
    if (begin_value()) data_ += "null";
    return end_scalar();
  }
  bool boolean(bool value) override {
    if (begin_value()) {
      data_ += value ? "true" : "false";
    } else if (at_member_value(Member::exclude_self)) {
      exclude_self_ = value ? FlagState::on : FlagState::off;
    }
    return end_scalar();
  }
  bool number_integer(number_integer_t value) override { return number(value); }
  bool number_unsigned(number_unsigned_t value) override { return number(value); }
  bool number_float(number_float_t, const string_t& text) override {
    if (begin_value()) data_ += text;
    return end_scalar();
  }
  bool string(string_t& value) override {
    if (begin_value()) {
      append_json_string(data_, value);
    } else if (at_member_value(Member::type)) {
      type_ = value == "subscribe"     ? TypeState::subscribe
              : value == "unsubscribe" ? TypeState::unsubscribe
              : value == "publish"     ? TypeState::publish
                                       : TypeState::unknown;
    } else if (at_member_value(Member::topic)) {
      topic_ = TopicState::string;
      topic_text_ = std::move(value);
    }
    return end_scalar();
  }
  bool binary(binary_t&) override { return true; }  // never produced by JSON text

  bool start_object(std::size_t) override { return open('{'); }
  bool end_object() override { return close('}'); }
  bool start_array(std::size_t) override { return open('['); }
  bool end_array() override { return close(']'); }

  bool key(string_t& name) override {
    if (capturing_) {
      separate();
      append_json_string(data_, name);
      data_ += ':';
      after_key_ = true;
    } else if (depth_ == 1 && root_is_object_) {
      member_ = name == "type"           ? Member::type
                : name == "topic"        ? Member::topic
                : name == "data"         ? Member::data
                : name == "exclude_self" ? Member::exclude_self
                                         : Member::other;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Member { none, type, topic, data, exclude_self, other };
  enum class TypeState { missing, subscribe, unsubscribe, publish, unknown };
  enum class TopicState { missing, string, not_string };
  enum class FlagState { missing, on, off, not_boolean };

  // Called for every value. Returns true when the value is part of `data` and must be written;
  // otherwise records that a top-level member had a value (a non-string topic, say).
  bool begin_value() {
    if (capturing_) {
      separate();
      return true;
    }
    if (depth_ != 1 || !root_is_object_) return false;
    switch (member_) {
      case Member::data:
        capturing_ = true;
        has_data_ = true;
        data_.clear();
        return true;
      case Member::type:
        type_ = TypeState::unknown;  // a string overrides it
        break;
      case Member::topic:
        topic_ = TopicState::not_string;  // likewise
        break;
      case Member::exclude_self:
        exclude_self_ = FlagState::not_boolean;  // a boolean overrides it
        break;
      default:
        break;
    }
    return false;
  }

  // A value of the message object's member `member` (not one nested in it).
  bool at_member_value(Member member) const { return depth_ == 1 && member_ == member; }

  // A comma before every element of a captured container but its first (a key's value has none).
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_.empty()) {
      if (!first_.back()) data_ += ',';
      first_.back() = false;
    }
  }

  // A scalar ends `data` when it was all of it.
  bool end_scalar() {
    if (capturing_ && first_.empty()) capturing_ = false;
    return true;
  }

  template <class Integer>
  bool number(Integer value) {
    if (begin_value()) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
      data_.append(digits, end);
    }
    return end_scalar();
  }

  bool open(char bracket) {
    if (depth_ == 0 && !seen_root_) root_is_object_ = bracket == '{';
    seen_root_ = true;
    if (begin_value()) {
      data_ += bracket;
      first_.push_back(true);
    }
    if (++depth_ > kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  bool close(char bracket) {
    --depth_;
    if (capturing_) {
      data_ += bracket;
      first_.pop_back();
      if (first_.empty()) capturing_ = false;
    }
    if (depth_ == 1) member_ = Member::none;
    return true;
  }

  size_t depth_ = 0;
  bool seen_root_ = false;
  bool root_is_object_ = false;
  bool too_deep_ = false;
  Member member_ = Member::none;
  TypeState type_ = TypeState::missing;
  TopicState topic_ = TopicState::missing;
  std::string topic_text_;
  FlagState exclude_self_ = FlagState::missing;
  bool has_data_ = false;
  bool capturing_ = false;
  bool after_key_ = false;
  std::vector<bool> first_;  // per open container of `data`: no element written yet
  std::string data_;
};

// {"type":"<type>","<key>":<value as a JSON string>}
std::string typed_message(std::string_view type, std::string_view key, std::string_view value) {
  std::string out;
  out.reserve(type.size() + key.size() + value.size() + 24);
  out += R"({"type":")";
  out += type;
  out += R"(",")";
  out += key;
  out += R"(":)";
  append_json_string(out, value);
  out += '}';
  return out;
}

}  // namespace

std::variant<Command, Error> parse_command(std::string_view text) {
  return CommandReader().read(text);
}

std::string_view topic_problem(std::string_view topic) {
  if (topic.empty()) return reason::kTopicEmpty;
  if (topic.size() > kMaxTopicBytes) return reason::kTopicTooLong;
  if (!is_valid_utf8(topic)) return "topic is not UTF-8";
  return {};
}

std::variant<std::string, Error> data_from_text(std::string_view text) {
  if (!Json::accept(text.begin(), text.end())) {
    std::string quoted;
    append_json_string(quoted, text);
    return quoted;
  }
  // One whole JSON value: wrapped in a publish command, nothing in it can add members, and the
  // reader compacts it (and refuses what is nested too deep) as it does for /pubsub clients.
  std::string command = R"({"type":"publish","topic":"-","data":)";
  command.append(text);
  command += '}';
  auto parsed = parse_command(command);
  if (auto* error = std::get_if<Error>(&parsed)) return *error;
  return std::move(std::get<Command>(parsed).data);
}

std::string delivery(std::string_view topic, std::string_view data) {
  std::string out;
  out.reserve(topic.size() + data.size() + 36);
  out += R"({"type":"message","topic":)";
  append_json_string(out, topic);
  out += R"(,"data":)";
  out += data;
  out += '}';
  return out;
}

std::string answer(CommandType type, std::string_view topic) {
  return typed_message(type == CommandType::subscribe ? "subscribed" : "unsubscribed", "topic",
                       topic);
}

std::string error_message(std::string_view reason) {
  return typed_message("error", "reason", reason);
}

}  // namespace duplex::core::pubsub
