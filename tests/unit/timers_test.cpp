#include "duplex/io/timers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <memory>
#include <random>
#include <vector>

namespace duplex::io {

namespace {

class TestTimer final : public Timer {
 public:
  TestTimer(int id, std::vector<int>* log) : id_(id), log_(log) {}
  void on_timer() override {
    EXPECT_FALSE(armed()) << "a timer is disarmed before its callback";
    log_->push_back(id_);
    if (action) action();
  }
  int id() const { return id_; }
  std::function<void()> action;

 private:
  int id_;
  std::vector<int>* log_;
};

using Timers = std::vector<std::unique_ptr<TestTimer>>;

Timers make_timers(int n, std::vector<int>* log) {
  Timers timers;
  for (int i = 0; i < n; ++i) timers.push_back(std::make_unique<TestTimer>(i, log));
  return timers;
}

// The ids of the armed timers in firing order: by expiry, ties in any order.
void expect_fired_in_order(const std::vector<int>& fired, const Timers& timers,
                           const std::vector<uint64_t>& expiry) {
  for (size_t i = 1; i < fired.size(); ++i) {
    EXPECT_LE(expiry[static_cast<size_t>(fired[i - 1])], expiry[static_cast<size_t>(fired[i])])
        << "position " << i;
  }
  (void)timers;
}

TEST(TimerHeapTest, EmptyHeap) {
  TimerHeap heap;
  EXPECT_EQ(heap.size(), 0u);
  EXPECT_EQ(heap.ms_until_next(0), -1);
  EXPECT_EQ(heap.ms_until_next(12345), -1);
  heap.fire_due(~uint64_t{0});
}

TEST(TimerHeapTest, SingleTimer) {
  std::vector<int> log;
  TestTimer t(7, &log);
  TimerHeap heap;
  EXPECT_FALSE(t.armed());
  heap.schedule(t, 100);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(t.expiry_ms(), 100u);
  EXPECT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap.ms_until_next(40), 60);
  EXPECT_EQ(heap.ms_until_next(100), 0);
  EXPECT_EQ(heap.ms_until_next(150), 0);
  heap.fire_due(99);
  EXPECT_TRUE(log.empty());
  heap.fire_due(100);
  EXPECT_EQ(log, std::vector<int>{7});
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(heap.size(), 0u);
  heap.fire_due(1000);
  EXPECT_EQ(log, std::vector<int>{7});
}

TEST(TimerHeapTest, MsUntilNextClampsToIntMax) {
  std::vector<int> log;
  TestTimer t(0, &log);
  TimerHeap heap;
  heap.schedule(t, ~uint64_t{0});
  EXPECT_EQ(heap.ms_until_next(0), INT_MAX);
  heap.schedule(t, uint64_t{INT_MAX} + 10);
  EXPECT_EQ(heap.ms_until_next(10), INT_MAX);
  EXPECT_EQ(heap.ms_until_next(11), INT_MAX - 1);
}

TEST(TimerHeapTest, RandomExpiriesFireInOrder) {
  std::mt19937 rng(1);
  for (int round = 0; round < 50; ++round) {
    std::vector<int> log;
    const int n = 1 + static_cast<int>(rng() % 200);
    Timers timers = make_timers(n, &log);
    std::vector<uint64_t> expiry(static_cast<size_t>(n));
    TimerHeap heap;
    for (int i = 0; i < n; ++i) {
      expiry[static_cast<size_t>(i)] = 1 + rng() % 1000;  // many ties
      heap.schedule(*timers[static_cast<size_t>(i)], expiry[static_cast<size_t>(i)]);
    }
    EXPECT_EQ(heap.size(), static_cast<size_t>(n));
    const uint64_t earliest = *std::min_element(expiry.begin(), expiry.end());
    EXPECT_EQ(heap.ms_until_next(0), static_cast<int>(earliest));
    // Fire in several steps; each step fires exactly the due timers.
    for (uint64_t now = 0; now <= 1000; now += 1 + rng() % 100) {
      const size_t before = log.size();
      heap.fire_due(now);
      for (size_t k = before; k < log.size(); ++k) {
        EXPECT_LE(expiry[static_cast<size_t>(log[k])], now);
      }
      for (const auto& t : timers)
        EXPECT_EQ(t->armed(), expiry[static_cast<size_t>(t->id())] > now);
    }
    heap.fire_due(1000);
    ASSERT_EQ(log.size(), static_cast<size_t>(n));
    expect_fired_in_order(log, timers, expiry);
    std::vector<int> sorted = log;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < n; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
    EXPECT_EQ(heap.size(), 0u);
  }
}

TEST(TimerHeapTest, RescheduleEarlierAndLater) {
  std::vector<int> log;
  Timers timers = make_timers(5, &log);
  TimerHeap heap;
  for (int i = 0; i < 5; ++i) heap.schedule(*timers[static_cast<size_t>(i)], 100 + 10 * i);
  heap.schedule(*timers[4], 50);    // last becomes first
  heap.schedule(*timers[0], 1000);  // first becomes last
  heap.schedule(*timers[2], 120);   // unchanged
  EXPECT_EQ(heap.size(), 5u);
  EXPECT_EQ(timers[4]->expiry_ms(), 50u);
  EXPECT_EQ(heap.ms_until_next(0), 50);
  heap.fire_due(2000);
  EXPECT_EQ(log, (std::vector<int>{4, 1, 2, 3, 0}));
}

TEST(TimerHeapTest, RandomReschedulesAndCancels) {
  std::mt19937 rng(2);
  for (int round = 0; round < 50; ++round) {
    std::vector<int> log;
    const int n = 1 + static_cast<int>(rng() % 100);
    Timers timers = make_timers(n, &log);
    std::vector<uint64_t> expiry(static_cast<size_t>(n));
    std::vector<bool> armed(static_cast<size_t>(n), false);
    TimerHeap heap;
    for (int op = 0; op < 500; ++op) {
      const size_t i = rng() % static_cast<size_t>(n);
      if (rng() % 3 == 0) {
        heap.cancel(*timers[i]);
        armed[i] = false;
      } else {
        expiry[i] = rng() % 10000;
        heap.schedule(*timers[i], expiry[i]);
        armed[i] = true;
      }
      ASSERT_EQ(timers[i]->armed(), armed[i]);
      const auto count = static_cast<size_t>(std::count(armed.begin(), armed.end(), true));
      ASSERT_EQ(heap.size(), count);
    }
    uint64_t earliest = ~uint64_t{0};
    for (int i = 0; i < n; ++i) {
      if (armed[static_cast<size_t>(i)])
        earliest = std::min(earliest, expiry[static_cast<size_t>(i)]);
    }
    if (heap.size() > 0) {
      EXPECT_EQ(heap.ms_until_next(0), static_cast<int>(earliest));
    }
    heap.fire_due(10000);
    const auto count = static_cast<size_t>(std::count(armed.begin(), armed.end(), true));
    ASSERT_EQ(log.size(), count);
    expect_fired_in_order(log, timers, expiry);
    for (int id : log) EXPECT_TRUE(armed[static_cast<size_t>(id)]) << "cancelled timer fired";
  }
}

TEST(TimerHeapTest, CancelArbitraryTimers) {
  std::vector<int> log;
  Timers timers = make_timers(10, &log);
  TimerHeap heap;
  for (int i = 0; i < 10; ++i) heap.schedule(*timers[static_cast<size_t>(i)], 10 * (10 - i));
  heap.cancel(*timers[9]);  // the root
  heap.cancel(*timers[0]);  // a leaf
  heap.cancel(*timers[5]);
  heap.cancel(*timers[5]);  // twice is harmless
  EXPECT_EQ(heap.size(), 7u);
  EXPECT_FALSE(timers[9]->armed());
  heap.fire_due(1000);
  EXPECT_EQ(log, (std::vector<int>{8, 7, 6, 4, 3, 2, 1}));
  // Cancelling a timer that was never armed, or already fired, is harmless.
  TestTimer idle(99, &log);
  heap.cancel(idle);
  heap.cancel(*timers[1]);
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeapTest, CallbackCancelsAnotherDueTimer) {
  std::vector<int> log;
  Timers timers = make_timers(4, &log);
  TimerHeap heap;
  heap.schedule(*timers[0], 10);
  heap.schedule(*timers[1], 20);
  heap.schedule(*timers[2], 30);
  heap.schedule(*timers[3], 40);
  timers[0]->action = [&] { heap.cancel(*timers[2]); };
  heap.fire_due(100);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 3}));
  EXPECT_FALSE(timers[2]->armed());
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeapTest, CallbackSchedulesTimers) {
  std::vector<int> log;
  Timers timers = make_timers(5, &log);
  TimerHeap heap;
  heap.schedule(*timers[0], 10);
  heap.schedule(*timers[1], 30);
  bool first_run = true;
  timers[0]->action = [&] {
    if (!first_run) return;
    first_run = false;
    heap.schedule(*timers[2], 20);   // already due: waits for the next round
    heap.schedule(*timers[3], 500);  // not due yet
    heap.schedule(*timers[0], 400);  // re-arms itself for later
  };
  heap.fire_due(100);
  EXPECT_EQ(log, (std::vector<int>{0, 1}));
  EXPECT_TRUE(timers[0]->armed());
  EXPECT_TRUE(timers[2]->armed());
  EXPECT_TRUE(timers[3]->armed());
  EXPECT_EQ(timers[2]->expiry_ms(), 101u);
  EXPECT_EQ(timers[0]->expiry_ms(), 400u);
  EXPECT_EQ(timers[3]->expiry_ms(), 500u);
  EXPECT_EQ(heap.size(), 3u);
  EXPECT_EQ(heap.ms_until_next(100), 1);
  heap.fire_due(101);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(heap.ms_until_next(101), 299);
  heap.fire_due(1000);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 0, 3}));
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeapTest, CallbackRearmingItselfWithoutDelayFiresOncePerRound) {
  std::vector<int> log;
  TestTimer t(1, &log);
  TimerHeap heap;
  t.action = [&] { heap.schedule(t, 0); };
  heap.schedule(t, 50);
  heap.fire_due(50);
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(t.expiry_ms(), 51u);
  heap.fire_due(50);  // not yet
  EXPECT_EQ(log.size(), 1u);
  heap.fire_due(60);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(t.expiry_ms(), 61u);
  heap.cancel(t);
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeapTest, PastExpiryOutsideCallbacksIsKept) {
  std::vector<int> log;
  TestTimer t(1, &log);
  TimerHeap heap;
  heap.fire_due(1000);
  heap.schedule(t, 5);  // not inside fire_due: no adjustment
  EXPECT_EQ(t.expiry_ms(), 5u);
  EXPECT_EQ(heap.ms_until_next(1000), 0);
  heap.fire_due(1000);
  EXPECT_EQ(log, std::vector<int>{1});
}

