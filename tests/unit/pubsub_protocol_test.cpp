#include "duplex/core/pubsub/pubsub_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace duplex::core::pubsub {
namespace {

Command command_of(std::string_view text) {
  auto result = parse_command(text);
  if (const auto* error = std::get_if<Error>(&result)) {
    ADD_FAILURE() << "unexpected error for " << text << ": " << error->reason;
    return {};
  }
  return std::get<Command>(result);
}

std::string error_of(std::string_view text) {
  auto result = parse_command(text);
  if (const auto* error = std::get_if<Error>(&result)) return std::string(error->reason);
  return "(parsed)";
}

std::string nested_arrays(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

TEST(PubSubProtocolTest, ReadsSubscribeAndUnsubscribe) {
  Command c = command_of(R"({"type":"subscribe","topic":"news"})");
  EXPECT_EQ(c.type, CommandType::subscribe);
  EXPECT_EQ(c.topic, "news");
  EXPECT_EQ(c.data, "");
  c = command_of(R"({"topic":"news","type":"unsubscribe"})");
  EXPECT_EQ(c.type, CommandType::unsubscribe);
  EXPECT_EQ(c.topic, "news");
  // Whitespace anywhere JSON allows it; other members ignored, data on subscribe ignored.
  c = command_of(
      " {\n\t\"type\" : \"subscribe\" , \"id\":[1,{\"x\":2}], \"topic\":\"a b\","
      " \"data\":1 }\r\n");
  EXPECT_EQ(c.type, CommandType::subscribe);
  EXPECT_EQ(c.topic, "a b");
  EXPECT_EQ(c.data, "");
}

TEST(PubSubProtocolTest, ReadsPublishWithCompactData) {
  Command c = command_of(R"({"type":"publish","topic":"t","data":"hello world"})");
  EXPECT_EQ(c.type, CommandType::publish);
  EXPECT_EQ(c.topic, "t");
  EXPECT_EQ(c.data, R"("hello world")");
  EXPECT_FALSE(c.exclude_self);

  c = command_of(
      R"({ "data" : { "a" : [ 1 , 2.50 , -3 , 1e3 , true , false , null , "x\"y" ] , "b" : { } ,)"
      R"( "c" : [ ] , "d" : [ [ ] , { "e" : { } } ] } , "type" : "publish" , "topic" : "t" })");
  EXPECT_EQ(c.data, R"({"a":[1,2.50,-3,1e3,true,false,null,"x\"y"],"b":{},"c":[],)"
                    R"("d":[[],{"e":{}}]})");

  // Scalars of every kind; numbers keep the digits they were sent with, even past 64 bits.
  const std::pair<std::string, std::string> scalars[] = {
      {"0", "0"},
      {"-12", "-12"},
      {"18446744073709551615", "18446744073709551615"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"123456789012345678901234567890", "123456789012345678901234567890"},
      {"0.1", "0.1"},
      {"-0", "0"},  // the one number written differently: an integer zero has no sign
      {"-0.0", "-0.0"},
      {"1.0E+2", "1.0E+2"},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {R"("")", R"("")"},
  };
  for (const auto& [sent, kept] : scalars) {
    c = command_of(R"({"type":"publish","topic":"t","data":)" + sent + "}");
    EXPECT_EQ(c.data, kept) << sent;
  }
}

