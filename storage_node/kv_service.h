// KvService (proto/kv.proto) of a storage node: validates client requests,
// checks that this node holds the key's partition (WrongNode otherwise) and
// hands them to the Coordinator. Requests arrive one per call or many per
// message on a Batch stream; both end in the same handlers, which return at
// once and answer when the quorum is in.
#ifndef QUORUMKV_STORAGE_NODE_KV_SERVICE_H_
#define QUORUMKV_STORAGE_NODE_KV_SERVICE_H_

#include <functional>
#include <type_traits>

#include "absl/time/time.h"
#include "common/batch_stream_server.h"
#include "common/call_auth.h"
#include "common/kv_service_front.h"
#include "common/local_kv_node.h"
#include "common/directory.h"
#include "proto/kv.grpc.pb.h"
#include "storage_node/coordinator.h"
#include "storage_node/hot_key_tracker.h"
#include "common/request_metrics.h"

namespace quorumkv {

class NodeKvService final : public KvServiceFront<NodeKvService>,
                            public LocalKvNode {
 public:
  // Pointers must outlive the service. Every client request is counted in
  // `metrics`, relayed ones under mode="recursive".
  // With `tokens` (null: auth off) every call needs a data token. Every
  // key request admitted here is counted in `hot`.
  NodeKvService(Coordinator* coordinator, const DirectoryHolder* directory,
                RequestMetrics* metrics, std::function<void()> request_refresh,
                const TokenSet* tokens, HotKeyTracker* hot);

  // LocalKvNode: the node's front doors' requests, exactly as a client's
  // unary call would be served.
  std::string node_id() const override { return coordinator_->self_id(); }
  void Serve(const PutRequest& request, absl::Time deadline,
             Done<PutResponse> done) override;
  void Serve(const GetRequest& request, absl::Time deadline,
             Done<GetResponse> done) override;
  void Serve(const DeleteRequest& request, absl::Time deadline,
             Done<DeleteResponse> done) override;
  void Serve(const ExpireRequest& request, absl::Time deadline,
             Done<ExpireResponse> done) override;
  void Serve(const ScanRequest& request, absl::Time deadline,
             Done<ScanResponse> done) override;
  void Serve(const CasRequest& request, absl::Time deadline,
             Done<CasResponse> done) override;

 private:

  // What each method does, whichever way the request came. `done` runs
  // once, on any thread.
  void Handle(const PutRequest& request, absl::Time deadline,
              Done<PutResponse> done);
  void Handle(const GetRequest& request, absl::Time deadline,
              Done<GetResponse> done);
  void Handle(const DeleteRequest& request, absl::Time deadline,
              Done<DeleteResponse> done);
  void Handle(const ExpireRequest& request, absl::Time deadline,
              Done<ExpireResponse> done);
  void Handle(const ScanRequest& request, absl::Time deadline,
              Done<ScanResponse> done);
  void Handle(const CasRequest& request, absl::Time deadline,
              Done<CasResponse> done);
  friend class KvServiceFront<NodeKvService>;
  // The Handle() overloads as one callable, for the front ends.
  auto Dispatcher() {
    // A coordinator's work for a request is bounded by its deadline; a
    // cancelled caller does not cut it short.
    return [this](const auto& request, absl::Time deadline, auto done,
                  const CancellationPtr&) {
      using Request = std::decay_t<decltype(request)>;
      Handle(request, deadline,
             metrics_->Counting<Request>(request.relayed(), std::move(done)));
    };
  }

  // Checks shared by every request; fills the partition and the directory
  // to route by.
  absl::Status Admit(absl::string_view key, uint64_t sender_epoch,
                     DirectoryPtr* directory, uint32_t* partition) const;
  // Admit() for a request that names its partition (a scan's page).
  absl::Status AdmitPartition(uint32_t partition, uint64_t sender_epoch,
                              DirectoryPtr* directory) const;
  // A Get with from_node: this node's own stored version.
  absl::StatusOr<GetResponse> ReadOwnCopy(const GetRequest& request) const;
  // W or R (`name`) as `requested` resolves under `directory`, once
  // `admitted` is OK; otherwise that status.
  static absl::StatusOr<uint32_t> QuorumFor(const absl::Status& admitted,
                                            const char* name,
                                            uint32_t requested,
                                            const DirectoryPtr& directory);
  // What a Get answers for a live row.
  static GetResponse ToGetResponse(VersionedValue value);
  template <typename Response>
  void Write(const std::string& key, VersionedValue value, uint32_t w,
             uint64_t epoch, absl::Time deadline, Done<Response> done);

  Coordinator* const coordinator_;
  const DirectoryHolder* const directory_;
  RequestMetrics* const metrics_;
  HotKeyTracker* const hot_;
  const std::function<void()> request_refresh_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_KV_SERVICE_H_
