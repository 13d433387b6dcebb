// The client API: events, readyState, close rules, reconnection, redirects, proxies and
// timeouts. Client and server share one event loop, so each test runs on one thread.
#include "duplex/client/websocket_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;

class Delay final : public io::Timer {
 public:
  explicit Delay(std::function<void()> fn) : fn_(std::move(fn)) {}
  void on_timer() override { fn_(); }

 private:
  std::function<void()> fn_;
};

// A server on 127.0.0.1 whose loop the clients share; run() returns after stop() or 5 s.
class Loopback {
 public:
  Loopback() : server({.host = "127.0.0.1", .port = 0, .handle_signals = false}) {}
  void listen() { port = server.listen(); }
  std::string url(const std::string& path = "/") const {
    return "ws://127.0.0.1:" + std::to_string(port) + path;
  }
  io::EventLoop& loop() { return server.loop(); }
  void run() {
    Delay guard([this] {
      timed_out = true;
      server.shutdown();
    });
    loop().schedule(guard, 5000);
    server.run();
    loop().cancel(guard);
  }
  void stop() { server.shutdown(); }

  Server server;
  uint16_t port = 0;
  bool timed_out = false;
};

EndpointConfig echo() {
  return {.on_message = [](WebSocket& ws, std::string_view m, MessageType t) { ws.send(m, t); }};
}

