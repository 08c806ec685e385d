#include "master/move_planner.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <tuple>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/placement.h"

namespace quorumkv {
namespace {

using Health = PlannerNode::Health;

// The cluster as the planner reasons about it: every partition's replicas
// once the moves in flight are done, and the nodes by id.
class Projection {
 public:
  Projection(const Directory& directory, const std::vector<PlannerNode>& nodes)
      : replication_(directory.replication()) {
    for (const PlannerNode& node : nodes) nodes_[node.id] = &node;
    replicas_.resize(directory.assignments_size());
    moving_.resize(directory.assignments_size(), false);
    for (int p = 0; p < directory.assignments_size(); ++p) {
      const PartitionReplicas& a = directory.assignments(p);
      replicas_[p].assign(a.node_ids().begin(), a.node_ids().end());
      for (const std::string& id : a.joining_ids()) replicas_[p].push_back(id);
    }
    for (const Move& move : directory.moves()) {
      if (move.partition() >= replicas_.size()) continue;
      moving_[move.partition()] = true;
      auto& r = replicas_[move.partition()];
      auto it = absl::c_find(r, move.from_node());
      if (!move.from_node().empty() && it != r.end()) r.erase(it);
    }
    for (const auto& r : replicas_) {
      for (const std::string& id : r) ++counts_[id];
    }
  }

  const PlannerNode* Node(const std::string& id) const {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : it->second;
  }
  // Holds its replicas for good: alive or briefly down, and staying.
  bool Healthy(const std::string& id) const {
    const PlannerNode* n = Node(id);
    return n != nullptr && n->health != Health::kDead && !n->decommissioning &&
           !n->removed;
  }
  // May receive partitions now.
  bool Eligible(const PlannerNode& n) const {
    return n.health == Health::kUp && !n.decommissioning && !n.removed;
  }

  uint32_t replication() const { return replication_; }
  size_t partitions() const { return replicas_.size(); }
  std::vector<std::string>& replicas(uint32_t p) { return replicas_[p]; }
  bool moving(uint32_t p) const { return moving_[p]; }
  PartitionCounts& counts() { return counts_; }
  uint32_t CountOf(const std::string& id) const {
    auto it = counts_.find(id);
    return it == counts_.end() ? 0 : it->second;
  }

  void Apply(const PlannedMove& move) {
    auto& r = replicas_[move.partition];
    auto it = absl::c_find(r, move.from);
    if (!move.from.empty() && it != r.end()) {
      r.erase(it);
      --counts_[move.from];
    }
    r.push_back(move.to);
    ++counts_[move.to];
    moving_[move.partition] = true;
  }

