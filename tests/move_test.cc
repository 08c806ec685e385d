// Moves on an in-process cluster (docs/moves.md): a writer keeps writing (W=2)
// while nodes die, join, leave, and the master restarts; afterwards every
// acknowledged key reads back with its latest value at R=N, and the
// directory has the shape placement requires. Every test runs in iterative
// and in recursive mode.
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "tests/fault_injection.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kMoveDeadline = absl::Seconds(90);

// Writes keys over and over from a thread of its own, and remembers for
// each key the last acknowledged value and every value tried after it (a
// failed write may still have been applied).
class Writer {
 public:
  Writer(Client* client, int keys) : client_(client), keys_(keys) {}
  ~Writer() { Stop(); }

  void Start() {
    thread_ = std::thread([this] {
      // Bounded in count as well as by Stop().
      for (int i = 0; i < 200000 && !stop_.load(); ++i) {
        const std::string key = absl::StrCat("key-", i % keys_);
        const std::string value = absl::StrCat("value-", i, "-", std::string(64, 'v'));
        RequestOptions options;
        options.w = 2;
        const bool ok = client_->Put(key, value, options).ok();
        absl::MutexLock lock(&mu_);
        Written& w = written_[key];
        if (ok) {
          w.acked = value;
          w.tried_after.clear();
          ++acked_;
        } else {
          w.tried_after.insert(value);
        }
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t acked() const {
    absl::MutexLock lock(&mu_);
    return acked_;
  }
  // Waits until `more` writes beyond the current count were acknowledged.
  bool WaitForMoreAcks(uint64_t more) {
    const uint64_t target = acked() + more;
    return WaitFor([&] { return acked() >= target; }, absl::Seconds(60));
  }

  // Reads every key at R=N and checks it holds its last acknowledged
  // value (or one tried after it).
  void Verify(Client* reader, uint32_t n) const {
    absl::MutexLock lock(&mu_);
    ASSERT_FALSE(written_.empty());
    int checked = 0;
    for (const auto& entry : written_) {
      // Named copies: lambdas cannot capture structured bindings in C++17.
      const std::string& key = entry.first;
      const auto& w = entry.second;
      if (w.acked.empty()) continue;
      RequestOptions options;
      options.r = static_cast<int>(n);
      options.timeout = absl::Seconds(10);
      // A peer that just came back may refuse connections for up to a
      // second (gRPC's reconnect backoff): an error is retried, a wrong
      // value is not.
      absl::StatusOr<ReadResult> got;
      WaitFor([&] { return (got = reader->Get(key, options)).ok(); },
              absl::Seconds(10));
      ASSERT_TRUE(got.ok()) << key << ": " << got.status();
      EXPECT_TRUE(got->value == w.acked || w.tried_after.count(got->value))
          << key << " reads " << got->value.substr(0, 16) << ", last acked "
          << w.acked.substr(0, 16);
      ++checked;
    }
    EXPECT_GT(checked, 0);
  }

 private:
  struct Written {
    std::string acked;
    std::set<std::string> tried_after;
  };
  Client* const client_;
  const int keys_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<std::string, Written> written_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
};

class MoveTest : public ::testing::TestWithParam<QueryMode> {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  void StartCluster(MiniClusterOptions options) {
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
    auto client = cluster_->NewClient(GetParam());
    ASSERT_OK(client);
    client_ = *std::move(client);
    auto admin = cluster_->NewClient(QueryMode::kIterative);
    ASSERT_OK(admin);
    admin_ = *std::move(admin);
  }

  DirectoryPtr directory() { return cluster_->master()->directory(); }

  // No move in flight, every partition with N full replicas on distinct
  // racks (there are N racks or more in these tests), none on `gone`.
  bool Settled(const std::set<std::string>& gone = {}) {
    DirectoryPtr d = directory();
    if (!d->formed() || d->proto().moves_size() > 0) return false;
    for (uint32_t p = 0; p < d->partitions(); ++p) {
      const auto& replicas = d->Replicas(p);
      if (replicas.size() != d->replication() || !d->Joining(p).empty()) {
        return false;
      }
      std::set<std::string> racks;
      for (const std::string& id : replicas) {
        if (gone.count(id)) return false;
        racks.insert(d->FindNode(id)->rack());
      }
      if (racks.size() != replicas.size()) return false;
    }
    return true;
  }

  // Full replicas per node id.
  std::map<std::string, int> Counts() {
    DirectoryPtr d = directory();
    std::map<std::string, int> counts;
    for (const NodeDescriptor& node : d->proto().nodes()) counts[node.id()] = 0;
    for (uint32_t p = 0; p < d->partitions(); ++p) {
      for (const std::string& id : d->Replicas(p)) ++counts[id];
    }
    return counts;
  }

  // Every node in `ids` holds a count within one of the mean over them.
  bool Balanced(const std::vector<std::string>& ids) {
    auto counts = Counts();
    double total = 0;
    for (const auto& id : ids) total += counts[id];
    const double mean = total / ids.size();
    for (const auto& id : ids) {
      if (std::abs(counts[id] - mean) > 1.0) return false;
    }
    return true;
  }

  // Whether node i's engine still has rows of any partition it does not
  // hold.
  bool HoldsStaleRows(int i) {
    DirectoryPtr d = directory();
    StorageNode* node = cluster_->node(i);
    for (uint32_t p = 0; p < d->partitions(); ++p) {
      if (!d->Holds(node->id(), p) && node->engine()->HasRows(p)) return true;
    }
    return false;
  }

  // Whether a move that `matches` has streamed some bytes.
  bool Streaming(const std::function<bool(const MoveInfo&)>& matches) {
    auto moves = admin_->Moves();
    if (!moves.ok()) return false;
    for (const MoveInfo& m : moves->moves) {
      if (matches(m) && m.bytes_streamed > 0) return true;
    }
    return false;
  }

  void ExpectMovesDrained() {
    auto moves = admin_->Moves();
    ASSERT_OK(moves);
    EXPECT_TRUE(moves->moves.empty());
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Client> admin_;
};

MiniClusterOptions SixNodes() {
  MiniClusterOptions options;
  options.nodes = 6;
  options.racks = 3;
  options.partitions = 12;
  options.initial_nodes = 6;
  // Heartbeats every 100 ms: a busy CI machine must not make a live node
  // look DOWN, let alone replaced.
  options.node_down_after = absl::Seconds(2);
  return options;
}

TEST_P(MoveTest, DeadNodeIsReplacedOnItsRack) {
  MiniClusterOptions options = SixNodes();
  options.replace_after = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 150);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  const std::string dead = cluster_->node(0)->id();
  cluster_->StopNode(0);
  ASSERT_EVENTUALLY(Settled({dead}), kMoveDeadline);
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
  EXPECT_EQ(Counts()[dead], 0);
  // Every partition keeps one replica per rack, so the dead node's rack
  // mate took all of them there; the two other racks stay balanced.
  EXPECT_EQ(Counts()[cluster_->node(3)->id()], 12);
  EXPECT_TRUE(Balanced({cluster_->node(1)->id(), cluster_->node(4)->id()}));
  EXPECT_TRUE(Balanced({cluster_->node(2)->id(), cluster_->node(5)->id()}));
  ExpectMovesDrained();
}

TEST_P(MoveTest, ReturningReplacedNodeKeepsNothingStale) {
  MiniClusterOptions options = SixNodes();
  options.replace_after = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 100);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  const std::string dead = cluster_->node(0)->id();
  cluster_->StopNode(0);
  ASSERT_EVENTUALLY(Settled({dead}), kMoveDeadline);
  writer.Stop();
  ASSERT_OK(cluster_->RestartNode(0));
  // Back UP, it holds only what the directory gives it (rebalancing may
  // give it partitions again) and deletes the rest.
  ASSERT_EVENTUALLY(Settled() && !HoldsStaleRows(0), kMoveDeadline);
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

// Docs/moves.md, misplaced replicas: one r3 node dies for good, and the
// other one is down while its replacements are placed, so they go to racks
// r1 and r2. Once it is back, every partition gets a replica on r3 again,
// and `status` counts what is misplaced until then.
TEST_P(MoveTest, RackSpreadIsRestoredWhenTheRackComesBack) {
  MiniClusterOptions options = SixNodes();
  options.node_down_after = absl::Seconds(1);
  options.replace_after = absl::Seconds(2);
  // Moves to the node that goes down are cancelled, and it is avoided for
  // this long after (30 s by default).
  options.move_avoid_after_cancel = absl::Seconds(2);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 100);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  const int dead = 2, briefly = 5;  // both on r3
  const std::string dead_id = cluster_->node(dead)->id();
  cluster_->StopNode(dead);
  // Once its replacement has begun, r3's other node goes down too.
  ASSERT_EVENTUALLY(directory()->proto().moves_size() > 0, kMoveDeadline);
  cluster_->StopNode(briefly);
  // The replacements can only go to r1 and r2 meanwhile.
  auto none_on_dead = [&] {
    DirectoryPtr d = directory();
    if (d->proto().moves_size() > 0) return false;
    for (uint32_t p = 0; p < d->partitions(); ++p) {
      const auto& replicas = d->Replicas(p);
      if (replicas.size() != d->replication()) return false;
      for (const std::string& id : replicas) {
        if (id == dead_id) return false;
      }
    }
    return true;
  };
  ASSERT_EVENTUALLY(none_on_dead(), kMoveDeadline);
  auto on_two_racks = [&] {
    DirectoryPtr d = directory();
    int n = 0;
    for (uint32_t p = 0; p < d->partitions(); ++p) {
      std::set<std::string> racks;
      for (const std::string& id : d->Replicas(p)) {
        racks.insert(d->FindNode(id)->rack());
      }
      n += racks.size() < d->replication();
    }
    return n;
  };
  ASSERT_GT(on_two_racks(), 0);
  {
    // No node of r3 can take partitions now: that is all racks allow.
    auto summary = admin_->Nodes();
    ASSERT_OK(summary);
    EXPECT_EQ(summary->misplaced, 0u);
  }
  ASSERT_OK(cluster_->RestartNode(briefly));
  ASSERT_EVENTUALLY(Settled({dead_id}), kMoveDeadline);
  EXPECT_EQ(on_two_racks(), 0);
  auto summary = admin_->Nodes();
  ASSERT_OK(summary);
  EXPECT_EQ(summary->misplaced, 0u);
  EXPECT_EQ(summary->under_replicated, 0u);
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

TEST_P(MoveTest, ThreeNodesAddedAreRebalancedWithMinimalMoves) {
  MiniClusterOptions options;
  options.partitions = 16;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 150);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  const uint64_t completed_before =
      cluster_->master()->move_counters().completed;
  for (const char* rack : {"r1", "r2", "r3"}) ASSERT_OK(cluster_->AddNode(rack));
  std::vector<std::string> all;
  ASSERT_EVENTUALLY(cluster_->node(5)->registered(), absl::Seconds(20));
  for (int i = 0; i < cluster_->num_nodes(); ++i) all.push_back(cluster_->node(i)->id());
  ASSERT_EVENTUALLY(Settled() && Balanced(all), kMoveDeadline);
  ASSERT_TRUE(writer.WaitForMoreAcks(50));
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
  // 48 replicas over 6 nodes: 8 each within one, so at least 3 * (16 - 9)
  // = 21 moves; the planner makes no more than the minimum.
  const auto counters = cluster_->master()->move_counters();
  EXPECT_LE(counters.completed - completed_before, 24u);
  EXPECT_GE(counters.completed - completed_before, 21u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EVENTUALLY(!HoldsStaleRows(i), absl::Seconds(20));
  }
}

TEST_P(MoveTest, DecommissionDrainsThenRemoves) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(SixNodes()));
  Writer writer(client_.get(), 150);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  const std::string leaving = cluster_->node(0)->id();
  auto dry = admin_->Decommission(leaving, /*dry_run=*/true);
  ASSERT_OK(dry);
  EXPECT_EQ(dry->moves.size(), static_cast<size_t>(Counts()[leaving]));
  EXPECT_TRUE(directory()->proto().decommissioning().empty());  // dry run
  auto started = admin_->Decommission(leaving, /*dry_run=*/false);
  ASSERT_OK(started);
  ASSERT_EVENTUALLY(directory()->IsRemoved(leaving), kMoveDeadline);
  ASSERT_EVENTUALLY(Settled({leaving}), kMoveDeadline);
  ASSERT_TRUE(writer.WaitForMoreAcks(50));
  writer.Stop();
  writer.Verify(client_.get(), 3);
  ASSERT_EVENTUALLY(!HoldsStaleRows(0), absl::Seconds(20));
  auto nodes = admin_->Nodes();
  ASSERT_OK(nodes);
  for (const NodeSummary& n : nodes->nodes) {
    if (n.node.id == leaving) {
      EXPECT_EQ(n.node.state, "REMOVED");
      EXPECT_EQ(n.partitions, 0u);
    }
  }
}

TEST_P(MoveTest, DecommissionIsRefusedWhenRacksWouldNotSuffice) {
  MiniClusterOptions options;  // 3 nodes, 3 racks, N=3
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  auto refused = admin_->Decommission(cluster_->node(0)->id(), false);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("distinct racks"), std::string::npos)
      << refused.status();
  auto unknown = admin_->Decommission("no-such-node", false);
  EXPECT_TRUE(absl::IsInvalidArgument(unknown.status())) << unknown.status();
  EXPECT_NE(unknown.status().message().find("unknown node no-such-node"),
            std::string::npos);
  EXPECT_TRUE(directory()->proto().decommissioning().empty());
}

