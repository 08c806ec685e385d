// The client-request metrics (docs/operations.md): counted once per client
// request by the node that coordinates it and by the master's relay.
//
//   quorumkv_requests_total{op,mode,outcome}
//   quorumkv_request_duration_seconds{op,mode}   (histogram)
//   quorumkv_quorum_failures_total{op}
//
// The same counters give a node's heartbeat its reads/s and writes/s
// (Count()), so the two never disagree and neither resets the other.
//
// Thread-safe; Record() takes no lock on the successful path.
#ifndef QUORUMKV_COMMON_REQUEST_METRICS_H_
#define QUORUMKV_COMMON_REQUEST_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/kv_methods.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace quorumkv {

class RequestMetrics {
 public:
  // Registers the families in `registry`, which must outlive this.
  explicit RequestMetrics(prometheus::Registry& registry);

  // Counts one client request that ended with `status` after `elapsed`;
  // `relayed` requests (by the master's relay, or at the relay itself) are
  // mode="recursive", the others mode="iterative".
  void Record(KvOp op, bool relayed, const absl::Status& status,
              absl::Duration elapsed);

  // `done` (called with an absl::StatusOr<Response>), wrapped to Record()
  // the request of type `Request` when it is called: its outcome, and the
  // time since this call.
  template <typename Request, typename Done>
  auto Counting(bool relayed, Done done) {
    return [this, relayed, start = absl::Now(),
            done = std::move(done)](auto result) mutable {
      Record(KvMethod<Request>::kOp, relayed, result.status(),
             absl::Now() - start);
      done(std::move(result));
    };
  }

  // Requests of `op` counted so far, every mode and outcome.
  uint64_t Count(KvOp op) const;

  // The outcome label of `status`: "ok", "not_found", "wrong_node",
  // "quorum_not_reached", or the lower-case status code
  // ("deadline_exceeded", "unavailable", "invalid_argument", ...).
  static std::string Outcome(const absl::Status& status);

 private:
  static constexpr int kModes = 2;
  prometheus::Counter* CounterFor(KvOp op, bool relayed,
                                  const std::string& outcome);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& quorum_failures_;
  // The common cases, looked up without a lock.
  std::array<std::array<prometheus::Counter*, kModes>, kKvOps> ok_;
  std::array<std::array<prometheus::Histogram*, kModes>, kKvOps> latency_;
  std::array<prometheus::Counter*, kKvOps> quorum_failed_;

  mutable absl::Mutex mu_;
  // Every counter made, for Count().
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_REQUEST_METRICS_H_
