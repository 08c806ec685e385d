// Placement and leader balancing at the scale of a large directory
// (docs/benchmarks.md): forming a directory of 65 536 partitions on six
// nodes, and balancing the first replicas of lists that all start on one
// node, which a directory formed before leaders were spread can be in.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/placement.h"

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

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
