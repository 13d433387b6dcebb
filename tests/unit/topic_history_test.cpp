// server/pubsub/topic_history: sequences and their chain, what is kept and forgotten (by count,
// age and topic), and what a recipient that comes back is told.
#include "duplex/server/pubsub/topic_history.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace duplex::detail {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<OutgoingMessage> message(std::string_view topic, std::string_view payload) {
  return OutgoingMessage::make(payload, core::MessageType::text, topic);
}

std::vector<std::string> payloads(const TopicHistory::Replay& replay) {
  std::vector<std::string> out;
  for (const auto& m : replay.messages) out.emplace_back(m->payload());
  return out;
}

TEST(TopicHistory, SequencesGrowAcrossTopicsAndChainWithinOne) {
  TopicHistory history({.first_sequence = 1});
  auto a1 = message("a", "1"), b1 = message("b", "1"), a2 = message("a", "2");
  history.record(a1, 0);
  history.record(b1, 0);
  history.record(a2, 0);
  EXPECT_EQ(a1->sequence().seq, 1u);
  EXPECT_EQ(a1->sequence().prev, 0u);
  EXPECT_EQ(b1->sequence().seq, 2u);
  EXPECT_EQ(b1->sequence().prev, 0u);
  EXPECT_EQ(a2->sequence().seq, 3u);
  EXPECT_EQ(a2->sequence().prev, 1u);
  EXPECT_EQ(history.last_seq("a"), 3u);
  EXPECT_EQ(history.last_seq("none"), 0u);
}

TEST(TopicHistory, WithoutKeepingAnyEveryOlderCursorHasLost) {
  TopicHistory history({.max_messages = 0, .first_sequence = 1});
  history.record(message("a", "1"), 0);
  history.record(message("a", "2"), 0);
  auto replay = history.since("a", 1, 0);
  EXPECT_TRUE(replay.messages.empty());
  EXPECT_TRUE(replay.lost);
  EXPECT_EQ(replay.last_seq, 2u);
  EXPECT_FALSE(history.since("a", 2, 0).lost);  // up to date
}

TEST(TopicHistory, KeepsTheNewestByCountAndSaysWhenACursorIsOlder) {
  TopicHistory history({.max_messages = 2, .first_sequence = 1});
  history.follow("a");
  for (const char* p : {"1", "2", "3", "4"}) history.record(message("a", p), 0);
  auto from_start = history.since("a", 0, 0);
  EXPECT_EQ(payloads(from_start), (std::vector<std::string>{"3", "4"}));
  EXPECT_TRUE(from_start.lost);
  auto in_time = history.since("a", 2, 0);  // saw "2": "3" and "4" are kept
  EXPECT_EQ(payloads(in_time), (std::vector<std::string>{"3", "4"}));
  EXPECT_FALSE(in_time.lost);
}

TEST(TopicHistory, ForgetsByAge) {
  TopicHistory history({.max_messages = 10, .max_age = 1000ms, .first_sequence = 1});
  history.follow("a");
  history.record(message("a", "old"), 0);
  history.record(message("a", "new"), 900);
  auto replay = history.since("a", 0, 1500);
  EXPECT_EQ(payloads(replay), std::vector<std::string>{"new"});
  EXPECT_TRUE(replay.lost);
}

TEST(TopicHistory, ForgetsTheTopicPublishedToLongestAgo) {
  TopicHistory history({.max_messages = 10, .max_topics = 2, .first_sequence = 1});
  history.follow("a");
  history.record(message("a", "1"), 0);
  history.record(message("b", "1"), 0);
  history.record(message("a", "2"), 0);  // a is now the newer
  history.record(message("c", "1"), 0);  // b goes
  EXPECT_EQ(history.topic_count(), 2u);
  EXPECT_EQ(history.last_seq("b"), 0u);
  EXPECT_TRUE(history.since("b", 1, 0).lost);  // a cursor from before it was forgotten
  EXPECT_EQ(payloads(history.since("a", 0, 0)), (std::vector<std::string>{"1", "2"}));
}

TEST(TopicHistory, EachRunCountsAboveTheRunsBeforeIt) {
  TopicHistory first;  // from the clock
  auto m = message("a", "1");
  first.record(m, 0);
  EXPECT_GT(m->sequence().seq, uint64_t{1} << 50);  // the clock's milliseconds, times 1,024
  EXPECT_LT(m->sequence().seq, uint64_t{1} << 53);  // exact as a JavaScript number
  std::this_thread::sleep_for(2ms);
  TopicHistory second({.max_messages = 10});
  second.follow("a");
  auto n = message("a", "1");
  second.record(n, 0);
  EXPECT_GT(n->sequence().seq, m->sequence().seq + (uint64_t{1} << 10));
  // A cursor of the first run is from an earlier run for the second: it lost what it had.
  EXPECT_TRUE(second.since("a", m->sequence().seq, 0).lost);
  EXPECT_FALSE(second.since("a", 0, 0).lost);  // "from the start" is no cursor of a run
  EXPECT_FALSE(second.since("a", n->sequence().seq, 0).lost);
}

TEST(TopicHistory, OnlyTopicsThatARecipientAbleToComeBackFollowedKeepMessages) {
  TopicHistory history({.max_messages = 10, .first_sequence = 1});
  history.record(message("ws-only", "1"), 0);
  history.record(message("followed", "before"), 0);
  history.follow("followed");
  history.record(message("followed", "after"), 0);
  history.record(message("ws-only", "2"), 0);
  EXPECT_EQ(payloads(history.since("followed", 0, 0)), std::vector<std::string>{"after"});
  EXPECT_TRUE(history.since("followed", 0, 0).lost);  // "before" was not kept
  EXPECT_FALSE(history.since("followed", 2, 0).lost);
  EXPECT_TRUE(history.since("ws-only", 0, 0).messages.empty());
  EXPECT_EQ(history.last_seq("ws-only"), 4u);  // sequences all the same
}

TEST(TopicHistory, ACursorFromAnotherRunHasLost) {
  TopicHistory history({.max_messages = 10, .first_sequence = 1});
  history.record(message("a", "1"), 0);
  EXPECT_TRUE(history.since("a", 50, 0).lost);
  EXPECT_TRUE(history.since("unknown", 50, 0).lost);
  EXPECT_FALSE(history.since("unknown", 0, 0).lost);
}

}  // namespace
}  // namespace duplex::detail
