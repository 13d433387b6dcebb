#include "duplex/io/event_loop.hpp"

#include <signal.h>
#include <sys/epoll.h>  // EPOLLIN: readiness bits, whatever the backend
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <system_error>
#include <thread>

namespace duplex::io {

namespace {
[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}
}  // namespace

// Wakes the loop when another thread posts work.
class EventLoop::Wakeup final : public IoHandler {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop) {
    fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) throw_errno("eventfd");
    loop_.add(fd_, this, EPOLLIN);
  }
  ~Wakeup() { close(fd_); }
  void notify() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof one);
  }
  void on_io(uint32_t) override {
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(fd_, &count, sizeof count);
    loop_.run_posted();
  }

 private:
  EventLoop& loop_;
  int fd_;
};

class EventLoop::Signals final : public IoHandler {
 public:
  explicit Signals(EventLoop& loop) : loop_(loop) { sigemptyset(&mask_); }
  ~Signals() {
    if (fd_ >= 0) close(fd_);
  }
  void add(int signo, std::function<void()> handler) {
    handlers_[signo] = std::move(handler);
    sigaddset(&mask_, signo);
    // Blocked signals are delivered to the signalfd instead of their default action.
    pthread_sigmask(SIG_BLOCK, &mask_, nullptr);
    const bool fresh = fd_ < 0;
    fd_ = signalfd(fd_, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw_errno("signalfd");
    if (fresh) loop_.add(fd_, this, EPOLLIN);
  }
  void on_io(uint32_t) override {
    signalfd_siginfo info;
    while (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      auto it = handlers_.find(static_cast<int>(info.ssi_signo));
      if (it != handlers_.end()) it->second();
    }
  }

 private:
  EventLoop& loop_;
  int fd_ = -1;
  sigset_t mask_;
  std::map<int, std::function<void()>> handlers_;
};

// One helper thread for blocking calls; results go back to the loop through post().
class EventLoop::Offload {
 public:
  explicit Offload(EventLoop& loop) : loop_(loop), thread_([this] { work(); }) {}
  ~Offload() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void add(std::function<void()> work, std::function<void()> done) {
    {
      std::lock_guard lock(mutex_);
      jobs_.emplace_back(std::move(work), std::move(done));
    }
    wake_.notify_one();
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job.first();
      loop_.post(std::move(job.second));
      lock.lock();
    }
  }
  EventLoop& loop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::function<void()>, std::function<void()>>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

EventLoop::EventLoop(IoBackend backend)
    : backend_(backend),
      poller_(backend == IoBackend::io_uring ? make_uring_poller() : make_epoll_poller()),
      receive_buffer_(new char[kReceiveBufferSize]) {
  update_clock();
  wakeup_ = std::make_unique<Wakeup>(*this);
  signals_ = std::make_unique<Signals>(*this);
}

EventLoop::~EventLoop() {
  offload_.reset();  // joins the helper thread before anything it could post to goes away
  signals_.reset();
  wakeup_.reset();
  poller_.reset();
}

void EventLoop::forget_flush(const void* target) {
  for (QueuedFlush& queued : flush_queue_) {
    if (queued.target == target) queued.target = nullptr;
  }
}

void EventLoop::offload(std::function<void()> work, std::function<void()> done) {
  if (!offload_) offload_ = std::make_unique<Offload>(*this);
  offload_->add(std::move(work), std::move(done));
}

void EventLoop::at_iteration_end(std::function<void()> work) {
  iteration_end_.push_back(std::move(work));
}

void EventLoop::on_signal(int signo, std::function<void()> handler) {
  signals_->add(signo, std::move(handler));
}

void EventLoop::post(std::function<void()> work) {
  bool first;
  {
    std::lock_guard lock(posted_mutex_);
    first = posted_.empty();
    posted_.push_back(std::move(work));
  }
  // Work already waiting has woken the loop (or will be taken with this): one wake-up per batch.
  if (first) wakeup_->notify();
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(posted_mutex_);
    work.swap(posted_);
  }
  for (auto& w : work) w();
}

size_t EventLoop::drop_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(posted_mutex_);
    work.swap(posted_);
  }
  return work.size();  // destroyed here, outside the lock: a destructor may post again
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

void EventLoop::update_clock() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms_ = static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void EventLoop::schedule(Timer& timer, uint64_t delay_ms) {
  // From the time of arming, wherever that is: inside a long iteration, before run(), or
  // between two run_once() calls of a caller that drives the loop itself.
  update_clock();
  timers_.schedule(timer, now_ms_ + delay_ms);
}

void EventLoop::run() {
  stopping_ = false;
  while (!stopping_) run_once(-1);
}

void EventLoop::run_once(int timeout_ms) {
  ++iteration_;
  // The clock is read before the wait is sized (time may have passed since the last iteration,
  // in handlers or outside the loop) and again as soon as the kernel returns, before any handler
  // runs: a handler that arms a timer or stamps activity after a long quiet wait must see the
  // time it runs at, or a new connection's deadline would already be due.
  update_clock();
  int wait = timers_.ms_until_next(now_ms_);
  if (timeout_ms >= 0 && (wait < 0 || wait > timeout_ms)) wait = timeout_ms;
  if (!flush_queue_.empty()) wait = 0;  // output queued between iterations goes out now
  poller_->wait(wait);
  update_clock();
  poller_->dispatch();
  timers_.fire_due(now_ms_);
  // Index loop: a flush may queue more (a drain handler that sends).
  for (size_t i = 0; i < flush_queue_.size(); ++i) {
    const QueuedFlush queued = flush_queue_[i];  // copied: flush() may grow the queue
    if (queued.target) queued.flush(queued.target);
  }
  flush_queue_.clear();
  for (auto& work : iteration_end_) work();
}

}  // namespace duplex::io