 private:
  const uint32_t replication_;
  absl::flat_hash_map<std::string, const PlannerNode*> nodes_;
  std::vector<std::vector<std::string>> replicas_;
  std::vector<bool> moving_;
  PartitionCounts counts_;
};

size_t DistinctRacks(const Projection& view,
                     const std::vector<std::string>& ids) {
  absl::flat_hash_set<std::string> racks;
  for (const std::string& id : ids) {
    if (const PlannerNode* n = view.Node(id)) racks.insert(n->rack);
  }
  return racks.size();
}

void PlanRepairs(Projection& view, const std::vector<PlannerNode>& nodes,
                 std::vector<PlannedMove>* plan) {
  std::vector<PlacementCandidate> candidates;
  for (const PlannerNode& n : nodes) {
    if (view.Eligible(n) && !n.avoid) {
      candidates.push_back({n.id, n.rack, n.free_bytes});
    }
  }
  struct Need {
    uint32_t partition;
    size_t healthy;
  };
  std::vector<Need> needs;
  for (uint32_t p = 0; p < view.partitions(); ++p) {
    size_t healthy = 0;
    for (const std::string& id : view.replicas(p)) healthy += view.Healthy(id);
    if (healthy < view.replication()) needs.push_back({p, healthy});
  }
  // Most under-replicated first; then by partition, for a stable plan.
  absl::c_stable_sort(needs, [](const Need& a, const Need& b) {
    return a.healthy < b.healthy;
  });
  for (const Need& need : needs) {
    std::vector<std::string> leaving, staying;
    for (const std::string& id : view.replicas(need.partition)) {
      (view.Healthy(id) ? staying : leaving).push_back(id);
    }
    // Dead replicas go first: a decommissioning one still serves.
    absl::c_stable_sort(leaving, [&](const std::string& a, const std::string& b) {
      const PlannerNode* na = view.Node(a);
      const PlannerNode* nb = view.Node(b);
      return (na != nullptr && na->decommissioning && na->health == Health::kUp) <
             (nb != nullptr && nb->decommissioning && nb->health == Health::kUp);
    });
    std::vector<const PlacementCandidate*> chosen;
    for (const std::string& id : staying) {
      for (const PlacementCandidate& c : candidates) {
        if (c.id == id) chosen.push_back(&c);
      }
    }
    // Nodes that hold the partition but may not receive (briefly DOWN) still
    // occupy their rack.
    std::vector<PlacementCandidate> occupied;
    occupied.reserve(staying.size());
    for (const std::string& id : staying) {
      const PlannerNode* n = view.Node(id);
      if (n != nullptr && !view.Eligible(*n)) occupied.push_back({n->id, n->rack, 0});
    }
    for (const PlacementCandidate& c : occupied) chosen.push_back(&c);
    for (size_t k = staying.size(); k < view.replication(); ++k) {
      // Leaving replicas are not candidates, but count as chosen nodes.
      std::vector<PlacementCandidate> pool;
      for (const PlacementCandidate& c : candidates) {
        if (!absl::c_linear_search(view.replicas(need.partition), c.id)) {
          pool.push_back(c);
        }
      }
      const PlacementCandidate* best = PickReplica(pool, chosen, view.counts());
      if (best == nullptr) break;  // no node left to place on
      PlannedMove move;
      move.partition = need.partition;
      move.to = best->id;
      const size_t slot = k - staying.size();
      if (slot < leaving.size()) move.from = leaving[slot];
      const PlannerNode* from = view.Node(move.from);
      move.reason = from != nullptr && from->decommissioning &&
                            from->health != Health::kDead
                        ? MOVE_DECOMMISSION
                        : MOVE_REPLACE;
      view.Apply(move);
      plan->push_back(move);
      for (const PlacementCandidate& c : candidates) {
        if (c.id == move.to) chosen.push_back(&c);
      }
    }
  }
}

// The racks placement wants a partition to span: N, or fewer when fewer
// racks have a node that may receive partitions now.
size_t WantedRacks(const Projection& view, const std::vector<PlannerNode>& nodes) {
  absl::flat_hash_set<std::string> racks;
  for (const PlannerNode& n : nodes) {
    if (view.Eligible(n)) racks.insert(n.rack);
  }
  return std::min<size_t>(view.replication(), racks.size());
}

void PlanRespread(Projection& view, const std::vector<PlannerNode>& nodes,
                  std::vector<PlannedMove>* plan) {
  const size_t wanted = WantedRacks(view, nodes);
  std::vector<PlacementCandidate> candidates;
  for (const PlannerNode& n : nodes) {
    if (view.Eligible(n) && !n.avoid) {
      candidates.push_back({n.id, n.rack, n.free_bytes});
    }
  }
  for (uint32_t p = 0; p < view.partitions(); ++p) {
    std::vector<std::string>& replicas = view.replicas(p);
    if (view.moving(p) || DistinctRacks(view, replicas) >= wanted) continue;
    bool all_up = true;
    absl::flat_hash_map<std::string, int> per_rack;
    for (const std::string& id : replicas) {
      const PlannerNode* n = view.Node(id);
      all_up &= n != nullptr && n->health == Health::kUp;
      if (n != nullptr) ++per_rack[n->rack];
    }
    if (!all_up) continue;
    // The destination: on a rack the partition does not use.
    std::vector<PlacementCandidate> pool;
    for (const PlacementCandidate& c : candidates) {
      if (!per_rack.contains(c.rack)) pool.push_back(c);
    }
    std::vector<const PlacementCandidate*> chosen;
    const PlacementCandidate* to = PickReplica(pool, chosen, view.counts());
    if (to == nullptr) continue;  // only avoided nodes there for now
    // The source: on a rack used twice, the node holding the most.
    const std::string* from = nullptr;
    for (const std::string& id : replicas) {
      if (per_rack[view.Node(id)->rack] < 2) continue;
      if (from == nullptr ||
          std::make_tuple(view.CountOf(id), absl::string_view(*from)) >
              std::make_tuple(view.CountOf(*from), absl::string_view(id))) {
        from = &id;
      }
    }
    if (from == nullptr) continue;
    PlannedMove move{p, *from, to->id, MOVE_SPREAD};
    view.Apply(move);
    plan->push_back(move);
  }
}

struct Bounds {
  uint32_t lower = 0;
  uint32_t upper = 0;
};

// Counts within one of the mean: [ceil(mean - 1), floor(mean + 1)].
Bounds BalanceBounds(Projection& view, const std::vector<PlannerNode>& nodes) {
  uint64_t total = 0, eligible = 0;
  for (const PlannerNode& n : nodes) {
    if (!view.Eligible(n)) continue;
    total += view.CountOf(n.id);
    ++eligible;
  }
  if (eligible == 0) return {};
  const double mean = static_cast<double>(total) / eligible;
  return {static_cast<uint32_t>(std::max(0.0, std::ceil(mean - 1))),
          static_cast<uint32_t>(std::floor(mean + 1))};
}

void PlanRebalance(Projection& view, const std::vector<PlannerNode>& nodes,
                   std::vector<PlannedMove>* plan) {
  absl::flat_hash_map<absl::string_view, const PlannerNode*> eligible;
  for (const PlannerNode& n : nodes) {
    if (view.Eligible(n)) eligible[n.id] = &n;
  }
  if (eligible.size() < 2) return;
  const Bounds bounds = BalanceBounds(view, nodes);
  // Eligible nodes by (partitions, id): most loaded sources first, least
  // loaded destinations first; and the partitions each holds, in order, so
  // that a round looks at a source's partitions only.
  std::set<std::pair<uint32_t, absl::string_view>> order;
  absl::flat_hash_map<absl::string_view, std::set<uint32_t>> held;
  for (const auto& [id, node] : eligible) {
    order.emplace(view.CountOf(node->id), id);
    held[id];
  }
  for (uint32_t p = 0; p < view.partitions(); ++p) {
    for (const std::string& id : view.replicas(p)) {
      if (auto it = held.find(id); it != held.end()) it->second.insert(p);
    }
  }
  const size_t max_moves = view.partitions() * view.replication();
  for (size_t round = 0; round < max_moves; ++round) {
    if (order.rbegin()->first <= bounds.upper &&
        order.begin()->first >= bounds.lower) {
      return;
    }
    std::optional<PlannedMove> found;
    for (auto src = order.rbegin(); src != order.rend() && !found; ++src) {
      for (auto dst = order.begin(); dst != order.end() && !found; ++dst) {
        const uint32_t from_count = src->first;
        const uint32_t to_count = dst->first;
        if (from_count <= to_count + 1) break;
        // Only moves that cut an excess or a deficit count toward balance.
        if (from_count <= bounds.upper && to_count >= bounds.lower) continue;
        if (eligible.at(dst->second)->avoid) continue;
        const std::string& from = eligible.at(src->second)->id;
        const std::string& to = eligible.at(dst->second)->id;
        for (uint32_t p : held.at(src->second)) {
          auto& r = view.replicas(p);
          if (view.moving(p) || absl::c_linear_search(r, to)) continue;
          std::vector<std::string> after = r;
          *absl::c_find(after, from) = to;
          if (DistinctRacks(view, after) < DistinctRacks(view, r)) continue;
          found = PlannedMove{p, from, to, MOVE_REBALANCE};
          break;
        }
      }
    }
    if (!found) return;  // racks allow no better balance
    for (const std::string* id : {&found->from, &found->to}) {
      order.erase({view.CountOf(*id), *id});
    }
    view.Apply(*found);
    for (const std::string* id : {&found->from, &found->to}) {
      order.emplace(view.CountOf(*id), eligible.at(*id)->id);
    }
    held.at(found->from).erase(found->partition);
    held.at(found->to).insert(found->partition);
    plan->push_back(*std::move(found));
  }
}

}  // namespace

std::vector<PlannedMove> PlanMoves(const Directory& directory,
                                   const std::vector<PlannerNode>& nodes) {
  std::vector<PlannedMove> plan;
  if (directory.assignments_size() == 0) return plan;
  Projection view(directory, nodes);
  PlanRepairs(view, nodes, &plan);
  if (!plan.empty()) return plan;
  PlanRespread(view, nodes, &plan);
  if (!plan.empty()) return plan;
  for (uint32_t p = 0; p < view.partitions(); ++p) {
    for (const std::string& id : view.replicas(p)) {
      const PlannerNode* n = view.Node(id);
      if (n == nullptr || n->health != Health::kUp) return plan;
    }
  }
  PlanRebalance(view, nodes, &plan);
  return plan;
}

uint32_t CountMisplaced(const Directory& directory,
                        const std::vector<PlannerNode>& nodes) {
  absl::flat_hash_map<std::string, const PlannerNode*> by_id;
  absl::flat_hash_set<std::string> eligible_racks;
  for (const PlannerNode& n : nodes) {
    by_id[n.id] = &n;
    if (n.health == Health::kUp && !n.decommissioning && !n.removed) {
      eligible_racks.insert(n.rack);
    }
  }
  const size_t wanted =
      std::min<size_t>(directory.replication(), eligible_racks.size());
  uint32_t misplaced = 0;
  absl::flat_hash_set<absl::string_view> racks;
  for (const PartitionReplicas& p : directory.assignments()) {
    racks.clear();
    for (const std::string& id : p.node_ids()) {
      auto it = by_id.find(id);
      if (it != by_id.end()) racks.insert(it->second->rack);
    }
    misplaced += racks.size() < wanted;
  }
  return misplaced;
}

uint64_t MinimalRebalanceMoves(const Directory& directory,
                               const std::vector<PlannerNode>& nodes) {
  Projection view(directory, nodes);
  const Bounds bounds = BalanceBounds(view, nodes);
  uint64_t excess = 0, deficit = 0;
  for (const PlannerNode& n : nodes) {
    if (!view.Eligible(n)) continue;
    const uint32_t c = view.CountOf(n.id);
    if (c > bounds.upper) excess += c - bounds.upper;
    if (c < bounds.lower) deficit += bounds.lower - c;
  }
  return std::max(excess, deficit);
}

}  // namespace quorumkv
