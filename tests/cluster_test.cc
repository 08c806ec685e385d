// In-process cluster tests: a real master and real storage nodes over real
// gRPC and RocksDB. Every test runs in iterative and in recursive mode.
#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/client_internal.h"
#include "common/limits.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "tests/fault_injection.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class ClusterTest : public ::testing::TestWithParam<QueryMode> {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  void StartCluster(MiniClusterOptions options = {}) {
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
    ClientOptions client_options;
    client_options.master = cluster_->master_address();
    client_options.mode = GetParam();
    // Made from its implementation, which tests that stage a stale
    // directory reach through client_impl_.
    auto impl = std::make_unique<internal::ClientImpl>(client_options);
    client_impl_ = impl.get();
    client_ = std::make_unique<Client>(std::move(impl));
  }

  // Index in the cluster of the replicas of `key`, in directory order.
  std::vector<int> ReplicasOf(const std::string& key) {
    DirectoryPtr directory = cluster_->master()->directory();
    std::vector<int> indexes;
    for (const std::string& id :
         directory->Replicas(directory->PartitionOf(key))) {
      indexes.push_back(cluster_->IndexOf(id));
    }
    return indexes;
  }

  // The value node i holds for `key` in its engine ("" when it has none).
  std::string StoredAt(int i, const std::string& key) {
    DirectoryPtr directory = cluster_->master()->directory();
    auto value = cluster_->node(i)->engine()->Read(directory->PartitionOf(key),
                                                   key);
    return value.ok() && !value->tombstone() ? value->value() : "";
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
  internal::ClientImpl* client_impl_ = nullptr;  // client_'s
};

TEST_P(ClusterTest, PutGetDeleteRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("key-", i);
    const std::string value = absl::StrCat("value-", i, std::string(i, 'x'));
    auto put = client_->Put(key, value);
    ASSERT_OK(put);
    EXPECT_GE(put->acks, 2u);
    expected[key] = value;
  }
  // Overwrite some, delete some.
  for (int i = 0; i < 100; i += 10) {
    const std::string key = absl::StrCat("key-", i);
    ASSERT_OK(client_->Put(key, "second"));
    expected[key] = "second";
  }
  for (int i = 5; i < 100; i += 10) {
    const std::string key = absl::StrCat("key-", i);
    ASSERT_OK(client_->Delete(key));
    expected.erase(key);
  }
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("key-", i);
    auto got = client_->Get(key);
    if (expected.count(key)) {
      ASSERT_OK(got);
      EXPECT_EQ(got->value, expected[key]) << key;
    } else {
      EXPECT_TRUE(absl::IsNotFound(got.status())) << key << ": " << got.status();
    }
  }
  // Any bytes survive, including the largest value allowed.
  const std::string binary("\0\x01\xff\n\r", 5);
  ASSERT_OK(client_->Put(binary, binary));
  EXPECT_EQ(client_->Get(binary)->value, binary);
  const std::string big(4 * 1024 * 1024, 'b');
  ASSERT_OK(client_->Put("big", big));
  EXPECT_EQ(client_->Get("big")->value, big);
  EXPECT_TRUE(absl::IsNotFound(client_->Get("never-written").status()));
}

TEST_P(ClusterTest, RejectsBadInputAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_OK(client_->Put("k", "original"));
  RequestOptions w4;
  w4.w = 4;
  auto s = client_->Put("k", "changed", w4).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("W=4"), std::string::npos) << s;
  RequestOptions r4;
  r4.r = 4;
  s = client_->Get("k", r4).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  RequestOptions negative;
  negative.w = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Put("k", "changed", negative).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Put("", "v").status()));
  s = client_->Put(std::string(4097, 'k'), "v").status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("4 KiB"), std::string::npos) << s;
  s = client_->Put("k", std::string(4 * 1024 * 1024 + 1, 'v')).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("4 MiB"), std::string::npos) << s;
  auto got = client_->Get("k");
  ASSERT_OK(got);
  EXPECT_EQ(got->value, "original");
}

