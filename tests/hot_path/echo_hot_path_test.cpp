// The echo hot path at steady state, observed from inside the process: no heap allocation per
// message on the server's thread, and at most one write per connection per batch of input
// (corking); and a send queue that never empties keeps a steady size. Global operator new and the
// libc recv/send entry points are replaced in this executable by counting versions; only calls made
// on the server's thread are counted.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "../support/raw_client.hpp"
#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/io/output_buffer.hpp"
#include "duplex/server/websocket_server.hpp"

namespace {

thread_local bool t_server_thread = false;
std::atomic<uint64_t> g_allocations{0};
std::atomic<uint64_t> g_reads{0};   // recv calls that returned data
std::atomic<uint64_t> g_writes{0};  // send calls

}  // namespace

void* operator new(size_t size) {
  if (t_server_thread) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  if (t_server_thread) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  const auto n = static_cast<ssize_t>(syscall(SYS_recvfrom, fd, buf, len, flags, nullptr, 0));
  if (t_server_thread && n > 0) g_reads.fetch_add(1, std::memory_order_relaxed);
  return n;
}

extern "C" ssize_t send(int fd, const void* buf, size_t len, int flags) {
  if (t_server_thread) g_writes.fetch_add(1, std::memory_order_relaxed);
  return static_cast<ssize_t>(syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0));
}

namespace duplex {
namespace {

using test::Frame;
using test::RawClient;

class EchoServer {
 public:
  EchoServer() : server_({.host = "127.0.0.1", .port = 0, .handle_signals = false}) {
    server_.endpoint("/echo", {.on_message = [](WebSocket& ws, std::string_view message,
                                                MessageType type) { ws.send(message, type); }});
    port = server_.listen();
    thread_ = std::thread([this] {
      t_server_thread = true;
      server_.run();
    });
  }
  ~EchoServer() {
    server_.shutdown();
    thread_.join();
  }
  uint16_t port = 0;

 private:
  Server server_;
  std::thread thread_;
};

std::string payload_of(size_t size, char seed) {
  std::string payload(size, '\0');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + (seed + i) % 26);
  return payload;
}

// One round of every message shape the echo path sees: sizes on each side of the frame-length
// encodings up to 16 KiB (one loopback segment, so each arrives in one read), text and binary, a
// message split across two writes (through the reassembly buffer, which is kept for messages of
// up to 16 KiB), a ping, and a pipelined burst of 8 sent in one write. Larger messages may span
// reads too, and their reassembly buffer is given back after each one, by design: idle
// connections must not hold it.
void echo_round(RawClient& client, char seed) {
  {
    const std::string payload = payload_of(10000, seed);
    std::string frame;
    core::append_masked_frame(frame, core::Opcode::text, payload, core::random_mask_key());
    client.send_raw(std::string_view(frame).substr(0, 3000));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // two reads, most likely
    client.send_raw(std::string_view(frame).substr(3000));
    const Frame echo = client.read_frame();
    ASSERT_EQ(echo.kind, Frame::message);
    ASSERT_EQ(echo.payload, payload);
  }
  for (size_t size :
       {size_t{0}, size_t{20}, size_t{125}, size_t{126}, size_t{512}, size_t{16 * 1024}}) {
    for (auto op : {core::Opcode::text, core::Opcode::binary}) {
      const std::string payload = payload_of(size, seed);
      client.send_frame(op, payload);
      const Frame echo = client.read_frame();
      ASSERT_EQ(echo.kind, Frame::message);
      ASSERT_EQ(echo.type, op == core::Opcode::text ? MessageType::text : MessageType::binary);
      ASSERT_EQ(echo.payload, payload);
    }
  }
  client.send_frame(core::Opcode::ping, "hot");
  const Frame pong = client.read_frame();
  ASSERT_EQ(pong.kind, Frame::pong);
  ASSERT_EQ(pong.payload, "hot");

  std::string burst;
  for (int i = 0; i < 8; ++i) {
    core::append_masked_frame(burst, core::Opcode::text, payload_of(512, seed + i),
                              core::random_mask_key());
  }
  client.send_raw(burst);
  for (int i = 0; i < 8; ++i) {
    const Frame echo = client.read_frame();
    ASSERT_EQ(echo.kind, Frame::message);
    ASSERT_EQ(echo.payload, payload_of(512, seed + i));
  }
}

TEST(EchoHotPath, NoAllocationPerMessageAtSteadyState) {
  EchoServer server;
  RawClient client(server.port);
  ASSERT_NE(client.upgrade("/echo").find(" 101 "), std::string::npos);
  // Warm-up: pooled buffers and the receiver grow to the largest shapes once.
  for (int round = 0; round < 3; ++round) echo_round(client, static_cast<char>(round));
  const uint64_t before = g_allocations.load();
  constexpr int kRounds = 50;  // 50 x (1 split + 12 messages + ping + 8 pipelined) exchanges
  for (int round = 0; round < kRounds; ++round) {
    echo_round(client, static_cast<char>(round));
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(g_allocations.load() - before, 0u) << "heap allocations on the server thread";
}

TEST(EchoHotPath, OneWritePerReadWhenInputIsBatched) {
  EchoServer server;
  RawClient client(server.port);
  ASSERT_NE(client.upgrade("/echo").find(" 101 "), std::string::npos);
  echo_round(client, 0);
  for (int round = 0; round < 20; ++round) {
    const uint64_t reads = g_reads.load();
    const uint64_t writes = g_writes.load();
    std::string burst;
    for (int i = 0; i < 16; ++i) {
      core::append_masked_frame(burst, core::Opcode::binary, payload_of(100, i),
                                core::random_mask_key());
    }
    client.send_raw(burst);
    for (int i = 0; i < 16; ++i) ASSERT_EQ(client.read_frame().payload, payload_of(100, i));
    const uint64_t batch_reads = g_reads.load() - reads;
    const uint64_t batch_writes = g_writes.load() - writes;
    // 16 echoes leave in as many writes as reads it took to take the burst in (usually one).
    EXPECT_GE(batch_writes, 1u);
    EXPECT_LE(batch_writes, batch_reads) << "round " << round;
  }
}

// A reader always a little behind: its queue never empties while frames shared with other
// queues come and go. The queue's bookkeeping must reach a steady size, not grow per frame.
TEST(OutputHotPath, StandingBacklogOfSharedFramesAllocatesNothing) {
  io::OutputBuffer out;
  const auto frame = std::make_shared<const std::string>(payload_of(2048, 0));
  const auto next_frame = [&] {
    out.append("hd");  // a small frame, copied
    out.append_shared(frame);
    out.consume(2 + frame->size());  // as much is written as was queued: the backlog stays
  };
  out.append_shared(frame);  // the backlog
  for (int i = 0; i < 1000; ++i) next_frame();
  t_server_thread = true;  // count this thread's allocations
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 100000; ++i) next_frame();
  t_server_thread = false;
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_EQ(out.size(), frame->size());
}

}  // namespace
}  // namespace duplex
