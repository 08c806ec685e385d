// Replicas converge by themselves (docs/failures.md): anti-entropy scheduled by the
// master repairs a replica without any read touching the keys, exchanging
// only rows that differ; tombstones are purged only once every replica
// holds them. In-process cluster of real servers.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "storage_node/engine.h"
#include "storage_node/merkle_tree.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class AntiEntropyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  // Partitions are compared again `interval` after their last pass.
  void StartCluster(MiniClusterOptions options,
                    absl::Duration interval = absl::Milliseconds(200)) {
    options.anti_entropy_interval = interval;
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
    auto client = cluster_->NewClient(QueryMode::kIterative);
    ASSERT_OK(client);
    client_ = *std::move(client);
  }

  // What node i stores for `key` itself, through the operator's path
  // (kvcli get --from): "" when it holds nothing or a tombstone.
  std::string OwnCopy(int i, const std::string& key) {
    auto read = client_->GetFromReplica(cluster_->node(i)->id(), key);
    return read.ok() ? read->value : "";
  }

  uint64_t RowsExchanged() {
    auto nodes = client_->Nodes();
    return nodes.ok() ? nodes->anti_entropy_rows_exchanged : 0;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST(MerkleTreeTest, SameRowsSameRootAndDifferingLeavesNamed) {
  auto row = [](uint64_t wall) {
    RecordHeader header;
    header.wall_ms = wall;
    header.node_id = "n1";
    return header;
  };
  MerkleTree a, b;
  for (int i = 0; i < 1000; ++i) {
    a.Add(absl::StrCat("k", i), row(i));
    b.Add(absl::StrCat("k", 999 - i), row(999 - i));  // other order
  }
  a.Seal();
  b.Seal();
  EXPECT_EQ(a.root(), b.root());
  EXPECT_TRUE(a.DifferingLeaves(b).empty());
  MerkleTree c;
  for (int i = 0; i < 1000; ++i) c.Add(absl::StrCat("k", i), row(i == 7 ? 8 : i));
  c.Add("extra", row(1));
  c.Seal();
  const std::vector<uint32_t> leaves = a.DifferingLeaves(c);
  std::vector<uint32_t> expected = {MerkleTree::LeafOf("k7"),
                                    MerkleTree::LeafOf("extra")};
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  EXPECT_EQ(leaves, expected);
  google::protobuf::RepeatedField<uint64_t> wrong;
  wrong.Add(1);
  EXPECT_TRUE(absl::IsInvalidArgument(MerkleTree::FromNodes(wrong).status()));
}

// A replica that lost a partition's rows (a wiped disk; or writes missed
// beyond the hint window) gets them back with no client read, and the
// rows exchanged are about the rows that differed.
TEST_F(AntiEntropyTest, WipedReplicaConvergesWithoutReads) {
  MiniClusterOptions options;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  constexpr int kKeys = 400;
  RequestOptions all;
  all.w = 3;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(client_->Put(absl::StrCat("ae-", i), absl::StrCat("v", i), all));
  }
  // Whether every partition was compared since `t`.
  auto compared_since = [&](absl::Time t) {
    auto nodes = client_->Nodes();
    return nodes.ok() && nodes->anti_entropy_oldest_ms >= 0 &&
           absl::Milliseconds(nodes->anti_entropy_oldest_ms) < absl::Now() - t;
  };
  // A pass that overlapped the writes may have met a row on one replica
  // and not yet on another: count from a pass after the writes (and its
  // report, with the node's next heartbeat) on.
  const absl::Time written = absl::Now();
  ASSERT_EVENTUALLY(compared_since(written), absl::Seconds(30));
  const absl::Time reported = absl::Now();
  ASSERT_EVENTUALLY(compared_since(reported), absl::Seconds(30));
  const uint64_t before = RowsExchanged();
  // Every partition compared again and found equal: nothing exchanged.
  const absl::Time again = absl::Now();
  ASSERT_EVENTUALLY(compared_since(again), absl::Seconds(30));
  EXPECT_EQ(RowsExchanged(), before);

  DirectoryPtr directory = cluster_->master()->directory();
  const uint32_t wiped = directory->PartitionOf("ae-0");
  std::map<std::string, std::string> lost;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = absl::StrCat("ae-", i);
    if (directory->PartitionOf(key) == wiped) lost[key] = absl::StrCat("v", i);
  }
  ASSERT_OK(cluster_->node(1)->engine()->DropPartition(wiped));
  EXPECT_EQ(OwnCopy(1, "ae-0"), "");

  for (const auto& entry : lost) {
    const std::string& key = entry.first;  // captured below
    const std::string& value = entry.second;
    ASSERT_EVENTUALLY(OwnCopy(1, key) == value, absl::Seconds(30)) << key;
  }
  // The pass is reported with the node's next heartbeat.
  ASSERT_EVENTUALLY(RowsExchanged() - before >= lost.size(), absl::Seconds(10));
  const uint64_t exchanged = RowsExchanged() - before;
  std::cout << "rows lost " << lost.size() << ", rows exchanged " << exchanged
            << "\n";
  EXPECT_LE(exchanged, 3 * lost.size());
}

