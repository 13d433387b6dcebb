// A Server run on a thread of its own for tests (127.0.0.1, a free port, no signal handling),
// a log of what handlers saw, and bounded waits on both.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "duplex/server/websocket_server.hpp"

namespace duplex::test {

using namespace std::chrono_literals;

/// Polls `done` until it holds or `timeout` passes; true if it held. For state that has no
/// notification (server counts that other threads change).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Records what handlers saw on the server's threads; tests wait on it with a deadline.
struct Log {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;

  void add(std::string line) {
    {
      std::lock_guard lock(mutex);
      lines.push_back(std::move(line));
    }
    changed.notify_all();
  }
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout = 3s) {
    return wait_count(line, 1, timeout);
  }
  /// Waits until `line` was added at least `n` times.
  bool wait_count(const std::string& line, size_t n, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return count_locked(line) >= n; });
  }
  size_t count(const std::string& line) {
    std::lock_guard lock(mutex);
    return count_locked(line);
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return lines;
  }

 private:
  size_t count_locked(const std::string& line) const {
    size_t n = 0;
    for (const auto& l : lines) n += l == line;
    return n;
  }
};

class ServerThread {
 public:
  explicit ServerThread(ServerOptions options = {}) : server(with_test_defaults(options)) {}
  ~ServerThread() { stop(); }
  void start() {
    port = server.listen();
    thread_ = std::thread([this] {
      server.run();
      done_ = true;
    });
  }
  void stop() {
    if (!thread_.joinable()) return;
    server.shutdown();
    thread_.join();
  }
  /// True once run() has returned, waiting at most `timeout`.
  bool stopped_within(std::chrono::milliseconds timeout) {
    return eventually([this] { return done_.load(); }, timeout);
  }

  Server server;
  uint16_t port = 0;

 private:
  static ServerOptions with_test_defaults(ServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.handle_signals = false;
    // DUPLEX_TEST_IO=io_uring runs the same tests on the io_uring loop (ctest's io_uring.*).
    if (const char* io = std::getenv("DUPLEX_TEST_IO"); io && std::string(io) == "io_uring") {
      o.io = io::IoBackend::io_uring;
    }
    return o;
  }
  std::thread thread_;
  std::atomic<bool> done_{false};
};

}  // namespace duplex::test
