// Placement and leader balancing at the scale of a large directory
// (docs/benchmarks.md): forming a directory of 65 536 partitions on six
// nodes, and balancing the first replicas of lists that all start on one
// node, which a directory formed before leaders were spread can be in.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/placement.h"
#include "master/move_planner.h"
#include "proto/master.pb.h"

namespace quorumkv {
namespace {

std::vector<PlacementCandidate> Candidates(int nodes, int racks) {
  std::vector<PlacementCandidate> candidates;
  for (int i = 0; i < nodes; ++i) {
    candidates.push_back({absl::StrCat("node-", i), absl::StrCat("r", i % racks),
                          uint64_t{1} << 40});
  }
  return candidates;
}

void BM_PlacePartitions(benchmark::State& state) {
  const auto candidates = Candidates(static_cast<int>(state.range(1)), 3);
  const uint32_t partitions = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    auto placed = PlacePartitions(candidates, partitions, 3);
    benchmark::DoNotOptimize(placed);
  }
  state.SetItemsProcessed(state.iterations() * partitions);
}
BENCHMARK(BM_PlacePartitions)
    ->Args({64, 6})
    ->Args({4096, 6})
    ->Args({65536, 6})
    ->Args({65536, 60})
    ->Unit(benchmark::kMillisecond);

// Every list led by node 0: the most work leader balancing can be given.
void BM_BalanceLeadersFromOneLeader(benchmark::State& state) {
  const uint32_t partitions = static_cast<uint32_t>(state.range(0));
  const int nodes = static_cast<int>(state.range(1));
  std::vector<std::vector<std::string>> skewed(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    skewed[p] = {"node-0", absl::StrCat("node-", 1 + p % (nodes - 1)),
                 absl::StrCat("node-", 1 + (p + 1) % (nodes - 1))};
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto lists_copy = skewed;
    std::vector<std::vector<std::string>*> lists;
    for (auto& l : lists_copy) lists.push_back(&l);
    state.ResumeTiming();
    benchmark::DoNotOptimize(BalanceLeaders(lists));
  }
  state.SetItemsProcessed(state.iterations() * partitions);
}
BENCHMARK(BM_BalanceLeadersFromOneLeader)
    ->Args({64, 6})
    ->Args({4096, 6})
    ->Args({65536, 6})
    ->Unit(benchmark::kMillisecond);

// A balanced directory, as after every move switches: nothing to do, and
// it must cost little.
void BM_BalanceLeadersBalanced(benchmark::State& state) {
  const uint32_t partitions = static_cast<uint32_t>(state.range(0));
  auto placed = PlacePartitions(Candidates(6, 3), partitions, 3);
  std::vector<std::vector<std::string>*> lists;
  for (auto& l : *placed) lists.push_back(&l);
  for (auto _ : state) benchmark::DoNotOptimize(BalanceLeaders(lists));
  state.SetItemsProcessed(state.iterations() * partitions);
}
BENCHMARK(BM_BalanceLeadersBalanced)
    ->Args({65536})
    ->Unit(benchmark::kMillisecond);

// A formed directory of `nodes` nodes on `racks` racks and 65 536
// partitions, as the planner sees it.
struct Cluster {
  Directory directory;
  std::vector<PlannerNode> nodes;
};

Cluster MakeCluster(int nodes, int racks, uint32_t partitions) {
  Cluster c;
  c.directory.set_partitions(partitions);
  c.directory.set_replication(3);
  std::vector<PlacementCandidate> candidates = Candidates(nodes, racks);
  for (const PlacementCandidate& candidate : candidates) {
    PlannerNode n;
    n.id = candidate.id;
    n.rack = candidate.rack;
    n.free_bytes = candidate.free_bytes;
    c.nodes.push_back(n);
    NodeDescriptor* node = c.directory.add_nodes();
    node->set_id(n.id);
    node->set_rack(n.rack);
  }
  auto placed = PlacePartitions(candidates, partitions, 3);
  for (const auto& replicas : *placed) {
    PartitionReplicas* p = c.directory.add_assignments();
    for (const std::string& id : replicas) p->add_node_ids(id);
  }
  return c;
}

const Cluster& LargeCluster() {
  static const Cluster* cluster = new Cluster(MakeCluster(10000, 100, 65536));
  return *cluster;
}

// Planning after one change to a cluster of 10 000 nodes on 100 racks and
// 65 536 partitions: a node dead for good (its replicas replaced), a node
// added (rebalance), a node decommissioned.
void BM_PlanAfterANodeDies(benchmark::State& state) {
  std::vector<PlannerNode> nodes = LargeCluster().nodes;
  nodes[17].health = PlannerNode::Health::kDead;
  for (auto _ : state) {
    benchmark::DoNotOptimize(PlanMoves(LargeCluster().directory, nodes));
  }
}
BENCHMARK(BM_PlanAfterANodeDies)->Unit(benchmark::kMillisecond);

void BM_PlanAfterANodeJoins(benchmark::State& state) {
  Directory directory = LargeCluster().directory;
  std::vector<PlannerNode> nodes = LargeCluster().nodes;
  PlannerNode joined;
  joined.id = "node-new";
  joined.rack = "r7";
  joined.free_bytes = uint64_t{1} << 40;
  nodes.push_back(joined);
  NodeDescriptor* node = directory.add_nodes();
  node->set_id(joined.id);
  node->set_rack(joined.rack);
  for (auto _ : state) benchmark::DoNotOptimize(PlanMoves(directory, nodes));
}
BENCHMARK(BM_PlanAfterANodeJoins)->Unit(benchmark::kMillisecond);

void BM_PlanADecommission(benchmark::State& state) {
  std::vector<PlannerNode> nodes = LargeCluster().nodes;
  nodes[42].decommissioning = true;
  for (auto _ : state) {
    benchmark::DoNotOptimize(PlanMoves(LargeCluster().directory, nodes));
  }
}
BENCHMARK(BM_PlanADecommission)->Unit(benchmark::kMillisecond);

// What the move tracker does after a move switches: leaders balanced again
// over the whole directory.
void BM_BalanceLeadersLarge(benchmark::State& state) {
  std::vector<std::vector<std::string>> lists;
  for (const PartitionReplicas& p : LargeCluster().directory.assignments()) {
    lists.emplace_back(p.node_ids().begin(), p.node_ids().end());
  }
  std::vector<std::vector<std::string>*> pointers;
  for (auto& l : lists) pointers.push_back(&l);
  for (auto _ : state) benchmark::DoNotOptimize(BalanceLeaders(pointers));
}
BENCHMARK(BM_BalanceLeadersLarge)->Unit(benchmark::kMillisecond);

// Forming a directory of 65 536 partitions on 10 000 nodes (once per
// cluster, not per change).
void BM_PlaceOnTenThousandNodes(benchmark::State& state) {
  const auto candidates = Candidates(10000, 100);
  for (auto _ : state) {
    benchmark::DoNotOptimize(PlacePartitions(candidates, 65536, 3));
  }
}
BENCHMARK(BM_PlaceOnTenThousandNodes)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
