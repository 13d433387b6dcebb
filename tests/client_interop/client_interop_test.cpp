// Client interop: the Duplex client (BlockingWebSocket and WebSocketClient) against real servers:
// Node's `ws` (servers/ws_server.mjs), Python's `websockets` 10.4 (servers/websockets_server.py,
// under /usr/bin/python3) and `duplex serve` ($DUPLEX_BIN). Every test starts its own server on
// 127.0.0.1 with port 0 and stops it (SIGTERM, SIGKILL after 3 s) when it ends. Loopback only.
//
// Every case runs over ws:// and over wss:// (each server with a test certificate made at test
// time; the client trusts the test CA).
//
// Environment: DUPLEX_BIN (the `duplex` binary), DUPLEX_REPO (the source tree, for the servers).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "duplex/client/blocking_websocket.hpp"
#include "duplex/client/websocket_client.hpp"
#include "duplex/io/event_loop.hpp"
#include "test_certs.hpp"

namespace duplex {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kStartTimeout{10'000};
constexpr milliseconds kStopGrace{3'000};
constexpr milliseconds kStepTimeout{10'000};
const char* const kSystemPython = "/usr/bin/python3";

// --- helpers ------------------------------------------------------------------------------------

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

fs::path repo_dir() {
  if (const char* v = std::getenv("DUPLEX_REPO"); v && *v) return v;
  // This file is tests/client_interop/client_interop_test.cpp in the repository.
  return fs::absolute(fs::path(__FILE__)).parent_path().parent_path().parent_path();
}

fs::path servers_dir() { return repo_dir() / "tests" / "client_interop" / "servers"; }

std::optional<std::string> find_in_path(const std::string& name) {
  std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find(':', start), path.size());
    const fs::path candidate = fs::path(path.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return std::nullopt;
}

/// Options for every connection: no proxy from the environment, bounded handshake and close (a
/// closing handshake on loopback takes milliseconds; 1 s keeps a stuck one from dominating).
ClientOptions options(std::vector<std::string> protocols = {}) {
  ClientOptions o;
  o.protocols = std::move(protocols);
  o.proxy = "";
  o.handshake_timeout = milliseconds(5'000);
  o.close_timeout = milliseconds(1'000);
  o.ca_file = test::test_cert("ca.pem");  // for wss://
  return o;
}

/// Exactly `bytes` bytes of valid UTF-8 with 2-, 3- and 4-byte characters, padded with 'x'.
std::string text_of_bytes(size_t bytes) {
  static const std::vector<std::string> kSample = {"h",
                                                   "\xC3\xA9",
                                                   "l",
                                                   "l",
                                                   "o",
                                                   " ",
                                                   "w",
                                                   "\xC3\xB6",
                                                   "r",
                                                   "l",
                                                   "d",
                                                   " ",
                                                   "\xE2\x9C\x93",
                                                   " ",
                                                   "\xF0\x9F\x98\x80",
                                                   " "};
  std::string out;
  out.reserve(bytes);
  for (size_t i = 0;; i = (i + 1) % kSample.size()) {
    if (out.size() + kSample[i].size() > bytes) break;
    out += kSample[i];
  }
  out.append(bytes - out.size(), 'x');
  return out;
}

std::string random_bytes(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

/// Message k of the servers' /send: byte j is (k * 7 + j) % 251.
std::string pushed(size_t k, size_t size) {
  std::string out(size, '\0');
  for (size_t j = 0; j < size; ++j) out[j] = static_cast<char>((k * 7 + j) % 251);
  return out;
}

/// A short description of a payload for failure messages (never the whole megabyte).
std::string describe(const std::string& data) {
  return std::to_string(data.size()) + " bytes starting \"" + data.substr(0, 16) + "\"";
}

// --- a server process
// -----------------------------------------------------------------------------

/// A child process with stdin and stdout on pipes and stderr in a temporary file. Its stdin stays
/// open while it runs: every server here exits when it closes (so none outlives a crashed test).
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  /// Spawns `argv` and waits (bounded) until stdout matches `port_re`, whose first group is the
  /// port. Returns an error message, empty on success.
  std::string start(const std::vector<std::string>& argv, const std::regex& port_re) {
    command_.clear();
    for (const std::string& a : argv) command_ += (command_.empty() ? "" : " ") + a;
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return "pipe2: " + std::string(std::strerror(errno));
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]);
      ::close(in[1]);
      return "pipe2: " + std::string(std::strerror(errno));
    }
    char err_path[] = "/tmp/duplex_client_interop_XXXXXX";
    stderr_fd_ = ::mkostemp(err_path, O_CLOEXEC);
    if (stderr_fd_ >= 0) ::unlink(err_path);

    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child: only async-signal-safe calls until exec. It dies with the test process (even
      // a SIGKILLed one), so no server outlives a crashed run.
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      if (stderr_fd_ >= 0) ::dup2(stderr_fd_, STDERR_FILENO);
      ::execvp(args[0], args.data());
      static const char kMessage[] = "exec failed\n";
      [[maybe_unused]] const ssize_t ignored =
          ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    stdout_fd_ = out[0];
    if (pid_ < 0) {
      pid_ = -1;
      return "cannot start " + command_ + ": " + std::strerror(fork_errno);
    }

    const auto deadline = steady_clock::now() + kStartTimeout;
    std::smatch m;
    while (!std::regex_search(stdout_, m, port_re)) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0) return "no port within " + std::to_string(kStartTimeout.count()) + " ms";
      pollfd p{stdout_fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(stdout_fd_, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return "server exited before printing its port";
      stdout_.append(buffer, static_cast<size_t>(got));
    }
    port_ = std::stoi(m[1].str());
    return {};
  }

  int port() const { return port_; }
  const std::string& command() const { return command_; }

  /// True while the child has not exited (reaps it if it has).
  bool running() {
    if (pid_ < 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = status;
      return false;
    }
    return true;
  }

  /// Closes stdin and sends SIGTERM; SIGKILL if it has not exited after 3 s. Idempotent.
  void stop() {
    if (stdin_fd_ >= 0) ::close(std::exchange(stdin_fd_, -1));
    if (pid_ >= 0) {
      ::kill(pid_, SIGTERM);
      const auto deadline = steady_clock::now() + kStopGrace;
      while (running() && steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(10));
      }
      if (pid_ >= 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        pid_ = -1;
      }
    }
    if (stdout_fd_ >= 0) ::close(std::exchange(stdout_fd_, -1));
  }

  /// What the server printed: stdout up to its port line, and all of stderr.
  std::string output() const {
    std::string err;
    if (stderr_fd_ >= 0) {
      char buffer[4096];
      off_t offset = 0;
      ssize_t n;
      while ((n = ::pread(stderr_fd_, buffer, sizeof buffer, offset)) > 0) {
        err.append(buffer, static_cast<size_t>(n));
        offset += n;
        if (err.size() > 64 * 1024) break;
      }
    }
    return "--- " + command_ + " stdout ---\n" + stdout_ + "\n--- stderr ---\n" + err;
  }

  void release_files() {
    if (stderr_fd_ >= 0) ::close(std::exchange(stderr_fd_, -1));
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int port_ = 0;
  std::string command_;
  std::string stdout_;
};

// --- the fixture
// ------------------------------------------------------------------------------------

enum class Server { node_ws, python_websockets, duplex_serve };

std::string server_name(Server s) {
  switch (s) {
    case Server::node_ws:
      return "NodeWs";
    case Server::python_websockets:
      return "PythonWebsockets";
    case Server::duplex_serve:
      return "DuplexServe";
  }
  return "Unknown";
}

struct Target {
  Server server;
  bool tls;
};

std::string target_name(const Target& t) { return server_name(t.server) + (t.tls ? "Tls" : ""); }

void PrintTo(const Target& t, std::ostream* os) { *os << target_name(t); }

}  // namespace

// For readable failures (gtest finds it next to ReadyState, in namespace duplex::core).
namespace core {
void PrintTo(ReadyState s, std::ostream* os) {
  static const char* const kNames[] = {"CONNECTING", "OPEN", "CLOSING", "CLOSED"};
  const auto i = static_cast<size_t>(s);
  *os << (i < 4 ? kNames[i] : "?");
}
}  // namespace core

namespace {

class ClientInterop : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    std::vector<std::string> argv;
    std::regex port_re("PORT (\\d+)\\n");
    switch (GetParam().server) {
      case Server::node_ws: {
        const auto node = find_in_path("node");
        if (!node) GTEST_SKIP() << "node is not on PATH";
        argv = {*node, (servers_dir() / "ws_server.mjs").string()};
        if (deflate_) argv.push_back("--deflate");
        break;
      }
      case Server::python_websockets:
        if (::access(kSystemPython, X_OK) != 0) GTEST_SKIP() << kSystemPython << " not found";
        argv = {kSystemPython, "-B", (servers_dir() / "websockets_server.py").string()};
        if (deflate_) argv.push_back("--deflate");
        break;
      case Server::duplex_serve: {
        const std::string bin =
            env_or("DUPLEX_BIN", (repo_dir() / "build" / "dev" / "duplex").string());
        ASSERT_EQ(::access(bin.c_str(), X_OK), 0)
            << "DUPLEX_BIN is not set and " << bin << " is not executable";
        argv = {bin, "serve",      "--host", "127.0.0.1",  "--port",
                "0", "--protocol", "chat",   "--protocol", "superchat"};
        if (!deflate_) argv.insert(argv.end(), {"--deflate", "off"});
        port_re = std::regex("wss?://127\\.0\\.0\\.1:(\\d+)/");
        break;
      }
    }
    if (GetParam().tls) {
      const std::string cert = test::test_cert("server.pem"), key = test::test_cert("server.key");
      if (is_duplex()) {
        argv.insert(argv.end(), {"--tls-cert", cert, "--tls-key", key});
      } else {
        argv.insert(argv.end(), {"--tls", cert, key});
      }
    }
    const std::string error = server_.start(argv, port_re);
    ASSERT_TRUE(error.empty()) << error << "\n" << server_.output();
    started_ = true;
  }

  void TearDown() override {
    if (started_) {
      EXPECT_TRUE(server_.running()) << "the server exited during the test";
    }
    server_.stop();
    if (HasFailure() && started_) std::cerr << server_.output() << "\n";
    server_.release_files();
  }

  bool is_duplex() const { return GetParam().server == Server::duplex_serve; }

  /// ws://127.0.0.1:PORT + path. `duplex serve` has only / and /echo, both echoing.
  std::string url(const std::string& path) const {
    std::string p = path;
    if (is_duplex() && p == "/protocols") p = "/echo";
    return (GetParam().tls ? "wss://127.0.0.1:" : "ws://127.0.0.1:") +
           std::to_string(server_.port()) + p;
  }

  ServerProcess server_;
  bool started_ = false;
  bool deflate_ = false;  // the server accepts permessage-deflate
};

const std::vector<size_t> kSizes = {0, 1, 125, 126, 64 * 1024, 1024 * 1024};

// --- echo
// ---------------------------------------------------------------------------------------------

TEST_P(ClientInterop, TextEchoAtFrameLengthBoundaries) {
  BlockingWebSocket ws(url("/echo"), options());
  for (size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string text = text_of_bytes(size);
    ASSERT_EQ(text.size(), size);
    ws.send(text, MessageType::text);
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value()) << "no echo";
    EXPECT_EQ(got->type, MessageType::text);
    EXPECT_TRUE(got->data == text) << "got " << describe(got->data);
  }
  const auto closed = ws.close(1000);
  EXPECT_EQ(closed.code, 1000);
  EXPECT_TRUE(closed.was_clean);
}

TEST_P(ClientInterop, BinaryEchoAtFrameLengthBoundaries) {
  BlockingWebSocket ws(url("/echo"), options());
  for (size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string data = random_bytes(size, static_cast<uint32_t>(size) + 1);
    ws.send(data, MessageType::binary);
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value()) << "no echo";
    EXPECT_EQ(got->type, MessageType::binary);
    EXPECT_EQ(got->data.size(), size);
    EXPECT_TRUE(got->data == data) << "the echoed bytes differ";
  }
  const auto closed = ws.close(1000);
  EXPECT_EQ(closed.code, 1000);
  EXPECT_TRUE(closed.was_clean);
}

