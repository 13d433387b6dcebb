// memcpy as a yardstick: the ceiling for UTF-8 validation and unmasking, and the copy behind
// framing. BM_Memcpy copies between page-aligned buffers. BM_MemcpyDestPlus4 copies to 4 bytes
// past a page-aligned destination, as appending a payload after a 4-byte frame header into a
// page-aligned buffer does: source and destination then sit 4 bytes apart modulo the page size,
// which some CPUs' `rep movsb` (used by glibc for mid-sized copies) handles far more slowly.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <new>

namespace {

constexpr size_t kPage = 4096;

struct AlignedDelete {
  void operator()(char* p) const { ::operator delete[](p, std::align_val_t{kPage}); }
};
using AlignedBuffer = std::unique_ptr<char[], AlignedDelete>;

AlignedBuffer aligned_buffer(size_t size, char fill) {
  AlignedBuffer buffer(static_cast<char*>(::operator new[](size, std::align_val_t{kPage})));
  std::memset(buffer.get(), fill, size);
  return buffer;
}

void copy_at(benchmark::State& state, size_t dest_offset) {
  const size_t size = static_cast<size_t>(state.range(0));
  const AlignedBuffer from = aligned_buffer(size, 'x');
  const AlignedBuffer to = aligned_buffer(size + dest_offset, '\0');
  for (auto _ : state) {
    std::memcpy(to.get() + dest_offset, from.get(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_Memcpy(benchmark::State& state) { copy_at(state, 0); }
void BM_MemcpyDestPlus4(benchmark::State& state) { copy_at(state, 4); }

BENCHMARK(BM_Memcpy)->Arg(512)->Arg(4 << 10)->Arg(16 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_MemcpyDestPlus4)->Arg(512)->Arg(4 << 10)->Arg(16 << 10)->Arg(64 << 10)->Arg(1 << 20);

}  // namespace
