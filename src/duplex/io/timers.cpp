#include "duplex/io/timers.hpp"

#include <algorithm>
#include <climits>

namespace duplex::io {

void TimerHeap::schedule(Timer& timer, uint64_t expiry_ms) {
  // A timer armed by a callback for a time already due waits for the next round; otherwise a
  // callback re-arming itself with no delay would keep fire_due() from ever returning.
  if (firing_ && expiry_ms <= firing_now_) expiry_ms = firing_now_ + 1;
  if (timer.armed()) {
    const uint64_t old = timer.expiry_ms_;
    timer.expiry_ms_ = expiry_ms;
    expiry_ms < old ? sift_up(timer.index_) : sift_down(timer.index_);
    return;
  }
  timer.expiry_ms_ = expiry_ms;
  heap_.push_back(&timer);
  timer.index_ = heap_.size() - 1;
  sift_up(timer.index_);
}

void TimerHeap::cancel(Timer& timer) {
  if (!timer.armed()) return;
  const size_t i = timer.index_;
  Timer* last = heap_.back();
  heap_.pop_back();
  timer.index_ = Timer::kNotArmed;
  if (last == &timer) return;
  place(i, last);
  sift_up(i);
  sift_down(last->index_);
}

void TimerHeap::fire_due(uint64_t now_ms) {
  firing_ = true;
  firing_now_ = now_ms;
  while (!heap_.empty() && heap_.front()->expiry_ms_ <= now_ms) {
    Timer* t = heap_.front();
    cancel(*t);
    t->on_timer();
  }
  firing_ = false;
}

int TimerHeap::ms_until_next(uint64_t now_ms) const {
  if (heap_.empty()) return -1;
  const uint64_t expiry = heap_.front()->expiry_ms_;
  if (expiry <= now_ms) return 0;
  return static_cast<int>(std::min<uint64_t>(expiry - now_ms, INT_MAX));
}

void TimerHeap::sift_up(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (heap_[parent]->expiry_ms_ <= t->expiry_ms_) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerHeap::sift_down(size_t i) {
  Timer* t = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->expiry_ms_ < heap_[child]->expiry_ms_) ++child;
    if (t->expiry_ms_ <= heap_[child]->expiry_ms_) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace duplex::io
