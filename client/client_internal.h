// Private implementation of quorumkv::Client (client/include/quorumkv/client.h).
// Not installed with the SDK. Code of this repository that needs more than
// the public API (tests that stage a stale directory) makes the ClientImpl
// itself, keeps a pointer to it and hands it to a Client.
#ifndef QUORUMKV_CLIENT_CLIENT_INTERNAL_H_
#define QUORUMKV_CLIENT_CLIENT_INTERNAL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "quorumkv/client.h"
#include "common/kv_streams.h"
#include "client/routing_cache.h"
#include "common/timer_queue.h"
#include "common/directory.h"
#include "common/grpc_util.h"
#include "common/kv_methods.h"
#include "common/master_set.h"
#include "proto/kv.grpc.pb.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

namespace internal {

class ClientImpl {
 public:
  // Every connection is mutual TLS with `tls`, plaintext when null (as
  // Client::Create loads it from options.tls_dir); every call carries
  // options.token when it is not empty.
  explicit ClientImpl(const ClientOptions& options,
                      std::shared_ptr<const TlsConfig> tls = nullptr);
  // Blocks until every request has called back.
  ~ClientImpl();

  const ClientOptions& options() const { return options_; }

  // Sends `request` (key validated by the caller) until it succeeds, fails
  // for good, or `deadline` passes; calls `done` once.
  template <typename Request>
  void Submit(Request request, absl::Time deadline,
              std::function<void(absl::StatusOr<
                                 typename KvMethod<Request>::Response>)>
                  done);

  // Runs `callback` soon on the SDK's timer thread, never on the caller's:
  // a request refused before it is sent still calls back the way the header
  // promises, so a caller that issues the next request from its callback
  // does not recurse. Counted as a request in flight.
  void CallBackSoon(std::function<void()> callback);

  absl::StatusOr<KeyLocation> Where(absl::string_view key);
  absl::StatusOr<ClusterSummary> Nodes();
  absl::StatusOr<MoveList> Moves();
  absl::StatusOr<MoveList> Plan();
  absl::StatusOr<DecommissionResult> Decommission(const std::string& node_id,
                                                  bool dry_run);
  absl::StatusOr<uint32_t> ReplicationFactor();
  MasterList Masters();

  RoutingCache& routing() { return routing_; }

  // Runs a conditional write (validated here) within `timeout` (zero: the
  // client's) and waits for it.
  absl::StatusOr<CasResult> Cas(CasRequest request, absl::Duration timeout);
  // Cas() without waiting: `done` runs once, never on the caller's thread
  // when the request is refused before it is sent.
  void CasAsync(CasRequest request, absl::Duration timeout,
                std::function<void(absl::StatusOr<CasResult>)> done);

 private:
  template <typename Request>
  struct Call;

  // Recursive mode: sends the request to a master (each relays it), the
  // next one when it cannot be reached. Iterative requests go through the
  // routing loop the master's relay uses too (common/replica_router.h).
  template <typename Request>
  void Attempt(std::shared_ptr<Call<Request>> call);
  template <typename Request>
  void AttemptRecursive(std::shared_ptr<Call<Request>> call);
  template <typename Request>
  void Finish(const std::shared_ptr<Call<Request>>& call,
              absl::StatusOr<typename KvMethod<Request>::Response> result);

  absl::Status SyncRefresh();
  // Calls a unary MasterService method with the client's timeout; errors
  // that are about reaching the master name it.
  template <typename Request, typename Response>
  absl::Status CallMaster(
      grpc::Status (MasterService::Stub::*method)(grpc::ClientContext*,
                                                  const Request&, Response*),
      const Request& request, Response* response);
  // `status`, from `master` (empty when the status names it already, as
  // MasterSet's do), in words a user can act on.
  std::string MasterError(const absl::Status& status,
                          absl::string_view master) const;

  // Constant after construction.
  const ClientOptions options_;
  const std::unique_ptr<MasterSet> masters_;
  KvStreams streams_;
  RoutingCache routing_;
  std::atomic<size_t> next_reader_{0};  // which replica the next read tries

  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;

  TimerQueue timers_;  // Empty by destruction: ~ClientImpl waits for requests.
};

}  // namespace internal

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_CLIENT_INTERNAL_H_