TEST_P(ClusterTest, QuorumsWithOneReplicaDown) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string key = "quorum-key";
  ASSERT_OK(client_->Put(key, "v1"));
  const std::vector<int> replicas = ReplicasOf(key);
  ASSERT_EQ(replicas.size(), 3u);
  const int down = replicas[0];  // the coordinator clients try first
  cluster_->StopNode(down);

  RequestOptions two;
  two.w = 2;
  two.r = 2;
  ASSERT_OK(client_->Put(key, "v2", two));
  auto got = client_->Get(key, two);
  ASSERT_OK(got);
  EXPECT_EQ(got->value, "v2");

  RequestOptions all;
  all.w = 3;
  // Sent, the write to the stopped node waits for it until the deadline (it
  // might be restarting), then is hinted.
  all.timeout = absl::Seconds(1);
  auto failed = client_->Put(key, "v3", all);
  EXPECT_TRUE(absl::IsUnavailable(failed.status()) ||
              absl::IsDeadlineExceeded(failed.status()))
      << failed.status();
  auto quorum = GetQuorumFailure(failed.status());
  ASSERT_TRUE(quorum.has_value()) << failed.status();
  // docs/failures.md: sent and short of W while the coordinator does not
  // know the node is gone; refused before writing once it knows (the v2
  // write's failed call to it may already have told it). Which one depends
  // on timing; each must say so and leave the replicas accordingly.
  std::string newest = "v3";
  if (quorum->attempted) {
    EXPECT_NE(failed.status().message().find("2 of 3 replicas acknowledged"),
              std::string::npos)
        << failed.status();
  } else {
    EXPECT_NE(failed.status().message().find("before writing"),
              std::string::npos)
        << failed.status();
    newest = "v2";
    for (int i : {replicas[1], replicas[2]}) EXPECT_EQ(StoredAt(i, key), "v2");
  }

  // The node comes back and takes its hints: it ends up with the newest
  // value without any read touching it.
  ASSERT_OK(cluster_->RestartNode(down));
  ASSERT_EVENTUALLY(StoredAt(down, key) == newest, absl::Seconds(20));
  all.r = 3;
  all.timeout = absl::Seconds(5);
  got = client_->Get(key, all);
  ASSERT_OK(got);
  EXPECT_EQ(got->value, newest);
}

TEST_P(ClusterTest, QuorumReadRepairsStaleReplicaBeforeAnswering) {
  MiniClusterOptions options;
  options.hint_replay_interval = absl::Hours(1);  // only repair may fix it
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  const std::string key = "repair-key";
  ASSERT_OK(client_->Put(key, "old"));
  const std::vector<int> replicas = ReplicasOf(key);
  const int stale = replicas[2];
  ASSERT_EVENTUALLY(StoredAt(stale, key) == "old", absl::Seconds(10));
  cluster_->StopNode(stale);
  ASSERT_OK(client_->Put(key, "new"));
  ASSERT_OK(cluster_->RestartNode(stale));
  ASSERT_EQ(StoredAt(stale, key), "old");

  RequestOptions all;
  all.r = 3;
  // Peers reconnect to the restarted node within a second; until then a
  // read of all three fails (and repairs nothing).
  absl::StatusOr<ReadResult> got;
  ASSERT_EVENTUALLY((got = client_->Get(key, all)).ok(), absl::Seconds(10));
  EXPECT_EQ(got->value, "new");
  // Repaired before the read answered: no waiting here.
  EXPECT_EQ(StoredAt(stale, key), "new");
  // And reads never go backwards.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client_->Get(key)->value, "new");
}