// A slow stream, so that a test can act while a move is in flight.
MiniClusterOptions SlowMoves(MiniClusterOptions options) {
  options.stream_rate = 2 * 1024;  // bytes per second per stream
  options.max_moves_per_node = 1;
  return options;
}

TEST_P(MoveTest, DestinationKilledMidStreamIsCancelledAndPlannedElsewhere) {
  MiniClusterOptions options = SlowMoves({});
  options.partitions = 8;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 200);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(200));
  auto added = cluster_->AddNode("r1");
  ASSERT_OK(added);
  const std::string doomed = cluster_->node(*added)->id();
  ASSERT_EVENTUALLY(Streaming([&](const MoveInfo& m) { return m.to == doomed; }),
                    kMoveDeadline);
  cluster_->StopNode(*added);
  // The move is cancelled; the doomed node never became a full replica.
  ASSERT_EVENTUALLY(Settled() && directory()->proto().moves_size() == 0,
                    kMoveDeadline);
  // Replacement of its (zero) partitions is nothing to do; another node
  // joins and the rebalance goes there instead.
  ASSERT_OK(cluster_->AddNode("r2"));
  ASSERT_EVENTUALLY(Counts()[cluster_->node(*added + 1)->id()] > 0, kMoveDeadline);
  ASSERT_EVENTUALLY(Settled(), kMoveDeadline);
  EXPECT_EQ(Counts()[doomed], 0);
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

