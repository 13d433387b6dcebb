// socketio::detail::RecoveryLog: what a returning socket gets back.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "duplex/server/protocols/socketio/recovery_log.hpp"

namespace {

using duplex::socketio::detail::RecoveryLog;

RecoveryLog::Packet packet(RecoveryLog& log, std::string text, std::vector<std::string> rooms,
                           std::vector<std::string> except = {}) {
  RecoveryLog::Packet p;
  p.offset = log.next_offset();
  p.text = std::move(text);
  p.rooms = std::move(rooms);
  p.except = std::move(except);
  return p;
}

std::vector<std::string> texts(const RecoveryLog::RestoredCopy& r) {
  std::vector<std::string> out;
  for (const auto& p : r.missed) out.push_back(p.text);
  return out;
}

TEST(SocketIoRecoveryLog, ReturnsTheSessionAndWhatReachedItsRoomsAfterTheOffset) {
  RecoveryLog log(std::chrono::minutes(2));
  log.log(packet(log, "seen", {}));           // offset 1: the last one the client saw
  log.log(packet(log, "namespace", {}));      // 2
  log.log(packet(log, "to red", {"red"}));    // 3
  log.log(packet(log, "to blue", {"blue"}));  // 4
  log.log(packet(log, "to me", {"sock1"}));   // 5: emitted to the socket itself
  log.log(packet(log, "red but not me", {"red"}, {"sock1"}));  // 6: sent by it (broadcast)
  log.log(packet(log, "red not green", {"red"}, {"green"}));   // 7
  RecoveryLog::Saved saved;
  saved.id = "sock1";
  saved.pid = "pid1";
  saved.rooms = {"sock1", "red", "green"};
  saved.data = std::string("kept");
  log.save(std::move(saved));

  auto restored = log.restore("pid1", "1");
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(restored->session.id, "sock1");
  EXPECT_EQ(std::any_cast<std::string>(restored->session.data), "kept");
  EXPECT_EQ(texts(*restored), (std::vector<std::string>{"namespace", "to red", "to me"}));
  EXPECT_FALSE(log.restore("pid1", "1").has_value()) << "a session comes back once";
}

TEST(SocketIoRecoveryLog, NothingForAnUnknownPidOrAnOffsetGoneFromTheLog) {
  RecoveryLog log(std::chrono::minutes(2));
  log.log(packet(log, "a", {}));
  RecoveryLog::Saved saved;
  saved.id = "s";
  saved.pid = "p";
  log.save(saved);
  EXPECT_FALSE(log.restore("other", "1").has_value());
  EXPECT_FALSE(log.restore("p", "99").has_value());
  // The failed attempt with an unknown offset does not spend the session.
  EXPECT_TRUE(log.restore("p", "1").has_value());
}

TEST(SocketIoRecoveryLog, EntriesOlderThanTheWindowAreDropped) {
  RecoveryLog log(std::chrono::milliseconds(20));
  log.log(packet(log, "a", {}));
  RecoveryLog::Saved saved;
  saved.id = "s";
  saved.pid = "p";
  log.save(saved);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(log.restore("p", "1").has_value());
}

TEST(SocketIoRecoveryLog, KeepsAtMostMaxPacketsTheNewest) {
  RecoveryLog log(std::chrono::minutes(2), 2);
  for (const char* text : {"a", "b", "c", "d"}) log.log(packet(log, text, {}));  // offsets 1-4
  RecoveryLog::Saved saved;
  saved.id = "s";
  saved.pid = "p";
  log.save(saved);
  EXPECT_FALSE(log.restore("p", "2").has_value()) << "offset 2 went with the oldest";
  auto restored = log.restore("p", "3");
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(texts(*restored), (std::vector<std::string>{"d"}));
}

TEST(SocketIoRecoveryLog, OffsetsAreUniqueAndIncreasing) {
  RecoveryLog log(std::chrono::minutes(1));
  EXPECT_EQ(log.next_offset(), "1");
  EXPECT_EQ(log.next_offset(), "2");
}

}  // namespace
