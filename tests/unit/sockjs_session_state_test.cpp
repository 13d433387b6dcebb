// core::sockjs::SessionState: receivers, the open, heartbeat and close frames, the response
// limit and the disconnect delay, step by step.
#include <gtest/gtest.h>

#include "duplex/core/sockjs/session_state.hpp"

namespace {

using duplex::core::sockjs::ReceiverKind;
using duplex::core::sockjs::SessionPhase;
using duplex::core::sockjs::SessionState;
using duplex::core::sockjs::SessionStep;

bool nothing(const SessionStep& s) {
  return !s.refuse && !s.send_open && !s.send_messages && !s.send_heartbeat && !s.send_close &&
         !s.arm_heartbeat && !s.cancel_heartbeat && !s.arm_disconnect && !s.cancel_disconnect &&
         !s.end_receiver && !s.opened && !s.ended;
}

TEST(SockjsSessionState, APollCarriesTheOpenFrameAloneAndTheSessionWaitsForTheNext) {
  SessionState s(4096);
  SessionStep step = s.attach(ReceiverKind::polling, false);
  EXPECT_TRUE(step.send_open);
  EXPECT_TRUE(step.end_receiver);
  EXPECT_TRUE(step.opened);
  EXPECT_FALSE(step.arm_heartbeat);
  EXPECT_EQ(s.phase(), SessionPhase::open);
  step = s.detach();
  EXPECT_TRUE(step.arm_disconnect);
  EXPECT_TRUE(step.cancel_heartbeat);
  EXPECT_FALSE(s.can_send_now());
  // A message queued between polls waits; the next poll takes it and ends.
  EXPECT_TRUE(nothing(s.message_queued()));
  step = s.attach(ReceiverKind::polling, true);
  EXPECT_TRUE(step.cancel_disconnect);
  EXPECT_TRUE(step.send_messages);
  EXPECT_TRUE(step.end_receiver);
  EXPECT_FALSE(step.send_open);
  EXPECT_FALSE(step.opened);
}

TEST(SockjsSessionState, AnEmptyPollIsHeldUntilAMessageOrAHeartbeat) {
  SessionState s(4096);
  s.attach(ReceiverKind::polling, false);
  s.detach();
  SessionStep step = s.attach(ReceiverKind::polling, false);
  EXPECT_FALSE(step.end_receiver);
  EXPECT_TRUE(step.arm_heartbeat);
  EXPECT_TRUE(s.can_send_now());
  step = s.message_queued();
  EXPECT_TRUE(step.send_messages);
  EXPECT_TRUE(step.end_receiver);
  s.detach();
  s.attach(ReceiverKind::polling, false);
  step = s.heartbeat_elapsed();
  EXPECT_TRUE(step.send_heartbeat);
  EXPECT_TRUE(step.end_receiver);
}

TEST(SockjsSessionState, AStreamTakesFramesUntilTheResponseLimit) {
  SessionState s(100);
  SessionStep step = s.attach(ReceiverKind::streaming, false);
  EXPECT_TRUE(step.send_open);
  EXPECT_TRUE(step.opened);
  EXPECT_TRUE(step.arm_heartbeat);
  EXPECT_FALSE(step.end_receiver);
  EXPECT_TRUE(nothing(s.wrote(99)));
  step = s.message_queued();
  EXPECT_TRUE(step.send_messages);
  EXPECT_FALSE(step.end_receiver);
  step = s.wrote(1);
  EXPECT_TRUE(step.end_receiver);
  step = s.detach();
  EXPECT_TRUE(step.arm_disconnect);
  // The next stream counts from zero.
  s.attach(ReceiverKind::streaming, false);
  EXPECT_TRUE(nothing(s.wrote(99)));
  step = s.heartbeat_elapsed();
  EXPECT_TRUE(step.send_heartbeat);
  EXPECT_TRUE(step.arm_heartbeat);
  EXPECT_FALSE(step.end_receiver);
}

TEST(SockjsSessionState, ASecondReceiverIsRefusedAndTheFirstGoesOn) {
  SessionState s(4096);
  s.attach(ReceiverKind::streaming, false);
  SessionStep step = s.attach(ReceiverKind::polling, true);
  EXPECT_TRUE(step.refuse);
  EXPECT_FALSE(step.send_messages);
  EXPECT_FALSE(step.cancel_disconnect);
  EXPECT_TRUE(s.has_receiver());
  EXPECT_EQ(s.receiver_kind(), ReceiverKind::streaming);
  EXPECT_TRUE(s.message_queued().send_messages);
}

TEST(SockjsSessionState, WithoutAReceiverForTheDisconnectDelayTheSessionEnds) {
  SessionState s(4096);
  s.attach(ReceiverKind::polling, false);
  s.detach();
  SessionStep step = s.disconnect_elapsed();
  EXPECT_TRUE(step.ended);
  EXPECT_EQ(s.phase(), SessionPhase::closed);
  EXPECT_TRUE(nothing(s.disconnect_elapsed()));
  // A late timer while a receiver is attached does nothing.
  SessionState t(4096);
  t.attach(ReceiverKind::polling, false);
  t.detach();
  t.attach(ReceiverKind::polling, false);
  EXPECT_TRUE(nothing(t.disconnect_elapsed()));
  EXPECT_EQ(t.phase(), SessionPhase::open);
}

TEST(SockjsSessionState, AClosedSessionAnswersEveryReceiverWithItsCloseFrameUntilItEnds) {
  SessionState s(4096);
  s.attach(ReceiverKind::streaming, false);
  SessionStep step = s.close();
  EXPECT_TRUE(step.send_close);
  EXPECT_TRUE(step.end_receiver);
  EXPECT_EQ(s.phase(), SessionPhase::closing);
  step = s.detach();
  EXPECT_TRUE(step.arm_disconnect);
  EXPECT_FALSE(step.ended);
  for (int i = 0; i < 2; ++i) {
    step = s.attach(ReceiverKind::polling, false);
    EXPECT_TRUE(step.send_close);
    EXPECT_TRUE(step.end_receiver);
    EXPECT_FALSE(step.send_messages);
    EXPECT_TRUE(step.arm_disconnect);  // each request gives it another delay
    EXPECT_FALSE(step.cancel_disconnect);
    EXPECT_FALSE(s.has_receiver());
  }
  // Messages queued before the close: a poll takes them alone, a stream the close after them.
  step = s.attach(ReceiverKind::polling, true);
  EXPECT_TRUE(step.send_messages);
  EXPECT_FALSE(step.send_close);
  step = s.attach(ReceiverKind::streaming, true);
  EXPECT_TRUE(step.send_messages);
  EXPECT_TRUE(step.send_close);
  EXPECT_TRUE(step.end_receiver);
  EXPECT_TRUE(nothing(s.message_queued()));
  EXPECT_TRUE(nothing(s.close()));
  EXPECT_TRUE(s.disconnect_elapsed().ended);
}

TEST(SockjsSessionState, ClosedInItsOpenHandlerAfterThePollItLingers) {
  // The poll that opened the session ended before the open handler ran (end_receiver comes
  // before opened): the close waits for the next receiver.
  SessionState s(4096);
  s.attach(ReceiverKind::polling, false);
  s.detach();
  EXPECT_TRUE(nothing(s.close()));
  SessionStep step = s.attach(ReceiverKind::polling, false);
  EXPECT_TRUE(step.send_close);
  EXPECT_TRUE(step.end_receiver);
}

TEST(SockjsSessionState, ARequestItsClientDroppedEndsTheSessionAtOnce) {
  SessionState s(4096);
  s.attach(ReceiverKind::polling, false);
  s.detach();
  s.attach(ReceiverKind::polling, false);  // held
  SessionStep step = s.receiver_lost();
  EXPECT_TRUE(step.ended);
  EXPECT_TRUE(step.cancel_heartbeat);
  EXPECT_FALSE(step.arm_disconnect);
  EXPECT_EQ(s.phase(), SessionPhase::closed);
  // Reported again, or with no receiver, it does nothing.
  EXPECT_TRUE(nothing(s.receiver_lost()));
  SessionState t(4096);
  t.attach(ReceiverKind::polling, false);
  t.detach();
  EXPECT_TRUE(nothing(t.receiver_lost()));
}

TEST(SockjsSessionState, AWebSocketSessionEndsWithItsWebSocket) {
  SessionState s(4096);
  SessionStep step = s.attach(ReceiverKind::websocket, false);
  EXPECT_TRUE(step.send_open);
  EXPECT_TRUE(step.arm_heartbeat);
  EXPECT_TRUE(nothing(s.wrote(1 << 20)));  // no response limit
  step = s.detach();
  EXPECT_TRUE(step.ended);
  EXPECT_FALSE(step.arm_disconnect);
  EXPECT_EQ(s.phase(), SessionPhase::closed);
}

TEST(SockjsSessionState, EndStopsEverything) {
  SessionState s(4096);
  s.attach(ReceiverKind::websocket, false);
  SessionStep step = s.end();
  EXPECT_TRUE(step.ended);
  EXPECT_TRUE(step.end_receiver);
  EXPECT_TRUE(step.cancel_heartbeat);
  EXPECT_TRUE(nothing(s.end()));
  // The receiver's end reported afterwards ends nothing again.
  EXPECT_FALSE(s.detach().ended);
}

}  // namespace
