// UTF-8 validation of whole texts; BM_Memcpy (memcpy_bench.cpp) of the same sizes is the ceiling
// to read them against.
#include <benchmark/benchmark.h>

#include <string>

#include "duplex/core/text/utf8.hpp"

namespace {

std::string ascii_text(size_t size) {
  std::string s;
  while (s.size() < size) s += "The quick brown fox jumps over the lazy dog. 0123456789\n";
  s.resize(size);
  return s;
}

// Latin, Greek, Cyrillic, CJK and emoji: one-, two-, three- and four-byte sequences. Cut at a
// character boundary, then padded with ASCII to the exact size.
std::string mixed_text(size_t size) {
  const std::string piece = "Grüße, Καλημέρα, Привет, 你好世界, 🙂🚀 ok. ";
  std::string s;
  while (s.size() + piece.size() <= size) s += piece;
  s.append(size - s.size(), 'a');
  return s;
}

void run_validation(benchmark::State& state, const std::string& text) {
  bool valid = true;
  for (auto _ : state) {
    valid = duplex::core::is_valid_utf8(text);
    benchmark::DoNotOptimize(valid);
  }
  if (!valid) state.SkipWithError("the text was judged invalid");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_Utf8Ascii(benchmark::State& state) {
  run_validation(state, ascii_text(static_cast<size_t>(state.range(0))));
}

void BM_Utf8Mixed(benchmark::State& state) {
  run_validation(state, mixed_text(static_cast<size_t>(state.range(0))));
}

BENCHMARK(BM_Utf8Ascii)->Arg(512)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_Utf8Mixed)->Arg(512)->Arg(16 << 10)->Arg(1 << 20);

}  // namespace
