// Internal: how an EventLoop waits for the kernel. EpollPoller watches readiness with epoll;
// UringPoller does the same with io_uring poll requests and can also receive for a descriptor
// (a multishot receive into provided buffers), handing the bytes over instead of readiness.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "duplex/io/io_backend.hpp"

namespace duplex::io {

class IoHandler;

/// Where received bytes go: `deliver(target, data, result)` with result > 0 bytes at `data`
/// (writable, valid only during the call), 0 at EOF, or -errno.
struct ReceiveCallback {
  void* target;
  void (*deliver)(void* target, char* data, ssize_t result);
};

class Poller {
 public:
  virtual ~Poller() = default;
  /// `events` are epoll's bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP), level-triggered.
  virtual void add(int fd, IoHandler* handler, uint32_t events) = 0;
  virtual void modify(int fd, IoHandler* handler, uint32_t events) = 0;
  /// Stops watching `fd`. Events of the current wait that are not yet handled may still reach
  /// the handler (epoll), so a handler that removes itself waits for the iteration's end to go.
  virtual void remove(int fd) = 0;
  /// Starts receiving for `fd` (io_uring only); no bytes reach the target after
  /// stop_receiving(fd), even ones already received.
  virtual void start_receiving(int fd, ReceiveCallback target) = 0;
  virtual void stop_receiving(int fd) = 0;
  /// Waits at most `timeout_ms` (-1: until something comes) and takes what came, without
  /// calling anyone: the loop reads its clock between wait() and dispatch(), so that handlers
  /// (and the timers they arm) see the time they run at, not the time the wait began.
  virtual void wait(int timeout_ms) = 0;
  /// Calls the handlers and targets of what the last wait() took.
  virtual void dispatch() = 0;
};

std::unique_ptr<Poller> make_epoll_poller();
/// Throws std::system_error if io_uring cannot be set up.
std::unique_ptr<Poller> make_uring_poller();

}  // namespace duplex::io
