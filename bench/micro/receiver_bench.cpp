// Frame parsing and unmasking through core::Receiver, as a server receives: masked binary
// frames of one size back to back in one buffer, fed in one call (one read's worth).
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "duplex/core/ws/sender.hpp"

namespace {

using duplex::core::MessageType;

class CountingEvents final : public duplex::core::ReceiverEvents {
 public:
  void on_message(MessageType, std::string_view payload) override {
    benchmark::DoNotOptimize(payload.data());
    ++messages;
  }
  void on_ping(std::string_view) override {}
  void on_pong(std::string_view) override {}
  void on_close(uint16_t, std::string_view) override {}
  void on_protocol_error(uint16_t, std::string_view) override { failed = true; }

  size_t messages = 0;
  bool failed = false;
};

// Frames totalling at least 256 KiB (or one frame when larger), so small frames measure the
// per-frame cost over many frames rather than the call overhead.
std::string masked_frames(size_t payload_size, size_t& frames) {
  const std::string payload(payload_size, 'x');
  frames = payload_size >= 256 * 1024 ? 1 : 256 * 1024 / payload_size;
  std::string out;
  for (size_t i = 0; i < frames; ++i) {
    duplex::core::append_masked_frame(out, duplex::core::Opcode::binary, payload,
                                      duplex::core::random_mask_key());
  }
  return out;
}

void BM_ReceiverParseUnmask(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  size_t frames = 0;
  std::string buffer = masked_frames(size, frames);
  duplex::core::Receiver receiver(duplex::core::Role::server, 64 << 20);
  CountingEvents events;
  for (auto _ : state) {
    // Unmasking is in place, so each pass flips the payloads between masked and plain; binary
    // payloads are not inspected, and the headers (with their keys) are left as they were.
    receiver.feed(buffer.data(), buffer.size(), events);
  }
  if (events.failed || events.messages != frames * state.iterations()) {
    state.SkipWithError("the receiver did not deliver every frame");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frames * size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}
BENCHMARK(BM_ReceiverParseUnmask)->Arg(16)->Arg(512)->Arg(16 << 10)->Arg(1 << 20);

}  // namespace
