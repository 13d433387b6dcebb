// core::stomp::SessionState: CONNECT and the negotiations, authentication, subscriptions,
// deliveries and their acknowledgements, SEND, transactions, receipts, DISCONNECT, errors and
// heart-beats, step by step, with every ERROR's exact message and body; the session
// @stomp/stompjs 7 has with a server, frame for frame.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/stomp/frame_decoder.hpp"
#include "duplex/core/stomp/session_state.hpp"

// --- counting malloc calls --------------------------------------------------------------------
// While armed, every malloc of the process is counted (operator new goes through malloc). Not
// under AddressSanitizer or ThreadSanitizer, which keep their own malloc.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DUPLEX_COUNT_MALLOC 0
#else
#define DUPLEX_COUNT_MALLOC 1
extern "C" void* __libc_malloc(size_t size);
namespace {
std::atomic<bool> g_malloc_armed{false};
std::atomic<size_t> g_mallocs{0};
}  // namespace
extern "C" void* malloc(size_t size) {
  if (g_malloc_armed.load(std::memory_order_relaxed)) {
    g_mallocs.fetch_add(1, std::memory_order_relaxed);
  }
  return __libc_malloc(size);
}
#endif

namespace duplex::core::stomp {
namespace {

// Headers and body are views (string literals in most tests), so that what a step points to in
// the frame outlives feed().
struct TestFrame {
  Command command;
  std::vector<Header> headers;
  std::string_view body;
  Frame frame() const { return {command, headers, body}; }
};

const SessionOptions kOptions;

SessionStep feed(SessionState& s, Command command, std::vector<Header> headers,
                 std::string_view body = {}) {
  TestFrame f{command, std::move(headers), body};
  return s.on_frame(f.frame());
}

// A connected session; `accept_version` none: a 1.0 client's CONNECT.
SessionState connected(std::optional<std::string_view> accept_version = "1.2",
                       const SessionOptions& options = kOptions) {
  SessionState s(options);
  std::vector<Header> headers{{"host", "/"}};
  if (accept_version) headers.push_back({"accept-version", *accept_version});
  EXPECT_EQ(feed(s, Command::connect, headers).action, SessionAction::authenticate);
  EXPECT_EQ(s.accept("session-1").action, SessionAction::connected);
  EXPECT_EQ(s.phase(), SessionPhase::connected);
  return s;
}

bool nothing(const SessionStep& s) {
  return s.action == SessionAction::none && !s.send_receipt && !s.send_error && !s.close &&
         s.timer_ms == 0;
}

void expect_error(const SessionStep& step, std::string_view message, std::string_view body,
                  std::optional<std::string_view> receipt = std::nullopt) {
  EXPECT_EQ(step.action, SessionAction::none);
  EXPECT_TRUE(step.send_error);
  EXPECT_EQ(step.error_message, message);
  EXPECT_EQ(step.error_body, body);
  EXPECT_EQ(step.error_version, "");
  EXPECT_EQ(step.error_receipt_id, receipt);
  EXPECT_FALSE(step.send_receipt);
  EXPECT_TRUE(step.close);
}

void expect_receipt(const SessionStep& step, std::string_view id) {
  EXPECT_TRUE(step.send_receipt);
  EXPECT_EQ(step.receipt_id, id);
  EXPECT_FALSE(step.send_error);
}

std::vector<uint64_t> ids(const Deliveries& d) { return {d.ack_ids.begin(), d.ack_ids.end()}; }
std::vector<uint64_t> ids(std::initializer_list<uint64_t> list) { return list; }

std::vector<std::pair<std::string, std::string>> pairs(std::span<const Header> headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Header& h : headers) out.emplace_back(h.name, h.value);
  return out;
}
using Pairs = std::vector<std::pair<std::string, std::string>>;

// An error ends the session: every later event is ignored.
void expect_closed(SessionState& s) {
  EXPECT_EQ(s.phase(), SessionPhase::closed);
  EXPECT_TRUE(nothing(feed(s, Command::send, {{"destination", "/q"}, {"receipt", "r"}})));
  EXPECT_TRUE(nothing(feed(s, Command::connect, {{"accept-version", "1.2"}})));
  EXPECT_TRUE(nothing(s.decode_error("bad")));
  EXPECT_TRUE(nothing(s.accept("x")));
  EXPECT_TRUE(nothing(s.reject("x")));
  EXPECT_TRUE(nothing(s.send_timer_elapsed(1'000'000)));
  EXPECT_TRUE(nothing(s.receive_timer_elapsed(1'000'000)));
}

// --- the session @stomp/stompjs 7 has ----------------------------------------------------------

TEST(StompSessionState, TheFramesOfAStompJs7Session) {
  SessionState s(kOptions);
  EXPECT_EQ(s.phase(), SessionPhase::connecting);
  // Client.activate(): accept-version and heart-beat as stompjs writes them, no host.
  SessionStep step = feed(s, Command::connect,
                          {{"login", "guest"},
                           {"passcode", "secret"},
                           {"accept-version", "1.2,1.1,1.0"},
                           {"heart-beat", "10000,10000"}});
  EXPECT_EQ(step.action, SessionAction::authenticate);
  EXPECT_EQ(step.version, Version::v1_2);
  EXPECT_EQ(step.credentials.host, std::nullopt);
  EXPECT_EQ(step.credentials.login, "guest");
  EXPECT_EQ(step.credentials.passcode, "secret");
  EXPECT_FALSE(step.send_error);
  EXPECT_FALSE(step.close);
  EXPECT_EQ(s.phase(), SessionPhase::authenticating);

  step = s.accept("session-7");
  EXPECT_EQ(step.action, SessionAction::connected);
  EXPECT_EQ(step.version, Version::v1_2);
  EXPECT_EQ(step.send_interval_ms, 10000u);
  EXPECT_EQ(step.heart_beat_receive_ms, 10000u);
  EXPECT_EQ(step.receive_timeout_ms, 15000u);
  ConnectedHeaders connected_headers(step);
  EXPECT_EQ(pairs(connected_headers.headers()), (Pairs{{"version", "1.2"},
                                                       {"heart-beat", "10000,10000"},
                                                       {"session", "session-7"},
                                                       {"server", "Duplex"}}));
  EXPECT_EQ(s.phase(), SessionPhase::connected);
  EXPECT_EQ(s.version(), Version::v1_2);

  // client.subscribe('/queue/a', cb) and one with { ack: 'client-individual' }.
  step = feed(s, Command::subscribe, {{"id", "sub-0"}, {"destination", "/queue/a"}});
  EXPECT_EQ(step.action, SessionAction::subscribe);
  EXPECT_EQ(step.subscription.id, "sub-0");
  EXPECT_EQ(step.subscription.destination, "/queue/a");
  EXPECT_EQ(step.subscription.ack, AckMode::automatic);
  EXPECT_EQ(step.subscription.prefetch, 0u);
  EXPECT_FALSE(step.send_receipt);
  step = feed(s, Command::subscribe,
              {{"ack", "client-individual"}, {"id", "sub-1"}, {"destination", "/queue/b"}});
  EXPECT_EQ(step.subscription.ack, AckMode::client_individual);

  // client.publish({ destination: '/queue/a', body: 'hello' }): stompjs adds content-length.
  step = feed(s, Command::send, {{"destination", "/queue/a"}, {"content-length", "5"}}, "hello");
  EXPECT_EQ(step.action, SessionAction::publish);
  EXPECT_EQ(step.publish.destination, "/queue/a");
  EXPECT_EQ(step.publish.body, "hello");
  EXPECT_EQ(step.publish.content_type, "");
  EXPECT_TRUE(step.publish.headers.empty());

  // A MESSAGE of sub-1 goes out with ack:1; message.ack() sends id and subscription.
  EXPECT_TRUE(s.delivered("sub-1", 1));
  step = feed(s, Command::ack, {{"id", "1"}, {"subscription", "sub-1"}});
  EXPECT_EQ(step.action, SessionAction::acknowledge);
  EXPECT_EQ(step.deliveries.subscription, "sub-1");
  EXPECT_EQ(ids(step.deliveries), ids({1}));

  // client.deactivate(): DISCONNECT with receipt close-2, closed once the RECEIPT is written.
  step = feed(s, Command::disconnect, {{"receipt", "close-2"}});
  EXPECT_EQ(step.action, SessionAction::none);
  expect_receipt(step, "close-2");
  EXPECT_TRUE(step.close);
  expect_closed(s);
  // The subscriptions are still there for the caller to release.
  ASSERT_EQ(s.subscription_count(), 2u);
  EXPECT_EQ(s.subscription(0).id, "sub-0");
  EXPECT_EQ(s.subscription(1).destination, "/queue/b");
  EXPECT_TRUE(s.waiting(1).ack_ids.empty());
}

// --- CONNECT ----------------------------------------------------------------------------------

TEST(StompSessionState, AnyFrameBeforeConnectIsAnError) {
  SessionState s(kOptions);
  expect_error(feed(s, Command::send, {{"destination", "/q"}, {"receipt", "77"}}),
               "Expected CONNECT or STOMP", "The first frame must be CONNECT or STOMP, not SEND.",
               "77");
  expect_closed(s);
  SessionState s2(kOptions);
  expect_error(feed(s2, Command::disconnect, {}), "Expected CONNECT or STOMP",
               "The first frame must be CONNECT or STOMP, not DISCONNECT.");
  SessionState s3(kOptions);
  expect_error(feed(s3, Command::message, {}), "Expected CONNECT or STOMP",
               "The first frame must be CONNECT or STOMP, not MESSAGE.");
}

TEST(StompSessionState, StompIsConnectAndASecondOneIsAnError) {
  SessionState s(kOptions);
  SessionStep step = feed(s, Command::stomp, {{"accept-version", "1.2"}, {"host", "vhost"}});
  EXPECT_EQ(step.action, SessionAction::authenticate);
  EXPECT_EQ(step.credentials.host, "vhost");
  EXPECT_EQ(step.credentials.login, std::nullopt);
  EXPECT_EQ(step.credentials.passcode, std::nullopt);
  s.accept("a");
  expect_error(feed(s, Command::connect, {{"accept-version", "1.2"}, {"receipt", "r1"}}),
               "Already connected",
               "A CONNECT frame came on a connection that is already connected.", "r1");
  expect_closed(s);
  SessionState s2 = connected();
  expect_error(feed(s2, Command::stomp, {{"accept-version", "1.2"}}), "Already connected",
               "A STOMP frame came on a connection that is already connected.");
}

TEST(StompSessionState, TheHighestCommonVersionIsChosen) {
  struct Case {
    std::optional<std::string_view> accept;
    Version version;
  };
  const Case cases[] = {
      {std::nullopt, Version::v1_0}, {"1.0", Version::v1_0},     {"1.1", Version::v1_1},
      {"1.2", Version::v1_2},        {"1.0,1.1", Version::v1_1}, {"1.1,1.0", Version::v1_1},
      {"1.2,2.0", Version::v1_2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.accept.value_or("(none)")));
    SessionState s(kOptions);
    std::vector<Header> headers;
    if (c.accept) headers.push_back({"accept-version", *c.accept});
    SessionStep step = feed(s, Command::connect, headers);
    EXPECT_EQ(step.action, SessionAction::authenticate);
    EXPECT_EQ(step.version, c.version);
    EXPECT_EQ(s.version(), c.version);
    step = s.accept("id");
    EXPECT_EQ(step.version, c.version);
    ConnectedHeaders h(step);
    EXPECT_EQ(h.headers()[0].name, "version");
    EXPECT_EQ(h.headers()[0].value, version_name(c.version));
  }
}