TEST_P(ClusterTest, StaleDirectoryIsRedirected) {
  MiniClusterOptions options;
  options.nodes = 6;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_OK(client_->Put("warm-up", "x"));  // the client caches a directory
  const std::string key = "moved-key";
  if (GetParam() == QueryMode::kIterative) {
    // Hand the client an older directory in which the key's partition lives
    // on the three nodes that do not hold it.
    DirectoryPtr real = cluster_->master()->directory();
    Directory stale = real->proto();
    stale.set_epoch(real->epoch() - 1);
    const uint32_t partition = real->PartitionOf(key);
    PartitionReplicas* replicas = stale.mutable_assignments(partition);
    replicas->clear_node_ids();
    for (const NodeDescriptor& node : real->proto().nodes()) {
      if (!real->Holds(node.id(), partition)) replicas->add_node_ids(node.id());
    }
    ASSERT_EQ(replicas->node_ids_size(), 3);
    client_impl_->routing().SetForTesting(
        std::make_shared<DirectoryView>(stale));
  }
  ASSERT_OK(client_->Put(key, "v"));
  EXPECT_EQ(client_->Get(key)->value, "v");

  // A node joins: the epoch moves on and the storage nodes learn of it a
  // heartbeat later. Requests in between are redirected, not failed.
  const uint64_t before = cluster_->master()->directory()->epoch();
  ASSERT_OK(cluster_->AddNode("r1"));
  ASSERT_EVENTUALLY(cluster_->master()->directory()->epoch() > before,
                    absl::Seconds(10));
  for (int i = 0; i < 20; ++i) {
    const std::string k = absl::StrCat("after-join-", i);
    ASSERT_OK(client_->Put(k, "v"));
    EXPECT_EQ(client_->Get(k)->value, "v");
  }
  // The late joiner is UP and rebalancing gives it partitions.
  const std::string joined = cluster_->node(6)->id();
  auto joiner_holds = [&] {
    auto nodes = client_->Nodes();
    if (!nodes.ok() || nodes->nodes.size() != 7u) return false;
    for (const NodeSummary& n : nodes->nodes) {
      if (n.node.id == joined) return n.node.state == "UP" && n.partitions > 0;
    }
    return false;
  };
  ASSERT_EVENTUALLY(joiner_holds(), absl::Seconds(60));
}

// Many requests bouncing off a stale directory at once make one directory
// fetch, not one each (the routing cache coalesces refreshes).
TEST_P(ClusterTest, ConcurrentRefreshesAreCoalesced) {
  if (GetParam() == QueryMode::kRecursive) {
    GTEST_SKIP() << "recursive clients route nothing themselves";
  }
  MiniClusterOptions options;
  options.nodes = 6;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_OK(client_->Put("warm-up", "x"));
  RoutingCache& routing = client_impl_->routing();
  // Every partition moved to the nodes that do not hold it, one epoch ago.
  DirectoryPtr real = cluster_->master()->directory();
  Directory stale = real->proto();
  stale.set_epoch(real->epoch() - 1);
  for (uint32_t p = 0; p < real->partitions(); ++p) {
    PartitionReplicas* replicas = stale.mutable_assignments(p);
    replicas->clear_node_ids();
    for (const NodeDescriptor& node : real->proto().nodes()) {
      if (!real->Holds(node.id(), p)) replicas->add_node_ids(node.id());
    }
  }
  routing.SetForTesting(std::make_shared<DirectoryView>(stale));
  const uint64_t before = routing.fetches();
  constexpr int kRequests = 64;
  absl::Mutex mu;
  int ok = 0, answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    client_->GetAsync("warm-up", {}, [&](absl::StatusOr<ReadResult> r) {
      absl::MutexLock lock(&mu);
      ok += r.ok() && r->value == "x";
      ++answered;
    });
  }
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(
      absl::Condition(+[](int* n) { return *n == kRequests; }, &answered),
      absl::Seconds(20)));
  EXPECT_EQ(ok, kRequests);
  EXPECT_LE(routing.fetches() - before, 4u)
      << kRequests << " requests bounced; each should not fetch";
}

