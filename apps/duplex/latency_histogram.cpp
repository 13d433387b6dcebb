#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace duplex::app {

// Values below kSub get one bucket each; above, a value with its top bit at position b lands in
// row b - kSubBits + 1, column = the kSubBits bits after the top bit.
int LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns < kSub) return static_cast<int>(ns);
  const int top = 63 - std::countl_zero(ns);
  const int shift = top - kSubBits;
  const int row = shift + 1;
  const int column = static_cast<int>((ns >> shift) & (kSub - 1));
  return row * kSub + column;
}

uint64_t LatencyHistogram::upper_edge(int bucket) {
  const int row = bucket / kSub;
  const uint64_t column = static_cast<uint64_t>(bucket % kSub);
  if (row == 0) return column;
  const int shift = row - 1;
  const uint64_t low = (uint64_t{kSub} + column) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(uint64_t ns) {
  ++counts_[bucket_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(
      std::max(1.0, std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace duplex::app