TEST(StompSessionState, NoCommonVersionIsAnErrorListingOurs) {
  SessionState s(kOptions);
  SessionStep step = feed(s, Command::connect, {{"accept-version", "2.0,3.1"}, {"receipt", "r"}});
  EXPECT_TRUE(step.send_error);
  EXPECT_EQ(step.error_message, "Supported protocol versions are 1.0,1.1,1.2");
  EXPECT_EQ(step.error_version, "1.0,1.1,1.2");
  EXPECT_EQ(step.error_body,
            "The CONNECT frame's accept-version header (2.0,3.1) names no version this server "
            "supports.");
  EXPECT_EQ(step.error_receipt_id, "r");
  EXPECT_TRUE(step.close);
  expect_closed(s);
}

TEST(StompSessionState, HeartBeatsAreNegotiatedFromTheClientsValueAndTheServersWishes) {
  // Server: sends every 10 s at best, wants one every 10 s (the default options).
  struct Case {
    std::optional<std::string_view> client;
    uint32_t send;     // the server's send interval
    uint32_t receive;  // what the server expects
    std::string_view header;
  };
  const Case cases[] = {
      {std::nullopt, 0, 0, "0,0"},  // no header: 0,0
      {"0,0", 0, 0, "0,0"},         //
      {"10000,10000", 10000, 10000, "10000,10000"},
      {"5000,20000", 20000, 10000, "20000,10000"},  // each side the larger
      {"30000,1000", 10000, 30000, "10000,30000"},
      {"1000,0", 0, 10000, "0,10000"},  // the client wants none: the server sends none
      {"0,1000", 10000, 0, "10000,0"},  // the client sends none: the server expects none
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.client.value_or("(none)")));
    SessionState s(kOptions);
    std::vector<Header> headers{{"accept-version", "1.1,1.2"}};
    if (c.client) headers.push_back({"heart-beat", *c.client});
    feed(s, Command::connect, headers);
    SessionStep step = s.accept("id");
    EXPECT_EQ(step.send_interval_ms, c.send);
    EXPECT_EQ(step.heart_beat_receive_ms, c.receive);
    EXPECT_EQ(step.receive_timeout_ms, c.receive == 0 ? 0 : c.receive + 5000);
    ConnectedHeaders h(step);
    ASSERT_EQ(h.headers().size(), 4u);
    EXPECT_EQ(h.headers()[1].name, "heart-beat");
    EXPECT_EQ(h.headers()[1].value, c.header);
  }
  // A server that wants none and sends none; a grace of its own.
  SessionOptions quiet;
  quiet.heart_beat_send_ms = 0;
  quiet.heart_beat_receive_ms = 0;
  quiet.server = "";
  SessionState s(quiet);
  feed(s, Command::connect, {{"accept-version", "1.2"}, {"heart-beat", "1000,1000"}});
  SessionStep step = s.accept("id");
  EXPECT_EQ(step.send_interval_ms, 0u);
  EXPECT_EQ(step.receive_timeout_ms, 0u);
  ConnectedHeaders h(step);
  EXPECT_EQ(pairs(h.headers()),
            (Pairs{{"version", "1.2"}, {"heart-beat", "0,0"}, {"session", "id"}}));
  SessionOptions graceful;
  graceful.heart_beat_grace_ms = 250;
  SessionState g(graceful);
  feed(g, Command::connect, {{"accept-version", "1.2"}, {"heart-beat", "12000,0"}});
  EXPECT_EQ(g.accept("id").receive_timeout_ms, 12250u);
}