TEST_P(ClientInterop, HundredMessagesArriveInOrder) {
  BlockingWebSocket ws(url("/echo"), options());
  for (int i = 0; i < 100; ++i) {
    const MessageType type = i % 2 ? MessageType::binary : MessageType::text;
    ws.send("message " + std::to_string(i) + " \xE2\x9C\x93", type);
  }
  for (int i = 0; i < 100; ++i) {
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value()) << "message " << i << " did not come";
    EXPECT_EQ(got->data, "message " + std::to_string(i) + " \xE2\x9C\x93");
    EXPECT_EQ(got->type, i % 2 ? MessageType::binary : MessageType::text) << "message " << i;
  }
  EXPECT_EQ(ws.close(1000).code, 1000);
}

// --- subprotocols
// -------------------------------------------------------------------------------------

TEST_P(ClientInterop, SubprotocolIsTheServersChoice) {
  {
    BlockingWebSocket ws(url("/protocols"), options({"superchat", "chat"}));
    EXPECT_EQ(ws.protocol(), "superchat");
    ws.send("hi");
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, "hi");
    EXPECT_EQ(ws.close(1000).code, 1000);
  }
  {
    BlockingWebSocket ws(url("/protocols"), options({"chat", "superchat"}));
    EXPECT_EQ(ws.protocol(), "chat");
    ws.close(1000);
  }
  {
    BlockingWebSocket ws(url("/protocols"), options());
    EXPECT_EQ(ws.protocol(), "");
    ws.close(1000);
  }
}

