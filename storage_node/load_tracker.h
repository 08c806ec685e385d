// Counts the client reads and writes a storage node coordinates, for the
// reads/s and writes/s of its heartbeat. Thread-safe and lock-free.
#ifndef QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_
#define QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_

#include <atomic>
#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

class LoadTracker {
 public:
  void RecordRead() { reads_.fetch_add(1, std::memory_order_relaxed); }
  void RecordWrite() { writes_.fetch_add(1, std::memory_order_relaxed); }

  struct Rates {
    double reads_per_sec = 0;
    double writes_per_sec = 0;
  };
  // Rates since the previous call (or since construction).
  Rates Sample() {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - last_sample_);
    const uint64_t reads = reads_.load(), writes = writes_.load();
    Rates rates;
    if (seconds > 0) {
      rates.reads_per_sec = (reads - last_reads_) / seconds;
      rates.writes_per_sec = (writes - last_writes_) / seconds;
    }
    last_sample_ = now;
    last_reads_ = reads;
    last_writes_ = writes;
    return rates;
  }

 private:
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> writes_{0};

  absl::Mutex mu_;
  absl::Time last_sample_ ABSL_GUARDED_BY(mu_) = absl::Now();
  uint64_t last_reads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_
