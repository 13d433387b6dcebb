#include "load_generator.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "duplex/core/client_handshake.hpp"
#include "duplex/core/deflate_codec.hpp"
#include "duplex/core/frame.hpp"
#include "duplex/core/mask.hpp"
#include "duplex/core/sender.hpp"
#include "duplex/io/tls.hpp"

namespace duplex::app {

namespace {

constexpr size_t kReceiveBufferSize = 256 * 1024;
constexpr double kHandshakeTimeout = 10;
constexpr size_t kMaxReportedErrors = 5;

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

std::string make_payload(const LoadOptions& options) {
  if (!options.payload.empty()) return options.payload;
  std::string payload(options.message_size, '\0');
  if (options.binary) {
    uint32_t x = 2463534242u;  // xorshift: varied bytes, repeatable
    for (char& c : payload) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      c = static_cast<char>(x);
    }
  } else {
    static constexpr std::string_view kText = "abcdefghijklmnopqrstuvwxyz0123456789 ";
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = kText[i % kText.size()];
  }
  return payload;
}

struct Connection {
  enum class State : uint8_t { idle, connecting, tls_handshaking, handshaking, open, closed };

  int fd = -1;
  SSL* ssl = nullptr;  // wss:// only
  State state = State::idle;
  bool want_write = false;  // EPOLLOUT armed
  uint8_t header_len = 0;   // bytes of a frame header split across reads
  uint8_t header[core::kMaxFrameHeader];
  uint8_t opcode = 0;  // of the frame being read
  bool fin = false;
  bool compressed = false;     // the message being read has RSV1 (its size is not checked)
  uint64_t payload_left = 0;   // of the frame being read
  uint64_t message_bytes = 0;  // of the message being read, all fragments
  uint32_t outstanding = 0;    // messages sent and not yet echoed
  uint32_t oldest = 0;         // ring index of the oldest send time
  uint64_t opened_at = 0;
  std::unique_ptr<uint64_t[]> sent_at;  // ring of send times, one per message in flight
  std::string pending;                  // bytes a short write left over
  std::unique_ptr<core::ClientHandshake> handshake;
  std::string response;
};

class Engine {
 public:
  Engine(const LoadOptions& options, LoadGenerator& owner)
      : options_(options), owner_(owner), connections_(options.connections) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
    buffer_ = std::make_unique<char[]>(kReceiveBufferSize);
    const std::string payload = make_payload(options_);
    const core::Opcode opcode = options_.binary ? core::Opcode::binary : core::Opcode::text;
    // One masked frame, sent again and again (servers unmask it; the key is random per run).
    // Compressed without context takeover, every message compresses to the same bytes.
    if (options_.deflate) {
      core::Deflater deflater(15, true);
      std::string compressed;
      if (!deflater.compress(payload, compressed)) throw std::runtime_error("zlib failed");
      core::append_masked_frame(frame_, opcode, compressed, core::random_mask_key(), true, true);
    } else {
      core::append_masked_frame(frame_, opcode, payload, core::random_mask_key());
    }
    for (int i = 0; i < options_.inflight; ++i) batch_ += frame_;
  }

  ~Engine() {
    for (Connection& c : connections_) drop(c);
    ::close(epoll_fd_);
  }

  LoadResult run() {
    const size_t baseline =
        static_cast<size_t>(std::clamp(options_.baseline_connections, 0, options_.connections));
    if (baseline > 0) {
      // Opened first so that one-time costs (code paged in, pools filled) are in the baseline.
      connect_range(0, baseline);
      result_.baseline_opened = result_.opened;
      report(Progress::Phase::baseline, 0, 0, LoadGenerator::Moment::ended);
    }
    connect_range(baseline, connections_.size());
    if (result_.opened == 0) return std::move(result_);
    if (options_.idle) {
      run_phase(Progress::Phase::holding, options_.duration_seconds);
    } else {
      sending_ = true;
      const uint64_t now = now_ns();
      for (Connection& c : connections_) {
        if (c.state == Connection::State::open) send_messages(c, options_.inflight, now);
      }
      run_phase(Progress::Phase::warming_up, options_.warmup_seconds);
      result_.window = LoadWindow{};
      measuring_ = true;
      const uint64_t start = now_ns();
      run_phase(Progress::Phase::measuring, options_.duration_seconds);
      result_.window.seconds = static_cast<double>(now_ns() - start) / 1e9;
      measuring_ = false;
      sending_ = false;
    }
    close_all();
    report(Progress::Phase::done, 0, 0, LoadGenerator::Moment::started);
    return std::move(result_);
  }