// Writes keep coming while a node dies and comes back; afterwards every
// acknowledged write reads back with its latest value.
TEST_P(ClusterTest, AcknowledgedWritesSurviveANodeRestart) {
  MiniClusterOptions options;
  options.nodes = 4;  // N=3 on 4 nodes: the dead node holds some partitions
  // Formed with all four, so that no rebalancing to a late fourth node runs
  // during the test: this one is about a restart, moves have their own.
  options.initial_nodes = 4;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  constexpr int kKeys = 200;
  std::map<std::string, std::string> acknowledged;
  std::string first_failure;
  // Returns how many writes of the round failed.
  auto write_round = [&](int round) {
    absl::Mutex mu;
    int pending = kKeys;
    int failed = 0;
    for (int i = 0; i < kKeys; ++i) {
      const std::string key = absl::StrCat("survive-", i);
      const std::string value = absl::StrCat("round-", round, "-", i);
      client_->PutAsync(key, value, {},
                        [&, key, value](absl::StatusOr<WriteResult> r) {
                          absl::MutexLock lock(&mu);
                          if (r.ok()) {
                            acknowledged[key] = value;
                          } else {
                            if (failed++ == 0) first_failure = r.status().ToString();
                          }
                          --pending;
                        });
    }
    absl::MutexLock lock(&mu);
    auto done = [&] { return pending == 0; };
    mu.Await(absl::Condition(&done));
    return failed;
  };
  ASSERT_EQ(write_round(0), 0);
  cluster_->StopNode(1);
  // W=2 of 3 still holds for every key.
  EXPECT_EQ(write_round(1), 0) << first_failure;
  ASSERT_OK(cluster_->RestartNode(1));
  write_round(2);  // may race the restart; only acknowledged writes count
  for (const auto& [key, value] : acknowledged) {
    auto got = client_->Get(key);
    ASSERT_OK(got);
    EXPECT_EQ(got->value, value) << key;
  }
  // Once hints are delivered every replica holds the latest value.
  for (const auto& entry : acknowledged) {
    const std::string& key = entry.first;  // captured below
    const std::string& value = entry.second;
    DirectoryPtr directory = cluster_->master()->directory();
    for (const std::string& id :
         directory->Replicas(directory->PartitionOf(key))) {
      const int i = cluster_->IndexOf(id);
      ASSERT_EVENTUALLY(StoredAt(i, key) == value, absl::Seconds(20));
    }
  }
}

// Hints reach a replica that was stopped, in batches, even when the first
// hints stored for it are ones it will never take: one it refuses (its
// version is far ahead of the replica's clock) and one for a partition it
// does not hold.
TEST_P(ClusterTest, HintsReplayPastOnesTheReplicaRefuses) {
  MiniClusterOptions options;
  options.nodes = 4;
  options.initial_nodes = 4;
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  // Nodes 0 and 3 share rack r1, so each holds only some partitions.
  constexpr int kStopped = 0;
  const std::string stopped_id = cluster_->node(kStopped)->id();
  DirectoryPtr directory = cluster_->master()->directory();
  uint32_t held = 0, not_held = 0;
  for (uint32_t p = 0; p < directory->partitions(); ++p) {
    (directory->Holds(stopped_id, p) ? held : not_held) = p;
  }
  ASSERT_TRUE(directory->Holds(stopped_id, held));
  ASSERT_FALSE(directory->Holds(stopped_id, not_held));
  cluster_->StopNode(kStopped);
  std::vector<uint64_t> dropped_before(cluster_->num_nodes(), 0);
  for (int i = 0; i < cluster_->num_nodes(); ++i) {
    if (i == kStopped) continue;
    ApplyRequest refused;  // a version one day ahead of every clock
    refused.set_partition(held);
    refused.set_key("from-the-future");
    refused.mutable_value()->mutable_version()->set_wall_ms(
        absl::ToUnixMillis(absl::Now() + absl::Hours(24)));
    ApplyRequest elsewhere;
    elsewhere.set_partition(not_held);
    elsewhere.set_key("not-yours");
    elsewhere.mutable_value()->mutable_version()->set_wall_ms(
        absl::ToUnixMillis(absl::Now()));
    HintStore& hints = cluster_->node(i)->engine()->hints();
    dropped_before[i] = hints.dropped();  // the replayer may drop at once
    ASSERT_OK(hints.Add({{stopped_id, refused}, {stopped_id, elsewhere}}));
  }
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(client_->Put(absl::StrCat("hinted-", i), absl::StrCat("v", i)));
  }
  ASSERT_OK(cluster_->RestartNode(kStopped));
  for (int i = 0; i < cluster_->num_nodes(); ++i) {
    if (i == kStopped) continue;
    HintStore& hints = cluster_->node(i)->engine()->hints();
    ASSERT_EVENTUALLY(hints.pending() == 0, absl::Seconds(30));
    EXPECT_EQ(hints.dropped() - dropped_before[i], 2u) << "node " << i;
  }
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = absl::StrCat("hinted-", i);
    if (!directory->Holds(stopped_id, directory->PartitionOf(key))) continue;
    EXPECT_EQ(StoredAt(kStopped, key), absl::StrCat("v", i)) << key;
  }
  EXPECT_EQ(StoredAt(kStopped, "from-the-future"), "");
}

