// libFuzzer target for permessage-deflate's inflate path.
//
// Input layout: byte 0 picks the output limit (bits 0-2), the window (bits 3-5: 8 + value),
// context takeover (bit 6) and a shared inflater (bit 7); byte 1 picks a split point; bytes 2..
// are a stream of server frames (the receiver runs as a client, so frames are unmasked and RSV1
// marks compressed messages). The stream is fed whole, in two pieces, and (when short) one byte
// at a time: every run must report the same events (but for distances past the window, below),
// inflated messages must fit the limit and text must be UTF-8. The bytes are also inflated directly
// as one message, whose output (and its buffer's capacity) must stay within the limit, and
// compressed and inflated back, which must give them back unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;

constexpr uint64_t kLimits[8] = {0, 1, 64, 200, 1000, 4096, 65536, uint64_t{1} << 22};

struct Event {
  int kind;  // 0 text, 1 binary, 2 ping, 3 pong, 4 close, 5 error
  uint16_t code;
  std::string data;
  bool operator==(const Event&) const = default;
};

class Recorder : public ReceiverEvents {
 public:
  explicit Recorder(uint64_t limit) : limit_(limit) {}
  void on_message(MessageType type, std::string_view payload) override {
    check(payload.size() <= limit_);
    if (type == MessageType::text) check(is_valid_utf8(payload));
    events.push_back({type == MessageType::text ? 0 : 1, 0, std::string(payload)});
  }
  void on_ping(std::string_view payload) override {
    events.push_back({2, 0, std::string(payload)});
  }
  void on_pong(std::string_view payload) override {
    events.push_back({3, 0, std::string(payload)});
  }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back({4, code, std::string(reason)});
  }
  void on_protocol_error(uint16_t code, std::string_view) override {
    check(code == close_code::kProtocolError || code == close_code::kInvalidPayload ||
          code == close_code::kMessageTooBig);
    events.push_back({5, code, {}});
  }
  std::vector<Event> events;

 private:
  uint64_t limit_;
};

struct Setup {
  uint64_t limit;
  int window_bits;
  bool no_takeover;
  bool shared;
};

std::vector<Event> run(const Setup& s, std::string_view stream, const std::vector<size_t>& cuts) {
  Inflater inflater(s.window_bits, s.no_takeover || s.shared);
  Receiver receiver(Role::client, s.limit);
  receiver.set_inflater(&inflater, s.shared);
  Recorder rec(s.limit);
  size_t start = 0;
  auto feed = [&](size_t end) {
    std::string piece(stream.substr(start, end - start));
    receiver.feed(piece.data(), piece.size(), rec);
    start = end;
  };
  for (size_t cut : cuts) feed(cut);
  feed(stream.size());
  return rec.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Setup setup{kLimits[data[0] & 7], 8 + ((data[0] >> 3) & 7), (data[0] & 0x40) != 0,
                    (data[0] & 0x80) != 0};
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t split = data[1] < 128 ? std::min<size_t>(data[1], stream.size())
                                     : stream.size() * (data[1] - 128u) / 127u;

  const std::vector<Event> whole = run(setup, stream, {});
  // How the reads fall must not change the events, with one exception that is zlib's: it lets a
  // match reach past the window into bytes the same inflate call wrote, so a distance longer than
  // the negotiated window (which no conforming peer sends; zlib's own compressor stays 262 bytes
  // inside its window) is refused or let through depending on the reads. Such a stream decodes
  // alike at every split with the largest window, and each narrow run is that decoding, or a
  // prefix of it ended by 1007 where the distance was refused.
  auto within_wide = [](const std::vector<Event>& narrow, const std::vector<Event>& wide) {
    if (narrow == wide) return true;
    if (narrow.empty() || narrow.back() != Event{5, close_code::kInvalidPayload, {}}) return false;
    const size_t kept = narrow.size() - 1;
    return kept <= wide.size() && std::equal(narrow.begin(), narrow.begin() + kept, wide.begin());
  };
  auto same_events = [&](const std::vector<size_t>& cuts) {
    const std::vector<Event> pieces = run(setup, stream, cuts);
    if (pieces == whole) return true;
    if (setup.window_bits == 15) return false;
    Setup wide = setup;
    wide.window_bits = 15;
    const std::vector<Event> wide_whole = run(wide, stream, {});
    return run(wide, stream, cuts) == wide_whole && within_wide(whole, wide_whole) &&
           within_wide(pieces, wide_whole);
  };
  check(same_events({split}));
  if (stream.size() <= 2048) {
    std::vector<size_t> every;
    for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
    check(same_events(every));
  }

  // The raw bytes as one compressed message, fed in two pieces.
  Inflater direct(setup.window_bits, setup.no_takeover);
  std::string out;
  Inflater::Result r = direct.feed(stream.substr(0, split), out, setup.limit);
  if (r == Inflater::Result::ok) r = direct.feed(stream.substr(split), out, setup.limit);
  if (r == Inflater::Result::ok) r = direct.finish(out, setup.limit);
  check(out.size() <= setup.limit);
  if (setup.limit >= 64) check(out.capacity() <= setup.limit);

  // Compressing and inflating gives the bytes back.
  if (setup.window_bits > 8) {
    Deflater deflater(setup.window_bits, setup.no_takeover);
    Inflater back(setup.window_bits, setup.no_takeover);
    for (int i = 0; i < 2; ++i) {  // twice: the second message may refer to the first
      std::string compressed, restored;
      check(deflater.compress(stream, compressed));
      check(back.feed(compressed, restored, stream.size()) == Inflater::Result::ok);
      check(back.finish(restored, stream.size()) == Inflater::Result::ok);
      check(restored == stream);
    }
  }
  return 0;
}
