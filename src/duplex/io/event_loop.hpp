// One epoll event loop per thread: readiness callbacks, timers, end-of-iteration work (where
// corked writes are flushed), signals and work posted from other threads.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "duplex/io/timers.hpp"

namespace duplex::io {

/// Receives epoll readiness events (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR) for one descriptor.
class IoHandler {
 public:
  virtual void on_io(uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

/// A target of write corking: something with output to write once at the end of the loop
/// iteration. It needs no virtual table (connections are many and small): the loop keeps the
/// flushing function next to each queued target, and the target keeps the flag that says it is
/// queued (a spare bit; EventLoop reads it as a friend or through public accessors).
template <class T>
concept Flushable = requires(T& target, bool queued) {
  target.flush();
  { target.flush_queued() } -> std::convertible_to<bool>;
  target.set_flush_queued(queued);
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void add(int fd, IoHandler* handler, uint32_t events);
  void modify(int fd, IoHandler* handler, uint32_t events);
  void remove(int fd);

  /// Monotonic milliseconds, read once per iteration.
  uint64_t now_ms() const { return now_ms_; }
  /// Counts iterations: work batched within one iteration can tell when the next one began.
  uint64_t iteration() const { return iteration_; }
  void schedule(Timer& timer, uint64_t delay_ms) { timers_.schedule(timer, now_ms_ + delay_ms); }
  void cancel(Timer& timer) { timers_.cancel(timer); }

  /// Queues `target` to flush at the end of this iteration, once however often it is queued.
  template <Flushable T>
  void queue_flush(T& target) {
    if (target.flush_queued()) return;
    target.set_flush_queued(true);
    flush_queue_.push_back({&target, [](void* queued) {
                              T& self = *static_cast<T*>(queued);
                              self.set_flush_queued(false);
                              self.flush();
                            }});
  }
  /// Forgets a queued flush (for a target destroyed before the iteration ends).
  template <Flushable T>
  void cancel_flush(T& target) {
    if (!target.flush_queued()) return;
    target.set_flush_queued(false);
    forget_flush(&target);
  }
  /// Runs `work` after the events, timers and flushes of every iteration (in registration order).
  void at_iteration_end(std::function<void()> work);
  /// Handles `signo` on the loop (through a signalfd) instead of the default action.
  void on_signal(int signo, std::function<void()> handler);
  /// Runs `work` on the loop's thread; callable from any thread.
  void post(std::function<void()> work);
  /// Runs blocking `work` (a DNS lookup, say) on a helper thread, then `done` on the loop's
  /// thread. Jobs run one at a time in order; ones still pending when the loop is destroyed are
  /// dropped.
  void offload(std::function<void()> work, std::function<void()> done);

  /// Runs until stop(). Callable once at a time, on the loop's thread.
  void run();
  /// Runs one iteration, waiting at most `timeout_ms` for events (-1: until one comes).
  void run_once(int timeout_ms);
  /// Makes run() return after the current iteration; callable from any thread.
  void stop();

  /// A large buffer shared by every connection of this loop for reads: a connection keeps only
  /// the bytes that must outlive one read, so idle connections cost no buffer memory.
  char* receive_buffer() { return receive_buffer_.get(); }
  static constexpr size_t kReceiveBufferSize = 512 * 1024;

 private:
  class Wakeup;
  class Signals;
  class Offload;
  struct QueuedFlush {
    void* target;  // null once forgotten
    void (*flush)(void* target);
  };
  void forget_flush(const void* target);
  void update_clock();
  void run_posted();

  int epoll_fd_ = -1;
  uint64_t now_ms_ = 0;
  uint64_t iteration_ = 0;
  bool stopping_ = false;
  TimerHeap timers_;
  std::vector<QueuedFlush> flush_queue_;
  std::vector<std::function<void()>> iteration_end_;
  std::unique_ptr<char[]> receive_buffer_;
  std::unique_ptr<Wakeup> wakeup_;
  std::unique_ptr<Signals> signals_;
  std::unique_ptr<Offload> offload_;  // started on first use
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace duplex::io
