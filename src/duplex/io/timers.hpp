// Timers for idle, handshake and close timeouts: a binary min-heap of intrusive timer objects,
// O(log n) to arm, re-arm or cancel, with no allocation per timer once the heap has grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace duplex::io {

class Timer {
 public:
  virtual void on_timer() = 0;
  bool armed() const { return index_ != kNotArmed; }
  uint64_t expiry_ms() const { return expiry_ms_; }

 protected:
  Timer() = default;
  ~Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

 private:
  friend class TimerHeap;
  static constexpr size_t kNotArmed = ~size_t{0};
  size_t index_ = kNotArmed;
  uint64_t expiry_ms_ = 0;
};

class TimerHeap {
 public:
  /// Arms (or re-arms) `timer` to fire at `expiry_ms`.
  void schedule(Timer& timer, uint64_t expiry_ms);
  void cancel(Timer& timer);
  /// Fires, in expiry order, every timer due at `now_ms`. Callbacks may arm and cancel timers;
  /// one they arm for `now_ms` or earlier fires in the next call, not this one.
  void fire_due(uint64_t now_ms);
  /// Milliseconds until the earliest timer (0 if due), or -1 when none is armed.
  int ms_until_next(uint64_t now_ms) const;
  size_t size() const { return heap_.size(); }

 private:
  void sift_up(size_t i);
  void sift_down(size_t i);
  void place(size_t i, Timer* t) {
    heap_[i] = t;
    t->index_ = i;
  }
  std::vector<Timer*> heap_;
  bool firing_ = false;
  uint64_t firing_now_ = 0;
};

}  // namespace duplex::io
