// The TLS layer: contexts (files, SNI lookup, client settings), sessions driven by the loop
// (ALPN, SNI, name checks, client certificates), and the server and client over wss:// on one
// loop. Certificates are made at test time by tests/support/make_test_certs.sh.
#include "duplex/io/tls.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/test_certs.hpp"
#include "duplex/client/websocket_client.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using test::test_cert;

std::string thrown_by(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

/// Runs the loop until `done` or 500 iterations of at most 20 ms.
bool pump(io::EventLoop& loop, const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) loop.run_once(20);
  return done();
}

EndpointConfig echo() {
  return {.on_message = [](WebSocket& ws, std::string_view m, MessageType t) { ws.send(m, t); }};
}

/// Options for a TLS server on 127.0.0.1; the last failed handshake's reason goes to
/// `handshake_error` when given.
ServerOptions tls_server(const std::string& cert, const std::string& key,
                         std::string* handshake_error = nullptr) {
  ServerOptions options{.host = "127.0.0.1", .port = 0, .handle_signals = false};
  options.tls.cert_file = cert;
  options.tls.key_file = key;
  if (handshake_error) {
    options.tls.on_handshake_error = [handshake_error](const io::PeerAddress&,
                                                       std::string_view reason) {
      *handshake_error = reason;
    };
  }
  return options;
}

ClientOptions trusting_test_ca() {
  ClientOptions options;
  options.ca_file = test_cert("ca.pem");
  options.proxy = "";
  return options;
}

// A client TLS session on a fresh loopback socket, its handshake driven by the loop.
class ClientSession final : public io::IoHandler {
 public:
  ClientSession(io::EventLoop& loop, uint16_t port, const std::string& host,
                const io::TlsClientSettings& settings)
      : loop_(loop) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS
    session = io::TlsSession::connect(io::TlsClientContext::get(settings), fd_, host);
    loop_.add(fd_, this, EPOLLIN | EPOLLOUT);
  }
  ~ClientSession() {
    loop_.remove(fd_);
    session.reset();
    close(fd_);
  }
  void on_io(uint32_t) override {
    if (result == io::TlsSession::Progress::pending)
      result = session->handshake(loop_, this, EPOLLIN);
  }
  bool finished() const { return result != io::TlsSession::Progress::pending; }

  std::unique_ptr<io::TlsSession> session;
  io::TlsSession::Progress result = io::TlsSession::Progress::pending;

 private:
  io::EventLoop& loop_;
  int fd_;
};

// --- contexts ---------------------------------------------------------------------------------

TEST(TlsServerContext, LoadErrorsNameTheFileAndTheReason) {
  const std::string missing = test::test_certs_dir() + "/missing.pem";
  EXPECT_EQ(
      thrown_by([&] { io::TlsServerContext::load(missing, test_cert("server.key"), {}, {}); }),
      "TLS: cannot load the certificate chain '" + missing + "': No such file or directory");
  EXPECT_EQ(
      thrown_by([&] {
        io::TlsServerContext::load(test_cert("server.pem"), test_cert("other.key"), {}, {});
      }),
      "TLS: cannot load the private key '" + test_cert("other.key") + "': key values mismatch");
  EXPECT_EQ(thrown_by([&] {
              io::TlsServerContext::load(test_cert("server.pem"), test_cert("server.key"),
                                         {{"", test_cert("other.pem"), test_cert("other.key")}},
                                         {});
            }),
            "TLS: an SNI certificate needs a host name");
}

TEST(TlsServerContext, HostsMatchExactlyThenByWildcardIgnoringCase) {
  const auto context =
      io::TlsServerContext::load(test_cert("server.pem"), test_cert("server.key"),
                                 {{"other.test", test_cert("other.pem"), test_cert("other.key")},
                                  {"*.wild.test", test_cert("other.pem"), test_cert("other.key")}},
                                 {});
  ASSERT_NE(context->for_host("other.test"), nullptr);
  EXPECT_EQ(context->for_host("OTHER.Test"), context->for_host("other.test"));
  ASSERT_NE(context->for_host("a.wild.test"), nullptr);
  EXPECT_NE(context->for_host("a.wild.test"), context->for_host("other.test"));
  EXPECT_EQ(context->for_host("b.a.wild.test"), nullptr);  // one level only
  EXPECT_EQ(context->for_host("wild.test"), nullptr);
  EXPECT_EQ(context->for_host("localhost"), nullptr);  // the default certificate's job
}