TEST(StompSessionState, AOneZeroClientHasNoHeartBeats) {
  SessionState s(kOptions);
  feed(s, Command::connect, {{"heart-beat", "1000,1000"}, {"login", "u"}});
  SessionStep step = s.accept("id");
  EXPECT_EQ(step.version, Version::v1_0);
  EXPECT_EQ(step.send_interval_ms, 0u);
  EXPECT_EQ(step.receive_timeout_ms, 0u);
  ConnectedHeaders h(step);
  EXPECT_EQ(pairs(h.headers()),
            (Pairs{{"version", "1.0"}, {"session", "id"}, {"server", "Duplex"}}));
  EXPECT_TRUE(nothing(s.send_timer_elapsed(100000)));
  EXPECT_TRUE(nothing(s.receive_timer_elapsed(100000)));
}

TEST(StompSessionState, ABadHeartBeatIsAnError) {
  for (std::string_view value :
       {"", "10000", "10000,", ",10000", "a,b", "-1,0", "1 ,2", "1, 2", "4294967296,0"}) {
    SCOPED_TRACE(std::string(value));
    SessionState s(kOptions);
    expect_error(feed(s, Command::connect, {{"accept-version", "1.2"}, {"heart-beat", value}}),
                 "Invalid heart-beat header",
                 "The CONNECT frame's heart-beat header (" + std::string(value) +
                     ") is not two numbers of milliseconds.");
  }
}

// --- authentication ---------------------------------------------------------------------------

TEST(StompSessionState, TheCallerAcceptsOrRejects) {
  SessionState s(kOptions);
  EXPECT_TRUE(nothing(s.accept("early")));  // nothing to accept yet
  EXPECT_TRUE(nothing(s.reject("early")));
  feed(s, Command::connect, {{"accept-version", "1.2"}, {"login", "bob"}, {"passcode", "pw"}});
  expect_error(s.reject(""), "Authentication failed",
               "The CONNECT frame's credentials were refused.");
  expect_closed(s);

  SessionState s2(kOptions);
  feed(s2, Command::stomp, {{"accept-version", "1.2"}, {"receipt", "r"}});
  expect_error(s2.reject("unknown user bob."), "Authentication failed",
               "The STOMP frame's credentials were refused: unknown user bob.");

  SessionState s3(kOptions);
  feed(s3, Command::connect, {{"accept-version", "1.2"}});
  expect_error(feed(s3, Command::subscribe, {{"id", "0"}, {"destination", "/q"}}), "Not connected",
               "The SUBSCRIBE frame came before the connection was accepted.");

  SessionState s4 = connected();
  EXPECT_TRUE(nothing(s4.accept("again")));
  EXPECT_TRUE(nothing(s4.reject("late")));
  EXPECT_EQ(s4.phase(), SessionPhase::connected);
}

// --- heart-beats ------------------------------------------------------------------------------

TEST(StompSessionState, TheSendTimerSaysWhenToSendAnEol) {
  SessionState s(kOptions);
  feed(s, Command::connect, {{"accept-version", "1.2"}, {"heart-beat", "10000,10000"}});
  EXPECT_TRUE(nothing(s.send_timer_elapsed(50000)));  // not connected yet
  s.accept("id");
  SessionStep step = s.send_timer_elapsed(4000);  // something went out 4 s ago
  EXPECT_EQ(step.action, SessionAction::none);
  EXPECT_EQ(step.timer_ms, 6000u);
  EXPECT_FALSE(step.close);
  step = s.send_timer_elapsed(10000);
  EXPECT_EQ(step.action, SessionAction::send_heart_beat);
  EXPECT_EQ(step.timer_ms, 10000u);
  EXPECT_FALSE(step.send_error);
  EXPECT_FALSE(step.close);
  EXPECT_EQ(s.send_timer_elapsed(12000).action, SessionAction::send_heart_beat);
}

TEST(StompSessionState, AClientQuietPastTheReceiveTimeoutIsDropped) {
  SessionState s = connected("1.2");
  // No heart-beat header: the client sends none, so none is expected.
  EXPECT_TRUE(nothing(s.receive_timer_elapsed(1'000'000)));

  SessionState t(kOptions);
  feed(t, Command::connect, {{"accept-version", "1.2"}, {"heart-beat", "10000,10000"}});
  t.accept("id");
  SessionStep step = t.receive_timer_elapsed(3000);
  EXPECT_EQ(step.action, SessionAction::none);
  EXPECT_EQ(step.timer_ms, 12000u);
  EXPECT_FALSE(step.close);
  step = t.receive_timer_elapsed(14999);
  EXPECT_EQ(step.timer_ms, 1u);
  expect_error(t.receive_timer_elapsed(15000), "Heart-beat timeout",
               "No heart-beat from the client within 15000 ms.");
  expect_closed(t);
}

// --- SUBSCRIBE and UNSUBSCRIBE ----------------------------------------------------------------

TEST(StompSessionState, SubscribeNeedsADestinationAndFromOneOneAnId) {
  SessionState s = connected();
  expect_error(feed(s, Command::subscribe, {{"id", "0"}, {"receipt", "9"}}),
               "Missing destination header", "The SUBSCRIBE frame has no destination header.", "9");
  for (std::string_view version : {"1.1", "1.2"}) {
    SessionState v = connected(version);
    expect_error(feed(v, Command::subscribe, {{"destination", "/q"}}), "Missing id header",
                 "The SUBSCRIBE frame has no id header.");
  }
}

TEST(StompSessionState, AOneZeroSubscriptionWithoutIdIsNamedByItsDestination) {
  SessionState s = connected(std::nullopt);
  SessionStep step = feed(s, Command::subscribe, {{"destination", "/topic/t"}});
  EXPECT_EQ(step.action, SessionAction::subscribe);
  EXPECT_EQ(step.subscription.id, "/topic/t");
  EXPECT_EQ(step.subscription.destination, "/topic/t");
  step = feed(s, Command::subscribe, {{"destination", "/topic/u"}, {"id", "mine"}});
  EXPECT_EQ(step.subscription.id, "mine");
  expect_error(feed(s, Command::subscribe, {{"destination", "/topic/t"}}),
               "Duplicate subscription id",
               "The SUBSCRIBE frame's id /topic/t is already used by a subscription of this "
               "connection.");
}