TEST_P(MoveTest, StalledDestinationIsCancelledAndPlannedElsewhere) {
  MiniClusterOptions options;
  options.partitions = 8;
  options.move_stall_timeout = absl::Seconds(2);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 100);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(100));
  // This node's every stream breaks at once: it stays UP but never makes
  // progress.
  auto faults = std::make_shared<PeerFaults>();
  faults->drop_streams = true;
  auto stalled = cluster_->AddNode("r1", FaultyPeers(faults));
  ASSERT_OK(stalled);
  const std::string stalled_id = cluster_->node(*stalled)->id();
  ASSERT_EVENTUALLY(cluster_->master()->move_counters().cancelled > 0,
                    kMoveDeadline);
  EXPECT_EQ(Counts()[stalled_id], 0);
  // A healthy node on the same rack gets the partitions instead.
  auto healthy = cluster_->AddNode("r1");
  ASSERT_OK(healthy);
  ASSERT_EVENTUALLY(Counts()[cluster_->node(*healthy)->id()] > 0, kMoveDeadline);
  EXPECT_EQ(Counts()[stalled_id], 0);
  writer.Stop();
  ASSERT_EVENTUALLY(Settled(), kMoveDeadline);
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

TEST_P(MoveTest, DestinationRestartedMidStreamStartsOver) {
  MiniClusterOptions options = SlowMoves({});
  options.partitions = 8;
  // Long enough that the restart is not taken for a death (a restart that
  // is, is cancelled and planned again: the test holds either way).
  options.node_down_after = absl::Seconds(3);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 200);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(200));
  auto added = cluster_->AddNode("r1");
  ASSERT_OK(added);
  const std::string id = cluster_->node(*added)->id();
  ASSERT_EVENTUALLY(Streaming([&](const MoveInfo& m) { return m.to == id; }),
                    kMoveDeadline);
  ASSERT_OK(cluster_->RestartNode(*added));
  // Its streams start over when the master lists them again.
  const std::vector<std::string> r1 = {cluster_->node(0)->id(), id};
  ASSERT_EVENTUALLY(Settled() && Balanced(r1), kMoveDeadline);
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

