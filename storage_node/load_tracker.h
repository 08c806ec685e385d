// The reads/s and writes/s of a node's heartbeat, computed from the same
// request counters /metrics shows (common/request_metrics.h): each
// Sample() takes the difference since the previous one, so neither the
// heartbeat nor a scrape resets what the other sees. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_
#define QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/request_metrics.h"

namespace quorumkv {

class LoadTracker {
 public:
  // `requests` must outlive the tracker.
  explicit LoadTracker(const RequestMetrics* requests) : requests_(requests) {}

  struct Rates {
    double reads_per_sec = 0;
    double writes_per_sec = 0;
  };
  // Rates of the client requests this node coordinated since the previous
  // call (or since construction).
  Rates Sample() {
    const uint64_t reads = requests_->Count(KvOp::kGet);
    const uint64_t writes =
        requests_->Count(KvOp::kPut) + requests_->Count(KvOp::kDelete) +
        requests_->Count(KvOp::kExpire) + requests_->Count(KvOp::kCas);
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - last_sample_);
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
  const RequestMetrics* const requests_;
  absl::Mutex mu_;
  absl::Time last_sample_ ABSL_GUARDED_BY(mu_) = absl::Now();
  uint64_t last_reads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_LOAD_TRACKER_H_