TEST(StompSessionState, ADuplicateIdIsAnError) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "sub-0"}, {"destination", "/a"}});
  expect_error(feed(s, Command::subscribe, {{"id", "sub-0"}, {"destination", "/b"}}),
               "Duplicate subscription id",
               "The SUBSCRIBE frame's id sub-0 is already used by a subscription of this "
               "connection.");
}

TEST(StompSessionState, TheAckModes) {
  SessionState s = connected();
  struct Case {
    std::string_view value;
    AckMode mode;
  };
  int n = 0;
  for (Case c : {Case{"auto", AckMode::automatic}, Case{"client", AckMode::client},
                 Case{"client-individual", AckMode::client_individual}}) {
    std::string id = std::to_string(n++);
    SessionStep step =
        feed(s, Command::subscribe, {{"id", id}, {"destination", "/q"}, {"ack", c.value}});
    EXPECT_EQ(step.subscription.ack, c.mode) << c.value;
  }
  for (std::string_view bad : {"", "Auto", "individual", "client-individual "}) {
    SessionState t = connected();
    expect_error(feed(t, Command::subscribe, {{"id", "1"}, {"destination", "/q"}, {"ack", bad}}),
                 "Invalid ack header",
                 "The SUBSCRIBE frame's ack header (" + std::string(bad) +
                     ") is not auto, client or client-individual.");
  }
  // 1.0 clients may ask for client-individual too.
  SessionState old = connected(std::nullopt);
  EXPECT_EQ(feed(old, Command::subscribe, {{"destination", "/q"}, {"ack", "client-individual"}})
                .subscription.ack,
            AckMode::client_individual);
}

TEST(StompSessionState, PrefetchCountIsAPositiveInteger) {
  SessionState s = connected();
  SessionStep step = feed(
      s, Command::subscribe,
      {{"id", "a"}, {"destination", "/q"}, {"ack", "client"}, {"prefetch-count", "4294967295"}});
  EXPECT_EQ(step.subscription.prefetch, 4294967295u);
  EXPECT_EQ(
      feed(s, Command::subscribe, {{"id", "b"}, {"destination", "/q"}, {"prefetch-count", "1"}})
          .subscription.prefetch,
      1u);
  for (std::string_view bad : {"0", "-1", "+1", "", "1.5", "010", " 1", "4294967296", "x"}) {
    SessionState t = connected();
    expect_error(
        feed(t, Command::subscribe, {{"id", "1"}, {"destination", "/q"}, {"prefetch-count", bad}}),
        "Invalid prefetch-count header",
        "The SUBSCRIBE frame's prefetch-count header (" + std::string(bad) +
            ") is not a positive integer.");
  }
}

TEST(StompSessionState, SubscriptionsAreLimited) {
  SessionOptions options;
  options.max_subscriptions = 2;
  SessionState s = connected("1.2", options);
  feed(s, Command::subscribe, {{"id", "1"}, {"destination", "/q"}});
  feed(s, Command::subscribe, {{"id", "2"}, {"destination", "/q"}});
  expect_error(feed(s, Command::subscribe, {{"id", "3"}, {"destination", "/q"}}),
               "Too many subscriptions",
               "The SUBSCRIBE frame would pass this connection's limit of 2 subscriptions.");
  // After an UNSUBSCRIBE there is room again.
  SessionState t = connected("1.2", options);
  feed(t, Command::subscribe, {{"id", "1"}, {"destination", "/q"}});
  feed(t, Command::subscribe, {{"id", "2"}, {"destination", "/q"}});
  feed(t, Command::unsubscribe, {{"id", "1"}});
  EXPECT_EQ(feed(t, Command::subscribe, {{"id", "3"}, {"destination", "/q"}}).action,
            SessionAction::subscribe);
}

TEST(StompSessionState, UnsubscribeHandsBackTheWaitingDeliveries) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "a"}, {"destination", "/qa"}, {"ack", "client"}});
  feed(s, Command::subscribe, {{"id", "b"}, {"destination", "/qb"}, {"ack", "client-individual"}});
  EXPECT_TRUE(s.delivered("a", 10));
  EXPECT_TRUE(s.delivered("b", 11));
  EXPECT_TRUE(s.delivered("a", 12));
  EXPECT_TRUE(s.delivered("a", 13));
  feed(s, Command::ack, {{"id", "10"}});
  SessionStep step = feed(s, Command::unsubscribe, {{"id", "a"}, {"receipt", "u"}});
  EXPECT_EQ(step.action, SessionAction::unsubscribe);
  EXPECT_EQ(step.subscription.id, "a");
  EXPECT_EQ(step.subscription.destination, "/qa");
  EXPECT_EQ(step.subscription.ack, AckMode::client);
  EXPECT_EQ(step.deliveries.subscription, "a");
  EXPECT_EQ(ids(step.deliveries), ids({12, 13}));
  expect_receipt(step, "u");
  EXPECT_FALSE(step.close);
  ASSERT_EQ(s.subscription_count(), 1u);
  EXPECT_EQ(s.subscription(0).id, "b");
  EXPECT_EQ(ids(s.waiting(0)), ids({11}));
  // Its deliveries are no longer waiting.
  expect_error(feed(s, Command::ack, {{"id", "12"}}), "Unknown ack id",
               "The ACK frame's id 12 names no message waiting for an acknowledgement.");
}

TEST(StompSessionState, UnsubscribeNamesAKnownSubscription) {
  SessionState s = connected();
  expect_error(feed(s, Command::unsubscribe, {{"destination", "/q"}, {"receipt", "x"}}),
               "Missing id header", "The UNSUBSCRIBE frame has no id header.", "x");
  SessionState t = connected("1.1");
  expect_error(feed(t, Command::unsubscribe, {{"id", "nope"}}), "Unknown subscription",
               "The UNSUBSCRIBE frame's id nope names no subscription of this connection.");
}

TEST(StompSessionState, AOneZeroUnsubscribeNamesByIdOrDestination) {
  SessionState s = connected(std::nullopt);
  feed(s, Command::subscribe, {{"destination", "/q1"}});
  feed(s, Command::subscribe, {{"destination", "/q2"}, {"id", "two"}});
  SessionStep step = feed(s, Command::unsubscribe, {{"destination", "/q2"}});
  EXPECT_EQ(step.action, SessionAction::unsubscribe);
  EXPECT_EQ(step.subscription.id, "two");
  EXPECT_EQ(step.subscription.destination, "/q2");
  step = feed(s, Command::unsubscribe, {{"id", "/q1"}});
  EXPECT_EQ(step.subscription.id, "/q1");
  EXPECT_EQ(s.subscription_count(), 0u);
  SessionState t = connected(std::nullopt);
  expect_error(feed(t, Command::unsubscribe, {{"destination", "/none"}}), "Unknown subscription",
               "The UNSUBSCRIBE frame's destination /none names no subscription of this "
               "connection.");
  SessionState u = connected(std::nullopt);
  expect_error(feed(u, Command::unsubscribe, {}), "Missing id header",
               "The UNSUBSCRIBE frame has neither an id nor a destination header.");
}

