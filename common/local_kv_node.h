// A KvService served in this very process: a storage node's own, which its
// front doors (doors/) reach without the network. The routing loop
// (common/replica_router.h) hands a request whose replica is this node to
// it instead of sending it over a stream.
#ifndef QUORUMKV_COMMON_LOCAL_KV_NODE_H_
#define QUORUMKV_COMMON_LOCAL_KV_NODE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"

namespace quorumkv {

class LocalKvNode {
 public:
  template <typename Response>
  using Done = std::function<void(absl::StatusOr<Response>)>;

  virtual ~LocalKvNode() = default;
  // The node's id, as the directory names it.
  virtual std::string node_id() const = 0;
  // Each as the node's KvService method would answer it; `done` runs once,
  // on any thread, possibly before the call returns. Never blocks.
  virtual void Serve(const PutRequest& request, absl::Time deadline,
                     Done<PutResponse> done) = 0;
  virtual void Serve(const GetRequest& request, absl::Time deadline,
                     Done<GetResponse> done) = 0;
  virtual void Serve(const DeleteRequest& request, absl::Time deadline,
                     Done<DeleteResponse> done) = 0;
  virtual void Serve(const ExpireRequest& request, absl::Time deadline,
                     Done<ExpireResponse> done) = 0;
  virtual void Serve(const ScanRequest& request, absl::Time deadline,
                     Done<ScanResponse> done) = 0;
  virtual void Serve(const CasRequest& request, absl::Time deadline,
                     Done<CasResponse> done) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_LOCAL_KV_NODE_H_
