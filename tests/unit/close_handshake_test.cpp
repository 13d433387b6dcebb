#include "duplex/core/ws/close_handshake.hpp"

#include <gtest/gtest.h>

#include "duplex/core/ws/close_codes.hpp"

namespace duplex::core {

namespace {

void expect_step(const CloseStep& step, bool send_close, uint16_t code, bool close_transport,
                 bool await_peer) {
  EXPECT_EQ(step.send_close, send_close);
  if (send_close) {
    EXPECT_EQ(step.code, code);
  }
  EXPECT_EQ(step.close_transport, close_transport);
  EXPECT_EQ(step.await_peer, await_peer);
}

void expect_nothing(const CloseStep& step) { expect_step(step, false, 0, false, false); }

CloseHandshake open_handshake(Role role) {
  CloseHandshake h(role);
  h.open();
  return h;
}

class CloseHandshakeTest : public testing::TestWithParam<Role> {};

INSTANTIATE_TEST_SUITE_P(CloseHandshake, CloseHandshakeTest,
                         testing::Values(Role::server, Role::client),
                         [](const testing::TestParamInfo<Role>& info) {
                           return info.param == Role::server ? "Server" : "Client";
                         });

TEST(CloseHandshakeStateTest, ReadyStateValues) {
  EXPECT_EQ(static_cast<int>(ReadyState::connecting), 0);
  EXPECT_EQ(static_cast<int>(ReadyState::open), 1);
  EXPECT_EQ(static_cast<int>(ReadyState::closing), 2);
  EXPECT_EQ(static_cast<int>(ReadyState::closed), 3);
}

TEST_P(CloseHandshakeTest, StartsConnectingThenOpens) {
  CloseHandshake h(GetParam());
  EXPECT_EQ(h.state(), ReadyState::connecting);
  EXPECT_FALSE(h.close_sent());
  EXPECT_FALSE(h.close_received());
  EXPECT_FALSE(h.clean());
  h.open();
  EXPECT_EQ(h.state(), ReadyState::open);
  h.open();  // idempotent
  EXPECT_EQ(h.state(), ReadyState::open);
}

TEST_P(CloseHandshakeTest, OpenIsIgnoredOnceClosing) {
  CloseHandshake h = open_handshake(GetParam());
  h.close(1000);
  h.open();
  EXPECT_EQ(h.state(), ReadyState::closing);
  h.transport_closed();
  h.open();
  EXPECT_EQ(h.state(), ReadyState::closed);
}

TEST_P(CloseHandshakeTest, LocalCloseSendsAndAwaitsPeer) {
  CloseHandshake h = open_handshake(GetParam());
  expect_step(h.close(1001), true, 1001, false, true);
  EXPECT_EQ(h.state(), ReadyState::closing);
  EXPECT_TRUE(h.close_sent());
  EXPECT_FALSE(h.close_received());
  EXPECT_FALSE(h.clean());
  // A second close() does nothing.
  expect_nothing(h.close(1000));
  EXPECT_EQ(h.state(), ReadyState::closing);
}

TEST_P(CloseHandshakeTest, LocalCloseWithNoStatus) {
  CloseHandshake h = open_handshake(GetParam());
  expect_step(h.close(close_code::kNoStatus), true, close_code::kNoStatus, false, true);
}

TEST_P(CloseHandshakeTest, PeerReplyAfterOurClose) {
  const Role role = GetParam();
  CloseHandshake h = open_handshake(role);
  h.close(1000);
  // No second close frame; the server closes the transport, the client waits for it.
  const CloseStep step = h.peer_closed(1000);
  expect_step(step, false, 0, role == Role::server, role == Role::client);
  EXPECT_EQ(h.state(), ReadyState::closing);
  EXPECT_TRUE(h.close_received());
  EXPECT_TRUE(h.clean());
  h.transport_closed();
  EXPECT_EQ(h.state(), ReadyState::closed);
  EXPECT_TRUE(h.clean());
}

TEST_P(CloseHandshakeTest, PeerReplyWithDifferentCodeAfterOurClose) {
  const Role role = GetParam();
  CloseHandshake h = open_handshake(role);
  h.close(4000);
  expect_step(h.peer_closed(1001), false, 0, role == Role::server, role == Role::client);
  EXPECT_TRUE(h.clean());
}

TEST_P(CloseHandshakeTest, PeerStartsCloseWhileOpen) {
  const Role role = GetParam();
  CloseHandshake h = open_handshake(role);
  const CloseStep step = h.peer_closed(4321);
  // The same code is echoed.
  expect_step(step, true, 4321, role == Role::server, role == Role::client);
  EXPECT_EQ(h.state(), ReadyState::closing);
  EXPECT_TRUE(h.close_sent());
  EXPECT_TRUE(h.close_received());
  EXPECT_TRUE(h.clean());
  // Our own close() after that sends nothing more.
  expect_nothing(h.close(1000));
  // A repeated peer close is ignored.
  expect_nothing(h.peer_closed(1000));
}

TEST_P(CloseHandshakeTest, PeerCloseWithNoStatusEchoesEmpty) {
  const Role role = GetParam();
  CloseHandshake h = open_handshake(role);
  expect_step(h.peer_closed(close_code::kNoStatus), true, close_code::kNoStatus,
              role == Role::server, role == Role::client);
}

TEST_P(CloseHandshakeTest, FailWhileOpenSendsOnceAndClosesTransport) {
  CloseHandshake h = open_handshake(GetParam());
  expect_step(h.fail(1002), true, 1002, true, false);
  EXPECT_EQ(h.state(), ReadyState::closing);
  EXPECT_TRUE(h.close_sent());
  EXPECT_FALSE(h.close_received());
  EXPECT_FALSE(h.clean());
  // A second failure does not send again but still closes the transport.
  expect_step(h.fail(1007), false, 0, true, false);
  expect_nothing(h.close(1000));
  h.transport_closed();
  EXPECT_EQ(h.state(), ReadyState::closed);
  expect_nothing(h.fail(1002));
  EXPECT_EQ(h.state(), ReadyState::closed);
}

TEST_P(CloseHandshakeTest, FailAfterOurCloseDoesNotSendAgain) {
  CloseHandshake h = open_handshake(GetParam());
  h.close(1000);
  expect_step(h.fail(1009), false, 0, true, false);
  EXPECT_EQ(h.state(), ReadyState::closing);
}

TEST_P(CloseHandshakeTest, FailAfterPeerCloseDoesNotSendAgain) {
  CloseHandshake h = open_handshake(GetParam());
  h.peer_closed(1000);
  expect_step(h.fail(1002), false, 0, true, false);
}

TEST_P(CloseHandshakeTest, FailWhileConnectingSendsNothing) {
  CloseHandshake h(GetParam());
  expect_step(h.fail(1002), false, 0, true, false);
  EXPECT_FALSE(h.close_sent());
  EXPECT_EQ(h.state(), ReadyState::closing);
  h.transport_closed();
  EXPECT_EQ(h.state(), ReadyState::closed);
}

TEST_P(CloseHandshakeTest, CloseWhileConnectingSendsNothing) {
  CloseHandshake h(GetParam());
  const CloseStep step = h.close(1000);
  EXPECT_FALSE(step.send_close);
  EXPECT_FALSE(h.close_sent());
}

TEST_P(CloseHandshakeTest, TimedOutWhileAwaitingPeer) {
  CloseHandshake h = open_handshake(GetParam());
  h.close(1000);
  expect_step(h.timed_out(), false, 0, true, false);
  EXPECT_EQ(h.state(), ReadyState::closing);
  EXPECT_FALSE(h.clean());
  h.transport_closed();
  EXPECT_EQ(h.state(), ReadyState::closed);
  expect_nothing(h.timed_out());
}

TEST_P(CloseHandshakeTest, TimedOutAfterExchangeStaysClean) {
  CloseHandshake h = open_handshake(GetParam());
  h.peer_closed(1000);
  expect_step(h.timed_out(), false, 0, true, false);
  EXPECT_TRUE(h.clean());
}

TEST_P(CloseHandshakeTest, TimedOutWhileConnecting) {
  CloseHandshake h(GetParam());
  expect_step(h.timed_out(), false, 0, true, false);
  EXPECT_EQ(h.state(), ReadyState::closing);
}

TEST_P(CloseHandshakeTest, TransportClosedWithoutHandshake) {
  CloseHandshake h = open_handshake(GetParam());
  h.transport_closed();
  EXPECT_EQ(h.state(), ReadyState::closed);
  EXPECT_FALSE(h.clean());
  expect_nothing(h.close(1000));
  expect_nothing(h.peer_closed(1000));
  expect_nothing(h.fail(1002));
  expect_nothing(h.timed_out());
  EXPECT_EQ(h.state(), ReadyState::closed);
}

}  // namespace

}  // namespace duplex::core
