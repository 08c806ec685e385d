// The directory as Redis Cluster's slot map (CLUSTER SLOTS, SHARDS, NODES):
// with KEY_HASH_REDIS_SLOTS each partition is a range of hash slots, its
// replicas' RESP doors serve it, the first as "master". Cluster-aware
// clients then send each key straight to a node that holds it. Pure.
#ifndef QUORUMKV_DOORS_RESP_CLUSTER_MAP_H_
#define QUORUMKV_DOORS_RESP_CLUSTER_MAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/directory.h"

namespace quorumkv {

struct SlotRange {
  uint32_t first = 0;
  uint32_t last = 0;  // inclusive
  // Replicas that serve RESP, in the partition's order (the first live
  // coordinator of writes first).
  std::vector<const NodeDescriptor*> nodes;
};

// Adjacent partitions with the same replicas make one range. Requires a
// formed KEY_HASH_REDIS_SLOTS directory. Pointers point into `directory`.
std::vector<SlotRange> RedisSlotRanges(const DirectoryView& directory);

// A node's id as Redis Cluster spells ids: 40 lowercase hex digits, stable
// for the node.
std::string RedisNodeId(absl::string_view node_id);

// "host" and port of a "host:port" door address.
std::pair<std::string, int> SplitDoorAddress(absl::string_view address);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_CLUSTER_MAP_H_
