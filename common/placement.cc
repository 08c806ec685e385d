#include "common/placement.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

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

namespace {

// PickReplica's choice made fast for many picks over one set of
// candidates: each rack keeps its nodes ordered by (partitions, most free
// bytes, id), and the racks are ordered by their best node and their load,
// so that a pick looks at a few racks rather than every candidate. The same
// choice as PickReplica, tie for tie.
class ReplicaPicker {
 public:
  explicit ReplicaPicker(const std::vector<PlacementCandidate>& candidates)
      : candidates_(candidates), count_(candidates.size(), 0) {
    absl::flat_hash_map<absl::string_view, int> rack_index;
    for (size_t i = 0; i < candidates.size(); ++i) {
      auto [it, added] = rack_index.emplace(candidates[i].rack, racks_.size());
      if (added) racks_.emplace_back();
      rack_of_.push_back(it->second);
      Rack& rack = racks_[it->second];
      ++rack.nodes;
      rack.members.insert(NodeKey(i));
    }
    for (size_t r = 0; r < racks_.size(); ++r) order_.insert(RackKey(r));
  }

  // The best candidate not in `chosen` (indexes), on a rack none of them
  // is on when there is one.
  int Pick(const std::vector<int>& chosen) const {
    absl::flat_hash_set<int> used_racks;
    for (int c : chosen) used_racks.insert(rack_of_[c]);
    for (const auto& key : order_) {
      const int r = std::get<5>(key);
      if (!used_racks.contains(r)) return std::get<4>(*racks_[r].members.begin());
    }
    // Every rack is used: the best node left, all racks alike.
    int best = -1;
    for (const auto& key : order_) {
      const Rack& rack = racks_[std::get<5>(key)];
      for (const auto& member : rack.members) {
        const int i = std::get<4>(member);
        if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
        if (best < 0 || Rank(i) < Rank(best)) best = i;
        break;
      }
    }
    return best;
  }

  void Add(int i) {
    Rack& rack = racks_[rack_of_[i]];
    order_.erase(RackKey(rack_of_[i]));
    rack.members.erase(NodeKey(i));
    ++count_[i];
    ++rack.partitions;
    rack.members.insert(NodeKey(i));
    order_.insert(RackKey(rack_of_[i]));
  }

 private:
  // (partitions, rack load, ~free bytes, id, index, rack) orders nodes as
  // PickReplica's rank does after its used-rack tier.
  using Key = std::tuple<uint32_t, double, uint64_t, absl::string_view, int, int>;
  struct Rack {
    uint64_t partitions = 0;
    uint64_t nodes = 0;
    std::set<Key> members;  // rack load left 0: constant within a rack
  };
  Key NodeKey(int i) const {
    return {count_[i], 0.0, ~candidates_[i].free_bytes, candidates_[i].id, i,
            rack_of_[i]};
  }
  Key Rank(int i) const {
    const Rack& rack = racks_[rack_of_[i]];
    return {count_[i], double(rack.partitions) / rack.nodes,
            ~candidates_[i].free_bytes, candidates_[i].id, i, rack_of_[i]};
  }
  // A rack as its best node ranks.
  Key RackKey(int r) const {
    const Rack& rack = racks_[r];
    Key best = *rack.members.begin();
    std::get<1>(best) = double(rack.partitions) / rack.nodes;
    return best;
  }

  const std::vector<PlacementCandidate>& candidates_;
  std::vector<uint32_t> count_;
  std::vector<int> rack_of_;
  std::vector<Rack> racks_;
  std::set<Key> order_;  // every rack by RackKey
};

}  // namespace

absl::StatusOr<std::vector<std::vector<std::string>>> PlacePartitions(
    const std::vector<PlacementCandidate>& candidates, uint32_t partitions,
    uint32_t replication) {
  if (replication == 0 || candidates.size() < replication) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot place ", replication, " replicas on ", candidates.size(),
        " nodes"));
  }
  ReplicaPicker picker(candidates);
  std::vector<std::vector<std::string>> assignments(partitions);
  std::vector<std::vector<std::string>*> lists;
  for (auto& replicas : assignments) lists.push_back(&replicas);
  std::vector<int> chosen;
  for (auto& replicas : assignments) {
    chosen.clear();
    while (chosen.size() < replication) {
      const int next = picker.Pick(chosen);
      chosen.push_back(next);
      picker.Add(next);
      replicas.push_back(candidates[next].id);
    }
  }
  BalanceLeaders(lists);
  return assignments;
}

