// Rack-aware, load-aware replica placement (README, "How it works").
//
// Pure functions: the master feeds them its membership and load, and gets
// back which nodes should hold which partitions. Deterministic for equal
// input, so a placement can be recomputed and tested.
#ifndef QUORUMKV_COMMON_PLACEMENT_H_
#define QUORUMKV_COMMON_PLACEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace quorumkv {

struct PlacementCandidate {
  std::string id;
  std::string rack;
  uint64_t free_bytes = 0;
};

// Partitions already assigned to each node id (absent means 0).
using PartitionCounts = absl::flat_hash_map<std::string, uint32_t>;

// The best candidate to add to a partition already held by `chosen`: a node
// not in `chosen`; on a rack not in `chosen` when one is left; then the one
// with the fewest partitions, then the most free bytes, then the smallest id.
// nullptr when every candidate is in `chosen`.
const PlacementCandidate* PickReplica(
    const std::vector<PlacementCandidate>& candidates,
    const std::vector<const PlacementCandidate*>& chosen,
    const PartitionCounts& counts);

// Assigns each of `partitions` partitions an ordered list of `replication`
// distinct nodes, spread over distinct racks when there are enough, keeping
// partition counts per node within one of the mean where racks allow.
// INVALID_ARGUMENT when there are fewer candidates than `replication`.
absl::StatusOr<std::vector<std::vector<std::string>>> PlacePartitions(
    const std::vector<PlacementCandidate>& candidates, uint32_t partitions,
    uint32_t replication);

// Reorders replica lists (never changing who holds what) so that every node
// appearing in them is first, the coordinator of writes and the first choice
// of readers, of within one of the mean number of partitions where the sets
// allow. Each step swaps one partition's first replica with a less loaded
// member, so an already balanced directory is left as it is. Returns how
// many lists changed.
int BalanceLeaders(std::vector<std::vector<std::string>*>& replica_lists);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_PLACEMENT_H_