// --- deliveries, ACK and NACK -----------------------------------------------------------------

TEST(StompSessionState, DeliveriesAreTrackedForAcknowledgingSubscriptionsOnly) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "auto"}, {"destination", "/q"}});
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  EXPECT_FALSE(s.delivered("auto", 1));  // needs no acknowledgement
  EXPECT_FALSE(s.delivered("none", 1));  // no such subscription
  EXPECT_TRUE(s.delivered("c", 1));
  EXPECT_FALSE(s.delivered("c", 1));  // ack ids increase
  EXPECT_FALSE(s.delivered("c", 0));
  EXPECT_TRUE(s.delivered("c", 5));
  EXPECT_FALSE(s.delivered("c", UINT64_MAX));
  EXPECT_EQ(ids(s.waiting(1)), ids({1, 5}));
  EXPECT_TRUE(s.waiting(0).ack_ids.empty());
  EXPECT_TRUE(s.can_deliver("auto"));
  EXPECT_TRUE(s.can_deliver("c"));  // no prefetch count: no limit
  EXPECT_FALSE(s.can_deliver("none"));
}

TEST(StompSessionState, PrefetchCountLimitsTheWaitingDeliveries) {
  SessionState s = connected();
  feed(s, Command::subscribe,
       {{"id", "p"}, {"destination", "/q"}, {"ack", "client-individual"}, {"prefetch-count", "2"}});
  feed(s, Command::subscribe, {{"id", "auto"}, {"destination", "/q"}, {"prefetch-count", "1"}});
  EXPECT_TRUE(s.can_deliver("p"));
  s.delivered("p", 1);
  EXPECT_TRUE(s.can_deliver("p"));
  s.delivered("p", 2);
  EXPECT_FALSE(s.can_deliver("p"));
  feed(s, Command::ack, {{"id", "2"}});
  EXPECT_TRUE(s.can_deliver("p"));
  s.delivered("p", 3);
  EXPECT_FALSE(s.can_deliver("p"));
  feed(s, Command::nack, {{"id", "1"}});
  EXPECT_TRUE(s.can_deliver("p"));
  // An auto subscription is never at a limit: nothing waits.
  EXPECT_TRUE(s.can_deliver("auto"));
}

TEST(StompSessionState, ClientModeAcknowledgesCumulatively) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  feed(s, Command::subscribe, {{"id", "o"}, {"destination", "/q"}, {"ack", "client"}});
  for (uint64_t id : {1, 2, 3, 5, 8}) s.delivered(id == 3 ? "o" : "c", id);
  SessionStep step = feed(s, Command::ack, {{"id", "5"}, {"receipt", "k"}});
  EXPECT_EQ(step.action, SessionAction::acknowledge);
  EXPECT_EQ(step.deliveries.subscription, "c");
  EXPECT_EQ(ids(step.deliveries), ids({1, 2, 5}));  // not 3: another subscription's
  expect_receipt(step, "k");
  EXPECT_FALSE(step.close);
  EXPECT_EQ(ids(s.waiting(0)), ids({8}));
  EXPECT_EQ(ids(s.waiting(1)), ids({3}));
  step = feed(s, Command::nack, {{"id", "8"}});
  EXPECT_EQ(step.action, SessionAction::nack);
  EXPECT_EQ(ids(step.deliveries), ids({8}));
  EXPECT_FALSE(step.send_receipt);
}

TEST(StompSessionState, ClientIndividualModeAcknowledgesOneDelivery) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "i"}, {"destination", "/q"}, {"ack", "client-individual"}});
  for (uint64_t id : {1, 2, 3}) s.delivered("i", id);
  SessionStep step = feed(s, Command::ack, {{"id", "2"}});
  EXPECT_EQ(step.deliveries.subscription, "i");
  EXPECT_EQ(ids(step.deliveries), ids({2}));
  step = feed(s, Command::nack, {{"id", "3"}});
  EXPECT_EQ(step.action, SessionAction::nack);
  EXPECT_EQ(ids(step.deliveries), ids({3}));
  EXPECT_EQ(ids(s.waiting(0)), ids({1}));
}

TEST(StompSessionState, AnAckIdNotWaitingIsAnError) {
  for (std::string_view id : {"7", "x", "", "01", "-1", "18446744073709551616"}) {
    SCOPED_TRACE(std::string(id));
    SessionState s = connected();
    feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
    s.delivered("c", 1);
    expect_error(feed(s, Command::ack, {{"id", id}, {"receipt", "r"}}), "Unknown ack id",
                 "The ACK frame's id " + std::string(id) +
                     " names no message waiting for an acknowledgement.",
                 "r");
  }
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  s.delivered("c", 1);
  feed(s, Command::ack, {{"id", "1"}});
  expect_error(feed(s, Command::nack, {{"id", "1"}}), "Unknown ack id",
               "The NACK frame's id 1 names no message waiting for an acknowledgement.");
  SessionState t = connected();
  expect_error(feed(t, Command::ack, {{"message-id", "1"}, {"subscription", "c"}}),
               "Missing id header", "The ACK frame has no id header.");
}

TEST(StompSessionState, OneOneAcknowledgesByMessageIdAndSubscription) {
  SessionState s = connected("1.1");
  feed(s, Command::subscribe, {{"id", "a"}, {"destination", "/q"}, {"ack", "client-individual"}});
  feed(s, Command::subscribe, {{"id", "b"}, {"destination", "/q"}, {"ack", "client"}});
  feed(s, Command::subscribe, {{"id", "auto"}, {"destination", "/q"}});
  s.delivered("a", 1);
  s.delivered("b", 2);
  SessionStep step = feed(s, Command::ack, {{"message-id", "1"}, {"subscription", "a"}});
  EXPECT_EQ(step.action, SessionAction::acknowledge);
  EXPECT_EQ(step.deliveries.subscription, "a");
  EXPECT_EQ(ids(step.deliveries), ids({1}));
  step = feed(s, Command::nack, {{"message-id", "2"}, {"subscription", "b"}});
  EXPECT_EQ(step.action, SessionAction::nack);
  EXPECT_EQ(ids(step.deliveries), ids({2}));
  // An auto subscription's deliveries need no acknowledgement: one is ignored.
  step = feed(s, Command::ack, {{"message-id", "99"}, {"subscription", "auto"}, {"receipt", "q"}});
  EXPECT_EQ(step.action, SessionAction::none);
  expect_receipt(step, "q");
  EXPECT_FALSE(step.close);

  s.delivered("a", 3);
  SessionState copy = std::move(s);  // (the state moves with what it holds)
  expect_error(feed(copy, Command::ack, {{"message-id", "3"}, {"subscription", "b"}}),
               "Unknown ack id",
               "The ACK frame's message-id 3 names no message of subscription b waiting for an "
               "acknowledgement.");

  SessionState t = connected("1.1");
  expect_error(feed(t, Command::ack, {{"message-id", "3"}}), "Missing subscription header",
               "The ACK frame has no subscription header.");
  SessionState u = connected("1.1");
  expect_error(feed(u, Command::nack, {{"message-id", "3"}, {"subscription", "z"}}),
               "Unknown subscription",
               "The NACK frame's subscription z names no subscription of this connection.");
  SessionState v = connected("1.1");
  expect_error(feed(v, Command::ack, {{"id", "3"}, {"subscription", "z"}}),
               "Missing message-id header", "The ACK frame has no message-id header.");
}