TEST_P(ClientInterop, NoAgreedSubprotocolFailsTheConnection) {
  try {
    BlockingWebSocket ws(url("/protocols"), options({"other"}));
    ADD_FAILURE() << "connected with protocol \"" << ws.protocol() << "\" though none was agreed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no subprotocol"), std::string::npos) << e.what();
  }
}

// --- closing
// ------------------------------------------------------------------------------------------

TEST_P(ClientInterop, ClientCloseIsEchoedCleanly) {
  for (uint16_t code : {uint16_t{1000}, uint16_t{3000}, uint16_t{4999}}) {
    SCOPED_TRACE("code " + std::to_string(code));
    BlockingWebSocket ws(url("/echo"), options());
    ws.send("before close");
    ASSERT_TRUE(ws.receive(kStepTimeout).has_value());
    const std::string reason = "bye \xE2\x9C\x93 " + std::to_string(code);
    const auto closed = ws.close(code, reason, kStepTimeout);
    EXPECT_EQ(closed.code, code);
    EXPECT_TRUE(closed.was_clean);
    EXPECT_EQ(closed.error, "");
    // ws and websockets echo the reason; duplex answers with the code alone.
    EXPECT_EQ(closed.reason, is_duplex() ? "" : reason);
    ASSERT_TRUE(ws.closed().has_value());
    EXPECT_EQ(ws.client().ready_state(), ReadyState::closed);
    EXPECT_THROW(ws.send("after close"), std::runtime_error);
  }
}

