// core/pubsub/cursor (SSE ids and long-poll cursors) and the query-string pieces it stands on:
// written and read back, names with any bytes, and what cannot be read.
#include "duplex/core/pubsub/cursor.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"

namespace duplex::core {
namespace {

using Seqs = std::vector<std::optional<uint64_t>>;

std::string cursor_of(const std::vector<TopicPlace>& places) {
  std::string out;
  append_cursor(out, places);
  return out;
}

TEST(Cursor, OneTopicIsADecimalSeveralAreFormEncodedPairs) {
  EXPECT_EQ(cursor_of({{"news", 42}}), "42");
  EXPECT_EQ(cursor_of({{"news", 0}}), "0");
  EXPECT_EQ(cursor_of({{"news", 18446744073709551615u}}), "18446744073709551615");
  EXPECT_EQ(cursor_of({{"a", 1}, {"b c&d=é", 2}}), "a=1&b+c%26d%3D%C3%A9=2");
}

TEST(Cursor, WhatIsWrittenReadsBack) {
  const std::vector<std::string> topics = {"a", "b c&d=é", "+%"};
  const std::string written = cursor_of({{topics[0], 7}, {topics[1], 0}, {topics[2], 99}});
  EXPECT_EQ(parse_cursor(written, topics), (Seqs{7, 0, 99}));
  EXPECT_EQ(parse_cursor("5", {"only"}), (Seqs{5}));
}

TEST(Cursor, MissingNamesAreUnknownAndUnknownNamesIgnored) {
  EXPECT_EQ(parse_cursor("a=3&zzz=9", {"a", "b"}), (Seqs{3, std::nullopt}));
  EXPECT_EQ(parse_cursor("", {"a", "b"}), (Seqs{std::nullopt, std::nullopt}));
}

TEST(Cursor, WhatCannotBeReadIsRefusedWhole) {
  EXPECT_EQ(parse_cursor("x", {"a"}), std::nullopt);
  EXPECT_EQ(parse_cursor("-1", {"a"}), std::nullopt);
  EXPECT_EQ(parse_cursor("007", {"a"}), std::nullopt);
  EXPECT_EQ(parse_cursor("18446744073709551616", {"a"}), std::nullopt);  // 2^64
  EXPECT_EQ(parse_cursor("a=1", {"a"}), std::nullopt);  // one topic: a decimal only
  EXPECT_EQ(parse_cursor("a=1&b", {"a", "b"}), std::nullopt);
  EXPECT_EQ(parse_cursor("a=1&b=x", {"a", "b"}), std::nullopt);
}

TEST(QueryString, EveryValueOfARepeatedNameAndEveryPairInOrder) {
  EXPECT_EQ(query_parameters("topic=a&x=1&topic=b%20c&topic", "topic"),
            (std::vector<std::string>{"a", "b c", ""}));
  EXPECT_EQ(query_parameters("x=1", "topic"), std::vector<std::string>{});
  EXPECT_EQ(query_pairs("a=1&&b+c=%41&d"), (std::vector<std::pair<std::string, std::string>>{
                                               {"a", "1"}, {"b c", "A"}, {"d", ""}}));
  EXPECT_EQ(query_parameter("a=1&a=2", "a"), "1");
}

TEST(QueryString, FormEncodingReadsBackForEveryByte) {
  std::string every;
  for (int c = 0; c < 256; ++c) every += static_cast<char>(c);
  std::string encoded;
  form_encode(encoded, every);
  EXPECT_EQ(encoded.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*+%"),
            std::string::npos);
  EXPECT_EQ(form_decode(encoded), every);
}

TEST(PubSubData, TextIsSentAsJsonOneJsonValueAsItIsCompacted) {
  using pubsub::data_from_text;
  EXPECT_EQ(std::get<std::string>(data_from_text(R"( { "a" : [1, 2.50, "x"] } )")),
            R"({"a":[1,2.50,"x"]})");
  EXPECT_EQ(std::get<std::string>(data_from_text("42")), "42");
  EXPECT_EQ(std::get<std::string>(data_from_text("\"quoted\"")), "\"quoted\"");
  EXPECT_EQ(std::get<std::string>(data_from_text("hello\nworld")), "\"hello\\nworld\"");
  EXPECT_EQ(std::get<std::string>(data_from_text("")), "\"\"");
  // Nothing in the text can reach the command around it.
  EXPECT_EQ(std::get<std::string>(data_from_text(R"(1,"topic":"other")")),
            R"("1,\"topic\":\"other\"")");
  EXPECT_EQ(
      std::get<pubsub::Error>(data_from_text(std::string(65, '[') + std::string(65, ']'))).reason,
      pubsub::reason::kTooDeep);
}

}  // namespace
}  // namespace duplex::core
