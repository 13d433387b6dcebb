// The long-poll answer walker of `duplex bench --poll` (apps/duplex/poll_answer_walker.hpp):
// the messages it hands out are the JSON values of the answer's list, whole, whatever they hold;
// the cursor and lost topics come out as written; anything but the answer's exact form is an
// error.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "poll_answer_walker.hpp"

namespace duplex::app {
namespace {

struct Walked {
  PollAnswer answer;
  std::vector<std::string> messages;
};

Walked walk(std::string_view body, size_t stop_after = SIZE_MAX) {
  Walked w;
  w.answer = walk_poll_answer(body, [&](std::string_view m) {
    w.messages.emplace_back(m);
    return w.messages.size() < stop_after;
  });
  return w;
}

TEST(BenchPollAnswerWalker, DuplexAnswers) {
  const Walked w =
      walk(R"({"cursor":"3","messages":[{"type":"message","topic":"news","data":"two"},)"
           R"({"type":"message","topic":"news","data":"three"}],"lost":[]})");
  ASSERT_TRUE(w.answer.ok()) << w.answer.error;
  EXPECT_EQ(w.answer.cursor, "3");
  EXPECT_EQ(w.answer.messages, 2u);
  EXPECT_EQ(w.messages,
            (std::vector<std::string>{R"({"type":"message","topic":"news","data":"two"})",
                                      R"({"type":"message","topic":"news","data":"three"})"}));
  EXPECT_TRUE(w.answer.lost.empty());
}

TEST(BenchPollAnswerWalker, ATimeoutAndALoss) {
  const Walked timeout = walk(R"({"cursor":"0","messages":[],"lost":[]})");
  ASSERT_TRUE(timeout.answer.ok()) << timeout.answer.error;
  EXPECT_EQ(timeout.answer.cursor, "0");
  EXPECT_EQ(timeout.answer.messages, 0u);
  const Walked lost = walk(R"({"cursor":"news=3&b+c=4","messages":[],"lost":["news","b\"c"]})");
  ASSERT_TRUE(lost.answer.ok()) << lost.answer.error;
  EXPECT_EQ(lost.answer.cursor, "news=3&b+c=4");
  EXPECT_EQ(lost.answer.lost, (std::vector<std::string_view>{"news", R"(b\"c)"}));
}

TEST(BenchPollAnswerWalker, MessagesAreWholeJsonValuesWhateverTheyHold) {
  const std::vector<std::string> values = {
      R"({"data":"a \"quoted\" ] } , [ {"})",
      R"({"data":{"nested":[1,[2,{"x":"]"}]],"y":null}})",
      R"("a string with \\ and \" and ,")",
      R"([])",
      R"({})",
      "42",
      "-1.5e3",
      "true",
      "null",
      R"("\\")",
  };
  std::string body = R"({"cursor":"9","messages":[)";
  for (size_t i = 0; i < values.size(); ++i) body += (i ? "," : "") + values[i];
  body += R"(],"lost":[]})";
  const Walked w = walk(body);
  ASSERT_TRUE(w.answer.ok()) << w.answer.error;
  EXPECT_EQ(w.messages, values);
}

TEST(BenchPollAnswerWalker, StoppingEndsTheWalk) {
  const Walked w = walk(R"({"cursor":"2","messages":[1,2],"lost":[]})", 1);
  EXPECT_EQ(w.answer.error, "stopped");
  EXPECT_EQ(w.messages.size(), 1u);
}

TEST(BenchPollAnswerWalker, AnythingElseIsAnError) {
  const std::string_view bad[] = {
      "",
      R"({"messages":[],"cursor":"1","lost":[]})",
      R"({ "cursor":"1","messages":[],"lost":[]})",
      R"({"cursor":"1", "messages":[],"lost":[]})",
      R"({"cursor":"1","messages":[] ,"lost":[]})",
      R"({"cursor":"1","messages":[],"lost":[]} )",
      R"({"cursor":"1","messages":[],"lost":[]}})",
      R"({"cursor":"1","messages":[],"lost":[])",
      R"({"cursor":"1","messages":[])",
      R"({"cursor":"1)",
      R"({"cursor":"a\"b","messages":[],"lost":[]})",
      R"({"cursor":"1","messages":[{"a":1}{"b":2}],"lost":[]})",
      R"({"cursor":"1","messages":[{"a":"1],"lost":[]})",
      R"({"cursor":"1","messages":[{"a":1},],"lost":[]})",
      R"({"cursor":"1","messages":[,],"lost":[]})",
      R"({"cursor":"1","messages":[1 ],"lost":[]})",
      R"({"cursor":"1","messages":[],"lost":[news]})",
      R"({"cursor":"1","messages":[],"lost":["news""b"]})",
      R"({"cursor":"1","messages":[],"lost":["news)",
  };
  for (const std::string_view body : bad) {
    SCOPED_TRACE(std::string(body));
    EXPECT_FALSE(walk(body).answer.ok());
  }
}

}  // namespace
}  // namespace duplex::app