TEST(TlsClientContext, SharedBetweenEqualSettingsAndBadFilesThrow) {
  const io::TlsClientSettings settings{.ca_file = test_cert("ca.pem")};
  EXPECT_EQ(io::TlsClientContext::get(settings), io::TlsClientContext::get(settings));
  EXPECT_NE(io::TlsClientContext::get(settings), io::TlsClientContext::get({}));
  const std::string missing = test::test_certs_dir() + "/none.pem";
  EXPECT_EQ(thrown_by([&] { io::TlsClientContext::get({.ca_file = missing}); }),
            "TLS: cannot load the CA file '" + missing + "': No such file or directory");
}

// --- sessions -------------------------------------------------------------------------------

class TlsSessions : public ::testing::Test {
 protected:
  void start(ServerOptions options) {
    server_ = std::make_unique<Server>(std::move(options));
    server_->endpoint("/", echo());
    port_ = server_->listen();
  }
  /// Handshakes as a client asking for `host`; returns the finished session.
  std::unique_ptr<ClientSession> handshake(const std::string& host,
                                           io::TlsClientSettings settings = {}) {
    if (settings.ca_file.empty() && !settings.insecure) settings.ca_file = test_cert("ca.pem");
    auto client = std::make_unique<ClientSession>(server_->loop(), port_, host, settings);
    EXPECT_TRUE(pump(server_->loop(), [&] { return client->finished(); }));
    return client;
  }
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(TlsSessions, NegotiatesTls13AndAlpnHttp11) {
  start(tls_server(test_cert("server.pem"), test_cert("server.key")));
  auto client = handshake("localhost");
  ASSERT_EQ(client->result, io::TlsSession::Progress::done) << client->session->error();
  EXPECT_EQ(client->session->version(), "TLSv1.3");
  EXPECT_EQ(client->session->alpn(), "http/1.1");
  EXPECT_EQ(client->session->peer_subject(), "CN=localhost");
}

TEST_F(TlsSessions, SniChoosesTheCertificateByHostName) {
  ServerOptions options = tls_server(test_cert("server.pem"), test_cert("server.key"));
  options.tls.sni = {{"other.test", test_cert("other.pem"), test_cert("other.key")},
                     {"*.wild.test", test_cert("other.pem"), test_cert("other.key")}};
  start(options);
  auto other = handshake("other.test");
  ASSERT_EQ(other->result, io::TlsSession::Progress::done) << other->session->error();
  EXPECT_EQ(other->session->peer_subject(), "CN=other.test");
  auto wild = handshake("x.wild.test");
  ASSERT_EQ(wild->result, io::TlsSession::Progress::done) << wild->session->error();
  EXPECT_EQ(wild->session->peer_subject(), "CN=other.test");
  auto plain = handshake("localhost");
  ASSERT_EQ(plain->result, io::TlsSession::Progress::done) << plain->session->error();
  EXPECT_EQ(plain->session->peer_subject(), "CN=localhost");
  // A name no certificate covers gets the default one, which the client then refuses.
  auto unknown = handshake("unknown.test");
  EXPECT_EQ(unknown->result, io::TlsSession::Progress::failed);
  EXPECT_EQ(unknown->session->error(), "certificate verify failed (hostname mismatch)");
}

TEST_F(TlsSessions, ClientCertificatesAreRequiredWithAClientCa) {
  ServerOptions options = tls_server(test_cert("server.pem"), test_cert("server.key"));
  options.tls.client_ca_file = test_cert("ca.pem");
  std::vector<std::string> failures;
  options.tls.on_handshake_error = [&](const io::PeerAddress& peer, std::string_view reason) {
    EXPECT_EQ(peer.ip_string(), "127.0.0.1");
    failures.emplace_back(reason);
  };
  start(options);
  auto with_cert = handshake(
      "localhost", {.cert_file = test_cert("client.pem"), .key_file = test_cert("client.key")});
  EXPECT_EQ(with_cert->result, io::TlsSession::Progress::done) << with_cert->session->error();
  // In TLS 1.3 the server checks the client's certificate after the client has finished.
  auto without = handshake("localhost");
  ASSERT_TRUE(pump(server_->loop(), [&] { return !failures.empty(); }));
  EXPECT_EQ(failures, std::vector<std::string>{"peer did not return a certificate"});
  auto rogue = handshake("localhost",
                         {.cert_file = test_cert("rogue.pem"), .key_file = test_cert("rogue.key")});
  ASSERT_TRUE(pump(server_->loop(), [&] { return failures.size() == 2; }));
  EXPECT_EQ(failures[1], "certificate verify failed (unable to get local issuer certificate)");
}

// --- the server and client over wss:// --------------------------------------------------------

TEST(Wss, EchoesSmallAndLargeMessagesAndClosesCleanly) {
  Server server(tls_server(test_cert("server.pem"), test_cert("server.key")));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  const std::string big(3 * 1024 * 1024 + 7, 'x');
  WebSocketClient ws(server.loop(), "wss://localhost:" + std::to_string(port) + "/",
                     trusting_test_ca());
  std::vector<std::string> got;
  bool closed = false;
  CloseEvent close{};
  ws.onopen = [&] {
    ws.send("hello over TLS");
    ws.send(big, MessageType::binary);
    ws.send("after the big one");
  };
  ws.onmessage = [&](const MessageEvent& e) {
    got.emplace_back(e.data);
    if (got.size() == 3) ws.close(1000, "done");
  };
  ws.onclose = [&](const CloseEvent& e) {
    close = e;
    closed = true;
  };
  ASSERT_TRUE(pump(server.loop(), [&] { return closed; }));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "hello over TLS");
  EXPECT_TRUE(got[1] == big) << got[1].size() << " bytes";
  EXPECT_EQ(got[2], "after the big one");
  EXPECT_EQ(close.code, 1000);
  EXPECT_TRUE(close.was_clean);
  EXPECT_TRUE(pump(server.loop(), [&] { return server.connection_count() == 0; }));
}

