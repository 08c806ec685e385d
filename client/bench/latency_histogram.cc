#include "client/bench/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace quorumkv {

int LatencyHistogram::BucketOf(uint64_t us) {
  if (us < kSub) return static_cast<int>(us);
  // The top kSubBits+1 bits of `us` pick the bucket: its exponent, then the
  // kSubBits bits below the leading one.
  const int exponent = 63 - __builtin_clzll(us) - kSubBits;  // >= 0
  const int bucket = (exponent + 1) * kSub +
                     static_cast<int>((us >> exponent) - kSub);
  return std::min(bucket, kBuckets - 1);
}

uint64_t LatencyHistogram::UpperBound(int bucket) {
  if (bucket < kSub) return bucket;
  const int exponent = bucket / kSub - 1;
  const uint64_t mantissa = kSub + bucket % kSub;
  return ((mantissa + 1) << exponent) - 1;
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t us = std::max<int64_t>(0, absl::ToInt64Microseconds(latency));
  ++buckets_[BucketOf(us)];
  ++count_;
  max_us_ = std::max<uint64_t>(max_us_, us);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
}

absl::Duration LatencyHistogram::Percentile(double quantile) const {
  if (count_ == 0) return absl::ZeroDuration();
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(quantile * count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // The last bucket also holds everything beyond it: only max is exact.
      if (i == kBuckets - 1) return max();
      return absl::Microseconds(std::min(UpperBound(i), max_us_));
    }
  }
  return max();
}

}  // namespace quorumkv
