// The sending side: framing a server message, and masking (what a client does to every byte).
#include <benchmark/benchmark.h>

#include <string>

#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/sender.hpp"

namespace {

using namespace duplex::core;

void BM_AppendFrame(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'x');
  std::string out;
  for (auto _ : state) {
    out.clear();  // keeps the capacity, as a connection's reused send queue does
    append_frame(out, Opcode::binary, payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_AppendFrame)->Arg(16)->Arg(512)->Arg(16 << 10)->Arg(1 << 20);

void BM_ApplyMask(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  const MaskKey key{0x12, 0x34, 0x56, 0x78};
  for (auto _ : state) {
    apply_mask(data.data(), data.size(), key);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_ApplyMask)->Arg(16)->Arg(512)->Arg(16 << 10)->Arg(1 << 20);

}  // namespace
