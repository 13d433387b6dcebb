// The event loop's backends: readiness behaves alike on epoll and io_uring (level-triggered,
// modify, remove), and io_uring's receive hands bytes, EOF and nothing after stop_receiving.
#include "duplex/io/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace duplex::io {
namespace {

// A connected pair of stream sockets, non-blocking on our side.
struct Pair {
  int ours = -1;
  int theirs = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    ours = fds[0];
    theirs = fds[1];
  }
  ~Pair() {
    if (ours >= 0) close(ours);
    if (theirs >= 0) close(theirs);
  }
  void send(std::string_view bytes) const {
    ASSERT_EQ(::write(theirs, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
};

struct Handler final : IoHandler {
  std::function<void(uint32_t)> fn;
  void on_io(uint32_t events) override { fn(events); }
};

// Runs iterations until `done` holds, at most `rounds` of them (each waits at most 100 ms).
bool run_until(EventLoop& loop, const std::function<bool()>& done, int rounds = 50) {
  for (int i = 0; i < rounds && !done(); ++i) loop.run_once(100);
  return done();
}

class EventLoopBackends : public testing::TestWithParam<IoBackend> {};

TEST_P(EventLoopBackends, ReadinessIsLevelTriggered) {
  EventLoop loop(GetParam());
  Pair p;
  std::string got;
  Handler h;
  h.fn = [&](uint32_t events) {
    ASSERT_TRUE(events & EPOLLIN);
    char c;
    if (::read(p.ours, &c, 1) == 1) got += c;  // one byte per event: the rest stays waiting
  };
  loop.add(p.ours, &h, EPOLLIN);
  p.send("abcde");
  EXPECT_TRUE(run_until(loop, [&] { return got.size() == 5; }));
  EXPECT_EQ(got, "abcde");
  loop.remove(p.ours);
}

TEST_P(EventLoopBackends, ModifyAndRemove) {
  EventLoop loop(GetParam());
  Pair p;
  int writable = 0;
  int readable = 0;
  Handler h;
  h.fn = [&](uint32_t events) {
    if (events & EPOLLOUT) {
      ++writable;
      loop.modify(p.ours, &h, EPOLLIN);  // once is enough
    }
    if (events & EPOLLIN) {
      ++readable;
      loop.remove(p.ours);
    }
  };
  loop.add(p.ours, &h, EPOLLOUT);
  EXPECT_TRUE(run_until(loop, [&] { return writable == 1; }));
  p.send("x");
  EXPECT_TRUE(run_until(loop, [&] { return readable == 1; }));
  // Removed: more input reaches nobody, while another descriptor's input still comes.
  p.send("y");
  Pair q;
  int other = 0;
  Handler h2;
  h2.fn = [&](uint32_t) {
    ++other;
    loop.remove(q.ours);
  };
  loop.add(q.ours, &h2, EPOLLIN);
  q.send("z");
  EXPECT_TRUE(run_until(loop, [&] { return other == 1; }));
  EXPECT_EQ(writable, 1);
  EXPECT_EQ(readable, 1);
}

INSTANTIATE_TEST_SUITE_P(All, EventLoopBackends,
                         testing::Values(IoBackend::epoll, IoBackend::io_uring),
                         [](const testing::TestParamInfo<IoBackend>& info) {
                           return info.param == IoBackend::epoll ? "epoll" : "io_uring";
                         });

struct Received {
  std::string bytes;
  int eofs = 0;
  int errors = 0;
  void on_received(char* data, ssize_t result) {
    if (result > 0) {
      bytes.append(data, static_cast<size_t>(result));
    } else if (result == 0) {
      ++eofs;
    } else {
      ++errors;
    }
  }
};

TEST(EventLoopReceive, ReceivesBytesThenEof) {
  EventLoop loop(IoBackend::io_uring);
  ASSERT_TRUE(loop.delivers_receives());
  Pair p;
  Received r;
  loop.start_receiving(p.ours, r);
  p.send("hello ");
  p.send("world");
  EXPECT_TRUE(run_until(loop, [&] { return r.bytes.size() == 11; }));
  EXPECT_EQ(r.bytes, "hello world");
  shutdown(p.theirs, SHUT_WR);
  EXPECT_TRUE(run_until(loop, [&] { return r.eofs == 1; }));
  EXPECT_EQ(r.errors, 0);
  loop.stop_receiving(p.ours);
}

TEST(EventLoopReceive, NothingArrivesAfterStopReceivingAndTheDescriptorCanBeReused) {
  EventLoop loop(IoBackend::io_uring);
  auto first = std::make_unique<Pair>();
  auto gone = std::make_unique<Received>();
  loop.start_receiving(first->ours, *gone);
  first->send("early");
  loop.run_once(0);  // the receive is armed; the bytes may already be on their way
  loop.stop_receiving(first->ours);
  first->send("late");
  gone.reset();  // freed while its receive is still being cancelled
  const int fd = first->ours;
  first.reset();
  // A new socket, most likely under the same descriptor number, receives for a new target.
  Pair second;
  Received r;
  loop.start_receiving(second.ours, r);
  second.send("second");
  EXPECT_TRUE(run_until(loop, [&] { return r.bytes == "second"; }));
  EXPECT_EQ(r.bytes, "second");
  EXPECT_LE(second.ours, fd + 1);  // descriptors were reused, so the check above meant it
  loop.stop_receiving(second.ours);
}

TEST(EventLoopReceive, EpollLoopDoesNotDeliverReceives) {
  EventLoop loop(IoBackend::epoll);
  EXPECT_FALSE(loop.delivers_receives());
}

}  // namespace
}  // namespace duplex::io