TEST(PubSubProtocolTest, DataStringsAreDecodedAndWrittenAgain) {
  // Plain ASCII comes back byte for byte; escapes are written the way JSON.stringify does.
  const std::pair<std::string, std::string> strings[] = {
      {R"("plain ASCII: {}[],:!#$%&'()*+-./<=>?@^_`|~")",
       R"("plain ASCII: {}[],:!#$%&'()*+-./<=>?@^_`|~")"},
      {R"("\u00e9\u2713 é✓ 😀 \ud83d\ude00")", "\"\xC3\xA9\xE2\x9C\x93 é✓ 😀 😀\""},
      {R"("\/\"\\\b\f\n\r\t")", R"("/\"\\\b\f\n\r\t")"},
      {R"("\u0000\u0001\u001f\u001F\u007f")", "\"\\u0000\\u0001\\u001f\\u001f\x7f\""},
  };
  for (const auto& [sent, written] : strings) {
    Command c = command_of(R"({"type":"publish","topic":"t","data":)" + sent + "}");
    EXPECT_EQ(c.data, written) << sent;
  }
  // Keys inside data too.
  Command c = command_of(R"({"type":"publish","topic":"t","data":{"\u0041\n":1}})");
  EXPECT_EQ(c.data, R"({"A\n":1})");
}

TEST(PubSubProtocolTest, ReadsExcludeSelf) {
  EXPECT_TRUE(
      command_of(R"({"type":"publish","topic":"t","data":1,"exclude_self":true})").exclude_self);
  EXPECT_FALSE(
      command_of(R"({"type":"publish","topic":"t","data":1,"exclude_self":false})").exclude_self);
  // Only publish looks at it.
  EXPECT_EQ(command_of(R"({"type":"subscribe","topic":"t","exclude_self":"x"})").topic, "t");
}

TEST(PubSubProtocolTest, RepeatedMembersCountWithTheirLastValue) {
  Command c = command_of(
      R"({"type":"subscribe","topic":"a","data":[1],"type":"publish","topic":"b","data":{"x":2}})");
  EXPECT_EQ(c.type, CommandType::publish);
  EXPECT_EQ(c.topic, "b");
  EXPECT_EQ(c.data, R"({"x":2})");
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":"a","topic":7})"), reason::kTopicNotString);
  EXPECT_EQ(error_of(R"({"type":"subscribe","type":"nope","topic":"a"})"), reason::kUnknownType);
}

TEST(PubSubProtocolTest, TopicsAreDecodedAndBoundedInBytes) {
  EXPECT_EQ(command_of(R"({"type":"subscribe","topic":"n\u0065ws\n"})").topic, "news\n");
  const std::string longest(kMaxTopicBytes, 'x');
  EXPECT_EQ(command_of(R"({"type":"subscribe","topic":")" + longest + "\"}").topic, longest);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":")" + longest + "x\"}"), reason::kTopicTooLong);
  std::string accents;
  for (size_t i = 0; i < kMaxTopicBytes / 2; ++i) accents += "é";
  EXPECT_EQ(command_of(R"({"type":"subscribe","topic":")" + accents + "\"}").topic, accents);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":")" + accents + "a\"}"), reason::kTopicTooLong);
  // Counted after decoding: 256 escapes of one byte each fit.
  std::string escaped;
  for (size_t i = 0; i < kMaxTopicBytes; ++i) escaped += "\\u0041";
  EXPECT_EQ(command_of(R"({"type":"subscribe","topic":")" + escaped + "\"}").topic,
            std::string(kMaxTopicBytes, 'A'));
}

