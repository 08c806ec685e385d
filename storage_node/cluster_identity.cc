#include "storage_node/cluster_identity.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace quorumkv {

ClusterIdentity::ClusterIdentity(std::string data_dir, DataDirIdentity identity,
                                 TermFence* fence)
    : data_dir_(std::move(data_dir)),
      fence_(fence),
      identity_(std::move(identity)) {}

std::string ClusterIdentity::id() const {
  absl::MutexLock lock(&mu_);
  return identity_.cluster;
}

absl::StatusOr<bool> ClusterIdentity::Install(const Directory& directory,
                                              DirectoryHolder* holder) {
  if (!fence_->Admit(directory.term(), "directory")) return false;
  const std::string& theirs = directory.cluster_id();
  {
    absl::MutexLock lock(&mu_);
    if (!theirs.empty() && theirs != identity_.cluster) {
      if (!identity_.cluster.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the master's directory is cluster ", theirs, "'s, but data dir ",
            data_dir_, " belongs to cluster ", identity_.cluster,
            ": point the node at its own cluster's master, or start it with "
            "a new --data_dir"));
      }
      // Recorded before the directory is used: from now on this data dir
      // holds this cluster's rows only.
      RETURN_IF_ERROR(RecordCluster(data_dir_, &identity_, theirs));
      QKV_LOG(INFO) << "joined cluster " << theirs;
    }
  }
  return holder->Install(std::make_shared<DirectoryView>(directory));
}

}  // namespace quorumkv
