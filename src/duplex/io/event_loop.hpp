// One event loop per thread: readiness callbacks, timers, end-of-iteration work (where corked
// writes are flushed), signals and work posted from other threads. The kernel is reached through
// epoll or io_uring (io_backend.hpp), chosen when the loop is made; on io_uring a loop can also
// receive for a descriptor and hand the bytes over (start_receiving).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "duplex/io/io_backend.hpp"
#include "duplex/io/poller.hpp"
#include "duplex/io/timers.hpp"

namespace duplex::io {

/// Receives readiness events, in epoll's bits (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR), for one
/// descriptor, whatever the backend.
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

/// A target of received bytes (EventLoop::start_receiving): `on_received(data, result)` gets
/// result > 0 bytes at `data`, writable and valid only during the call (the buffer goes back to
/// the kernel after it), 0 at EOF, or -errno. Like Flushable, it needs no virtual table.
template <class T>
concept ReceiveTarget = requires(T& target, char* data, ssize_t result) {
  target.on_received(data, result);
};

class EventLoop {
 public:
  /// Throws std::system_error if the backend cannot be set up (io_uring unavailable).
  explicit EventLoop(IoBackend backend = IoBackend::epoll);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  IoBackend backend() const { return backend_; }

  void add(int fd, IoHandler* handler, uint32_t events) { poller_->add(fd, handler, events); }
  void modify(int fd, IoHandler* handler, uint32_t events) { poller_->modify(fd, handler, events); }
  /// Events already taken in this iteration may still reach the handler (on epoll); none after.
  void remove(int fd) { poller_->remove(fd); }

  /// Whether start_receiving() is available: on io_uring, a multishot receive into the loop's
  /// provided buffers replaces readiness and recv for a descriptor.
  bool delivers_receives() const { return backend_ == IoBackend::io_uring; }
  /// Hands what arrives on `fd` to `target` until stop_receiving(fd). Readiness for other
  /// events (EPOLLOUT) can still be watched with add() and remove().
  template <ReceiveTarget T>
  void start_receiving(int fd, T& target) {
    poller_->start_receiving(fd, {&target, [](void* self, char* data, ssize_t result) {
                                    static_cast<T*>(self)->on_received(data, result);
                                  }});
  }
  /// Nothing more reaches the target, not even bytes already received; the target may be
  /// destroyed at once.
  void stop_receiving(int fd) { poller_->stop_receiving(fd); }

  /// Monotonic milliseconds, read when the kernel returns from each wait (before any handler
  /// runs) and whenever a timer is armed; within one iteration it lags the true time by at most
  /// what that iteration's handlers have spent.
  uint64_t now_ms() const { return now_ms_; }
  /// Counts iterations: work batched within one iteration can tell when the next one began.
  uint64_t iteration() const { return iteration_; }
  /// Arms `timer` to fire `delay_ms` from now, the clock read at this call.
  void schedule(Timer& timer, uint64_t delay_ms);
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
  /// Destroys the work posted and not run yet (for a loop that will not run again: its owner
  /// drops it while what that work holds can still be let go); returns how much there was.
  size_t drop_posted();
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

  IoBackend backend_;
  std::unique_ptr<Poller> poller_;
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
