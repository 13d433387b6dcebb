// The epoll poller: level-triggered readiness, one epoll_wait per iteration.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/poller.hpp"

namespace duplex::io {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

class EpollPoller final : public Poller {
 public:
  EpollPoller() {
    fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (fd_ < 0) throw_errno("epoll_create1");
  }
  ~EpollPoller() override { close(fd_); }

  void add(int fd, IoHandler* handler, uint32_t events) override {
    control(EPOLL_CTL_ADD, fd, handler, events, "epoll_ctl(ADD)");
  }
  void modify(int fd, IoHandler* handler, uint32_t events) override {
    control(EPOLL_CTL_MOD, fd, handler, events, "epoll_ctl(MOD)");
  }
  void remove(int fd) override { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }
  void start_receiving(int, ReceiveCallback) override {
    throw std::logic_error("the epoll loop does not receive for its handlers");
  }
  void stop_receiving(int) override {}

  void wait(int timeout_ms) override {
    const int n = epoll_wait(fd_, events_, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
    taken_ = n > 0 ? n : 0;
  }
  void dispatch() override {
    const int n = taken_;
    taken_ = 0;
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events_[i].data.ptr)->on_io(events_[i].events);
    }
  }

 private:
  void control(int op, int fd, IoHandler* handler, uint32_t events, const char* what) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = handler;
    if (epoll_ctl(fd_, op, fd, &ev) < 0) throw_errno(what);
  }
  int fd_ = -1;
  static constexpr int kMaxEvents = 1024;
  int taken_ = 0;  // events of the last wait, not yet dispatched
  epoll_event events_[kMaxEvents];
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace duplex::io