TEST(StompSessionState, OneZeroAcknowledgesByMessageIdAndHasNoNack) {
  SessionState s = connected(std::nullopt);
  feed(s, Command::subscribe, {{"destination", "/q"}, {"ack", "client"}});
  s.delivered("/q", 4);
  s.delivered("/q", 6);
  SessionStep step = feed(s, Command::ack, {{"message-id", "6"}});
  EXPECT_EQ(step.action, SessionAction::acknowledge);
  EXPECT_EQ(step.deliveries.subscription, "/q");
  EXPECT_EQ(ids(step.deliveries), ids({4, 6}));
  s.delivered("/q", 7);
  expect_error(feed(s, Command::nack, {{"message-id", "7"}, {"receipt", "n"}}), "Unsupported frame",
               "The NACK frame is not part of STOMP 1.0.", "n");
}

// --- SEND -------------------------------------------------------------------------------------

TEST(StompSessionState, SendPassesOnTheHeadersTheBrokerDoesNotWrite) {
  SessionState s = connected();
  SessionStep step = feed(s, Command::send,
                          {{"destination", "/topic/a"},
                           {"content-type", "application/json"},
                           {"content-length", "2"},
                           {"priority", "9"},
                           {"receipt", "s1"},
                           {"message-id", "forged"},
                           {"subscription", "forged"},
                           {"ack", "forged"},
                           {"x-trace", "one"},
                           {"x-trace", "two"},
                           {"destination", "/second"}},
                          "{}");
  EXPECT_EQ(step.action, SessionAction::publish);
  EXPECT_EQ(step.publish.destination, "/topic/a");  // the first one counts
  EXPECT_EQ(step.publish.content_type, "application/json");
  EXPECT_EQ(step.publish.body, "{}");
  EXPECT_EQ(pairs(step.publish.headers),
            (Pairs{{"priority", "9"}, {"x-trace", "one"}, {"x-trace", "two"}}));
  expect_receipt(step, "s1");
  EXPECT_FALSE(step.close);
  expect_error(feed(s, Command::send, {{"content-type", "text/plain"}}, "x"),
               "Missing destination header", "The SEND frame has no destination header.");
}

// --- transactions -----------------------------------------------------------------------------

TEST(StompSessionState, ACommitDoesWhatItsFramesHeldInOrder) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  feed(s, Command::subscribe, {{"id", "i"}, {"destination", "/q"}, {"ack", "client-individual"}});
  for (uint64_t id : {1, 2, 3}) s.delivered("c", id);
  s.delivered("i", 4);
  s.delivered("i", 5);

  SessionStep step = feed(s, Command::begin, {{"transaction", "tx-1"}, {"receipt", "b"}});
  EXPECT_EQ(step.action, SessionAction::none);
  expect_receipt(step, "b");
  EXPECT_FALSE(step.close);
  {
    // The frame's bytes go away after the call: the transaction keeps copies.
    std::string destination = "/topic/t";
    std::string name = "x-custom";
    std::string value = "v1";
    std::string body = "first";
    TestFrame f{Command::send,
                {{"destination", destination},
                 {"transaction", "tx-1"},
                 {name, value},
                 {"content-type", "text/plain"},
                 {"receipt", "held"}},
                body};
    step = s.on_frame(f.frame());
    EXPECT_EQ(step.action, SessionAction::none);
    expect_receipt(step, "held");
    destination.assign(destination.size(), '#');
    name.assign(name.size(), '#');
    value.assign(value.size(), '#');
    body.assign(body.size(), '#');
  }
  EXPECT_TRUE(nothing(feed(s, Command::ack, {{"id", "2"}, {"transaction", "tx-1"}})));
  EXPECT_TRUE(nothing(feed(s, Command::nack, {{"id", "5"}, {"transaction", "tx-1"}})));
  EXPECT_TRUE(
      nothing(feed(s, Command::send, {{"destination", "/d2"}, {"transaction", "tx-1"}}, "")));
  // Held frames take effect only at the commit.
  EXPECT_EQ(ids(s.waiting(0)), ids({1, 2, 3}));
  EXPECT_EQ(ids(s.waiting(1)), ids({4, 5}));
  // Frames outside the transaction go on meanwhile.
  EXPECT_EQ(feed(s, Command::send, {{"destination", "/now"}}).action, SessionAction::publish);

  step = feed(s, Command::commit, {{"transaction", "tx-1"}, {"receipt", "c"}});
  EXPECT_EQ(step.action, SessionAction::commit);
  expect_receipt(step, "c");
  EXPECT_FALSE(step.close);
  ASSERT_EQ(step.operations.size(), 4u);
  const Operation& send = step.operations[0];
  EXPECT_EQ(send.action, SessionAction::publish);
  EXPECT_EQ(send.publish.destination, "/topic/t");
  EXPECT_EQ(send.publish.body, "first");
  EXPECT_EQ(send.publish.content_type, "text/plain");
  EXPECT_EQ(pairs(send.publish.headers), (Pairs{{"x-custom", "v1"}}));
  EXPECT_EQ(step.operations[1].action, SessionAction::acknowledge);
  EXPECT_EQ(step.operations[1].deliveries.subscription, "c");
  EXPECT_EQ(ids(step.operations[1].deliveries), ids({1, 2}));
  EXPECT_EQ(step.operations[2].action, SessionAction::nack);
  EXPECT_EQ(step.operations[2].deliveries.subscription, "i");
  EXPECT_EQ(ids(step.operations[2].deliveries), ids({5}));
  EXPECT_EQ(step.operations[3].action, SessionAction::publish);
  EXPECT_EQ(step.operations[3].publish.destination, "/d2");
  EXPECT_EQ(step.operations[3].publish.body, "");
  EXPECT_TRUE(step.operations[3].publish.headers.empty());
  EXPECT_EQ(ids(s.waiting(0)), ids({3}));
  EXPECT_EQ(ids(s.waiting(1)), ids({4}));
  // The transaction is over.
  expect_error(feed(s, Command::commit, {{"transaction", "tx-1"}}), "Unknown transaction",
               "The COMMIT frame's transaction tx-1 is not open.");
}