TEST(Wss, QuietSessionsGiveTheirBuffersBackAndGoOnWorking) {
  Server server(tls_server(test_cert("server.pem"), test_cert("server.key")));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  WebSocketClient ws(server.loop(), "wss://localhost:" + std::to_string(port) + "/",
                     trusting_test_ca());
  std::vector<std::string> got;
  ws.onopen = [&] { ws.send("before the quiet"); };
  ws.onmessage = [&](const MessageEvent& e) { got.emplace_back(e.data); };
  ASSERT_TRUE(pump(server.loop(), [&] { return got.size() == 1; }));
  // A second and a half of silence: the server's sweep frees the session's buffers.
  const auto quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  ASSERT_TRUE(pump(server.loop(), [&] { return std::chrono::steady_clock::now() >= quiet_until; }));
  const std::string big(200 * 1024 + 3, 'q');
  ws.send(big, MessageType::binary);
  ws.send("after the quiet");
  ASSERT_TRUE(pump(server.loop(), [&] { return got.size() == 3; }));
  EXPECT_EQ(got[0], "before the quiet");
  EXPECT_TRUE(got[1] == big) << got[1].size() << " bytes";
  EXPECT_EQ(got[2], "after the quiet");
}

struct Outcome {
  std::string error;
  bool closed = false;
  uint16_t code = 0;
};

void watch(WebSocketClient& ws, Outcome& outcome) {
  ws.onerror = [&](std::string_view m) { outcome.error = m; };
  ws.onclose = [&](const CloseEvent& e) {
    outcome.closed = true;
    outcome.code = e.code;
  };
}

TEST(Wss, AnUnknownCaFailsTheHandshakeOnBothSidesWithTheReason) {
  std::string server_side;
  Server server(tls_server(test_cert("rogue.pem"), test_cert("rogue.key"), &server_side));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  WebSocketClient ws(server.loop(), "wss://localhost:" + std::to_string(port) + "/",
                     trusting_test_ca());
  Outcome outcome;
  watch(ws, outcome);
  ASSERT_TRUE(pump(server.loop(), [&] { return outcome.closed && !server_side.empty(); }));
  EXPECT_EQ(outcome.error,
            "TLS handshake failed: certificate verify failed (unable to get local issuer "
            "certificate)");
  EXPECT_EQ(outcome.code, 1006);
  EXPECT_EQ(server_side, "tlsv1 alert unknown ca");
}

