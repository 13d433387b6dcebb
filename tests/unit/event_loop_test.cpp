// The event loop's backends: readiness behaves alike on epoll and io_uring (level-triggered,
// modify, remove), io_uring's receive hands bytes, EOF and nothing after stop_receiving, and
// posted work that a stopped loop drops.
#include "duplex/io/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

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

struct StopwatchTimer final : Timer {
  std::chrono::steady_clock::time_point armed_at;
  std::chrono::steady_clock::time_point fired_at;
  bool fired = false;
  void on_timer() override {
    fired_at = std::chrono::steady_clock::now();
    fired = true;
  }
  long long waited_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(fired_at - armed_at).count();
  }
};

// The loop sleeps in the kernel for 600 ms with nothing armed; the byte that wakes it arms a
// 200 ms timer from its handler. The timer must wait its whole delay: computed from the time
// before the wait, it would already be due (a new connection's handshake deadline was).
TEST_P(EventLoopBackends, TimerArmedFromAHandlerAfterALongWaitWaitsItsWholeDelay) {
  EventLoop loop(GetParam());
  loop.run_once(0);
  Pair p;
  StopwatchTimer timer;
  Handler h;
  h.fn = [&](uint32_t) {
    char c;
    [[maybe_unused]] ssize_t n = ::read(p.ours, &c, 1);
    if (timer.armed() || timer.fired) return;
    timer.armed_at = std::chrono::steady_clock::now();
    loop.schedule(timer, 200);
  };
  loop.add(p.ours, &h, EPOLLIN);
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    p.send("x");
  });
  // The quiet wait, ended by the byte (a wait may also end early, as EINTR ends it).
  for (int i = 0; i < 10 && !timer.armed() && !timer.fired; ++i) loop.run_once(2000);
  late.join();
  ASSERT_TRUE(timer.armed());
  EXPECT_FALSE(timer.fired) << "fired in the iteration that armed it";
  EXPECT_TRUE(run_until(loop, [&] { return timer.fired; }));
  EXPECT_GE(timer.waited_ms(), 199);  // the loop's clock counts whole milliseconds
  loop.remove(p.ours);
}

// The same for work posted from another thread after a quiet spell (it runs from the wake-up
// descriptor's handler).
TEST_P(EventLoopBackends, TimerArmedFromPostedWorkAfterALongWaitWaitsItsWholeDelay) {
  EventLoop loop(GetParam());
  loop.run_once(0);
  StopwatchTimer timer;
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    loop.post([&] {
      timer.armed_at = std::chrono::steady_clock::now();
      loop.schedule(timer, 200);
    });
  });
  for (int i = 0; i < 10 && !timer.armed() && !timer.fired; ++i) loop.run_once(2000);
  late.join();
  ASSERT_TRUE(timer.armed());
  EXPECT_FALSE(timer.fired) << "fired in the iteration that armed it";
  EXPECT_TRUE(run_until(loop, [&] { return timer.fired; }));
  EXPECT_GE(timer.waited_ms(), 199);
}

// A caller that drives the loop itself and arms a timer between two run_once() calls, after
// time passed outside the loop, gets the whole delay too.
TEST_P(EventLoopBackends, TimerArmedBetweenIterationsWaitsItsWholeDelay) {
  EventLoop loop(GetParam());
  loop.run_once(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  StopwatchTimer timer;
  timer.armed_at = std::chrono::steady_clock::now();
  loop.schedule(timer, 200);
  loop.run_once(0);
  EXPECT_FALSE(timer.fired) << "fired at once";
  EXPECT_TRUE(run_until(loop, [&] { return timer.fired; }));
  EXPECT_GE(timer.waited_ms(), 199);
}

INSTANTIATE_TEST_SUITE_P(All, EventLoopBackends,
                         testing::Values(IoBackend::epoll, IoBackend::io_uring),
                         [](const testing::TestParamInfo<IoBackend>& info) {
                           return info.param == IoBackend::epoll ? "epoll" : "io_uring";
                         });

// Work posted to a loop that will not run again is dropped, not run: what it holds is let go at
// once, and work posted while it goes waits for the next drop.
TEST(EventLoopPosted, DropPostedDestroysWorkWithoutRunningIt) {
  EventLoop loop(IoBackend::epoll);
  int ran = 0;
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  // Posts more work from its destructor, as a session let go by dropped work can.
  struct PostsWhenDestroyed {
    EventLoop* loop = nullptr;
    int* ran = nullptr;
    ~PostsWhenDestroyed() {
      if (loop) loop->post([ran = ran] { ++*ran; });
    }
  };
  loop.post([held = std::move(held), &ran] { ++ran; });
  auto poster = std::make_shared<PostsWhenDestroyed>();
  poster->loop = &loop;
  poster->ran = &ran;
  loop.post([poster = std::move(poster), &ran] { ++ran; });
  EXPECT_EQ(loop.drop_posted(), 2u);
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(loop.drop_posted(), 1u) << "the work posted while the first went";
  EXPECT_EQ(loop.drop_posted(), 0u);
  EXPECT_EQ(ran, 0);
}

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
