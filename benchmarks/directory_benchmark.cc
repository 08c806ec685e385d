// The directory on the wire (docs/benchmarks.md): what an iterative client
// or a node downloads and decodes for 65 536 partitions, whole with ids
// repeated in every partition (the form older callers read), compact with
// each node named once, and as the changes since the caller's epoch after
// one move. Bytes are reported as counters.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/directory.h"
#include "common/directory_codec.h"
#include "common/placement.h"
#include "proto/master.pb.h"

namespace quorumkv {
namespace {

// A formed directory of `partitions` x 3 replicas on `nodes` nodes (ids as
// the nodes make them: 12 hex digits) over 3 racks.
Directory Formed(uint32_t partitions, int nodes) {
  std::vector<PlacementCandidate> candidates;
  Directory d;
  d.set_epoch(40);
  d.set_partitions(partitions);
  d.set_replication(3);
  d.set_cluster_id("5f0c2a9e41d7");
  for (int i = 0; i < nodes; ++i) {
    const std::string id = absl::StrCat(absl::Hex(0x1a2b3c000000 + i * 7919));
    candidates.push_back({id, absl::StrCat("r", i % 3), uint64_t{1} << 40});
    NodeDescriptor* node = d.add_nodes();
    node->set_id(id);
    node->set_address(absl::StrCat("10.0.", i / 250, ".", i % 250, ":7100"));
    node->set_rack(absl::StrCat("r", i % 3));
  }
  auto placed = PlacePartitions(candidates, partitions, 3);
  for (const auto& replicas : *placed) {
    PartitionReplicas* p = d.add_assignments();
    for (const std::string& id : replicas) p->add_node_ids(id);
  }
  return d;
}

// The next epoch: one partition gains a joining replica (a move starts).
Directory OneMoveLater(const Directory& d) {
  Directory next = d;
  next.set_epoch(d.epoch() + 1);
  next.mutable_assignments(12345 % d.partitions())
      ->add_joining_ids(d.nodes(d.nodes_size() - 1).id());
  return next;
}

void BM_DecodeWholeDirectory(benchmark::State& state) {
  const Directory d = Formed(static_cast<uint32_t>(state.range(0)),
                             static_cast<int>(state.range(1)));
  const std::string wire = d.SerializeAsString();
  for (auto _ : state) {
    Directory parsed;
    parsed.ParseFromString(wire);
    benchmark::DoNotOptimize(DirectoryView(std::move(parsed)));
  }
  state.counters["bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_DecodeWholeDirectory)
    ->Args({65536, 6})
    ->Args({65536, 1000})
    ->Unit(benchmark::kMillisecond);

void BM_DecodeCompactDirectory(benchmark::State& state) {
  const Directory d = Formed(static_cast<uint32_t>(state.range(0)),
                             static_cast<int>(state.range(1)));
  DirectoryUpdate update = MakeUpdate(nullptr, d);
  const std::string wire = update.SerializeAsString();
  for (auto _ : state) {
    DirectoryUpdate parsed;
    parsed.ParseFromString(wire);
    auto expanded = ApplyUpdate(Directory(), parsed);
    benchmark::DoNotOptimize(DirectoryView(*std::move(expanded)));
  }
  state.counters["bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_DecodeCompactDirectory)
    ->Args({65536, 6})
    ->Args({65536, 1000})
    ->Unit(benchmark::kMillisecond);

// The master's side of a watch answer after one move, and the caller's.
void BM_MakeDeltaAfterOneMove(benchmark::State& state) {
  const Directory before = Formed(static_cast<uint32_t>(state.range(0)),
                                  static_cast<int>(state.range(1)));
  const Directory after = OneMoveLater(before);
  size_t bytes = 0;
  for (auto _ : state) {
    DirectoryUpdate update = MakeUpdate(&before, after);
    bytes = update.ByteSizeLong();
    benchmark::DoNotOptimize(update);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MakeDeltaAfterOneMove)
    ->Args({65536, 6})
    ->Args({65536, 1000})
    ->Unit(benchmark::kMillisecond);

void BM_ApplyDeltaAfterOneMove(benchmark::State& state) {
  const Directory before = Formed(static_cast<uint32_t>(state.range(0)),
                                  static_cast<int>(state.range(1)));
  const std::string wire =
      MakeUpdate(&before, OneMoveLater(before)).SerializeAsString();
  for (auto _ : state) {
    DirectoryUpdate parsed;
    parsed.ParseFromString(wire);
    auto applied = ApplyUpdate(before, parsed);
    benchmark::DoNotOptimize(DirectoryView(*std::move(applied)));
  }
  state.counters["bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_ApplyDeltaAfterOneMove)
    ->Args({65536, 6})
    ->Args({65536, 1000})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
