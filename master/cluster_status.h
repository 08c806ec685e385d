// The cluster as operators see it, in one place: `kvcli status` and `kvcli
// nodes` (MasterService.ClusterStatus), the status page with /api/status,
// and the master's metrics all describe it through this.
//
// Thread-safe; each call reads a consistent directory snapshot and the
// membership as of now.
#ifndef QUORUMKV_MASTER_CLUSTER_STATUS_H_
#define QUORUMKV_MASTER_CLUSTER_STATUS_H_

#include "master/anti_entropy_scheduler.h"
#include "master/directory_manager.h"
#include "master/leadership.h"
#include "master/membership.h"
#include "master/move_tracker.h"
#include "proto/master.pb.h"

namespace quorumkv {

class ClusterStatusReporter {
 public:
  // Pointers must outlive the reporter.
  // `node_down_after` and `replace_after` are the master's flags, said in
  // every answer so that tools can tell when a node goes DOWN and when its
  // replacement starts.
  ClusterStatusReporter(const Leadership* leadership,
                        const Membership* membership,
                        const DirectoryManager* directory,
                        const MoveTracker* moves,
                        const AntiEntropyScheduler* anti_entropy,
                        absl::Duration node_down_after,
                        absl::Duration replace_after);

  // Nodes with state, load and partitions; under-replicated partitions;
  // moves in flight; anti-entropy progress.
  ClusterStatusResponse Describe() const;
  // The moves in flight with their progress.
  ListMovesResponse Moves() const;

 private:
  const Leadership* const leadership_;
  const Membership* const membership_;
  const DirectoryManager* const directory_;
  const MoveTracker* const moves_;
  const AntiEntropyScheduler* const anti_entropy_;
  const absl::Duration node_down_after_;
  const absl::Duration replace_after_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_CLUSTER_STATUS_H_
