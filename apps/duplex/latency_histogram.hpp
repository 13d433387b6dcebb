// A log-linear histogram of latencies in nanoseconds (the HdrHistogram idea in a few lines):
// values are bucketed by their highest set bit and the next kSubBits bits, so every bucket is
// within 1/2^kSubBits (about 3%) of the values it holds, from 1 ns to hours, in a fixed array.
// Recording is a few instructions and never allocates, so the load generator can record every
// message.
#pragma once

#include <array>
#include <cstdint>

namespace duplex::app {

class LatencyHistogram {
 public:
  void record(uint64_t ns);
  void merge(const LatencyHistogram& other);
  void clear() { *this = LatencyHistogram{}; }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  /// The value at quantile q (0..1): the upper edge of the bucket that holds it, capped at the
  /// largest value seen; 0 when empty.
  uint64_t quantile(double q) const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

  static int bucket_of(uint64_t ns);
  static uint64_t upper_edge(int bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace duplex::app