namespace {

// The state of leader balancing: lead counts per node and, per leader, the
// partitions it leads by member that could take one over. Nodes are
// numbered in id order, so that equal input gives equal output.
class LeaderBalancer {
 public:
  explicit LeaderBalancer(std::vector<std::vector<std::string>*>& lists)
      : lists_(lists) {
    std::map<std::string, int> index;
    for (const std::vector<std::string>* list : lists_) {
      for (const std::string& id : *list) index.emplace(id, 0);
    }
    int next = 0;
    for (auto& [id, i] : index) i = next++;
    lead_.assign(next, 0);
    offers_.resize(next);
    leaders_with_.resize(next);
    members_.resize(lists_.size());
    for (size_t p = 0; p < lists_.size(); ++p) {
      for (const std::string& id : *lists_[p]) members_[p].push_back(index[id]);
      if (!members_[p].empty()) {
        ++lead_[members_[p].front()];
        Offer(static_cast<uint32_t>(p));
      }
    }
    for (int node = 0; node < next; ++node) Queue(node);
  }

  // Moves leads from loaded leaders to members at least two lighter until
  // none is left; returns how many lists changed.
  int Run() {
    absl::flat_hash_set<uint32_t> changed;
    // Each swap lowers the sum of squared lead counts by at least two, so
    // this ends; the bound only guards against a bug.
    uint64_t budget = 1;
    for (int lead : lead_) budget += uint64_t(lead) * lead;
    while (!queue_.empty() && budget-- > 0) {
      const int leader = queue_.begin()->second;
      queue_.erase(queue_.begin());
      queued_lead_.erase(leader);
      std::optional<uint32_t> p = BestSwap(leader);
      if (!p) continue;  // nothing to give now; queued again if that changes
      Swap(*p, Lightest(*p, leader));
      changed.insert(*p);
    }
    return static_cast<int>(changed.size());
  }

 private:
  // Records that partition `p` is led by its first member, who could hand
  // it to any other member.
  void Offer(uint32_t p) {
    const int leader = members_[p].front();
    for (size_t i = 1; i < members_[p].size(); ++i) {
      const int member = members_[p][i];
      offers_[leader][member].push_back(p);
      leaders_with_[member].insert(leader);
    }
  }
  // Queues `node` to be looked at, most leads first.
  void Queue(int node) {
    auto it = queued_lead_.find(node);
    if (it != queued_lead_.end()) {
      if (it->second == lead_[node]) return;
      queue_.erase({-it->second, node});
    }
    queued_lead_[node] = lead_[node];
    queue_.insert({-lead_[node], node});
  }
  size_t Position(uint32_t p, int node) const {
    const auto& m = members_[p];
    return std::find(m.begin(), m.end(), node) - m.begin();
  }
  // The member of `p` with the fewest leads (the smallest index among
  // equals), other than `leader`.
  int Lightest(uint32_t p, int leader) const {
    int best = -1;
    for (int m : members_[p]) {
      if (m != leader && (best < 0 || lead_[m] < lead_[best])) best = m;
    }
    return best;
  }
  // A partition `leader` leads that a member at least two leads lighter can
  // take over, preferring the lightest such member; stale offers (the
  // partition changed leader since) are dropped on the way.
  std::optional<uint32_t> BestSwap(int leader) {
    int best_member = -1;
    for (auto it = offers_[leader].begin(); it != offers_[leader].end();) {
      const int member = it->first;
      std::vector<uint32_t>& partitions = it->second;
      while (!partitions.empty() &&
             members_[partitions.back()].front() != leader) {
        partitions.pop_back();
      }
      if (partitions.empty()) {
        it = offers_[leader].erase(it);
        continue;
      }
      if (lead_[member] + 2 <= lead_[leader] &&
          (best_member < 0 || lead_[member] < lead_[best_member])) {
        best_member = member;
      }
      ++it;
    }
    if (best_member < 0) return std::nullopt;
    return offers_[leader][best_member].back();
  }
  void Swap(uint32_t p, int member) {
    const int leader = members_[p].front();
    std::swap(members_[p].front(), members_[p][Position(p, member)]);
    std::vector<std::string>& list = *lists_[p];
    std::swap(list.front(), list[Position(p, leader)]);
    --lead_[leader];
    ++lead_[member];
    Offer(p);
    // The leader may give more; the member may now have too many; and the
    // leaders of partitions the old leader is a member of may now give to
    // it.
    Queue(leader);
    Queue(member);
    for (int other : leaders_with_[leader]) {
      if (lead_[other] >= lead_[leader] + 2) Queue(other);
    }
  }

  std::vector<std::vector<std::string>*>& lists_;
  std::vector<std::vector<int>> members_;  // by partition, node indexes
  std::vector<int> lead_;                  // by node
  // offers_[leader][member]: partitions `leader` led when last offered that
  // have `member` (stale entries are dropped when seen).
  std::vector<std::map<int, std::vector<uint32_t>>> offers_;
  // leaders_with_[member]: leaders that have offered `member` a partition.
  std::vector<absl::flat_hash_set<int>> leaders_with_;
  // Nodes to look at, most leads first (by index among equals), with the
  // lead count each was queued with.
  std::set<std::pair<int, int>> queue_;
  absl::flat_hash_map<int, int> queued_lead_;
};

}  // namespace

int BalanceLeaders(std::vector<std::vector<std::string>*>& replica_lists) {
  return LeaderBalancer(replica_lists).Run();
}

}  // namespace quorumkv
