// KvService (proto/kv.proto) on the master: the recursive query style. Each
// request is validated, routed by the master's directory to a live replica
// of the key's partition (UP replicas first, in directory order) and relayed
// with a deadline inside the caller's over the master's KvService.Batch
// stream to that node, by the routing loop the SDK uses too
// (common/replica_router.h); the replica's answer is returned unchanged.
// When a replica cannot be reached the next one is tried; when none can,
// the answer names each and why.
// Requests arrive one per call or many per message on a Batch stream.
// Handlers never block.
#ifndef QUORUMKV_MASTER_RELAY_H_
#define QUORUMKV_MASTER_RELAY_H_

#include <functional>

#include "absl/status/statusor.h"
#include "common/batch_stream_server.h"
#include "common/call_auth.h"
#include "common/daemon_security.h"
#include "common/grpc_util.h"
#include "common/kv_streams.h"
#include "common/kv_methods.h"
#include "common/kv_service_front.h"
#include "common/request_metrics.h"
#include "common/timer_queue.h"
#include "master/directory_manager.h"
#include "master/membership.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

class RelayKvService final : public KvServiceFront<RelayKvService> {
 public:
  // Pointers must outlive the service and every relayed call. Each client
  // request is counted in `metrics` under mode="recursive".
  // With `security.tokens` every call needs a data token; the relay calls
  // the nodes with the master's own credentials (DaemonSecurity::outgoing).
  RelayKvService(const DirectoryManager* directory,
                 const Membership* membership, RequestMetrics* metrics,
                 const DaemonSecurity& security);
  ~RelayKvService() override;

  // Blocks until every relayed request has been answered (each has a
  // deadline).
  void WaitIdle();
  // Requests being relayed now.
  int in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_;
  }

 private:
  class Source;

  // Checks shared by every request; `quorum` is W or R as requested.
  absl::Status Admit(absl::string_view key, const char* quorum_name,
                     uint32_t quorum) const;
  // Admit() for a scan's page, which names a partition and has no key.
  absl::Status AdmitScan(const ScanRequest& request) const;
  // Admits `request` and relays it; the one body behind every method,
  // whichever way it came. `done` runs once, on any thread. When
  // `cancellation` (may be null) is raised, the call to the node in flight
  // is abandoned and no other replica is tried: CANCELLED.
  template <typename Request>
  void Start(const Request& request, absl::Time deadline,
             std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
                 done,
             const CancellationPtr& cancellation);
  friend class KvServiceFront<RelayKvService>;
  // Start() for every method, as one callable, for the front ends.
  auto Dispatcher() {
    return [this](const auto& request, absl::Time deadline, auto done,
                  const CancellationPtr& cancellation) {
      Start(request, deadline, std::move(done), cancellation);
    };
  }

  const DirectoryManager* const directory_;
  const Membership* const membership_;
  RequestMetrics* const metrics_;
  KvStreams nodes_;
  const std::unique_ptr<Source> source_;
  TimerQueue timers_;

  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // relays not yet answered
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_RELAY_H_