TEST_P(ClusterTest, LoadStatisticsReachTheMaster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  RequestOptions all;
  all.w = 3;
  uint64_t bytes = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string key = absl::StrCat("load-", i);
    const std::string value(i, 'v');
    ASSERT_OK(client_->Put(key, value, all));
    bytes += key.size() + value.size();
  }
  ASSERT_OK(client_->Delete("load-0", all));
  bytes -= std::string("load-0").size();
  // N=3 on 3 nodes: every node holds every key; heartbeats carry the counts.
  absl::StatusOr<ClusterSummary> cluster;
  auto counted = [&] {
    cluster = client_->Nodes();
    if (!cluster.ok() || cluster->nodes.size() != 3) return false;
    for (const NodeSummary& n : cluster->nodes) {
      if (n.keys != 49 || n.bytes != bytes) return false;
    }
    return true;
  };
  ASSERT_EVENTUALLY(counted(), absl::Seconds(10));
  for (const NodeSummary& n : cluster->nodes) {
    EXPECT_EQ(n.node.state, "UP");
    EXPECT_EQ(n.partitions, 16u);
    EXPECT_GT(n.free_bytes, 0u);
    EXPECT_GE(n.last_heartbeat_ms_ago, 0);
    EXPECT_LT(n.last_heartbeat_ms_ago, 5000);
    EXPECT_EQ(n.directory_epoch, cluster->epoch);
  }
  // Writes keep arriving: some heartbeat reports a write rate.
  auto writing = [&] {
    for (int i = 0; i < 20; ++i) {
      if (!client_->Put("rate", "r").ok()) return false;
    }
    auto now = client_->Nodes();
    if (!now.ok()) return false;
    for (const NodeSummary& n : now->nodes) {
      if (n.writes_per_sec > 0) return true;
    }
    return false;
  };
  ASSERT_EVENTUALLY(writing(), absl::Seconds(10));
}

TEST_P(ClusterTest, MasterRestartKeepsDirectoryAndEpoch) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_OK(client_->Put("before", "1"));
  const Directory before = cluster_->master()->directory()->proto();
  ASSERT_OK(cluster_->RestartMaster());
  const Directory after = cluster_->master()->directory()->proto();
  EXPECT_EQ(after.epoch(), before.epoch());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  // Nodes register again; the directory does not change for it.
  ASSERT_EVENTUALLY(client_->Nodes().ok() &&
                        client_->Nodes()->registered_nodes == 3,
                    absl::Seconds(10));
  EXPECT_EQ(cluster_->master()->directory()->epoch(), before.epoch());
  ASSERT_OK(client_->Put("after", "2"));
  EXPECT_EQ(client_->Get("before")->value, "1");
  EXPECT_EQ(client_->Get("after")->value, "2");
}

TEST_P(ClusterTest, MasterDownServesIterativeOnly) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_OK(client_->Put("k", "v"));
  cluster_->StopMaster();
  RequestOptions quick;
  quick.timeout = absl::Seconds(2);
  auto got = client_->Get("k", quick);
  if (GetParam() == QueryMode::kIterative) {
    ASSERT_OK(got);
    EXPECT_EQ(got->value, "v");
    ASSERT_OK(client_->Put("k2", "v2", quick));
  } else {
    EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
    EXPECT_NE(got.status().message().find("master"), std::string::npos)
        << got.status();
  }
}

TEST_P(ClusterTest, UnformedClusterSaysHowManyNodesAreMissing) {
  MiniClusterOptions options;
  options.nodes = 2;
  options.initial_nodes = 3;
  cluster_ = std::make_unique<MiniCluster>(options);
  ASSERT_OK(cluster_->StartProcesses());
  ASSERT_EVENTUALLY(cluster_->node(0)->registered() &&
                        cluster_->node(1)->registered(),
                    absl::Seconds(10));
  auto client = cluster_->NewClient(GetParam());
  ASSERT_OK(client);
  auto put = (*client)->Put("k", "v");
  EXPECT_TRUE(absl::IsUnavailable(put.status())) << put.status();
  EXPECT_NE(put.status().message().find("2 of 3 storage nodes registered"),
            std::string::npos)
      << put.status();
  // The third node forms the cluster.
  ASSERT_OK(cluster_->AddNode("r3"));
  ASSERT_EVENTUALLY(cluster_->master()->directory()->formed(), absl::Seconds(10));
  ASSERT_OK(cluster_->WaitForNodesToCatchUp());
  ASSERT_OK((*client)->Put("k", "v"));
  EXPECT_EQ((*client)->Get("k")->value, "v");
}

