// The cluster a storage node belongs to (docs/architecture.md): the id kept
// in its data dir's IDENTITY, recorded the first time the node installs its
// cluster's formed directory and sent with every registration, so that a
// master of another cluster refuses the node. A directory of another
// cluster is never installed, whichever way it arrives. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_CLUSTER_IDENTITY_H_
#define QUORUMKV_STORAGE_NODE_CLUSTER_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/data_dir.h"
#include "common/directory.h"

#include "storage_node/term_fence.h"

namespace quorumkv {

class ClusterIdentity {
 public:
  // `identity` as OpenDataDir() read it from `data_dir`; `fence` must
  // outlive the object.
  ClusterIdentity(std::string data_dir, DataDirIdentity identity,
                  TermFence* fence);

  // Empty until the node has joined a cluster.
  std::string id() const;
  TermFence* fence() const { return fence_; }

  // Installs `directory` in `holder` (as DirectoryHolder::Install, returning
  // whether it was newer) when it names this node's cluster, or no cluster
  // yet, or this node has joined none (then its cluster is recorded in the
  // data dir first). FAILED_PRECONDITION naming both clusters otherwise; an
  // error when the data dir cannot be written. A directory from a leader
  // superseded by a term already seen (TermFence) is not installed.
  absl::StatusOr<bool> Install(const Directory& directory,
                               DirectoryHolder* holder);

 private:
  const std::string data_dir_;
  TermFence* const fence_;
  mutable absl::Mutex mu_;
  DataDirIdentity identity_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_CLUSTER_IDENTITY_H_