TEST_P(ClientInterop, ServerCloseIsSeenWithItsCodeAndReason) {
  if (is_duplex()) GTEST_SKIP() << "duplex serve has no /close endpoint";
  BlockingWebSocket ws(url("/close?code=4001&reason=bye"), options());
  EXPECT_FALSE(ws.receive(kStepTimeout).has_value());
  ASSERT_TRUE(ws.closed().has_value()) << "no close within the step timeout";
  EXPECT_EQ(ws.closed()->code, 4001);
  EXPECT_EQ(ws.closed()->reason, "bye");
  EXPECT_TRUE(ws.closed()->was_clean);
  EXPECT_EQ(ws.closed()->error, "");
  EXPECT_EQ(ws.client().ready_state(), ReadyState::closed);
  EXPECT_EQ(ws.close(1000).code, 4001);  // already closed: how it ended
}

// --- server push
// --------------------------------------------------------------------------------------

TEST_P(ClientInterop, ServerPushedBurstArrivesWhole) {
  if (is_duplex()) GTEST_SKIP() << "duplex serve has no /send endpoint";
  constexpr size_t kCount = 50, kSize = 100'000;
  BlockingWebSocket ws(url("/send?n=50&size=100000"), options());
  for (size_t k = 0; k < kCount; ++k) {
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value()) << "message " << k << " of " << kCount << " did not come";
    EXPECT_EQ(got->type, MessageType::binary) << "message " << k;
    ASSERT_EQ(got->data.size(), kSize) << "message " << k;
    EXPECT_TRUE(got->data == pushed(k, kSize)) << "message " << k << " has other bytes";
  }
  const auto closed = ws.close(1000, "enough", kStepTimeout);
  EXPECT_EQ(closed.code, 1000);
  EXPECT_TRUE(closed.was_clean);
}

