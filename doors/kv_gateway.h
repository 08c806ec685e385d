// How the front doors reach the data: each request goes to a replica of its
// key's partition (this very node, in process, when it holds one; another
// node over the internal KvService streams otherwise) by the routing loop
// the SDK and the master's relay use (common/replica_router.h), with the
// cluster's default quorums. The doors never repeat routing or quorum
// logic: they translate their protocol into these requests.
//
// Thread-safe. `done` runs once, on any thread (possibly the caller's,
// before Call returns). Pointers given must outlive the gateway; the
// gateway must outlive every call (WaitIdle()).
#ifndef QUORUMKV_DOORS_KV_GATEWAY_H_
#define QUORUMKV_DOORS_KV_GATEWAY_H_

#include <atomic>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/kv_methods.h"
#include "common/kv_streams.h"
#include "common/local_kv_node.h"
#include "common/replica_router.h"
#include "common/timer_queue.h"

namespace quorumkv {

class KvGateway {
 public:
  // How long a door request may take before its client gets an error.
  static constexpr absl::Duration kTimeout = absl::Seconds(5);

  // `source` gives the directory to route by; `local` is this node's own
  // KvService; other nodes are called with `outgoing` credentials.
  KvGateway(RoutingSource* source, LocalKvNode* local,
            ChannelSecurity outgoing);
  ~KvGateway();  // WaitIdle()s.

  // The directory requests are routed by now.
  DirectoryPtr directory() const { return source_->directory(); }
  // This node's id.
  const std::string& self_id() const { return self_id_; }

  // Routes `request` (its quorum field 0: the cluster's default).
  template <typename Request>
  void Call(Request request,
            std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
                done) {
    DirectoryPtr directory = source_->directory();
    RouteOptions options;
    options.local = local_;
    options.who = "node";
    if (directory->formed()) {
      // This node first when it holds the partition (no network hop);
      // otherwise reads spread over the replicas and writes go to the
      // first, as the SDK's do.
      const auto& replicas = directory->Replicas(
          KvMethod<Request>::Partition(*directory, request));
      size_t first = replicas.size();
      for (size_t i = 0; i < replicas.size(); ++i) {
        if (replicas[i] == self_id_) first = i;
      }
      if constexpr (std::is_same_v<Request, CasRequest>) {
        // Conditional writes of a key meet at one coordinator, which runs
        // them one at a time rather than racing them in Paxos.
        first = 0;
      }
      if (first == replicas.size()) {
        first = KvMethod<Request>::kWrites || replicas.empty()
                    ? 0
                    : spread_.fetch_add(1, std::memory_order_relaxed) %
                          replicas.size();
      }
      options.first = first;
    }
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    ReplicaRoute<Request>::Start(
        source_, &streams_, &timers_, std::move(request),
        absl::Now() + kTimeout, std::move(options),
        [this, done = std::move(done)](
            absl::StatusOr<typename KvMethod<Request>::Response> result) {
          done(std::move(result));
          absl::MutexLock lock(&mu_);
          --in_flight_;
        });
  }

  // Blocks until every call has been answered (each has a deadline).
  void WaitIdle();

 private:
  RoutingSource* const source_;
  LocalKvNode* const local_;
  const std::string self_id_;
  KvStreams streams_;
  TimerQueue timers_;
  std::atomic<uint64_t> spread_{0};
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_KV_GATEWAY_H_
