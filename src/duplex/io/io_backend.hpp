// How an event loop reaches the kernel: chosen when the loop is made.
#pragma once

namespace duplex::io {

enum class IoBackend {
  /// epoll readiness, then recv/send per connection (the default).
  epoll,
  /// One io_uring per loop (Linux 6.1 or later): descriptors are watched with poll requests,
  /// plain-TCP server connections receive through a multishot receive into the loop's ring of
  /// provided buffers (4,096 x 16 KiB, mapped once per loop and touched as they are used), and
  /// each iteration's requests go to the kernel with its wait in one call. Sends stay direct
  /// calls, and TLS stays readiness-driven. A loop on it must always run on one thread (the
  /// first that runs it). Making such a loop throws std::system_error where io_uring is not
  /// available (an older kernel, or one with io_uring turned off).
  io_uring,
};

}  // namespace duplex::io