TEST(TimerHeapTest, CallbackCancelsItselfAndReschedulesOthers) {
  std::vector<int> log;
  Timers timers = make_timers(3, &log);
  TimerHeap heap;
  heap.schedule(*timers[0], 10);
  heap.schedule(*timers[1], 20);
  heap.schedule(*timers[2], 30);
  timers[0]->action = [&] {
    heap.cancel(*timers[0]);          // already disarmed: harmless
    heap.schedule(*timers[1], 1000);  // postpone a due timer
    heap.schedule(*timers[2], 5);     // re-arm another due one: moves to the next round
  };
  heap.fire_due(100);
  EXPECT_EQ(log, (std::vector<int>{0}));
  EXPECT_TRUE(timers[1]->armed());
  EXPECT_EQ(timers[1]->expiry_ms(), 1000u);
  EXPECT_EQ(timers[2]->expiry_ms(), 101u);
  EXPECT_EQ(heap.ms_until_next(100), 1);
  heap.fire_due(500);
  EXPECT_EQ(log, (std::vector<int>{0, 2}));
  EXPECT_EQ(heap.ms_until_next(500), 500);
}

TEST(TimerHeapTest, RandomCallbacksCancelAndSchedule) {
  // Callbacks cancel and arm random timers; a timer fires only while armed and every firing
  // happens no later than `now` and in non-decreasing expiry order.
  std::mt19937 rng(3);
  for (int round = 0; round < 30; ++round) {
    std::vector<int> log;
    const int n = 60;
    Timers timers = make_timers(n, &log);
    TimerHeap heap;
    std::vector<uint64_t> fired_expiry;
    std::vector<bool> armed_this_round(static_cast<size_t>(n), false);
    uint64_t now = 0;
    for (int i = 0; i < n; ++i) heap.schedule(*timers[static_cast<size_t>(i)], rng() % 1000);
    for (auto& t : timers) {
      TestTimer* self = t.get();
      t->action = [&, self] {
        fired_expiry.push_back(self->expiry_ms());
        EXPECT_LE(self->expiry_ms(), now);
        EXPECT_FALSE(armed_this_round[static_cast<size_t>(self->id())])
            << "a timer armed by a callback fired in the same round";
        TestTimer& other = *timers[rng() % n];
        if (rng() % 2) {
          heap.cancel(other);
        } else {
          // Sometimes already due: such a timer must wait for the next fire_due().
          const uint64_t base = now > 20 ? now - 20 : 0;
          heap.schedule(other, base + rng() % 500);
          armed_this_round[static_cast<size_t>(other.id())] = true;
          EXPECT_GT(other.expiry_ms(), now);
        }
      };
    }
    for (now = 0; now < 3000; now += 1 + rng() % 50) {
      fired_expiry.clear();
      armed_this_round.assign(static_cast<size_t>(n), false);
      heap.fire_due(now);
      for (size_t k = 1; k < fired_expiry.size(); ++k) {
        EXPECT_LE(fired_expiry[k - 1], fired_expiry[k]);
      }
      const int next = heap.ms_until_next(now);
      if (heap.size() == 0) {
        EXPECT_EQ(next, -1);
      } else {
        EXPECT_GT(next, 0);
      }
    }
  }
}

}  // namespace

}  // namespace duplex::io