// --- the event-loop API
// -------------------------------------------------------------------------------

TEST_P(ClientInterop, FiftyClientsOnOneLoop) {
  constexpr int kClients = 50, kEchoes = 20;
  struct Client {
    std::unique_ptr<WebSocketClient> ws;
    int sent = 0;
    int received = 0;
    std::vector<ReadyState> states;
    std::vector<std::string> problems;
    std::optional<uint16_t> close_code;
    std::string close_reason;
    bool was_clean = false;
    std::string error;
  };
  io::EventLoop loop;
  std::vector<Client> clients(kClients);
  int closed_count = 0;

  auto payload = [](int client, int k) {
    return "client " + std::to_string(client) + " echo " + std::to_string(k) + " \xC3\xA9" +
           std::string(static_cast<size_t>(k) * 100, 'p');
  };
  auto type_of = [](int k) { return k % 2 ? MessageType::binary : MessageType::text; };
  auto send_next = [&](int i) {
    Client& c = clients[i];
    const bool ok = c.ws->send(payload(i, c.sent), type_of(c.sent));
    if (!ok) c.problems.push_back("send " + std::to_string(c.sent) + " returned false");
    // Writes are corked until the end of the loop iteration, so the frame is still queued.
    if (c.ws->buffered_amount() == 0) {
      c.problems.push_back("bufferedAmount 0 right after send " + std::to_string(c.sent));
    }
    ++c.sent;
  };

  for (int i = 0; i < kClients; ++i) {
    Client& c = clients[i];
    c.ws = std::make_unique<WebSocketClient>(loop, url("/echo"), options());
    c.states.push_back(c.ws->ready_state());
    c.ws->onopen = [&, i] {
      clients[i].states.push_back(clients[i].ws->ready_state());
      send_next(i);
    };
    c.ws->onmessage = [&, i](const MessageEvent& e) {
      Client& c = clients[i];
      const int k = c.received++;
      if (e.data != payload(i, k) || e.type != type_of(k)) {
        c.problems.push_back("echo " + std::to_string(k) + " differs");
      }
      if (c.ws->buffered_amount() != 0) {
        c.problems.push_back("bufferedAmount " + std::to_string(c.ws->buffered_amount()) +
                             " once echo " + std::to_string(k) + " came back");
      }
      if (c.received < kEchoes) return send_next(i);
      c.ws->close(1000, "done");
      c.states.push_back(c.ws->ready_state());
    };
    c.ws->onerror = [&, i](std::string_view message) {
      if (clients[i].error.empty()) clients[i].error = message;
    };
    c.ws->onclose = [&, i](const CloseEvent& e) {
      Client& c = clients[i];
      c.states.push_back(c.ws->ready_state());
      c.close_code = e.code;
      c.close_reason = e.reason;
      c.was_clean = e.was_clean;
      ++closed_count;
    };
  }

  const auto deadline = steady_clock::now() + milliseconds(20'000);
  while (closed_count < kClients && steady_clock::now() < deadline) loop.run_once(50);
  ASSERT_EQ(closed_count, kClients) << "not every client closed within 20 s";

  const std::vector<ReadyState> expected_states = {ReadyState::connecting, ReadyState::open,
                                                   ReadyState::closing, ReadyState::closed};
  for (int i = 0; i < kClients; ++i) {
    SCOPED_TRACE("client " + std::to_string(i));
    const Client& c = clients[i];
    EXPECT_EQ(c.received, kEchoes);
    EXPECT_EQ(c.sent, kEchoes);
    EXPECT_EQ(c.states, expected_states);
    EXPECT_EQ(c.close_code, std::optional<uint16_t>(1000));
    EXPECT_EQ(c.close_reason, is_duplex() ? "" : "done");
    EXPECT_TRUE(c.was_clean);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.ws->buffered_amount(), 0u);
    for (const std::string& p : c.problems) ADD_FAILURE() << p;
  }
  clients.clear();  // before the loop they run on
}

// --- permessage-deflate
// ----------------------------------------------------------------------------------------------

class ClientInteropDeflate : public ClientInterop {
 protected:
  ClientInteropDeflate() { deflate_ = true; }

  static ClientOptions deflate_options() {
    ClientOptions o = options();
    o.per_message_deflate.enabled = true;
    return o;
  }

