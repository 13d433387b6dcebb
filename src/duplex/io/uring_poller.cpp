// The io_uring poller. Every watch is a request whose completions name a poller-owned Entry,
// never a handler, so a handler can go (a connection is freed) while a request of its is still
// in flight: the entry is detached at once and freed when its last completion has come.
//   - Readiness: a one-shot poll request per descriptor, re-armed after its handler ran. Arming
//     checks readiness at once, so this is level-triggered like the epoll loop (a handler that
//     reads only part of what is waiting is called again); a multishot poll would only report
//     new arrivals. modify() updates an armed request in place.
//   - Receiving: a multishot receive per descriptor, taking buffers from a ring of provided
//     buffers; each buffer goes back to the ring as soon as its bytes were delivered. A receive
//     that ends without EOF or an error (the ring ran dry: -ENOBUFS) is re-armed with the next
//     wait, when the buffers are back.
// Requests made during an iteration are submitted together with the next wait, in one
// io_uring_enter. The ring is created disabled and enabled by the first wait: with
// SINGLE_ISSUER it then belongs to the loop's thread, whichever thread made the loop.
#include <liburing.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/poller.hpp"

namespace duplex::io {

namespace {

// Room for a batch of a request per connection of thousands of connections; a full submission
// queue is handed to the kernel early.
constexpr unsigned kSubmissionEntries = 4096;
constexpr unsigned kCompletionEntries = 16384;
// Provided receive buffers (a power of two). 16 KiB holds a 16 KiB message's frame in two
// buffers; 4,096 of them outlast a batch of a thousand connections' input. Measured with the
// io_uring floor (bench/RESULTS.md): 4 KiB buffers cost 13-17 %, larger ones gain nothing.
constexpr unsigned kBufferCount = 4096;
constexpr size_t kBufferSize = 16 * 1024;
constexpr uint16_t kBufferGroup = 0;
// Completions of requests that need no answer (poll updates and removals, cancels) carry this.
constexpr uint64_t kIgnored = 0;

[[noreturn]] void throw_error(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

class UringPoller final : public Poller {
 public:
  UringPoller();
  ~UringPoller() override;

  void add(int fd, IoHandler* handler, uint32_t events) override;
  void modify(int fd, IoHandler* handler, uint32_t events) override;
  void remove(int fd) override;
  void start_receiving(int fd, ReceiveCallback target) override;
  void stop_receiving(int fd) override;
  void wait(int timeout_ms) override;
  void dispatch() override;

 private:
  // One watch: a poll (handler set) or a receive (target set). Detached (both null) once
  // removed; back on the free list when no request of it is in flight or queued to be armed.
  struct Entry {
    int fd = -1;
    bool receive = false;  // else a poll
    uint32_t events = 0;
    IoHandler* handler = nullptr;
    ReceiveCallback target{nullptr, nullptr};
    bool in_flight = false;  // its request is armed (or its final completion is still to come)
    bool queued = false;     // in rearm_
    bool released = false;   // on the free list (a handler may detach it while it is called)
    bool attached() const { return handler || target.target; }
  };

  io_uring_sqe* sqe(uint64_t tag);
  Entry* acquire(std::vector<Entry*>& table, int fd);
  Entry* detach(std::vector<Entry*>& table, int fd);
  void arm(Entry& e);
  void release_if_done(Entry& e);
  void on_completion(uint64_t tag, int res, uint32_t flags);
  void on_poll(Entry& e, int res);
  void on_receive(Entry& e, int res, uint32_t flags);
  void give_back(unsigned id);
  void enable();

  io_uring ring_{};
  bool enabled_ = false;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  char* buffers_ = nullptr;
  std::vector<Entry*> polls_;     // by descriptor
  std::vector<Entry*> receives_;  // by descriptor
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<Entry*> free_;
  std::vector<Entry*> rearm_;  // armed again with the next wait
};

UringPoller::UringPoller() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED |
                 IORING_SETUP_CQSIZE;
  params.cq_entries = kCompletionEntries;
  int rc = io_uring_queue_init_params(kSubmissionEntries, &ring_, &params);
  if (rc == -EINVAL) {
    // Before Linux 6.1 (no DEFER_TASKRUN): a plain ring, usable from any thread.
    params = {};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCompletionEntries;
    rc = io_uring_queue_init_params(kSubmissionEntries, &ring_, &params);
    enabled_ = true;
  }
  if (rc < 0) throw_error(-rc, "io_uring_queue_init");
  // liburing 2.3 has no io_uring_setup_buf_ring: the ring's entries and the buffers are mapped
  // here and the ring registered by hand.
  void* entries = mmap(nullptr, kBufferCount * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  void* buffers = mmap(nullptr, kBufferCount * kBufferSize, PROT_READ | PROT_WRITE,
                       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (entries == MAP_FAILED || buffers == MAP_FAILED) {
    const int error = errno;
    if (entries != MAP_FAILED) munmap(entries, kBufferCount * sizeof(io_uring_buf));
    if (buffers != MAP_FAILED) munmap(buffers, kBufferCount * kBufferSize);
    io_uring_queue_exit(&ring_);
    throw_error(error, "mmap (io_uring buffers)");
  }
  buffer_ring_ = static_cast<io_uring_buf_ring*>(entries);
  buffers_ = static_cast<char*>(buffers);
  io_uring_buf_ring_init(buffer_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(buffer_ring_);
  reg.ring_entries = kBufferCount;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc < 0) {
    munmap(buffer_ring_, kBufferCount * sizeof(io_uring_buf));
    munmap(buffers_, kBufferCount * kBufferSize);
    io_uring_queue_exit(&ring_);
    throw_error(-rc, "io_uring_register_buf_ring");
  }
  for (unsigned id = 0; id < kBufferCount; ++id) {
    io_uring_buf_ring_add(buffer_ring_, buffers_ + id * kBufferSize, kBufferSize,
                          static_cast<unsigned short>(id), io_uring_buf_ring_mask(kBufferCount),
                          static_cast<int>(id));
  }
  io_uring_buf_ring_advance(buffer_ring_, kBufferCount);
}

UringPoller::~UringPoller() {
  io_uring_queue_exit(&ring_);  // cancels whatever is in flight
  munmap(buffer_ring_, kBufferCount * sizeof(io_uring_buf));
  munmap(buffers_, kBufferCount * kBufferSize);
}

void UringPoller::enable() {
  // liburing 2.3 does not export io_uring_enable_rings.
  if (syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
      0) {
    throw_error(errno, "io_uring_register(ENABLE_RINGS)");
  }
  enabled_ = true;
  io_uring_register_ring_fd(&ring_);  // spares a descriptor lookup per call where it works
}

io_uring_sqe* UringPoller::sqe(uint64_t tag) {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (!s) {
    // The submission queue is full: hand it over now (the loop's thread, once enabled).
    if (!enabled_) throw_error(EBUSY, "io_uring submission queue full before the loop ran");
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
    if (!s) throw_error(EBUSY, "io_uring_get_sqe");
  }
  io_uring_sqe_set_data64(s, tag);
  return s;
}

UringPoller::Entry* UringPoller::acquire(std::vector<Entry*>& table, int fd) {
  if (static_cast<size_t>(fd) >= table.size()) table.resize(static_cast<size_t>(fd) + 1);
  Entry* e;
  if (free_.empty()) {
    entries_.push_back(std::make_unique<Entry>());
    e = entries_.back().get();
  } else {
    e = free_.back();
    free_.pop_back();
  }
  *e = Entry{};
  e->fd = fd;
  table[static_cast<size_t>(fd)] = e;
  return e;
}

UringPoller::Entry* UringPoller::detach(std::vector<Entry*>& table, int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= table.size()) return nullptr;
  Entry* e = table[static_cast<size_t>(fd)];
  table[static_cast<size_t>(fd)] = nullptr;
  if (e) {
    e->handler = nullptr;
    e->target = {nullptr, nullptr};
  }
  return e;
}

void UringPoller::release_if_done(Entry& e) {
  if (e.attached() || e.in_flight || e.queued || e.released) return;
  e.released = true;
  free_.push_back(&e);
}

void UringPoller::arm(Entry& e) {
  io_uring_sqe* s = sqe(reinterpret_cast<uint64_t>(&e));
  if (!e.receive) {
    io_uring_prep_poll_add(s, e.fd, e.events);
  } else {
    io_uring_prep_recv_multishot(s, e.fd, nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = kBufferGroup;
  }
  e.in_flight = true;
}

void UringPoller::add(int fd, IoHandler* handler, uint32_t events) {
  Entry* e = acquire(polls_, fd);
  e->handler = handler;
  e->events = events;
  arm(*e);
}

void UringPoller::modify(int fd, IoHandler* handler, uint32_t events) {
  Entry* e = static_cast<size_t>(fd) < polls_.size() ? polls_[static_cast<size_t>(fd)] : nullptr;
  if (!e) throw_error(ENOENT, "io_uring modify of an unwatched descriptor");
  e->handler = handler;
  if (e->events == events) return;
  e->events = events;
  // Not in flight: the re-arm after the handler uses the new events. In flight: updated in
  // place; if it has completed meanwhile, the update finds nothing and the re-arm does it.
  if (e->in_flight) {
    io_uring_sqe* s = sqe(kIgnored);
    io_uring_prep_poll_update(s, reinterpret_cast<uint64_t>(e), reinterpret_cast<uint64_t>(e),
                              events, IORING_POLL_UPDATE_EVENTS);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  }
}

void UringPoller::remove(int fd) {
  Entry* e = detach(polls_, fd);
  if (!e) return;
  if (e->in_flight) {
    io_uring_sqe* s = sqe(kIgnored);
    io_uring_prep_poll_remove(s, reinterpret_cast<uint64_t>(e));
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  }
  release_if_done(*e);  // else when its last completion comes
}

void UringPoller::start_receiving(int fd, ReceiveCallback target) {
  Entry* e = acquire(receives_, fd);
  e->receive = true;
  e->target = target;
  arm(*e);
}

void UringPoller::stop_receiving(int fd) {
  Entry* e = detach(receives_, fd);
  if (!e) return;
  if (e->in_flight) {
    io_uring_sqe* s = sqe(kIgnored);
    io_uring_prep_cancel64(s, reinterpret_cast<uint64_t>(e), 0);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  }
  release_if_done(*e);
}

void UringPoller::give_back(unsigned id) {
  io_uring_buf_ring_add(buffer_ring_, buffers_ + id * kBufferSize, kBufferSize,
                        static_cast<unsigned short>(id), io_uring_buf_ring_mask(kBufferCount), 0);
  io_uring_buf_ring_advance(buffer_ring_, 1);
}

void UringPoller::wait(int timeout_ms) {
  if (!enabled_) enable();
  for (Entry* e : rearm_) {
    e->queued = false;
    if (e->attached() && !e->in_flight) {
      arm(*e);
    } else {
      release_if_done(*e);
    }
  }
  rearm_.clear();
  int rc;
  if (timeout_ms == 0) {
    rc = io_uring_submit_and_get_events(&ring_);
  } else if (timeout_ms < 0) {
    rc = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
    io_uring_cqe* first = nullptr;
    rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
  }
  if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY) {
    throw_error(-rc, "io_uring_enter");
  }
}

void UringPoller::dispatch() {
  // Each completion is copied and marked seen before its handler runs: a handler may queue
  // requests (and submit them, if the queue fills) without touching this walk.
  io_uring_cqe* cqe;
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    const uint64_t tag = io_uring_cqe_get_data64(cqe);
    const int res = cqe->res;
    const uint32_t flags = cqe->flags;
    io_uring_cqe_seen(&ring_, cqe);
    if (tag != kIgnored) on_completion(tag, res, flags);
  }
}

void UringPoller::on_completion(uint64_t tag, int res, uint32_t flags) {
  Entry& e = *reinterpret_cast<Entry*>(tag);
  if (e.receive) {
    on_receive(e, res, flags);
  } else {
    on_poll(e, res);
  }
}

void UringPoller::on_poll(Entry& e, int res) {
  e.in_flight = false;  // one-shot
  if (e.handler) {
    // A failed poll (the descriptor went bad) is reported as an error and not re-armed.
    const bool failed = res < 0;
    e.handler->on_io(failed ? EPOLLERR : static_cast<uint32_t>(res));
    if (!failed && e.handler && !e.in_flight && !e.queued) {
      e.queued = true;
      rearm_.push_back(&e);
    }
  }
  release_if_done(e);
}

void UringPoller::on_receive(Entry& e, int res, uint32_t flags) {
  if (!(flags & IORING_CQE_F_MORE)) e.in_flight = false;
  if (flags & IORING_CQE_F_BUFFER) {
    const unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
    if (res > 0 && e.target.target) {
      e.target.deliver(e.target.target, buffers_ + id * kBufferSize, res);
    }
    give_back(id);  // the target copied out whatever must outlive this call
  } else if (e.target.target && res != -ENOBUFS && res <= 0) {
    e.target.deliver(e.target.target, nullptr, res);  // EOF or an error: the end of it
    return release_if_done(e);
  }
  if (e.target.target && !e.in_flight && !e.queued && (res > 0 || res == -ENOBUFS)) {
    e.queued = true;
    rearm_.push_back(&e);
  }
  release_if_done(e);
}

}  // namespace

std::unique_ptr<Poller> make_uring_poller() { return std::make_unique<UringPoller>(); }

}  // namespace duplex::io