// A one-connection TCP server on its own thread, answering with `respond(request_head)`.
class RawServer {
 public:
  using Responder = std::function<void(int fd, const std::string& head)>;
  explicit RawServer(Responder respond) : respond_(std::move(respond)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 4);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port = 0;

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    while (!stop_) {
      if (poll(&p, 1, 50) <= 0) continue;
      const int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      std::string head;
      char buf[4096];
      pollfd c{conn, POLLIN, 0};
      while (head.find("\r\n\r\n") == std::string::npos && poll(&c, 1, 2000) > 0) {
        const ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      respond_(conn, head);
      close(conn);
    }
  }
  Responder respond_;
  int fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

void send_all(int fd, const std::string& s) { send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

TEST(WebSocketClient, EventsAndReadyStatesOfAnEcho) {
  Loopback net;
  net.server.endpoint("/echo", echo());
  net.listen();
  std::vector<std::string> seen;
  WebSocketClient ws(net.loop(), net.url("/echo"));
  EXPECT_EQ(ws.ready_state(), ReadyState::connecting);
  EXPECT_THROW(ws.send("too early"), std::logic_error);
  ws.onopen = [&] {
    seen.push_back("open " + std::to_string(static_cast<int>(ws.ready_state())));
    ws.send("hi");
    ws.send_binary(std::string("\0\1", 2));
    seen.push_back("buffered " + std::to_string(ws.buffered_amount()));  // 2 frames of 6+2, 6+2
  };
  ws.onmessage = [&](const MessageEvent& e) {
    seen.push_back((e.type == MessageType::text ? "text " : "binary ") +
                   std::to_string(e.data.size()));
    if (e.type == MessageType::binary) {
      ws.close(3000, "done");
      seen.push_back("closing " + std::to_string(static_cast<int>(ws.ready_state())));
    }
  };
  ws.onclose = [&](const CloseEvent& e) {
    seen.push_back("close " + std::to_string(e.code) + " " + std::string(e.reason) +
                   (e.was_clean ? " clean" : " unclean") + " state " +
                   std::to_string(static_cast<int>(ws.ready_state())));
    net.stop();
  };
  net.run();
  EXPECT_FALSE(net.timed_out);
  EXPECT_EQ(seen, (std::vector<std::string>{"open 1", "buffered 16", "text 2", "binary 2",
                                            "closing 2", "close 3000  clean state 3"}));
  EXPECT_EQ(ws.buffered_amount(), 0u);
  EXPECT_FALSE(ws.send("late"));
}

TEST(WebSocketClient, CloseFollowsTheBrowsersRules) {
  Loopback net;
  net.server.endpoint("/", echo());
  net.listen();
  WebSocketClient ws(net.loop(), net.url());
  std::vector<std::string> refused;
  ws.onopen = [&] {
    for (uint16_t code : {999, 1001, 1002, 1005, 2999, 5000}) {
      try {
        ws.close(code);
      } catch (const std::invalid_argument&) {
        refused.push_back(std::to_string(code));
      }
    }
    EXPECT_THROW(ws.close(1000, std::string(124, 'r')), std::invalid_argument);
    EXPECT_THROW(ws.close(1000, "\xff"), std::invalid_argument);
    EXPECT_THROW(ws.ping(std::string(126, 'p')), std::invalid_argument);
    EXPECT_EQ(ws.ready_state(), ReadyState::open);
    ws.close();  // no code: an empty close frame, which the server answers in kind
  };
  uint16_t code = 0;
  ws.onclose = [&](const CloseEvent& e) {
    code = e.code;
    net.stop();
  };
  net.run();
  EXPECT_EQ(refused, (std::vector<std::string>{"999", "1001", "1002", "1005", "2999", "5000"}));
  EXPECT_EQ(code, 1005);
}

TEST(WebSocketClient, CloseWhileConnectingFailsWith1006) {
  Loopback net;
  net.server.endpoint("/", echo());
  net.listen();
  WebSocketClient ws(net.loop(), net.url());
  std::string error;
  CloseEvent closed{0, {}, true};
  ws.onerror = [&](std::string_view m) { error = m; };
  ws.onclose = [&](const CloseEvent& e) {
    closed = e;
    net.stop();
  };
  ws.close();
  net.run();
  EXPECT_EQ(error, "closed before the connection was established");
  EXPECT_EQ(closed.code, 1006);
  EXPECT_FALSE(closed.was_clean);
}

TEST(WebSocketClient, ListenersRunAfterTheHandlerInOrder) {
  Loopback net;
  net.server.endpoint("/", {.on_open = [](WebSocket& ws) { ws.send("welcome"); }});
  net.listen();
  WebSocketClient ws(net.loop(), net.url());
  std::vector<std::string> order;
  ws.onmessage = [&](const MessageEvent&) { order.push_back("handler"); };
  ws.add_message_listener([&](const MessageEvent&) { order.push_back("first"); });
  ws.add_message_listener([&](const MessageEvent& e) {
    order.push_back("second " + std::string(e.data));
    ws.close();
  });
  ws.add_close_listener([&](const CloseEvent&) { net.stop(); });
  net.run();
  EXPECT_EQ(order, (std::vector<std::string>{"handler", "first", "second welcome"}));
}

TEST(WebSocketClient, ServerCloseCodeAndReasonReachTheCloseEvent) {
  Loopback net;
  net.server.endpoint("/", {.on_open = [](WebSocket& ws) { ws.close(4001, "bye"); }});
  net.listen();
  WebSocketClient ws(net.loop(), net.url());
  std::string result;
  ws.onclose = [&](const CloseEvent& e) {
    result = std::to_string(e.code) + " " + std::string(e.reason) + (e.was_clean ? " clean" : "");
    net.stop();
  };
  net.run();
  EXPECT_EQ(result, "4001 bye clean");
}

TEST(WebSocketClient, RefusedConnectionIsAnErrorThenClose1006) {
  Loopback net;
  net.listen();
  const uint16_t unused = [] {
    RawServer probe([](int, const std::string&) {});
    return probe.port;
  }();  // the port is free again once the probe is gone
  WebSocketClient ws(net.loop(), "ws://127.0.0.1:" + std::to_string(unused) + "/");
  std::string error;
  uint16_t code = 0;
  ws.onerror = [&](std::string_view m) { error = m; };
  ws.onclose = [&](const CloseEvent& e) {
    code = e.code;
    net.stop();
  };
  net.run();
  EXPECT_EQ(error, "connection refused (127.0.0.1:" + std::to_string(unused) + ")");
  EXPECT_EQ(code, 1006);
}

TEST(WebSocketClient, ReconnectsWithBackoffUntilClosedByTheUser) {
  Loopback net;
  int opened = 0;
  net.server.endpoint("/", {.on_message = [&](WebSocket& ws, std::string_view, MessageType) {
                        if (++opened < 3) ws.terminate();  // drop the first two
                      }});
  net.listen();
  ClientOptions options;
  options.reconnect = {.enabled = true, .initial_delay = 10ms, .max_delay = 50ms};
  WebSocketClient ws(net.loop(), net.url(), options);
  int client_opens = 0, closes = 0;
  ws.onopen = [&] {
    if (++client_opens == 3) return ws.close();
    ws.send("hello");
  };
  ws.onclose = [&](const CloseEvent& e) {
    ++closes;
    if (e.was_clean) net.stop();
  };
  net.run();
  EXPECT_FALSE(net.timed_out);
  EXPECT_EQ(client_opens, 3);
  EXPECT_EQ(closes, 3);  // two lost connections, then the clean close: no fourth attempt
}

TEST(WebSocketClient, RedirectsAreRefusedByDefaultAndFollowedWhenAllowed) {
  Loopback net;
  net.server.endpoint("/echo", echo());
  net.listen();
  RawServer redirector([&](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:" + std::to_string(net.port) +
                     "/echo\r\nContent-Length: 0\r\n\r\n");
  });
  const std::string start = "ws://127.0.0.1:" + std::to_string(redirector.port) + "/old";

  WebSocketClient refused(net.loop(), start);
  std::string error;
  refused.onerror = [&](std::string_view m) { error = m; };

  ClientOptions follow;
  follow.max_redirects = 1;
  WebSocketClient followed(net.loop(), start, follow);
  std::string reply;
  followed.onopen = [&] { followed.send("after redirect"); };
  followed.onmessage = [&](const MessageEvent& e) {
    reply = e.data;
    followed.close();
  };
  followed.onclose = [&](const CloseEvent&) { net.stop(); };
  net.run();
  EXPECT_NE(error.find("server redirected (302)"), std::string::npos) << error;
  EXPECT_EQ(reply, "after redirect");
  EXPECT_EQ(followed.url(), net.url("/echo"));
}

TEST(WebSocketClient, TunnelsThroughAnHttpProxyWithConnect) {
  Loopback net;
  net.server.endpoint("/", echo());
  net.listen();
  std::string proxy_request;
  RawServer proxy([&](int fd, const std::string& head) {
    proxy_request = head;
    const int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(net.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    send_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
    pollfd p[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    char buf[65536];
    while (poll(p, 2, 3000) > 0) {
      const int from = (p[0].revents & (POLLIN | POLLHUP)) ? 0 : 1;
      const ssize_t n = recv(p[from].fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      send(p[1 - from].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    }
    close(up);
  });
  ClientOptions options;
  options.proxy = "http://user:pw@127.0.0.1:" + std::to_string(proxy.port);
  WebSocketClient ws(net.loop(), net.url(), options);
  std::string reply;
  ws.onopen = [&] { ws.send("through the proxy"); };
  ws.onmessage = [&](const MessageEvent& e) {
    reply = e.data;
    ws.close();
  };
  ws.onclose = [&](const CloseEvent&) { net.stop(); };
  net.run();
  EXPECT_EQ(reply, "through the proxy");
  const std::string target = "127.0.0.1:" + std::to_string(net.port);
  EXPECT_EQ(proxy_request.substr(0, proxy_request.find("\r\n")), "CONNECT " + target + " HTTP/1.1");
  EXPECT_NE(proxy_request.find("\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n"),
            std::string::npos);
}

TEST(WebSocketClient, ProxyRefusalAndEnvironmentRules) {
  Loopback net;
  net.server.endpoint("/", echo());
  net.listen();
  RawServer proxy([](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  });
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port);
  // From the environment, unless no_proxy names the host.
  setenv("http_proxy", proxy_url.c_str(), 1);
  WebSocketClient via_env(net.loop(), net.url());
  setenv("no_proxy", "localhost,127.0.0.1", 1);
  WebSocketClient exempt(net.loop(), net.url());
  unsetenv("http_proxy");
  unsetenv("no_proxy");
  std::string error;
  bool exempt_open = false;
  int closed = 0;
  via_env.onerror = [&](std::string_view m) { error = m; };
  via_env.onclose = [&](const CloseEvent&) {
    if (++closed == 2) net.stop();
  };
  exempt.onopen = [&] {
    exempt_open = true;
    exempt.close();
  };
  exempt.onclose = [&](const CloseEvent&) {
    if (++closed == 2) net.stop();
  };
  net.run();
  EXPECT_EQ(error, "proxy refused CONNECT: 407 Proxy Authentication Required");
  EXPECT_TRUE(exempt_open);
}

TEST(WebSocketClient, HandshakeTimesOutWhenTheServerNeverAnswers) {
  Loopback net;
  net.listen();
  RawServer silent([](int, const std::string&) { std::this_thread::sleep_for(600ms); });
  ClientOptions options;
  options.handshake_timeout = 200ms;
  WebSocketClient ws(net.loop(), "ws://127.0.0.1:" + std::to_string(silent.port) + "/", options);
  std::string error;
  ws.onerror = [&](std::string_view m) { error = m; };
  ws.onclose = [&](const CloseEvent&) { net.stop(); };
  net.run();
  EXPECT_EQ(error, "handshake timed out after 200 ms");
}

TEST(WebSocketClient, KeepAlivePingsAfterSilence) {
  Loopback net;
  int pings = 0;
  net.server.endpoint("/", {.on_ping = [&](WebSocket& ws, std::string_view) {
                        if (++pings == 2) ws.close();
                      }});
  net.listen();
  ClientOptions options;
  options.ping_interval = 30ms;
  WebSocketClient ws(net.loop(), net.url(), options);
  ws.onclose = [&](const CloseEvent&) { net.stop(); };
  net.run();
  EXPECT_EQ(pings, 2);
}

TEST(WebSocketClient, BadUrlsAndOptionsThrowAtConstruction) {
  io::EventLoop loop;
  EXPECT_THROW(WebSocketClient(loop, "ftp://x/"), std::invalid_argument);
  EXPECT_THROW(WebSocketClient(loop, "ws://x/#frag"), std::invalid_argument);
  EXPECT_THROW(WebSocketClient(loop, "ws://x/", {.protocols = {"has space"}}),
               std::invalid_argument);
  EXPECT_THROW(WebSocketClient(loop, "ws://x/", {.headers = {{"Upgrade", "x"}}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace duplex
