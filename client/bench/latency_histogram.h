// A log-linear latency histogram: fixed memory (a few KiB) however long a
// run lasts, with every recorded value kept to within ~3% (32 sub-buckets
// per power of two of microseconds). Not thread-safe: each kvbench loop owns
// one, and they are merged for a report.
#ifndef QUORUMKV_CLIENT_BENCH_LATENCY_HISTOGRAM_H_
#define QUORUMKV_CLIENT_BENCH_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace quorumkv {

class LatencyHistogram {
 public:
  void Record(absl::Duration latency);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  absl::Duration max() const { return absl::Microseconds(max_us_); }
  // The latency below which a `quantile` (0..1) of recorded values lie,
  // rounded up to its bucket's upper bound; zero when nothing was recorded.
  absl::Duration Percentile(double quantile) const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  // Values up to 2^40 us (~12 days): far beyond any deadline.
  static constexpr int kBuckets = kSub * (40 - kSubBits + 1);
  static int BucketOf(uint64_t us);
  static uint64_t UpperBound(int bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_BENCH_LATENCY_HISTOGRAM_H_