  /// What each server answers to "permessage-deflate; client_max_window_bits".
  std::string expected_answer() const {
    switch (GetParam().server) {
      case Server::node_ws:
        return "permessage-deflate";
      case Server::python_websockets:
        return "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";
      case Server::duplex_serve:
        return "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    }
    return {};
  }
};

/// Compressible text of exactly `size` bytes (JSON-like, ASCII).
std::string json_like(size_t size) {
  std::string s;
  for (size_t i = 0; s.size() < size; ++i) {
    s += "{\"id\":" + std::to_string(i) + ",\"name\":\"user-" + std::to_string(i % 97) +
         "\",\"ok\":" + (i % 3 ? "true" : "false") + "},";
  }
  s.resize(size);
  return s;
}

TEST_P(ClientInteropDeflate, NegotiatesAndRoundTripsUpTo8MiB) {
  BlockingWebSocket ws(url("/echo"), deflate_options());
  EXPECT_EQ(ws.client().extensions(), expected_answer());
  for (size_t size : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{4096},
                      size_t{64 * 1024}, size_t{1024 * 1024}, size_t{8 * 1024 * 1024}}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string text = json_like(size);
    ws.send(text, MessageType::text);
    auto got = ws.receive(kStepTimeout * 6);
    ASSERT_TRUE(got.has_value()) << "no echo";
    EXPECT_EQ(got->type, MessageType::text);
    EXPECT_TRUE(got->data == text) << "got " << describe(got->data);
    const std::string data = random_bytes(size, static_cast<uint32_t>(size) + 3);
    ws.send(data, MessageType::binary);
    got = ws.receive(kStepTimeout * 6);
    ASSERT_TRUE(got.has_value()) << "no echo";
    EXPECT_EQ(got->type, MessageType::binary);
    EXPECT_TRUE(got->data == data) << "the echoed bytes differ";
  }
  const auto closed = ws.close(1000);
  EXPECT_EQ(closed.code, 1000);
  EXPECT_TRUE(closed.was_clean);
}

TEST_P(ClientInteropDeflate, ManyMessagesKeepTheContextsInStep) {
  BlockingWebSocket ws(url("/echo"), deflate_options());
  for (size_t i = 0; i < 300; ++i) {
    const std::string text = json_like(100 + (i * 53) % 5000);
    ws.send(text, MessageType::text);
    const auto got = ws.receive(kStepTimeout);
    ASSERT_TRUE(got.has_value()) << "no echo for message " << i;
    ASSERT_TRUE(got->data == text) << "message " << i;
  }
  EXPECT_EQ(ws.close(1000).code, 1000);
}

INSTANTIATE_TEST_SUITE_P(Servers, ClientInteropDeflate,
                         ::testing::Values(Target{Server::node_ws, false},
                                           Target{Server::python_websockets, false},
                                           Target{Server::duplex_serve, false}),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return target_name(info.param);
                         });

// --- TLS
// ---------------------------------------------------------------------------------------------

TEST_P(ClientInterop, ACertificateFromAnUnknownCaIsRefusedWithTheReason) {
  if (!GetParam().tls) GTEST_SKIP() << "wss:// only";
  ClientOptions o = options();
  o.ca_file = test::test_cert("rogue-ca.pem");
  try {
    BlockingWebSocket ws(url("/echo"), o);
    ADD_FAILURE() << "connected to a server whose CA is not trusted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "TLS handshake failed: certificate verify failed (unable to get local issuer "
                 "certificate)");
  }
  // The server goes on serving clients that trust it.
  BlockingWebSocket ws(url("/echo"), options());
  ws.send("after a refused handshake");
  const auto got = ws.receive(kStepTimeout);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data, "after a refused handshake");
  EXPECT_EQ(ws.close(1000).code, 1000);
}

INSTANTIATE_TEST_SUITE_P(
    Servers, ClientInterop,
    ::testing::Values(Target{Server::node_ws, false}, Target{Server::python_websockets, false},
                      Target{Server::duplex_serve, false}, Target{Server::node_ws, true},
                      Target{Server::python_websockets, true}, Target{Server::duplex_serve, true}),
    [](const ::testing::TestParamInfo<Target>& info) { return target_name(info.param); });

}  // namespace
}  // namespace duplex