TEST(PubSubProtocolTest, EveryFaultHasItsReason) {
  EXPECT_EQ(error_of(""), reason::kNotJson);
  EXPECT_EQ(error_of("   "), reason::kNotJson);
  EXPECT_EQ(error_of("{"), reason::kNotJson);
  EXPECT_EQ(error_of("hello"), reason::kNotJson);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":"t"} {})"), reason::kNotJson);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":"t",})"), reason::kNotJson);
  EXPECT_EQ(error_of(R"({'type':'subscribe'})"), reason::kNotJson);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":1e999})"), reason::kNotJson);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":"\ud800"})"), reason::kNotJson);
  EXPECT_EQ(error_of("[1,"), reason::kNotJson);

  EXPECT_EQ(error_of("[]"), reason::kNotObject);
  EXPECT_EQ(error_of(R"([{"type":"subscribe","topic":"t"}])"), reason::kNotObject);
  EXPECT_EQ(error_of(R"("subscribe")"), reason::kNotObject);
  EXPECT_EQ(error_of("42"), reason::kNotObject);
  EXPECT_EQ(error_of("null"), reason::kNotObject);

  EXPECT_EQ(error_of("{}"), reason::kMissingType);
  EXPECT_EQ(error_of(R"({"topic":"t"})"), reason::kMissingType);
  EXPECT_EQ(error_of(R"({"data":{"type":"subscribe"},"topic":"t"})"), reason::kMissingType);
  EXPECT_EQ(error_of(R"({"type":"Subscribe","topic":"t"})"), reason::kUnknownType);
  EXPECT_EQ(error_of(R"({"type":"message","topic":"t"})"), reason::kUnknownType);
  EXPECT_EQ(error_of(R"({"type":5,"topic":"t"})"), reason::kUnknownType);
  EXPECT_EQ(error_of(R"({"type":null,"topic":"t"})"), reason::kUnknownType);
  EXPECT_EQ(error_of(R"({"type":["subscribe"],"topic":"t"})"), reason::kUnknownType);
  EXPECT_EQ(error_of(R"({"type":{"type":"subscribe"},"topic":"t"})"), reason::kUnknownType);

  EXPECT_EQ(error_of(R"({"type":"subscribe"})"), reason::kMissingTopic);
  EXPECT_EQ(error_of(R"({"type":"publish","data":1,"x":{"topic":"t"}})"), reason::kMissingTopic);
  EXPECT_EQ(error_of(R"({"type":"unsubscribe","topic":1})"), reason::kTopicNotString);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":null})"), reason::kTopicNotString);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":["t"]})"), reason::kTopicNotString);
  EXPECT_EQ(error_of(R"({"type":"subscribe","topic":""})"), reason::kTopicEmpty);

  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t"})"), reason::kMissingData);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","x":{"data":1}})"), reason::kMissingData);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":1,"exclude_self":"yes"})"),
            reason::kExcludeSelfNotBoolean);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":1,"exclude_self":1})"),
            reason::kExcludeSelfNotBoolean);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":1,"exclude_self":[true]})"),
            reason::kExcludeSelfNotBoolean);
}

TEST(PubSubProtocolTest, NestingIsBounded) {
  // The message object is level 1: data may open 63 more.
  const std::string deepest = nested_arrays(kMaxDepth - 1);
  EXPECT_EQ(command_of(R"({"type":"publish","topic":"t","data":)" + deepest + "}").data, deepest);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","data":)" + nested_arrays(kMaxDepth) + "}"),
            reason::kTooDeep);
  EXPECT_EQ(error_of(R"({"type":"publish","topic":"t","x":)" + nested_arrays(kMaxDepth) + "}"),
            reason::kTooDeep);
  EXPECT_EQ(error_of(nested_arrays(kMaxDepth)), reason::kNotObject);
  EXPECT_EQ(error_of(nested_arrays(kMaxDepth + 1)), reason::kTooDeep);
  // Refused as it opens: a million unclosed levels cost nothing.
  EXPECT_EQ(error_of(std::string(1'000'000, '[')), reason::kTooDeep);
}

TEST(PubSubProtocolTest, BuildsExactMessages) {
  EXPECT_EQ(delivery("news", R"({"a":1})"), R"({"type":"message","topic":"news","data":{"a":1}})");
  EXPECT_EQ(delivery("q\"\\\n✓", "null"), R"({"type":"message","topic":"q\"\\\n✓","data":null})");
  EXPECT_EQ(answer(CommandType::subscribe, "news"), R"({"type":"subscribed","topic":"news"})");
  EXPECT_EQ(answer(CommandType::unsubscribe, "a\tb"), R"({"type":"unsubscribed","topic":"a\tb"})");
  EXPECT_EQ(error_message(reason::kNotJson),
            R"({"type":"error","reason":"message is not valid JSON"})");
  EXPECT_EQ(error_message(reason::kTooManyTopics),
            R"x({"type":"error","reason":"too many topics (at most 1000 per connection)"})x");
}

TEST(PubSubProtocolTest, ParsedPublishBuildsTheDocumentedDelivery) {
  Command c =
      command_of(R"({"type":"publish","topic":"chat/\u00e9","data":{"n":1, "text":"hi there"}})");
  EXPECT_EQ(delivery(c.topic, c.data),
            R"({"type":"message","topic":"chat/é","data":{"n":1,"text":"hi there"}})");
}

TEST(PubSubProtocolTest, JsonStringsEscapeExactlyWhatJsonNeeds) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
  all += "\"\\/ \x7f\xC3\xA9";
  std::string out = "x";
  append_json_string(out, all);
  EXPECT_EQ(out,
            "x\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/ \x7f\xC3\xA9\"");
  out.clear();
  append_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace duplex::core::pubsub
