// Time as users live it: a server and a client with short timeouts are left quiet for longer
// than every one of them, then used. Each new connection after the quiet spell must get its
// whole handshake, idle and close time (a deadline computed from the time before the quiet wait
// would already be due), over HTTP, WebSocket and wss, on both backends, with one and two loops.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "../support/test_certs.hpp"
#include "duplex/client/websocket_client.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kHandshakeTimeout = 200ms;
constexpr auto kIdleTimeout = 400ms;
constexpr auto kCloseTimeout = 200ms;
constexpr auto kQuietSpell = 700ms;  // longer than every timeout above

struct Case {
  io::IoBackend io;
  size_t threads;
  bool tls;
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << (c.io == io::IoBackend::epoll ? "epoll" : "io_uring") << ", " << c.threads << " loops, "
       << (c.tls ? "wss" : "ws");
}

std::string name_of(const testing::TestParamInfo<Case>& info) {
  return std::string(info.param.io == io::IoBackend::epoll ? "epoll" : "io_uring") + "_" +
         std::to_string(info.param.threads) + "loops_" + (info.param.tls ? "wss" : "ws");
}

class QuietSpell : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    ServerOptions options;
    options.threads = c.threads;
    options.io = c.io;
    options.handshake_timeout = kHandshakeTimeout;
    options.close_timeout = kCloseTimeout;
    if (c.tls) {
      options.tls.cert_file = test::test_cert("server.pem");
      options.tls.key_file = test::test_cert("server.key");
    }
    server_ = std::make_unique<test::ServerThread>(options);
    server_->server.page("/hello", "hi");
    server_->server.endpoint("/echo", {.idle_timeout = kIdleTimeout,
                                       .on_message = [](WebSocket& ws, std::string_view m,
                                                        MessageType t) { ws.send(m, t); }});
    server_->start();
    client_loop_ = std::make_unique<io::EventLoop>(c.io);
  }

  std::string url() const {
    return std::string(GetParam().tls ? "wss" : "ws") + "://" +
           (GetParam().tls ? "localhost" : "127.0.0.1") + ":" + std::to_string(server_->port) +
           "/echo";
  }
  ClientOptions client_options() const {
    ClientOptions options;
    options.handshake_timeout = kHandshakeTimeout;
    options.close_timeout = kCloseTimeout;
    options.proxy = "";
    if (GetParam().tls) options.ca_file = test::test_cert("ca.pem");
    return options;
  }
  // Runs the client loop until `done`, at most 3 s.
  bool pump(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + 3s;
    while (!done() && Clock::now() < deadline) client_loop_->run_once(20);
    return done();
  }

  // One WebSocket through the client: open, an echo, a clean close.
  void echo_once(const std::string& text) {
    WebSocketClient ws(*client_loop_, url(), client_options());
    std::string got;
    std::string error;
    bool closed = false;
    uint16_t code = 0;
    bool clean = false;
    std::string reason;  // the event's reason is a view, valid during the handler only
    ws.onopen = [&] { ws.send(text); };
    ws.onmessage = [&](const MessageEvent& e) {
      got = e.data;
      ws.close(1000, "done");
    };
    ws.onerror = [&](std::string_view reason) { error = reason; };
    ws.onclose = [&](const CloseEvent& e) {
      code = e.code;
      clean = e.was_clean;
      reason = e.reason;
      closed = true;
    };
    ASSERT_TRUE(pump([&] { return closed; })) << text;
    EXPECT_EQ(error, "") << text;
    EXPECT_EQ(got, text);
    EXPECT_EQ(code, 1000) << text << ": " << reason;
    EXPECT_TRUE(clean) << text;
  }

  std::unique_ptr<test::ServerThread> server_;
  std::unique_ptr<io::EventLoop> client_loop_;
};

TEST_P(QuietSpell, EveryConnectionAfterAQuietSpellIsServed) {
  client_loop_->run_once(0);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(kQuietSpell);  // server and client loops both wait, quiet
    // Several in a row, so that with two loops each gets its first connection after the spell.
    for (int i = 0; i < 4; ++i) {
      const std::string tag = "round " + std::to_string(round) + " #" + std::to_string(i);
      if (!GetParam().tls) {
        test::RawClient http(server_->port);
        http.send_raw("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const std::string response = http.read_http_response();
        EXPECT_EQ(response.substr(0, 15), "HTTP/1.1 200 OK") << tag << ": " << response;
        EXPECT_EQ(response.substr(response.size() - 2), "hi") << tag;
      }
      echo_once(tag);
    }
  }
}

// The idle timeout of a connection opened after a quiet spell runs its whole length, and ends
// with 1001.
TEST_P(QuietSpell, IdleTimeoutOfANewConnectionRunsItsWholeLength) {
  client_loop_->run_once(0);
  std::this_thread::sleep_for(kQuietSpell);
  WebSocketClient ws(*client_loop_, url(), client_options());
  Clock::time_point opened;
  Clock::time_point closed_at;
  bool closed = false;
  uint16_t code = 0;
  std::string reason;  // the event's reason is a view, valid during the handler only
  ws.onopen = [&] { opened = Clock::now(); };
  ws.onclose = [&](const CloseEvent& e) {
    closed_at = Clock::now();
    code = e.code;
    reason = e.reason;
    closed = true;
  };
  ASSERT_TRUE(pump([&] { return closed; }));
  ASSERT_NE(opened, Clock::time_point{}) << "never opened: " << code << " " << reason;
  EXPECT_EQ(code, 1001);
  EXPECT_EQ(reason, "idle timeout");
  // The server stamps the open a moment before the client sees it: allow a few milliseconds.
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(closed_at - opened).count(),
            kIdleTimeout.count() - 20);
}

// A request head that is not finished (over TLS: a handshake that never starts) is dropped at
// the handshake timeout, neither at once nor never, after a quiet spell.
TEST_P(QuietSpell, AnUnfinishedRequestIsDroppedAtTheHandshakeTimeout) {
  std::this_thread::sleep_for(kQuietSpell);
  test::RawClient stalled(server_->port);
  const auto sent = Clock::now();
  if (!GetParam().tls) stalled.send_raw("GET /hello HTTP/1.1\r\nHost:");
  ASSERT_TRUE(stalled.wait_eof(2000));
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent).count();
  EXPECT_GE(waited, kHandshakeTimeout.count() - 5);
}

INSTANTIATE_TEST_SUITE_P(All, QuietSpell,
                         testing::Values(Case{io::IoBackend::epoll, 1, false},
                                         Case{io::IoBackend::epoll, 2, false},
                                         Case{io::IoBackend::epoll, 2, true},
                                         Case{io::IoBackend::io_uring, 1, false},
                                         Case{io::IoBackend::io_uring, 2, false},
                                         Case{io::IoBackend::io_uring, 2, true}),
                         name_of);

}  // namespace
}  // namespace duplex