 private:
  // --- connecting --------------------------------------------------------------------------

  // Opens connections [first, last), a bounded number of handshakes at a time.
  void connect_range(size_t first, size_t last) {
    const uint64_t start = now_ns();
    report(Progress::Phase::connecting, 0, 0, LoadGenerator::Moment::started);
    uint64_t next_report = start + 1'000'000'000u;
    size_t next = first;
    while (true) {
      while (next < last && pending_ < options_.max_pending_connects) {
        start_connect(connections_[next], next);
        ++next;
      }
      if (next == last && pending_ == 0) break;
      poll(100);
      const uint64_t now = now_ns();
      expire_handshakes(now);
      if (now >= next_report) {
        report(Progress::Phase::connecting, seconds_since(start, now), 0,
               LoadGenerator::Moment::tick);
        next_report += 1'000'000'000u;
      }
    }
  }

  void start_connect(Connection& c, size_t index) {
    const io::SocketAddress* source =
        options_.sources.empty() ? nullptr : &options_.sources[index % options_.sources.size()];
    c.fd = io::connect_tcp(options_.address, source);
    if (c.fd < 0) return error(c, std::string("connect: ") + std::strerror(errno));
    std::array<uint8_t, 16> key{};
    if (RAND_bytes(key.data(), key.size()) != 1) throw std::runtime_error("RAND_bytes failed");
    core::ClientHandshakeOptions offer;
    if (options_.deflate) {
      offer.extensions = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    }
    c.handshake = std::make_unique<core::ClientHandshake>(options_.url, offer, key);
    c.state = Connection::State::connecting;
    c.opened_at = now_ns();
    c.sent_at = std::make_unique<uint64_t[]>(options_.inflight);
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
    c.want_write = true;
    ++pending_;
  }

  void on_connected(Connection& c) {
    const int err = io::connect_error(c.fd);
    if (err != 0) return error(c, std::string("connect: ") + std::strerror(err));
    if (options_.tls) {
      c.ssl = SSL_new(options_.tls->context());
      if (!c.ssl) return error(c, "TLS: " + openssl_reason());
      SSL_set_fd(c.ssl, c.fd);
      // Partial writes behave like send(); a retry may come from another buffer (pending).
      SSL_set_mode(c.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      const std::string& host = options_.url.host;
      if (!io::is_numeric_host(host)) SSL_set_tlsext_host_name(c.ssl, host.c_str());
      if (!options_.tls->insecure() && SSL_set1_host(c.ssl, host.c_str()) != 1) {
        return error(c, "TLS: cannot check the certificate against " + host);
      }
      c.state = Connection::State::tls_handshaking;
      return continue_tls_handshake(c);
    }
    start_upgrade(c);
  }

  void continue_tls_handshake(Connection& c) {
    const int result = SSL_connect(c.ssl);
    if (result == 1) return start_upgrade(c);
    const int reason = SSL_get_error(c.ssl, result);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
      set_write_interest(c, reason == SSL_ERROR_WANT_WRITE);
      return;
    }
    error(c, "TLS handshake failed: " + openssl_reason());
  }