TEST_P(MoveTest, SourceKilledMidStreamRestartsFromAnotherReplica) {
  MiniClusterOptions options = SlowMoves(SixNodes());
  options.replace_after = absl::Seconds(600);  // only the decommission moves
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 200);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(200));
  const std::string leaving = cluster_->node(0)->id();
  ASSERT_OK(admin_->Decommission(leaving, false));
  ASSERT_EVENTUALLY(
      Streaming([&](const MoveInfo& m) { return m.from == leaving; }),
      kMoveDeadline);
  // The source dies mid-stream: the destinations copy from the other
  // replicas instead, and the drain completes without it.
  cluster_->StopNode(0);
  ASSERT_EVENTUALLY(directory()->IsRemoved(leaving), kMoveDeadline);
  ASSERT_EVENTUALLY(Settled({leaving}), kMoveDeadline);
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

TEST_P(MoveTest, MasterRestartedMidMoveResumesIt) {
  MiniClusterOptions options = SlowMoves({});
  options.partitions = 8;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  Writer writer(client_.get(), 200);
  writer.Start();
  ASSERT_TRUE(writer.WaitForMoreAcks(200));
  ASSERT_OK(cluster_->AddNode("r1"));
  ASSERT_EVENTUALLY(directory()->proto().moves_size() > 0, kMoveDeadline);
  const Move persisted = directory()->proto().moves(0);
  ASSERT_OK(cluster_->RestartMaster());
  // The restarted master has the move it persisted, and carries it out.
  bool resumed = false;
  for (const Move& m : directory()->proto().moves()) {
    resumed = resumed || (m.partition() == persisted.partition() &&
                          m.to_node() == persisted.to_node());
  }
  EXPECT_TRUE(resumed);
  // Racks allow balance only within r1: the new node and its rack mate
  // share r1's replica of every partition.
  const std::vector<std::string> r1 = {cluster_->node(0)->id(),
                                       cluster_->node(3)->id()};
  ASSERT_EVENTUALLY(Settled() && Balanced(r1), kMoveDeadline);
  writer.Stop();
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  writer.Verify(client_.get(), 3);
}

INSTANTIATE_TEST_SUITE_P(Modes, MoveTest,
                         ::testing::Values(QueryMode::kIterative,
                                           QueryMode::kRecursive),
                         [](const auto& info) {
                           return std::string(QueryModeName(info.param));
                         });

}  // namespace
}  // namespace quorumkv