TEST_P(ClusterTest, AsyncKeepsManyRequestsInFlightFromOneThread) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  constexpr int kRequests = 300;
  absl::Mutex mu;
  int done = 0;
  std::vector<absl::Status> failures;
  for (int i = 0; i < kRequests; ++i) {
    client_->PutAsync(absl::StrCat("async-", i), absl::StrCat("v", i), {},
                      [&](absl::StatusOr<WriteResult> result) {
                        absl::MutexLock lock(&mu);
                        if (!result.ok()) failures.push_back(result.status());
                        ++done;
                      });
  }
  {
    absl::MutexLock lock(&mu);
    auto all_done = [&] { return done == kRequests; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_done),
                                    absl::Seconds(30)));
    ASSERT_TRUE(failures.empty()) << failures[0];
  }
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(client_->Get(absl::StrCat("async-", i))->value,
              absl::StrCat("v", i));
  }
}

// docs/failures.md: a write that cannot reach W is refused before anything is
// written; one that was sent and fell short says it may be stored.
TEST_P(ClusterTest, WriteThatCannotReachWIsRefusedBeforeWriting) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::vector<int> replicas = ReplicasOf("refused");
  const int live = replicas[0];
  const std::string stopped[] = {cluster_->node(replicas[1])->id(),
                                 cluster_->node(replicas[2])->id()};
  cluster_->StopNode(replicas[1]);
  cluster_->StopNode(replicas[2]);
  // W=1 goes through and leaves a hint for each stopped replica (once the
  // deliveries to them reach their deadline: they might have restarted).
  RequestOptions one;
  one.w = 1;
  one.timeout = absl::Seconds(1);
  ASSERT_OK(client_->Put("refused", "first", one));
  HintStore& hints = cluster_->node(live)->engine()->hints();
  ASSERT_EVENTUALLY(hints.pending() == 2, absl::Seconds(10));
  // The coordinator knows they are gone for good once the master says they
  // are DOWN. (A failed call alone counts a peer out for a second only: a
  // slow machine could send the next write after that second, before the
  // DOWN news, and it would be attempted.)
  ASSERT_EVENTUALLY(cluster_->node(live)->KnowsDown(stopped[0]) &&
                        cluster_->node(live)->KnowsDown(stopped[1]),
                    absl::Seconds(10));

  RequestOptions two;
  two.w = 2;
  auto refused = client_->Put("refused", "second", two);
  ASSERT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  auto quorum = GetQuorumFailure(refused.status());
  ASSERT_TRUE(quorum.has_value()) << refused.status();
  EXPECT_FALSE(quorum->attempted);
  EXPECT_EQ(quorum->required, 2u);
  EXPECT_EQ(quorum->replicas, 3u);
  EXPECT_NE(refused.status().message().find("before writing"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(StoredAt(live, "refused"), "first");
  EXPECT_EQ(hints.pending(), 2u);
}

// A replica that stops answering (SIGSTOP, a long GC) must cost a read the
// speculative-retry threshold, not its deadline.
TEST_P(ClusterTest, StalledReplicaDoesNotStallReads) {
  auto faults = std::make_shared<PeerFaults>();
  MiniClusterOptions options;
  options.peer_factories.assign(3, FaultyPeers(faults));
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  RequestOptions all;
  all.w = 3;
  ASSERT_OK(client_->Put("stall", "v", all));
  // The key's second replica stalls. Its first replica, which the recursive
  // relay picks and the iterative client every third read, asks itself and
  // then that one.
  const int stalled = ReplicasOf("stall")[1];
  {
    absl::MutexLock lock(&faults->mu);
    faults->stall_reads_to = cluster_->node(stalled)->address();
  }
  RequestOptions quorum;
  quorum.r = 2;
  quorum.timeout = absl::Seconds(3);
  for (int i = 0; i < 20; ++i) {
    auto read = client_->Get("stall", quorum);
    SCOPED_TRACE(i);
    ASSERT_OK(read);
    EXPECT_EQ(read->value, "v");
  }
  absl::MutexLock lock(&faults->mu);
  faults->stall_reads_to.clear();  // what is still stalled fails now
}

// A replica that does not answer: the caller learns that 2 of 3
// acknowledged, from the coordinator named, in both modes, rather than a
// bare DEADLINE_EXCEEDED from its own deadline (inner hops get shorter
// deadlines than outer ones).
TEST_P(ClusterTest, SlowReplicaYieldsTheCountNotABareDeadline) {
  auto faults = std::make_shared<PeerFaults>();
  MiniClusterOptions options;
  options.peer_factories.assign(3, FaultyPeers(faults));
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  const int slow = ReplicasOf("slow")[2];
  {
    absl::MutexLock lock(&faults->mu);
    faults->stall_writes_to = cluster_->node(slow)->address();
  }
  RequestOptions all;
  all.w = 3;
  all.timeout = absl::Seconds(1);
  auto put = client_->Put("slow", "v", all);
  ASSERT_FALSE(put.ok());
  auto quorum = GetQuorumFailure(put.status());
  ASSERT_TRUE(quorum.has_value()) << put.status();
  EXPECT_TRUE(quorum->attempted);
  EXPECT_EQ(quorum->acknowledged, 2u);
  EXPECT_NE(put.status().message().find("2 of 3 replicas acknowledged"),
            std::string::npos)
      << put.status();
  EXPECT_NE(put.status().message().find("coordinator "), std::string::npos)
      << put.status();
  absl::MutexLock lock(&faults->mu);
  faults->stall_writes_to.clear();  // what is still stalled fails now
}

// kvbench issues its next request from the callback of the last one: with an
// over-size value every request is refused before it is sent, and callbacks
// made on the caller's thread recursed until the stack overflowed.
TEST_P(ClusterTest, RefusedRequestsCallBackOnAnSdkThread) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::thread::id caller = std::this_thread::get_id();
  const std::string too_big(kMaxValueBytes + 1, 'x');
  constexpr int kChain = 2000;
  absl::Mutex mu;
  int answered = 0;
  bool on_caller_thread = false;
  absl::Status last;
  std::function<void()> next = [&] {
    client_->PutAsync("chained", too_big, {},
                      [&](absl::StatusOr<WriteResult> result) {
                        bool more;
                        {
                          absl::MutexLock lock(&mu);
                          on_caller_thread |=
                              std::this_thread::get_id() == caller;
                          last = result.status();
                          more = ++answered < kChain;
                        }
                        if (more) next();
                      });
  };
  next();
  absl::MutexLock lock(&mu);
  auto all = [&] { return answered == kChain; };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(30)));
  EXPECT_FALSE(on_caller_thread);
  EXPECT_TRUE(absl::IsInvalidArgument(last)) << last;
}