  static std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "connection closed";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : text;
  }

  void start_upgrade(Connection& c) {
    c.state = Connection::State::handshaking;
    set_write_interest(c, false);
    write(c, c.handshake->request().data(), c.handshake->request().size());
  }

  // recv() or SSL_read(): bytes, 0 at the end, or -1 with errno (EAGAIN: nothing yet).
  ssize_t receive(Connection& c, char* buffer, size_t size) {
    if (!c.ssl) return ::recv(c.fd, buffer, size, 0);
    const int n = SSL_read(c.ssl, buffer, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    const int reason = SSL_get_error(c.ssl, n);
    if (reason == SSL_ERROR_ZERO_RETURN) return 0;
    errno = reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
    return -1;
  }

  // send() or SSL_write(), with the same conventions.
  ssize_t transmit(Connection& c, const char* data, size_t len) {
    if (!c.ssl) return ::send(c.fd, data, len, MSG_NOSIGNAL);
    const int n = SSL_write(c.ssl, data, static_cast<int>(std::min<size_t>(len, INT32_MAX)));
    if (n > 0) return n;
    const int reason = SSL_get_error(c.ssl, n);
    errno = reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
    return -1;
  }

  void on_handshake_bytes(Connection& c, const char* data, size_t len) {
    c.response.append(data, len);
    const core::ClientHandshake::Result result = c.handshake->feed(c.response);
    if (result.status == core::ClientHandshake::Status::need_more) return;
    if (result.status != core::ClientHandshake::Status::accepted) {
      return error(c, result.status == core::ClientHandshake::Status::redirect
                          ? "handshake: redirected to " + result.location
                          : "handshake: " + result.error);
    }
    if (options_.deflate && result.extensions.find("permessage-deflate") == std::string::npos) {
      return error(c, "handshake: the server declined permessage-deflate");
    }
    if (result.consumed != c.response.size()) {
      return error(c, "handshake: server sent data before any message");
    }
    c.handshake.reset();
    std::string().swap(c.response);
    c.state = Connection::State::open;
    --pending_;
    ++result_.opened;
  }

  void expire_handshakes(uint64_t now) {
    const auto limit = static_cast<uint64_t>(kHandshakeTimeout * 1e9);
    for (Connection& c : connections_) {
      if (opening(c) && now - c.opened_at > limit) {
        error(c, "handshake timed out");
      }
    }
  }

  // --- traffic -----------------------------------------------------------------------------

  void run_phase(Progress::Phase phase, double seconds) {
    const uint64_t start = now_ns();
    const uint64_t end = start + static_cast<uint64_t>(seconds * 1e9);
    phase_messages_ = 0;
    report(phase, 0, seconds, LoadGenerator::Moment::started);
    uint64_t next_report = start + 1'000'000'000u;
    while (true) {
      const uint64_t now = now_ns();
      if (now >= end) break;
      if (now >= next_report) {
        report(phase, seconds_since(start, now), seconds, LoadGenerator::Moment::tick);
        next_report += 1'000'000'000u;
      }
      const uint64_t wait_ns = std::min(end, next_report) - now;
      poll(static_cast<int>(std::min<uint64_t>(wait_ns / 1'000'000u + 1, 100)));
      if (result_.opened == 0) break;
      if (measuring_ && options_.max_messages > 0 &&
          result_.window.messages >= options_.max_messages) {
        break;
      }
    }
    report(phase, seconds_since(start, now_ns()), seconds, LoadGenerator::Moment::ended);
  }

  void poll(int timeout_ms) {
    epoll_event events[256];
    const int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Connection& c = connections_[events[i].data.u64];
      if (c.fd < 0) continue;
      if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        if (c.state == Connection::State::connecting) {
          on_connected(c);
          continue;
        }
        if (c.state == Connection::State::tls_handshaking) {
          continue_tls_handshake(c);
          continue;
        }
        if (c.want_write && !c.pending.empty()) flush_pending(c);
      }
      if (c.fd < 0 || !(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      if (c.state == Connection::State::tls_handshaking) {
        continue_tls_handshake(c);
        continue;
      }
      // TLS may hold decrypted bytes the socket no longer shows: read until it has none.
      do {
        on_readable(c);
      } while (c.fd >= 0 && c.ssl && SSL_pending(c.ssl) > 0);
    }
  }

  void on_readable(Connection& c) {
    const ssize_t n = receive(c, buffer_.get(), kReceiveBufferSize);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return error(c, n == 0 ? "connection closed by the server"
                             : std::string("recv: ") + std::strerror(errno));
    }
    if (c.state == Connection::State::handshaking) {
      return on_handshake_bytes(c, buffer_.get(), static_cast<size_t>(n));
    }
    const uint64_t now = now_ns();
    const uint32_t echoed = read_frames(c, reinterpret_cast<const uint8_t*>(buffer_.get()),
                                        static_cast<size_t>(n), now);
    if (c.fd >= 0 && echoed > 0 && sending_) send_messages(c, echoed, now);
  }

  // Walks the server's frames: headers are parsed, payloads skipped. Returns the number of
  // complete messages (echoes) seen.
  uint32_t read_frames(Connection& c, const uint8_t* p, size_t len, uint64_t now) {
    uint32_t echoed = 0;
    const uint8_t* end = p + len;
    while (p < end) {
      if (c.payload_left > 0) {
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(c.payload_left, static_cast<uint64_t>(end - p)));
        p += take;
        c.payload_left -= take;
        if (c.payload_left > 0) break;
        if (!frame_done(c, now, echoed)) return echoed;
        continue;
      }
      // A header: whole in this read (the usual case), or gathered across reads.
      const uint8_t* h = p;
      size_t available = static_cast<size_t>(end - p);
      if (c.header_len > 0 || available < 2 ||
          available < core::header_size_from_second_byte(p[1])) {
        const size_t want = c.header_len < 2 ? 2 : core::header_size_from_second_byte(c.header[1]);
        const size_t take = std::min(want - c.header_len, available);
        std::memcpy(c.header + c.header_len, p, take);
        c.header_len += static_cast<uint8_t>(take);
        p += take;
        if (c.header_len < 2 || c.header_len < core::header_size_from_second_byte(c.header[1]))
          continue;
        h = c.header;
        c.header_len = 0;
      } else {
        p += core::header_size_from_second_byte(p[1]);
      }
      if (!start_frame(c, h)) return echoed;
      if (c.payload_left == 0 && !frame_done(c, now, echoed)) return echoed;
    }
    return echoed;
  }

  bool start_frame(Connection& c, const uint8_t* h) {
    c.fin = (h[0] & 0x80) != 0;
    c.opcode = h[0] & 0x0f;
    if (c.opcode != 0 && c.opcode < 8) c.compressed = (h[0] & 0x40) != 0;
    uint64_t len = h[1] & 0x7f;
    if (len == 126) {
      len = (uint64_t{h[2]} << 8) | h[3];
    } else if (len == 127) {
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
    }
    c.payload_left = len;
    if (c.opcode < 8) c.message_bytes += len;
    if (c.opcode == 8) {
      error(c, "server closed the connection");
      return false;
    }
    return true;
  }

  bool frame_done(Connection& c, uint64_t now, uint32_t& echoed) {
    if (c.opcode >= 8 || !c.fin) return true;  // ping/pong, or a fragment of a longer message
    const uint64_t size = c.message_bytes;
    c.message_bytes = 0;
    if (!c.compressed && size != frame_payload_size()) {
      error(c, "echo of " + std::to_string(size) + " bytes, sent " +
                   std::to_string(frame_payload_size()));
      return false;
    }
    if (c.outstanding == 0) {
      error(c, "a message that was never sent");
      return false;
    }
    const uint64_t sent = c.sent_at[c.oldest];
    c.oldest = (c.oldest + 1) % static_cast<uint32_t>(options_.inflight);
    --c.outstanding;
    ++echoed;
    ++phase_messages_;
    if (measuring_) {
      ++result_.window.messages;
      result_.window.bytes += size;
      result_.window.latency.record(now - sent);
    }
    return true;
  }

  size_t frame_payload_size() const {
    return options_.payload.empty() ? options_.message_size : options_.payload.size();
  }

  void send_messages(Connection& c, uint32_t count, uint64_t now) {
    const auto k = static_cast<uint32_t>(options_.inflight);
    for (uint32_t i = 0; i < count; ++i) c.sent_at[(c.oldest + c.outstanding + i) % k] = now;
    c.outstanding += count;
    write(c, batch_.data(), frame_.size() * count);
  }

  void write(Connection& c, const char* data, size_t len) {
    if (!c.pending.empty()) {
      c.pending.append(data, len);
      return;
    }
    const ssize_t n = transmit(c, data, len);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return error(c, std::string("send: ") + std::strerror(errno));
    }
    const size_t written = n > 0 ? static_cast<size_t>(n) : 0;
    if (written < len) {
      c.pending.assign(data + written, len - written);
      set_write_interest(c, true);
    }
  }

  void flush_pending(Connection& c) {
    const ssize_t n = transmit(c, c.pending.data(), c.pending.size());
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return error(c, std::string("send: ") + std::strerror(errno));
    }
    c.pending.erase(0, n > 0 ? static_cast<size_t>(n) : 0);
    if (c.pending.empty()) set_write_interest(c, false);
  }

  void set_write_interest(Connection& c, bool on) {
    epoll_event ev{};
    ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(&c - connections_.data());
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = on;
  }

  // --- ending ------------------------------------------------------------------------------

  void error(Connection& c, std::string what) {
    ++result_.errors;
    if (result_.first_errors.size() < kMaxReportedErrors) {
      result_.first_errors.push_back(std::move(what));
    }
    if (c.state == Connection::State::open) {
      --result_.opened;
    } else if (opening(c)) {
      --pending_;
    }
    drop(c);
  }

  static bool opening(const Connection& c) {
    return c.state == Connection::State::connecting ||
           c.state == Connection::State::tls_handshaking ||
           c.state == Connection::State::handshaking;
  }

  void drop(Connection& c) {
    if (c.ssl) SSL_free(c.ssl);
    c.ssl = nullptr;
    if (c.fd >= 0) ::close(c.fd);  // closing removes it from the epoll set
    c.fd = -1;
    c.state = Connection::State::closed;
    c.handshake.reset();
    c.pending.clear();
  }

  void close_all() {
    // A close frame (1000) so servers see a clean close; the echo of it is not awaited.
    std::string close_frame;
    static constexpr char kNormal[2] = {0x03, static_cast<char>(0xe8)};
    core::append_masked_frame(close_frame, core::Opcode::close, {kNormal, 2},
                              core::random_mask_key());
    for (Connection& c : connections_) {
      if (c.state == Connection::State::open && c.pending.empty()) {
        [[maybe_unused]] ssize_t n = transmit(c, close_frame.data(), close_frame.size());
      }
      drop(c);
    }
  }

  void report(Progress::Phase phase, double elapsed, double seconds, LoadGenerator::Moment moment) {
    if (!owner_.on_progress) return;
    owner_.on_progress(Progress{phase, elapsed, seconds, result_.opened, phase_messages_}, moment);
  }

  static double seconds_since(uint64_t start, uint64_t now) {
    return static_cast<double>(now - start) / 1e9;
  }

  const LoadOptions& options_;
  LoadGenerator& owner_;
  std::vector<Connection> connections_;
  std::unique_ptr<char[]> buffer_;
  std::string frame_;  // one masked message
  std::string batch_;  // `inflight` copies of it, so any number of sends is one write
  LoadResult result_;
  uint64_t phase_messages_ = 0;
  int epoll_fd_ = -1;
  int pending_ = 0;  // connections connecting or handshaking
  bool sending_ = false;
  bool measuring_ = false;
};

}  // namespace

LoadResult LoadGenerator::run() {
  if (options_.connections < 1) throw std::invalid_argument("connections must be at least 1");
  if (options_.inflight < 1) throw std::invalid_argument("inflight must be at least 1");
  Engine engine(options_, *this);
  return engine.run();
}

}  // namespace duplex::app