TEST(Wss, TheCertificateMustNameTheAddressAndInsecureSkipsChecks) {
  Server server(tls_server(test_cert("other.pem"), test_cert("other.key")));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  const std::string url = "wss://127.0.0.1:" + std::to_string(port) + "/";
  WebSocketClient checked(server.loop(), url, trusting_test_ca());
  Outcome outcome;
  watch(checked, outcome);
  ClientOptions insecure;
  insecure.insecure = true;
  insecure.proxy = "";
  WebSocketClient unchecked(server.loop(), url, insecure);
  std::string echoed;
  unchecked.onopen = [&] { unchecked.send("unchecked"); };
  unchecked.onmessage = [&](const MessageEvent& e) {
    echoed = e.data;
    unchecked.close();
  };
  ASSERT_TRUE(pump(server.loop(), [&] { return outcome.closed && !echoed.empty(); }));
  EXPECT_EQ(outcome.error, "TLS handshake failed: certificate verify failed (IP address mismatch)");
  EXPECT_EQ(echoed, "unchecked");
}

TEST(Wss, AServerNameOverridesTheUrlsHostForSniAndTheCheck) {
  ServerOptions options = tls_server(test_cert("server.pem"), test_cert("server.key"));
  options.tls.sni = {{"other.test", test_cert("other.pem"), test_cert("other.key")}};
  Server server(options);
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  ClientOptions named = trusting_test_ca();
  named.server_name = "other.test";
  WebSocketClient ws(server.loop(), "wss://127.0.0.1:" + std::to_string(port) + "/", named);
  std::string echoed;
  ws.onopen = [&] { ws.send("by name"); };
  ws.onmessage = [&](const MessageEvent& e) { echoed = e.data; };
  Outcome outcome;
  ws.onerror = [&](std::string_view m) { outcome.error = m; };
  ASSERT_TRUE(pump(server.loop(), [&] { return !echoed.empty() || !outcome.error.empty(); }));
  EXPECT_EQ(echoed, "by name") << outcome.error;
  // A name neither certificate carries: the default one comes and fails the check.
  named.server_name = "nobody.test";
  WebSocketClient refused(server.loop(), "wss://127.0.0.1:" + std::to_string(port) + "/", named);
  Outcome failed;
  watch(refused, failed);
  ASSERT_TRUE(pump(server.loop(), [&] { return failed.closed; }));
  EXPECT_EQ(failed.error, "TLS handshake failed: certificate verify failed (hostname mismatch)");
}

TEST(Wss, TheUpgradeSeesTlsAndTheClientCertificate) {
  ServerOptions options = tls_server(test_cert("server.pem"), test_cert("server.key"));
  options.tls.client_ca_file = test_cert("ca.pem");
  Server server(options);
  bool secure = false;
  std::string subject;
  server.endpoint("/", {.on_upgrade =
                            [&](UpgradeRequest& request) {
                              secure = request.secure();
                              subject = request.client_certificate();
                            },
                        .on_open = [](WebSocket& ws) { ws.close(1000); }});
  const uint16_t port = server.listen();
  ClientOptions with_cert = trusting_test_ca();
  with_cert.cert_file = test_cert("client.pem");
  with_cert.key_file = test_cert("client.key");
  WebSocketClient ws(server.loop(), "wss://localhost:" + std::to_string(port) + "/", with_cert);
  Outcome outcome;
  watch(ws, outcome);
  ASSERT_TRUE(pump(server.loop(), [&] { return outcome.closed; }));
  EXPECT_EQ(outcome.code, 1000) << outcome.error;
  EXPECT_TRUE(secure);
  EXPECT_EQ(subject, "CN=duplex test client");
}

TEST(Wss, ClientsTrustTheSystemStoreByDefault) {
  Server server(tls_server(test_cert("server.pem"), test_cert("server.key")));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();
  const std::string url = "wss://localhost:" + std::to_string(port) + "/";
  ClientOptions defaults;
  defaults.proxy = "";
  {  // The system store does not hold the test CA.
    WebSocketClient ws(server.loop(), url, defaults);
    Outcome outcome;
    watch(ws, outcome);
    ASSERT_TRUE(pump(server.loop(), [&] { return outcome.closed; }));
    EXPECT_EQ(outcome.error,
              "TLS handshake failed: certificate verify failed (unable to get local issuer "
              "certificate)");
  }
  server.loop().run_once(0);  // the closed client is released, and its context with it
  // OpenSSL's default paths honour SSL_CERT_FILE: pointing it at the test CA shows that the
  // default paths are what is trusted (a fresh context reads them).
  setenv("SSL_CERT_FILE", test_cert("ca.pem").c_str(), 1);
  WebSocketClient ws(server.loop(), url, defaults);
  unsetenv("SSL_CERT_FILE");
  bool open = false;
  ws.onopen = [&] { open = true; };
  Outcome outcome;
  ws.onerror = [&](std::string_view m) { outcome.error = m; };
  ASSERT_TRUE(pump(server.loop(), [&] { return open || !outcome.error.empty(); }));
  EXPECT_TRUE(open) << outcome.error;
}