// Large values travel batched too: replies to concurrent requests must not
// be merged into a message over gRPC's limit.
TEST_P(ClusterTest, ConcurrentLargeValuesRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  constexpr int kValues = 6;
  const std::string big(3 * 1024 * 1024, 'L');
  auto wait_all = [](absl::Mutex& mu, int& done, int n) {
    absl::MutexLock lock(&mu);
    auto all_done = [&] { return done == n; };
    return mu.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(60));
  };
  absl::Mutex mu;
  int done = 0;
  std::vector<std::string> failures;
  for (int i = 0; i < kValues; ++i) {
    client_->PutAsync(absl::StrCat("big-", i), big, {},
                      [&](absl::StatusOr<WriteResult> result) {
                        absl::MutexLock lock(&mu);
                        if (!result.ok()) failures.push_back(result.status().ToString());
                        ++done;
                      });
  }
  ASSERT_TRUE(wait_all(mu, done, kValues));
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(failures.empty()) << failures[0];
    done = 0;
  }
  int matching = 0;
  for (int i = 0; i < kValues; ++i) {
    client_->GetAsync(absl::StrCat("big-", i), {},
                      [&](absl::StatusOr<ReadResult> result) {
                        absl::MutexLock lock(&mu);
                        if (!result.ok()) {
                          failures.push_back(result.status().ToString());
                        } else if (result->value == big) {
                          ++matching;
                        }
                        ++done;
                      });
  }
  ASSERT_TRUE(wait_all(mu, done, kValues));
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(failures.empty()) << failures[0];
  EXPECT_EQ(matching, kValues);
}

QKV_INSTANTIATE_IN_BOTH_MODES(ClusterTest);

}  // namespace
}  // namespace quorumkv
