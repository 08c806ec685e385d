// The coordinator's fan-out: a quorum write or read through the Coordinator
// to two peers that answer at once, in-process (a PeerProxy that never
// touches the network), so the figure is the coordinator's own cost:
// stamping, the local RocksDB write, the per-replica bookkeeping.
//
//   build/bin/coordinator_benchmark --benchmark_min_time=2
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "storage_node/coordinator.h"
#include "storage_node/merkle_tree.h"

namespace quorumkv {
namespace {

// A peer that acknowledges every write and finds nothing on reads, at once,
// on the caller's thread.
class InstantPeer final : public PeerProxy {
 public:
  void Apply(const ApplyRequest&, absl::Time,
             Done<ApplyResponse> done) override {
    ApplyResponse response;
    response.set_applied(true);
    done(std::move(response));
  }
  void Read(const ReadRequest&, absl::Time, Done<ReadResponse> done) override {
    done(ReadResponse());
  }
  // A replica holding nothing (the benchmarks run no anti-entropy).
  void Tree(const TreeRequest&, absl::Time, Done<TreeResponse> done) override {
    TreeResponse empty;
    MerkleTree tree;
    tree.Seal();
    empty.mutable_nodes()->Add(tree.nodes().begin(), tree.nodes().end());
    done(std::move(empty));
  }
  void Rows(const RowsRequest&, absl::Time, Done<RowsResponse> done) override {
    done(RowsResponse());
  }
  void Range(const RangeRequest&, absl::Time,
             Done<RangeResponse> done) override {
    done(RangeResponse());
  }
  void Paxos(const PaxosRequest&, absl::Time,
             Done<PaxosResponse> done) override {
    done(absl::UnimplementedError("not benchmarked"));
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext*, const StreamPartitionRequest&) override {
    return nullptr;
  }
};

// Three nodes; every partition on all three, this node first.
DirectoryPtr ThreeNodes() {
  Directory proto;
  proto.set_epoch(1);
  proto.set_partitions(64);
  proto.set_replication(3);
  for (int i = 1; i <= 3; ++i) {
    NodeDescriptor* node = proto.add_nodes();
    node->set_id(absl::StrCat("n", i));
    node->set_address(absl::StrCat("127.0.0.1:", 7100 + i));
    node->set_rack(absl::StrCat("r", i));
  }
  for (int p = 0; p < 64; ++p) {
    PartitionReplicas* replicas = proto.add_assignments();
    for (int i = 1; i <= 3; ++i) replicas->add_node_ids(absl::StrCat("n", i));
  }
  return std::make_shared<DirectoryView>(std::move(proto));
}

class Fixture {
 public:
  Fixture()
      : dir_(std::filesystem::temp_directory_path() /
             absl::StrCat("qkv-coord-bench-", getpid())),
        clock_("n1"),
        peers_([](const std::string&) { return std::make_unique<InstantPeer>(); }) {
    std::filesystem::remove_all(dir_);
    engine_ = *Engine::Open(dir_.string());
    hints_ = std::make_unique<HintWriter>(&engine_->hints());
    coordinator_ = std::make_unique<Coordinator>("n1", engine_.get(), &clock_,
                                                 &peers_, /*down=*/nullptr,
                                                 hints_.get());
  }
  ~Fixture() {
    coordinator_.reset();
    hints_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  Coordinator& coordinator() { return *coordinator_; }

 private:
  std::filesystem::path dir_;
  HybridClock clock_;
  PeerSet peers_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HintWriter> hints_;
  std::unique_ptr<Coordinator> coordinator_;
};

void BM_QuorumWrite(benchmark::State& state) {
  Fixture fixture;
  const DirectoryPtr directory = ThreeNodes();
  const uint32_t w = state.range(0);
  uint64_t i = 0;
  for (auto _ : state) {
    VersionedValue value;
    value.set_value(std::string(100, 'v'));
    const std::string key = absl::StrCat("bench-", i++ % 10000);
    bool ok = false;
    fixture.coordinator().Write(
        directory, directory->PartitionOf(key), key, std::move(value), w,
        absl::Now() + absl::Seconds(5),
        [&ok](absl::StatusOr<WriteOutcome> outcome) { ok = outcome.ok(); });
    if (!ok) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuorumWrite)->ArgName("w")->Arg(1)->Arg(2)->Arg(3);

void BM_QuorumRead(benchmark::State& state) {
  Fixture fixture;
  const DirectoryPtr directory = ThreeNodes();
  const uint32_t r = state.range(0);
  uint64_t i = 0;
  for (auto _ : state) {
    const std::string key = absl::StrCat("bench-", i++ % 10000);
    bool answered = false;
    fixture.coordinator().Read(directory, directory->PartitionOf(key), key, r,
                               absl::Now() + absl::Seconds(5),
                               [&answered](absl::StatusOr<VersionedValue>) {
                                 answered = true;
                               });
    if (!answered) state.SkipWithError("read did not answer");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuorumRead)->ArgName("r")->Arg(1)->Arg(2);

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