TEST(Wss, ABadCaFileThrowsAtConstruction) {
  io::EventLoop loop;
  ClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(thrown_by([&] { WebSocketClient(loop, "wss://localhost/", options); }),
            "TLS: cannot load the CA file '/nonexistent/ca.pem': No such file or directory");
  EXPECT_NO_THROW(WebSocketClient(loop, "ws://localhost/", options));  // not needed for ws://
}

TEST(Wss, ReloadedCertificatesServeNewConnectionsWhileOldOnesStayUp) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(test::test_certs_dir()) / "reload";
  fs::create_directories(dir);
  const auto overwrite = [](const std::string& from, const fs::path& to) {
    fs::copy_file(test_cert(from), to, fs::copy_options::overwrite_existing);
  };
  overwrite("server.pem", dir / "cert.pem");
  overwrite("server.key", dir / "key.pem");
  Server server(tls_server(dir / "cert.pem", dir / "key.pem"));
  server.endpoint("/", echo());
  const uint16_t port = server.listen();

  WebSocketClient old_ws(server.loop(), "wss://localhost:" + std::to_string(port) + "/",
                         trusting_test_ca());
  std::vector<std::string> old_got;
  bool open = false;
  old_ws.onopen = [&] { open = true; };
  old_ws.onmessage = [&](const MessageEvent& e) { old_got.emplace_back(e.data); };
  ASSERT_TRUE(pump(server.loop(), [&] { return open; }));

  const auto subject_seen = [&] {
    ClientSession client(server.loop(), port, "localhost", {.ca_file = test_cert("ca.pem")});
    pump(server.loop(), [&] { return client.finished(); });
    return client.session->peer_subject();
  };
  EXPECT_EQ(subject_seen(), "CN=localhost");
  overwrite("server2.pem", dir / "cert.pem");
  overwrite("server2.key", dir / "key.pem");
  server.reload_certificates();
  EXPECT_EQ(subject_seen(), "CN=localhost (reloaded)");

  // A broken file keeps the certificates in use.
  overwrite("other.key", dir / "key.pem");
  EXPECT_EQ(
      thrown_by([&] { server.reload_certificates(); }),
      "TLS: cannot load the private key '" + (dir / "key.pem").string() + "': key values mismatch");
  EXPECT_EQ(subject_seen(), "CN=localhost (reloaded)");

  old_ws.send("still here");
  ASSERT_TRUE(pump(server.loop(), [&] { return !old_got.empty(); }));
  EXPECT_EQ(old_got[0], "still here");
}

TEST(Wss, PlainHttpToTheTlsPortIsAnswered400) {
  std::string server_side;
  Server server(tls_server(test_cert("server.pem"), test_cert("server.key"), &server_side));
  const uint16_t port = server.listen();
  std::thread loop([&] { server.run(); });
  std::string response;
  bool closed = false;
  {
    test::RawClient raw(port);
    raw.send_raw("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    response = raw.read_http_response();
    closed = raw.wait_eof();
  }
  server.shutdown();
  loop.join();
  EXPECT_EQ(response,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 45\r\n"
            "Connection: close\r\n\r\nThis port speaks TLS: use https:// or wss://\n");
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_side, "plain HTTP request on the TLS port (answered 400)");
}

TEST(Wss, AStalledHandshakeIsDroppedAtTheHandshakeTimeout) {
  ServerOptions options = tls_server(test_cert("server.pem"), test_cert("server.key"));
  options.handshake_timeout = std::chrono::milliseconds(200);
  Server server(options);
  const uint16_t port = server.listen();
  std::thread loop([&] { server.run(); });
  bool closed = false;
  {
    test::RawClient raw(port);
    raw.send_raw(std::string("\x16\x03\x01\x02\x00", 5));  // a ClientHello that never comes
    closed = raw.wait_eof(3000);
  }
  server.shutdown();
  loop.join();
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace duplex
