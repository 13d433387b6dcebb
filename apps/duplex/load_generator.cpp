#include "load_generator.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/sender.hpp"

namespace duplex::app {

namespace {

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

std::function<std::string(size_t)> event_stream_target(const LoadOptions& options) {
  if (options.event_stream_target.empty()) return nullptr;
  return [target = options.event_stream_target](size_t) { return target; };
}

// Bytes of a Socket.IO echo compared with what was sent.
constexpr size_t kSocketIoCheckedBytes = 64;
// A SockJS message's tag: 8 hex digits, its send's number modulo the ring's size.
constexpr size_t kSockjsTagDigits = 8;
// Seconds the echoes still in flight when the window ends are waited for (SockJS).
constexpr double kDrainTimeout = 10;

void write_tag(char* out, uint32_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = static_cast<int>(kSockjsTagDigits) - 1; i >= 0; --i, value >>= 4)
    out[i] = kDigits[value & 15];
}

// What echo traffic keeps per connection, beside the pool's own state.
struct Flight {
  uint32_t outstanding = 0;             // messages sent and not yet echoed
  uint32_t oldest = 0;                  // ring index of the oldest send time
  uint32_t echoed = 0;                  // echoes of the current read, answered at its end
  uint32_t sent = 0;                    // SockJS: messages sent, modulo the ring's size
  uint32_t received = 0;                // SockJS: echoes received, modulo the ring's size
  std::unique_ptr<uint64_t[]> sent_at;  // ring of send times, one per message in flight
};

class Engine final : public ClientPool::Handler {
 public:
  Engine(const LoadOptions& options, LoadGenerator& owner)
      : options_(options),
        owner_(owner),
        pool_({.target = options.target,
               .deflate = options.deflate,
               .head_bytes = options.socketio ? kSocketIoCheckedBytes : 0,
               .http_target = event_stream_target(options),
               .socketio = options.socketio,
               .sockjs = options.sockjs,
               .stomp = options.stomp},
              static_cast<size_t>(options.connections), *this),
        flights_(static_cast<size_t>(options.connections)) {
    payload_ = make_payload(options_);
    if (options_.sockjs) {
      // A ring of frames `["<tag><text>"]`, tags 0..ring-1, then the first `inflight` again,
      // so that any `inflight` consecutive sends are one slice of it.
      ring_ = static_cast<uint32_t>(std::max(16, 2 * options_.inflight));
      for (uint32_t r = 0; r < ring_ + static_cast<uint32_t>(options_.inflight); ++r) {
        std::string message = "[\"" + payload_ + "\"]";
        write_tag(message.data() + 2, r % ring_);
        core::append_masked_frame(batch_, core::Opcode::text, message, core::random_mask_key());
        if (r == 0) frame_ = batch_;
      }
      for (Flight& f : flights_) f.sent_at = std::make_unique<uint64_t[]>(options_.inflight);
      return;
    }
    const core::Opcode opcode = options_.binary ? core::Opcode::binary : core::Opcode::text;
    // One masked frame, sent again and again (servers unmask it; the key is random per run).
    // Compressed without context takeover, every message compresses to the same bytes.
    if (options_.deflate) {
      core::Deflater deflater(15, true);
      std::string compressed;
      if (!deflater.compress(payload_, compressed)) throw std::runtime_error("zlib failed");
      core::append_masked_frame(frame_, opcode, compressed, core::random_mask_key(), true, true);
    } else {
      core::append_masked_frame(frame_, opcode, payload_, core::random_mask_key());
    }
    for (int i = 0; i < options_.inflight; ++i) batch_ += frame_;
    for (Flight& f : flights_) f.sent_at = std::make_unique<uint64_t[]>(options_.inflight);
  }

  LoadResult run() {
    const size_t all = flights_.size();
    const size_t baseline =
        static_cast<size_t>(std::clamp(options_.baseline_connections, 0, options_.connections));
    if (baseline > 0) {
      // Opened first so that one-time costs (code paged in, pools filled) are in the baseline.
      connect(0, baseline);
      result_.baseline_opened = pool_.open_count();
      report(Progress::Phase::baseline, 0, 0, ProgressMoment::ended);
    }
    connect(baseline, all);
    if (pool_.open_count() > 0) {
      if (options_.idle) {
        run_phase(Progress::Phase::holding, options_.duration_seconds);
      } else {
        sending_ = true;
        const uint64_t now = now_ns();
        for (size_t i = 0; i < all; ++i) {
          if (pool_.is_open(i)) send_messages(i, static_cast<uint32_t>(options_.inflight), now);
        }
        run_phase(Progress::Phase::warming_up, options_.warmup_seconds);
        result_.window = LoadWindow{};
        measuring_ = true;
        result_.window.seconds = run_phase(Progress::Phase::measuring, options_.duration_seconds);
        measuring_ = false;
        sending_ = false;
        if (options_.sockjs) drain();
      }
      pool_.close_all();
      report(Progress::Phase::done, 0, 0, ProgressMoment::started);
    }
    pool_.tell(result_);
    return std::move(result_);
  }

