// libFuzzer target for the frame receiver.
//
// Input layout: byte 0 picks the role (bit 7) and max_payload (bits 0-2); byte 1 picks where to
// split the rest (see below); bytes 2.. are the stream. The stream is fed whole, in two pieces at
// the split, and (when short) one byte at a time, each time into fresh copies since the receiver
// unmasks in place. Every run must report the same events, and the events must respect the
// receiver's guarantees: text is valid UTF-8, messages fit max_payload, control payloads fit 125
// bytes, close codes are valid, and nothing follows a close or a protocol error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;

// Small limits so that short inputs reach the 1009 paths; 16 MiB as a realistic large limit.
constexpr uint64_t kMaxPayloads[8] = {0, 64, 125, 200, 1000, 4096, 65536, uint64_t{1} << 24};

struct Event {
  enum Kind { text, binary, ping, pong, close, error };
  Kind kind;
  uint16_t code;
  std::string data;
  bool operator==(const Event&) const = default;
};

class Recorder : public ReceiverEvents {
 public:
  explicit Recorder(uint64_t max_payload) : max_payload_(max_payload) {}

  void on_message(MessageType type, std::string_view payload) override {
    check(!ended_);
    check(type == MessageType::text || type == MessageType::binary);
    check(payload.size() <= max_payload_);
    if (type == MessageType::text) check(is_valid_utf8(payload));
    events.push_back(
        {type == MessageType::text ? Event::text : Event::binary, 0, std::string(payload)});
  }
  void on_ping(std::string_view payload) override {
    check(!ended_);
    check(payload.size() <= kMaxControlPayload);
    events.push_back({Event::ping, 0, std::string(payload)});
  }
  void on_pong(std::string_view payload) override {
    check(!ended_);
    check(payload.size() <= kMaxControlPayload);
    events.push_back({Event::pong, 0, std::string(payload)});
  }
  void on_close(uint16_t code, std::string_view reason) override {
    check(!ended_);
    ended_ = true;
    check(code == close_code::kNoStatus || close_code::is_valid_on_wire(code));
    check(code != close_code::kNoStatus || reason.empty());
    check(reason.size() <= kMaxControlPayload - 2);
    check(is_valid_utf8(reason));
    events.push_back({Event::close, code, std::string(reason)});
  }
  void on_protocol_error(uint16_t code, std::string_view reason) override {
    check(!ended_);
    ended_ = true;
    check(code == close_code::kProtocolError || code == close_code::kInvalidPayload ||
          code == close_code::kMessageTooBig);
    check(!reason.empty());
    events.push_back({Event::error, code, {}});
  }

  bool ended() const { return ended_; }
  std::vector<Event> events;

 private:
  uint64_t max_payload_;
  bool ended_ = false;
};

// Feeds `stream` cut at the sorted `cuts`; returns the events.
std::vector<Event> run(Role role, uint64_t max_payload, std::string_view stream,
                       const std::vector<size_t>& cuts) {
  Receiver receiver(role, max_payload);
  Recorder rec(max_payload);
  size_t start = 0;
  auto feed = [&](size_t end) {
    std::string piece(stream.substr(start, end - start));
    const bool halted_before = receiver.halted();
    const size_t n = receiver.feed(piece.data(), piece.size(), rec);
    check(n <= piece.size());
    if (halted_before) check(n == 0);
    if (!receiver.halted()) check(n == piece.size());
    start = end;
  };
  for (size_t cut : cuts) feed(cut);
  feed(stream.size());
  check(rec.ended() == (!rec.events.empty() && (rec.events.back().kind == Event::close ||
                                                rec.events.back().kind == Event::error)));
  if (rec.ended()) check(receiver.halted());
  // Once halted, more input changes nothing.
  if (receiver.halted()) {
    std::string more(stream.substr(0, 16));
    const size_t before = rec.events.size();
    check(receiver.feed(more.data(), more.size(), rec) == 0);
    check(rec.events.size() == before);
  }
  return rec.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Role role = (data[0] & 0x80) ? Role::client : Role::server;
  const uint64_t max_payload = kMaxPayloads[data[0] & 7];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  // Split points below 128 are exact (headers and small frames); higher values scale over the
  // whole stream.
  const size_t split = data[1] < 128 ? std::min<size_t>(data[1], stream.size())
                                     : stream.size() * (data[1] - 128u) / 127u;

  const std::vector<Event> whole = run(role, max_payload, stream, {});
  check(run(role, max_payload, stream, {split}) == whole);
  if (stream.size() <= 4096) {
    std::vector<size_t> every;
    for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
    check(run(role, max_payload, stream, every) == whole);
  }
  return 0;
}
