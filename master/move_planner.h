// What to move (docs/moves.md): a pure function of the cluster's state, tested
// over many cluster shapes without a cluster. The move tracker runs it on
// every tick and starts what the throttle allows; `kvcli plan` and
// `kvcli decommission --dry-run` show its answer.
//
// The plan is made against the directory as it will be once the moves in
// flight complete, so planning again while they run proposes nothing twice.
// In order:
//  1. Repair: every partition whose replicas include a node that is dead
//     (DOWN longer than --replace_after), decommissioning, removed or
//     unknown, or that has fewer than N replicas, gets new replicas, most
//     under-replicated partitions first. Destinations are chosen as at
//     formation: distinct racks first, then the fewest partitions, then
//     the most free space.
//  2. Restore rack spread, only when nothing needs repair: a partition whose
//     replicas span fewer racks than placement wants where racks allow (a
//     rack was down when it was repaired, so its replacement went to a
//     rack it already used) is *misplaced*; once a node of a missing rack
//     may receive partitions, one replica of a rack the partition uses
//     twice moves there (the one on the node with the most partitions),
//     partition by partition, only where all its replicas are UP.
//  3. Rebalance, only when nothing needs repair or a new rack and every
//     node holding a partition is UP: partitions move from the most to the least loaded
//     nodes until every count is within one of the mean, never lowering a
//     partition's rack spread. Each move lowers the excess above the upper
//     bound or the deficit under the lower one, so the number of moves is
//     the larger of the two sums: the minimum (MinimalRebalanceMoves).
#ifndef QUORUMKV_MASTER_MOVE_PLANNER_H_
#define QUORUMKV_MASTER_MOVE_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/master.pb.h"

namespace quorumkv {

struct PlannerNode {
  enum class Health {
    kUp,
    kDown,  // not heartbeating, not yet for --replace_after
    kDead,  // DOWN for longer than --replace_after: replace its replicas
  };
  std::string id;
  std::string rack;
  uint64_t free_bytes = 0;
  Health health = Health::kUp;
  // Set from the directory's decommissioning and removed lists by
  // ClusterShape(); callers may override (a dry-run decommission).
  bool decommissioning = false;
  bool removed = false;
  // Nodes a move was recently cancelled on: not chosen as destinations.
  bool avoid = false;
};

struct PlannedMove {
  uint32_t partition = 0;
  std::string from;  // empty: adds a missing replica
  std::string to;
  MoveReason reason = MOVE_REASON_UNKNOWN;
};

// Every move needed now, most urgent first. `directory` must be formed;
// `nodes` should name every node the directory does (a replica on a node
// not named is treated as lost).
std::vector<PlannedMove> PlanMoves(const Directory& directory,
                                   const std::vector<PlannerNode>& nodes);

// Partitions whose full replicas span fewer racks than min(N, racks of the
// nodes that may receive partitions now): what `kvcli status` counts as
// misplaced. The moves in flight are not counted as done.
uint32_t CountMisplaced(const Directory& directory,
                        const std::vector<PlannerNode>& nodes);

// The fewest moves that bring every eligible node (UP, not decommissioning
// or removed) within one of the mean, counting the moves in flight as done.
uint64_t MinimalRebalanceMoves(const Directory& directory,
                               const std::vector<PlannerNode>& nodes);

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MOVE_PLANNER_H_