  void on_message(size_t index, const ReceivedMessage& m, uint64_t now) override {
    Flight& f = flights_[index];
    if (!m.compressed && m.size != frame_payload_size()) {
      return pool_.fail(index, "echo of " + std::to_string(m.size) + " bytes, sent " +
                                   std::to_string(frame_payload_size()));
    }
    if (options_.socketio && std::string_view(reinterpret_cast<const char*>(m.head), m.head_size) !=
                                 std::string_view(payload_).substr(0, m.head_size)) {
      return pool_.fail(index, "not the emit sent: " + sample(m));
    }
    if (options_.sockjs && !sockjs_echo_matches(f, m)) {
      return pool_.fail(index, "not the message sent next (tag " + std::to_string(f.received) +
                                   "): " + sample(m));
    }
    if (f.outstanding == 0) return pool_.fail(index, "a message that was never sent");
    if (options_.sockjs) f.received = (f.received + 1) % ring_;
    const uint64_t sent = f.sent_at[f.oldest];
    f.oldest = (f.oldest + 1) % static_cast<uint32_t>(options_.inflight);
    --f.outstanding;
    ++f.echoed;
    ++phase_messages_;
    if (measuring_) {
      ++result_.window.messages;
      result_.window.bytes += m.size;
      result_.window.latency.record(now - sent);
    }
  }

  // Every echo of a read is answered by one write of as many messages.
  void on_read_end(size_t index, uint64_t now) override {
    Flight& f = flights_[index];
    const uint32_t echoed = f.echoed;
    f.echoed = 0;
    if (echoed > 0 && sending_) send_messages(index, echoed, now);
  }

 private:
  void connect(size_t first, size_t last) {
    report(Progress::Phase::connecting, 0, 0, ProgressMoment::started);
    pool_.connect(first, last, [this](double elapsed) {
      report(Progress::Phase::connecting, elapsed, 0, ProgressMoment::tick);
    });
  }

  double run_phase(Progress::Phase phase, double seconds) {
    phase_messages_ = 0;
    report(phase, 0, seconds, ProgressMoment::started);
    const double elapsed = pool_.run_for(
        seconds, [&](double t) { report(phase, t, seconds, ProgressMoment::tick); },
        [this] {
          return pool_.open_count() == 0 || (measuring_ && options_.max_messages > 0 &&
                                             result_.window.messages >= options_.max_messages);
        });
    report(phase, elapsed, seconds, ProgressMoment::ended);
    return elapsed;
  }

  size_t frame_payload_size() const {
    return options_.payload.empty() ? options_.message_size : options_.payload.size();
  }

  // A SockJS echo must be the next message sent: its tag, then the text after it.
  bool sockjs_echo_matches(const Flight& f, const ReceivedMessage& m) const {
    char tag[kSockjsTagDigits];
    write_tag(tag, f.received);
    return m.head_size == payload_.size() && std::memcmp(m.head, tag, sizeof tag) == 0 &&
           std::memcmp(m.head + sizeof tag, payload_.data() + sizeof tag,
                       payload_.size() - sizeof tag) == 0;
  }

  // After the window: every message still in flight must come back (SockJS).
  void drain() {
    const auto owed = [this] {
      uint64_t n = 0;
      for (size_t i = 0; i < flights_.size(); ++i) {
        if (pool_.is_open(i)) n += flights_[i].outstanding;
      }
      return n;
    };
    pool_.run_for(kDrainTimeout, nullptr, [&] { return pool_.open_count() == 0 || owed() == 0; });
    for (size_t i = 0; i < flights_.size(); ++i) {
      if (pool_.is_open(i) && flights_[i].outstanding > 0) {
        pool_.fail(i, std::to_string(flights_[i].outstanding) + " messages never echoed (" +
                          std::to_string(static_cast<int>(kDrainTimeout)) +
                          " s after sending stopped)");
      }
    }
  }

  void send_messages(size_t index, uint32_t count, uint64_t now) {
    Flight& f = flights_[index];
    const auto k = static_cast<uint32_t>(options_.inflight);
    for (uint32_t i = 0; i < count; ++i) f.sent_at[(f.oldest + f.outstanding + i) % k] = now;
    f.outstanding += count;
    if (options_.sockjs) {
      pool_.send(index, batch_.data() + frame_.size() * f.sent, frame_.size() * count);
      f.sent = (f.sent + count) % ring_;
      return;
    }
    pool_.send(index, batch_.data(), frame_.size() * count);
  }

  void report(Progress::Phase phase, double elapsed, double seconds, ProgressMoment moment) {
    if (!owner_.on_progress) return;
    owner_.on_progress(Progress{phase, elapsed, seconds, pool_.open_count(), phase_messages_},
                       moment);
  }

  const LoadOptions& options_;
  LoadGenerator& owner_;
  ClientPool pool_;
  std::vector<Flight> flights_;
  std::string payload_;  // the message
  std::string frame_;    // one masked message
  std::string batch_;    // `inflight` copies of it, so any number of sends is one write
  uint32_t ring_ = 0;    // SockJS: the tags' modulus; batch_ is ring_ + inflight frames
  LoadResult result_;
  uint64_t phase_messages_ = 0;
  bool sending_ = false;
  bool measuring_ = false;
};

}  // namespace

LoadResult LoadGenerator::run() {
  if (options_.connections < 1) throw std::invalid_argument("connections must be at least 1");
  if (options_.inflight < 1) throw std::invalid_argument("inflight must be at least 1");
  if (!options_.event_stream_target.empty() && !options_.idle) {
    throw std::invalid_argument("event streams are only held idle here");
  }
  if (options_.stomp && !options_.idle) {
    throw std::invalid_argument("STOMP clients are only held idle here");
  }
  Engine engine(options_, *this);
  return engine.run();
}

}  // namespace duplex::app