// A replica DOWN past the hint window misses writes that no hint brings
// back. Every partition was compared moments before and the interval (the
// default 10 minutes) has not passed, yet the coordinators report the
// partitions whose hints they refused or dropped, and the master has those
// compared first: the replica is current again within seconds, with no read.
TEST_F(AntiEntropyTest, PartitionsThatMayHaveDivergedAreComparedFirst) {
  MiniClusterOptions options;
  options.partitions = 64;
  options.hint_window = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(StartCluster(options, absl::Minutes(10)));
  ASSERT_EVENTUALLY(client_->Nodes()->anti_entropy_oldest_ms >= 0,
                    absl::Seconds(30));
  constexpr int kDown = 2;
  cluster_->StopNode(kDown);
  // Writes it misses: hinted until both coordinators refuse hints for it
  // (it has been away longer than the window), then 400 more that only
  // anti-entropy can bring it.
  auto refused_by_both = [&] {
    for (int i : {0, 1}) {
      if (cluster_->node(i)->engine()->hints().dropped() == 0) return false;
    }
    return true;
  };
  std::map<std::string, std::string> written;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  for (int i = 0; i < 100000 && !refused_by_both(); ++i) {
    ASSERT_LT(absl::Now(), give_up) << "no hint was refused";
    const std::string key = absl::StrCat("hinted-", i % 200);
    const std::string value = absl::StrCat("v", i);
    ASSERT_OK(client_->Put(key, value));
    written[key] = value;
  }
  for (int i = 0; i < 400; ++i) {
    const std::string key = absl::StrCat("missed-", i);
    ASSERT_OK(client_->Put(key, "v"));
    written[key] = "v";
  }
  ASSERT_OK(cluster_->RestartNode(kDown));
  const absl::Time back = absl::Now();
  DirectoryPtr directory = cluster_->master()->directory();
  auto stale = [&] {
    int n = 0;
    for (const auto& [key, value] : written) {
      auto stored = cluster_->node(kDown)->engine()->Read(
          directory->PartitionOf(key), key);
      n += !stored.ok() || stored->value() != value;
    }
    return n;
  };
  // Target: current within 15 s of coming back.
  ASSERT_EVENTUALLY(stale() == 0, absl::Seconds(15))
      << ": " << stale() << " of " << written.size() << " keys still stale";
  std::cout << written.size() << " keys current on the returning replica "
            << absl::ToDoubleSeconds(absl::Now() - back) << " s after it was back\n";
  // Nothing left waiting as possibly diverged.
  ASSERT_EVENTUALLY(client_->Nodes()->anti_entropy_diverged == 0,
                    absl::Seconds(15));
}

// A delete that one replica missed (it was stopped, and the hint was lost)
// must not come back: the tombstone is kept past its grace period until an
// anti-entropy pass has given it to every replica.
TEST_F(AntiEntropyTest, DeletedValueNeverComesBack) {
  MiniClusterOptions options;
  options.tombstone_grace = absl::ZeroDuration();
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  const std::string key = "doomed";
  RequestOptions all;
  all.w = 3;
  ASSERT_OK(client_->Put(key, "alive", all));
  DirectoryPtr directory = cluster_->master()->directory();
  std::vector<int> replicas;
  for (const std::string& id : directory->Replicas(directory->PartitionOf(key))) {
    replicas.push_back(cluster_->IndexOf(id));
  }
  const int missed = replicas[2];
  cluster_->StopNode(missed);
  ASSERT_OK(client_->Delete(key));
  // The hint for the stopped replica is lost.
  for (int i : {replicas[0], replicas[1]}) {
    HintStore& hints = cluster_->node(i)->engine()->hints();
    ASSERT_EVENTUALLY(hints.pending() > 0 || i != replicas[0],
                      absl::Seconds(10));
    for (const std::string& target : hints.Targets()) {
      ASSERT_OK(hints.Remove(hints.Peek(target, 1000)));
    }
  }
  // Compaction past the grace period, with a replica that lacks the
  // tombstone: it stays.
  for (int i : {replicas[0], replicas[1]}) {
    ASSERT_OK(cluster_->node(i)->engine()->Compact());
    auto stored = cluster_->node(i)->engine()->Read(directory->PartitionOf(key), key);
    ASSERT_OK(stored);
    EXPECT_TRUE(stored->tombstone());
  }
  {
    // The stopped replica still holds the value (read from its data dir:
    // once it is back, anti-entropy may reach it before any check would).
    auto engine = Engine::Open(cluster_->node_data_dir(missed) + "/db");
    ASSERT_OK(engine);
    auto stored = (*engine)->Read(directory->PartitionOf(key), key);
    ASSERT_OK(stored);
    EXPECT_FALSE(stored->tombstone());
    EXPECT_EQ(stored->value(), "alive");
  }
  ASSERT_OK(cluster_->RestartNode(missed));
  // Anti-entropy gives it the tombstone; no read needed.
  ASSERT_EVENTUALLY(
      absl::IsNotFound(
          client_->GetFromReplica(cluster_->node(missed)->id(), key).status()),
      absl::Seconds(30));
  EXPECT_TRUE(absl::IsNotFound(client_->Get(key).status()));
  // Once a pass has run with every replica holding it, it may go.
  ASSERT_EVENTUALLY(
      [&] {
        for (int i : replicas) {
          EXPECT_OK(cluster_->node(i)->engine()->Compact());
          if (!absl::IsNotFound(cluster_->node(i)
                                    ->engine()
                                    ->Read(directory->PartitionOf(key), key)
                                    .status())) {
            return false;
          }
        }
        return true;
      }(),
      absl::Seconds(30));
  RequestOptions every;
  every.r = 3;
  EXPECT_TRUE(absl::IsNotFound(client_->Get(key, every).status()));
}

}  // namespace
}  // namespace quorumkv
