#include "common/placement.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

uint32_t CountOf(const PartitionCounts& counts, const std::string& id) {
  auto it = counts.find(id);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace

const PlacementCandidate* PickReplica(
    const std::vector<PlacementCandidate>& candidates,
    const std::vector<const PlacementCandidate*>& chosen,
    const PartitionCounts& counts) {
  absl::flat_hash_set<absl::string_view> used_nodes, used_racks;
  for (const PlacementCandidate* c : chosen) {
    used_nodes.insert(c->id);
    used_racks.insert(c->rack);
  }
  // Partitions per node of each rack: among equally loaded nodes, the one
  // on the least loaded rack keeps racks, and so later choices, balanced.
  struct RackLoad {
    uint64_t partitions = 0;
    uint64_t nodes = 0;
  };
  absl::flat_hash_map<absl::string_view, RackLoad> racks;
  for (const PlacementCandidate& c : candidates) {
    RackLoad& load = racks[c.rack];
    load.partitions += CountOf(counts, c.id);
    ++load.nodes;
  }
  const PlacementCandidate* best = nullptr;
  // Lower is better: (rack already used, partitions, rack load, -free bytes,
  // id).
  auto rank = [&](const PlacementCandidate& c) {
    const RackLoad& load = racks[c.rack];
    return std::make_tuple(used_racks.contains(c.rack), CountOf(counts, c.id),
                           double(load.partitions) / load.nodes, ~c.free_bytes,
                           absl::string_view(c.id));
  };
  for (const PlacementCandidate& c : candidates) {
    if (used_nodes.contains(c.id)) continue;
    if (best == nullptr || rank(c) < rank(*best)) best = &c;
  }
  return best;
}

absl::StatusOr<std::vector<std::vector<std::string>>> PlacePartitions(
    const std::vector<PlacementCandidate>& candidates, uint32_t partitions,
    uint32_t replication) {
  if (replication == 0 || candidates.size() < replication) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot place ", replication, " replicas on ", candidates.size(),
        " nodes"));
  }
  PartitionCounts counts;
  std::vector<std::vector<std::string>> assignments(partitions);
  std::vector<std::vector<std::string>*> lists;
  for (auto& replicas : assignments) lists.push_back(&replicas);
  for (auto& replicas : assignments) {
    std::vector<const PlacementCandidate*> chosen;
    while (chosen.size() < replication) {
      const PlacementCandidate* next = PickReplica(candidates, chosen, counts);
      chosen.push_back(next);
      ++counts[next->id];
      replicas.push_back(next->id);
    }
  }
  BalanceLeaders(lists);
  return assignments;
}

int BalanceLeaders(std::vector<std::vector<std::string>*>& replica_lists) {
  // Ordered by id so that equal input gives equal output.
  std::map<std::string, uint32_t> leads;
  for (const std::vector<std::string>* list : replica_lists) {
    for (const std::string& id : *list) leads.emplace(id, 0);
    if (!list->empty()) ++leads[list->front()];
  }
  absl::flat_hash_set<const std::vector<std::string>*> changed;
  // Each swap lowers the sum of squared lead counts, so this ends; the bound
  // only guards against a bug.
  for (size_t step = 0; step < replica_lists.size() * replica_lists.size();
       ++step) {
    // The partition led by the most loaded leader that has a member at
    // least two leads lighter; the lightest such member takes over.
    std::vector<std::string>* best_list = nullptr;
    size_t best_index = 0;
    int64_t best_gain = 1;
    for (std::vector<std::string>* list : replica_lists) {
      if (list->size() < 2) continue;
      const uint32_t lead = leads[list->front()];
      for (size_t i = 1; i < list->size(); ++i) {
        const int64_t gain = int64_t{lead} - leads[(*list)[i]];
        if (gain > best_gain) {
          best_gain = gain;
          best_list = list;
          best_index = i;
        }
      }
    }
    if (best_list == nullptr) break;
    --leads[best_list->front()];
    ++leads[(*best_list)[best_index]];
    std::swap(best_list->front(), (*best_list)[best_index]);
    changed.insert(best_list);
  }
  return static_cast<int>(changed.size());
}

}  // namespace quorumkv