TEST(StompSessionState, AnAbortDropsWhatItsTransactionHeld) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  s.delivered("c", 1);
  feed(s, Command::begin, {{"transaction", "t"}});
  feed(s, Command::send, {{"destination", "/d"}, {"transaction", "t"}}, "body");
  feed(s, Command::ack, {{"id", "1"}, {"transaction", "t"}});
  SessionStep step = feed(s, Command::abort, {{"transaction", "t"}, {"receipt", "a"}});
  EXPECT_EQ(step.action, SessionAction::none);
  expect_receipt(step, "a");
  EXPECT_FALSE(step.close);
  EXPECT_EQ(ids(s.waiting(0)), ids({1}));
  expect_error(feed(s, Command::abort, {{"transaction", "t"}}), "Unknown transaction",
               "The ABORT frame's transaction t is not open.");
  // The name can be used again.
  SessionState t = connected();
  feed(t, Command::begin, {{"transaction", "t"}});
  feed(t, Command::abort, {{"transaction", "t"}});
  EXPECT_TRUE(nothing(feed(t, Command::begin, {{"transaction", "t"}})));
  step = feed(t, Command::commit, {{"transaction", "t"}});
  EXPECT_EQ(step.action, SessionAction::commit);
  EXPECT_TRUE(step.operations.empty());
}

TEST(StompSessionState, AnAcknowledgementNoLongerWaitingIsLeftOutOfTheCommit) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client-individual"}});
  feed(s, Command::subscribe, {{"id", "d"}, {"destination", "/q"}, {"ack", "client"}});
  s.delivered("c", 1);
  s.delivered("c", 2);
  s.delivered("d", 3);
  feed(s, Command::begin, {{"transaction", "t"}});
  feed(s, Command::ack, {{"id", "1"}, {"transaction", "t"}});
  feed(s, Command::ack, {{"id", "2"}, {"transaction", "t"}});
  feed(s, Command::ack, {{"id", "3"}, {"transaction", "t"}});
  feed(s, Command::ack, {{"id", "1"}});          // outside the transaction, first
  feed(s, Command::unsubscribe, {{"id", "d"}});  // hands 3 back
  SessionStep step = feed(s, Command::commit, {{"transaction", "t"}});
  ASSERT_EQ(step.operations.size(), 1u);
  EXPECT_EQ(step.operations[0].action, SessionAction::acknowledge);
  EXPECT_EQ(ids(step.operations[0].deliveries), ids({2}));
}

