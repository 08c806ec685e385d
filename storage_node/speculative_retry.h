// When a quorum read asks one more replica: once the replicas asked first
// have taken longer than almost every recent read from a peer did (the 99th
// percentile of a window of recent latencies, Cassandra's speculative_retry
// = 99p). A paused or overloaded replica then costs a read that
// threshold, not its whole deadline. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_SPECULATIVE_RETRY_H_
#define QUORUMKV_STORAGE_NODE_SPECULATIVE_RETRY_H_

#include <cstddef>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

class SpeculativeRetry {
 public:
  // Bounds of the threshold: below the floor, ordinary scheduling noise on
  // a busy machine would double reads; above the ceiling, a stalled
  // replica would still cost too much.
  static constexpr absl::Duration kFloor = absl::Milliseconds(5);
  static constexpr absl::Duration kCeiling = absl::Milliseconds(500);
  // Until enough reads have been seen.
  static constexpr absl::Duration kInitial = absl::Milliseconds(50);

  SpeculativeRetry();

  // A peer's answer to a read took `latency`.
  void Record(absl::Duration latency);
  // How long to wait for the first replicas before asking another.
  absl::Duration Threshold() const;

 private:
  static constexpr size_t kWindow = 1024;
  // The percentile is recomputed after this many new samples, not on every
  // read.
  static constexpr size_t kRecomputeEvery = 64;

  mutable absl::Mutex mu_;
  std::vector<absl::Duration> samples_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  size_t since_recompute_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration threshold_ ABSL_GUARDED_BY(mu_) = kInitial;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_SPECULATIVE_RETRY_H_
