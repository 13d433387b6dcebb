// core::engineio::SessionState: the heartbeat, the upgrade and the close reasons, step by step.
#include <gtest/gtest.h>

#include "duplex/core/engineio/packet.hpp"
#include "duplex/core/engineio/session_state.hpp"

namespace {

using duplex::core::engineio::close_reason_text;
using duplex::core::engineio::CloseReason;
using duplex::core::engineio::PacketType;
using duplex::core::engineio::SessionPhase;
using duplex::core::engineio::SessionState;
using duplex::core::engineio::SessionStep;
using duplex::core::engineio::TransportKind;

bool nothing(const SessionStep& s) {
  return !s.deliver && !s.send_ping && !s.send_probe_pong && !s.release_poll &&
         !s.switch_transport && !s.drop_probe && !s.arm_ping_interval && !s.arm_ping_timeout &&
         !s.cancel_ping_timeout && !s.arm_upgrade_timeout && !s.cancel_upgrade_timeout &&
         s.close == CloseReason::none;
}

TEST(EngineioSessionState, HeartbeatPingsThenWaitsForThePong) {
  SessionState s(TransportKind::polling);
  SessionStep step = s.opened();
  EXPECT_TRUE(step.arm_ping_interval);
  step = s.ping_interval_elapsed();
  EXPECT_TRUE(step.send_ping);
  EXPECT_TRUE(step.arm_ping_timeout);
  step = s.received(PacketType::pong, "");
  EXPECT_TRUE(step.cancel_ping_timeout);
  EXPECT_TRUE(step.arm_ping_interval);
  EXPECT_FALSE(step.arm_ping_timeout);
  // A ping timeout that fires late (after the pong) does nothing.
  EXPECT_TRUE(nothing(s.ping_timeout_elapsed()));
  EXPECT_EQ(s.phase(), SessionPhase::open);
}

TEST(EngineioSessionState, NoPongClosesWithPingTimeout) {
  SessionState s(TransportKind::websocket);
  s.opened();
  s.ping_interval_elapsed();
  const SessionStep step = s.ping_timeout_elapsed();
  EXPECT_EQ(step.close, CloseReason::ping_timeout);
  EXPECT_EQ(close_reason_text(step.close), "ping timeout");
  EXPECT_EQ(s.phase(), SessionPhase::closed);
  EXPECT_TRUE(nothing(s.ping_interval_elapsed()));
  EXPECT_TRUE(nothing(s.received(PacketType::message, "late")));
}

TEST(EngineioSessionState, OtherPacketsStretchThePingTimeoutOncePerPing) {
  SessionState s(TransportKind::websocket);
  s.opened();
  s.ping_interval_elapsed();
  SessionStep step = s.received(PacketType::message, "a");
  EXPECT_TRUE(step.deliver);
  EXPECT_TRUE(step.arm_ping_timeout);
  step = s.received(PacketType::message, "b");
  EXPECT_TRUE(step.deliver);
  EXPECT_FALSE(step.arm_ping_timeout);
  s.received(PacketType::pong, "");
  s.ping_interval_elapsed();
  EXPECT_TRUE(s.received(PacketType::noop, "").arm_ping_timeout);
  // Before any ping, nothing is stretched.
  SessionState fresh(TransportKind::polling);
  fresh.opened();
  EXPECT_FALSE(fresh.received(PacketType::message, "x").arm_ping_timeout);
}

TEST(EngineioSessionState, AClientPingIsAgainstV4) {
  SessionState s(TransportKind::polling);
  s.opened();
  EXPECT_EQ(s.received(PacketType::ping, "").close, CloseReason::transport_error);
}

TEST(EngineioSessionState, ACloseClosesPollingButNotAWebSocket) {
  SessionState polling(TransportKind::polling);
  EXPECT_EQ(polling.received(PacketType::close, "").close, CloseReason::transport_close);
  SessionState ws(TransportKind::websocket);
  EXPECT_TRUE(nothing(ws.received(PacketType::close, "")));
  EXPECT_EQ(ws.transport_lost(false).close, CloseReason::transport_close);
  SessionState cut(TransportKind::polling);
  EXPECT_EQ(cut.transport_lost(true).close, CloseReason::transport_error);
  EXPECT_TRUE(nothing(cut.transport_lost(true)));  // once
}

TEST(EngineioSessionState, UpgradeProbeThenSwitch) {
  SessionState s(TransportKind::polling);
  s.opened();
  SessionStep step;
  ASSERT_TRUE(s.probe_opened(step));
  EXPECT_TRUE(step.arm_upgrade_timeout);
  EXPECT_TRUE(s.upgrading());
  SessionStep second;
  EXPECT_FALSE(s.probe_opened(second)) << "one probe at a time";
  step = s.probe_received(PacketType::ping, "probe");
  EXPECT_TRUE(step.send_probe_pong);
  EXPECT_TRUE(step.release_poll);
  EXPECT_FALSE(step.switch_transport);
  step = s.probe_received(PacketType::upgrade, "");
  EXPECT_TRUE(step.switch_transport);
  EXPECT_TRUE(step.cancel_upgrade_timeout);
  EXPECT_EQ(s.transport(), TransportKind::websocket);
  EXPECT_TRUE(s.upgraded());
  EXPECT_FALSE(s.upgrading());
  SessionStep again;
  EXPECT_FALSE(s.probe_opened(again)) << "already on WebSocket";
}

TEST(EngineioSessionState, AProbeThatSendsAnythingElseIsDropped) {
  for (PacketType type : {PacketType::message, PacketType::pong, PacketType::noop}) {
    SessionState s(TransportKind::polling);
    SessionStep step;
    ASSERT_TRUE(s.probe_opened(step));
    step = s.probe_received(type, "probe");
    EXPECT_TRUE(step.drop_probe);
    EXPECT_TRUE(step.cancel_upgrade_timeout);
    EXPECT_FALSE(s.upgrading());
    EXPECT_EQ(s.transport(), TransportKind::polling);
  }
  // A second "2probe" after the first is answered is not a probe any more.
  SessionState s(TransportKind::polling);
  SessionStep step;
  ASSERT_TRUE(s.probe_opened(step));
  s.probe_received(PacketType::ping, "probe");
  EXPECT_TRUE(s.probe_received(PacketType::ping, "probe").drop_probe);
}

TEST(EngineioSessionState, UpgradeTimeoutAndProbeLossLeaveThePollingSession) {
  SessionState s(TransportKind::polling);
  SessionStep step;
  ASSERT_TRUE(s.probe_opened(step));
  EXPECT_TRUE(s.upgrade_timeout_elapsed().drop_probe);
  EXPECT_FALSE(s.upgrading());
  EXPECT_TRUE(nothing(s.upgrade_timeout_elapsed()));
  ASSERT_TRUE(s.probe_opened(step));
  step = s.probe_closed();
  EXPECT_TRUE(step.cancel_upgrade_timeout);
  EXPECT_FALSE(step.drop_probe);
  EXPECT_EQ(s.phase(), SessionPhase::open);
}

TEST(EngineioSessionState, ClosingDuringAProbeDropsIt) {
  SessionState s(TransportKind::polling);
  SessionStep step;
  ASSERT_TRUE(s.probe_opened(step));
  s.ping_interval_elapsed();
  step = s.fail(CloseReason::parse_error);
  EXPECT_EQ(step.close, CloseReason::parse_error);
  EXPECT_TRUE(step.drop_probe);
  EXPECT_TRUE(step.cancel_upgrade_timeout);
  EXPECT_TRUE(step.cancel_ping_timeout);
  EXPECT_EQ(close_reason_text(CloseReason::forced_close), "forced close");
}

TEST(EngineioSessionState, AClosingSessionTakesNoProbe) {
  SessionState s(TransportKind::polling);
  s.start_closing();
  EXPECT_EQ(s.phase(), SessionPhase::closing);
  SessionStep step;
  EXPECT_FALSE(s.probe_opened(step));
}

}  // namespace
