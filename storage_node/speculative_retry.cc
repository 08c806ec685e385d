#include "storage_node/speculative_retry.h"

#include <algorithm>

namespace quorumkv {

SpeculativeRetry::SpeculativeRetry() {
  absl::MutexLock lock(&mu_);
  samples_.reserve(kWindow);
}

void SpeculativeRetry::Record(absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  if (samples_.size() < kWindow) {
    samples_.push_back(latency);
  } else {
    samples_[next_] = latency;
    next_ = (next_ + 1) % kWindow;
  }
  if (++since_recompute_ < kRecomputeEvery) return;
  since_recompute_ = 0;
  std::vector<absl::Duration> sorted = samples_;
  auto p99 = sorted.begin() + (sorted.size() * 99) / 100;
  std::nth_element(sorted.begin(), p99, sorted.end());
  threshold_ = std::clamp(*p99, kFloor, kCeiling);
}

absl::Duration SpeculativeRetry::Threshold() const {
  absl::MutexLock lock(&mu_);
  return threshold_;
}

}  // namespace quorumkv