TEST(StompSessionState, TransactionFramesAreCheckedWhenTheyCome) {
  SessionState s = connected();
  expect_error(feed(s, Command::begin, {{"receipt", "r"}}), "Missing transaction header",
               "The BEGIN frame has no transaction header.", "r");
  SessionState t = connected();
  feed(t, Command::begin, {{"transaction", "t"}});
  expect_error(feed(t, Command::begin, {{"transaction", "t"}}), "Duplicate transaction",
               "The BEGIN frame's transaction t is already open.");
  SessionState u = connected();
  expect_error(feed(u, Command::commit, {}), "Missing transaction header",
               "The COMMIT frame has no transaction header.");
  SessionState v = connected();
  expect_error(feed(v, Command::abort, {{"transaction", "nope"}}), "Unknown transaction",
               "The ABORT frame's transaction nope is not open.");
  SessionState w = connected();
  expect_error(feed(w, Command::send, {{"destination", "/d"}, {"transaction", "nope"}}),
               "Unknown transaction", "The SEND frame's transaction nope is not open.");
  SessionState x = connected();
  feed(x, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  x.delivered("c", 1);
  expect_error(feed(x, Command::ack, {{"id", "1"}, {"transaction", "nope"}}), "Unknown transaction",
               "The ACK frame's transaction nope is not open.");
  SessionState y = connected();
  feed(y, Command::begin, {{"transaction", "t"}});
  expect_error(feed(y, Command::ack, {{"id", "1"}, {"transaction", "t"}}), "Unknown ack id",
               "The ACK frame's id 1 names no message waiting for an acknowledgement.");
  SessionState z = connected();
  feed(z, Command::begin, {{"transaction", "t"}});
  expect_error(feed(z, Command::send, {{"transaction", "t"}}), "Missing destination header",
               "The SEND frame has no destination header.");
}

TEST(StompSessionState, TransactionsAreLimited) {
  SessionOptions options;
  options.max_transactions = 2;
  options.max_transaction_bytes = 40;
  SessionState s = connected("1.2", options);
  feed(s, Command::begin, {{"transaction", "a"}});
  feed(s, Command::begin, {{"transaction", "b"}});
  expect_error(feed(s, Command::begin, {{"transaction", "c"}}), "Too many transactions",
               "The BEGIN frame would pass this connection's limit of 2 open transactions.");

  // Held bytes: destination, body, content-type and the passed-on headers' names and values.
  SessionState t = connected("1.2", options);
  feed(t, Command::begin, {{"transaction", "a"}});
  feed(t, Command::begin, {{"transaction", "b"}});
  // 2 + 10 + 4 + 2 = 18 bytes each.
  std::vector<Header> send_a{{"destination", "/d"}, {"transaction", "a"}, {"hh", "vv"}};
  EXPECT_TRUE(nothing(feed(t, Command::send, send_a, "0123456789")));
  std::vector<Header> send_b{{"destination", "/d"}, {"transaction", "b"}, {"hh", "vv"}};
  EXPECT_TRUE(nothing(feed(t, Command::send, send_b, "0123456789")));
  // 36 held: 4 more fit, 5 do not.
  EXPECT_TRUE(nothing(feed(t, Command::send, {{"destination", "/d"}, {"transaction", "a"}}, "ab")));
  EXPECT_EQ(feed(t, Command::abort, {{"transaction", "a"}}).action, SessionAction::none);
  // a's 22 bytes are free again: 18 + 22 = 40.
  EXPECT_TRUE(nothing(feed(t, Command::send, {{"destination", "/d"}, {"transaction", "b"}},
                           "01234567890123456789")));
  expect_error(feed(t, Command::send, {{"destination", "/d"}, {"transaction", "b"}}, "x"),
               "Transaction too large",
               "The SEND frame would pass this connection's limit of 40 bytes held in "
               "transactions.");
  // A commit frees its bytes too.
  SessionState u = connected("1.2", options);
  feed(u, Command::begin, {{"transaction", "a"}});
  feed(u, Command::send, {{"destination", "/d"}, {"transaction", "a"}}, std::string(38, 'x'));
  EXPECT_EQ(feed(u, Command::commit, {{"transaction", "a"}}).operations.size(), 1u);
  feed(u, Command::begin, {{"transaction", "b"}});
  EXPECT_TRUE(nothing(
      feed(u, Command::send, {{"destination", "/d"}, {"transaction", "b"}}, std::string(38, 'y'))));
}

TEST(StompSessionState, DisconnectAndTheEndDropOpenTransactions) {
  SessionState s = connected();
  feed(s, Command::begin, {{"transaction", "t"}});
  feed(s, Command::send, {{"destination", "/d"}, {"transaction", "t"}}, "held");
  SessionStep step = feed(s, Command::disconnect, {});
  EXPECT_TRUE(step.close);
  EXPECT_FALSE(step.send_receipt);
  EXPECT_TRUE(nothing(feed(s, Command::commit, {{"transaction", "t"}})));

  SessionState t = connected();
  feed(t, Command::begin, {{"transaction", "t"}});
  feed(t, Command::send, {{"destination", "/d"}, {"transaction", "t"}}, "held");
  t.end();
  EXPECT_EQ(t.phase(), SessionPhase::closed);
  EXPECT_TRUE(nothing(feed(t, Command::commit, {{"transaction", "t"}})));
}

// --- receipts, errors -------------------------------------------------------------------------

TEST(StompSessionState, EveryClientFrameButConnectMayAskForAReceipt) {
  SessionState s(kOptions);
  // CONNECT's receipt is not answered.
  EXPECT_FALSE(
      feed(s, Command::connect, {{"accept-version", "1.2"}, {"receipt", "c"}}).send_receipt);
  EXPECT_FALSE(s.accept("id").send_receipt);
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  s.delivered("c", 1);
  s.delivered("c", 2);
  const std::vector<std::pair<Command, std::vector<Header>>> frames = {
      {Command::subscribe, {{"id", "s"}, {"destination", "/q"}}},
      {Command::unsubscribe, {{"id", "s"}}},
      {Command::send, {{"destination", "/q"}}},
      {Command::ack, {{"id", "1"}}},
      {Command::nack, {{"id", "2"}}},
      {Command::begin, {{"transaction", "t"}}},
      {Command::send, {{"destination", "/q"}, {"transaction", "t"}}},
      {Command::commit, {{"transaction", "t"}}},
      {Command::begin, {{"transaction", "u"}}},
      {Command::abort, {{"transaction", "u"}}},
      {Command::disconnect, {}},
  };
  int n = 0;
  for (auto [command, headers] : frames) {
    std::string receipt = "r-" + std::to_string(n++);
    headers.push_back({"receipt", receipt});
    SessionStep step = feed(s, command, headers);
    SCOPED_TRACE(std::string(command_name(command)));
    expect_receipt(step, receipt);
  }
  EXPECT_EQ(s.phase(), SessionPhase::closed);
}

TEST(StompSessionState, DecoderErrorsBecomeErrorFrames) {
  SessionState s(kOptions);
  expect_error(s.decode_error(decode_error_reason(DecodeError::header_without_colon)),
               "Header line without a colon",
               "The frame could not be read (Header line without a colon).");
  expect_closed(s);
  SessionState t = connected();
  expect_error(t.decode_error(decode_error_reason(DecodeError::frame_too_large)), "Frame too large",
               "The frame could not be read (Frame too large).");
  expect_closed(t);
  SessionState u = connected();
  expect_error(u.decode_error(decode_error_reason(DecodeError::unknown_command), "SUBSCRIBEE"),
               "Unknown command", "The frame's command line (SUBSCRIBEE) is no STOMP command.");
  expect_closed(u);
}

TEST(StompSessionState, ServerFramesFromTheClientAreErrors) {
  for (Command command : {Command::connected, Command::message, Command::receipt, Command::error}) {
    SessionState s = connected();
    const std::string name(command_name(command));
    expect_error(feed(s, command, {{"receipt", "z"}}), "Unexpected frame",
                 "The " + name + " frame is one a server sends, not a client.", "z");
    expect_closed(s);
  }
}

TEST(StompSessionState, AfterDisconnectFramesAreIgnored) {
  SessionState s = connected();
  feed(s, Command::subscribe, {{"id", "c"}, {"destination", "/q"}, {"ack", "client"}});
  s.delivered("c", 1);
  SessionStep step = feed(s, Command::disconnect, {});
  EXPECT_EQ(step.action, SessionAction::none);
  EXPECT_TRUE(step.close);
  EXPECT_FALSE(step.send_error);
  expect_closed(s);
  EXPECT_TRUE(nothing(feed(s, Command::ack, {{"id", "1"}})));
  // What waits stays for the caller to hand back.
  EXPECT_EQ(ids(s.waiting(0)), ids({1}));
}

// --- size and allocations ---------------------------------------------------------------------

TEST(StompSessionState, AnIdleSessionIsSmall) { EXPECT_EQ(sizeof(SessionState), 64u); }

TEST(StompSessionState, FramesOutsideTransactionsDoNotAllocateAtSteadyState) {
#if !DUPLEX_COUNT_MALLOC
  GTEST_SKIP() << "AddressSanitizer keeps its own malloc";
#else
  SessionState s = connected();
  feed(s, Command::subscribe,
       {{"id", "sub-0"},
        {"destination", "/q"},
        {"ack", "client-individual"},
        {"prefetch-count", "8"}});
  feed(s, Command::subscribe, {{"id", "sub-1"}, {"destination", "/q"}, {"ack", "client"}});
  TestFrame send{Command::send,
                 {{"destination", "/q"}, {"content-length", "5"}, {"x-a", "1"}, {"receipt", "r"}},
                 "hello"};
  // ACK, NACK, ACK, NACK of the four deliveries of a round from `base` on.
  const std::string numbers[] = {"1", "2", "3", "4", "100", "101", "102", "103"};
  TestFrame acks[8];
  for (int i = 0; i < 8; ++i) {
    acks[i] = {
        i % 2 ? Command::nack : Command::ack, {{"id", numbers[i]}, {"subscription", "x"}}, ""};
  }
  auto round = [&](uint64_t base) {
    for (uint64_t i = 0; i < 4; ++i) s.delivered(i % 2 ? "sub-1" : "sub-0", base + i);
    s.on_frame(send.frame());
    s.can_deliver("sub-0");
    s.send_timer_elapsed(100);
    s.receive_timer_elapsed(100);
  };
  // Warm up: the scratch and the vectors reach their size.
  round(1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(s.on_frame(acks[i].frame()).deliveries.ack_ids.size(), 1u);
  std::vector<uint64_t> handed;
  handed.reserve(16);
  // The counter counts.
  g_mallocs = 0;
  g_malloc_armed = true;
  std::vector<uint64_t> probe(3);
  g_malloc_armed = false;
  EXPECT_EQ(g_mallocs.load(), 1u);
  EXPECT_EQ(probe.size(), 3u);
  g_mallocs = 0;
  g_malloc_armed = true;
  round(100);
  for (int i = 4; i < 8; ++i) {
    SessionStep step = s.on_frame(acks[i].frame());
    handed.insert(handed.end(), step.deliveries.ack_ids.begin(), step.deliveries.ack_ids.end());
  }
  g_malloc_armed = false;
  EXPECT_EQ(g_mallocs.load(), 0u);
  EXPECT_EQ(handed, ids({100, 101, 102, 103}));
  EXPECT_TRUE(s.waiting(0).ack_ids.empty());
  EXPECT_TRUE(s.waiting(1).ack_ids.empty());
#endif
}

}  // namespace
}  // namespace duplex::core::stomp
