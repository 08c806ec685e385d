// The data API beyond put, get and delete, end to end on an in-process
// cluster of real servers, in both query modes (docs/operations.md): batch
// calls, scans with a cursor (every key exactly once, with a move in
// flight), and linearizable compare-and-set and counters under a killed
// and a paused replica, checked by a linearizability search over the
// recorded history (tests/linearizability.h).
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "tests/fault_injection.h"
#include "tests/linearizability.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

// A failure that says nothing was written: the coordinator refused before
// proposing. Anything else may have been applied.
bool NotWritten(const absl::Status& status) {
  std::optional<QuorumFailure> quorum = GetQuorumFailure(status);
  return quorum && !quorum->attempted && !quorum->unanswered;
}

class DataApiTest : public ::testing::TestWithParam<QueryMode> {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  void StartCluster(MiniClusterOptions options = {}) {
    options.linearizable_prefixes = {"c/"};
    faults_ = std::make_shared<PeerFaults>();
    options.peer_factories.assign(options.nodes, FaultyPeers(faults_));
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
    auto client = cluster_->NewClient(GetParam());
    ASSERT_OK(client);
    client_ = *std::move(client);
  }

  // Every key a full scan with pages of `page` keys returns, with how many
  // times each came.
  std::map<std::string, int> ScanAll(const std::string& prefix, size_t page) {
    std::map<std::string, int> seen;
    ScanOptions options;
    options.prefix = prefix;
    options.limit = page;
    for (int pages = 0; pages < 10000; ++pages) {
      auto result = client_->Scan(options);
      EXPECT_OK(result);
      if (!result.ok()) break;
      EXPECT_LE(result->items.size(), page);
      for (const ScanItem& item : result->items) ++seen[item.key];
      if (result->cursor.empty()) break;
      options.cursor = result->cursor;
    }
    return seen;
  }

  std::shared_ptr<PeerFaults> faults_;
  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_P(DataApiTest, BatchCallsGiveOneResultPerKey) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    items.emplace_back(absl::StrCat("b/", i), absl::StrCat("value ", i));
    keys.push_back(absl::StrCat("b/", i));
  }
  auto put = client_->BatchPut(items);
  ASSERT_OK(put);
  ASSERT_EQ(put->size(), items.size());
  for (const auto& r : *put) EXPECT_OK(r);
  keys.push_back("b/missing");
  auto got = client_->BatchGet(keys);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), keys.size());
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK((*got)[i]);
    EXPECT_EQ((*got)[i]->value, absl::StrCat("value ", i));
  }
  EXPECT_TRUE(absl::IsNotFound(got->back().status()));

  auto deleted = client_->BatchDelete({"b/1", "b/2", "b/missing"});
  ASSERT_OK(deleted);
  EXPECT_TRUE((*deleted)[0]->existed);
  EXPECT_FALSE((*deleted)[2]->existed);
  EXPECT_TRUE(absl::IsNotFound(client_->Get("b/1").status()));
  EXPECT_OK(client_->Get("b/3"));

  // Over the limits: refused whole, nothing written.
  std::vector<std::pair<std::string, std::string>> too_many;
  for (int i = 0; i < 1025; ++i) too_many.emplace_back(absl::StrCat("x/", i), "v");
  auto refused = client_->BatchPut(too_many);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("1024"), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(client_->Get("x/0").status()));
  std::vector<std::pair<std::string, std::string>> too_big = {
      {"y/0", std::string(4 << 20, 'a')}, {"y/1", std::string(4 << 20, 'b')},
      {"y/2", std::string(4 << 20, 'c')}, {"y/3", std::string(4 << 20, 'd')},
      {"y/4", "e"}};
  EXPECT_TRUE(absl::IsInvalidArgument(client_->BatchPut(too_big).status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Get("y/4").status()));
}

TEST_P(DataApiTest, ScanReturnsEveryKeyOnceWithAMoveInFlight) {
  MiniClusterOptions options;
  options.stream_rate = 256 << 10;  // slow moves: they stay in flight
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 600; ++i) {
    items.emplace_back(absl::StrCat("s/", i), std::string(200, 'v'));
    if (items.size() == 200) {
      auto put = client_->BatchPut(items);
      ASSERT_OK(put);
      for (const auto& r : *put) ASSERT_OK(r);
      items.clear();
    }
  }
  ASSERT_OK(client_->Put("other", "not in the prefix"));
  ASSERT_OK(client_->Put("s/deleted", "x"));
  ASSERT_OK(client_->Delete("s/deleted"));
  RequestOptions brief;
  brief.ttl = absl::Milliseconds(1);
  ASSERT_OK(client_->Put("s/expired", "x", brief));
  // A fourth node: partitions move to it while the scans run.
  auto added = cluster_->AddNode("r1", FaultyPeers(faults_));
  ASSERT_OK(added);
  ASSERT_EVENTUALLY(
      [&] {
        auto moves = client_->Moves();
        return moves.ok() && !moves->moves.empty();
      }(),
      absl::Seconds(20));
  // A batch read of every key while the move runs: each is found.
  std::vector<std::string> all;
  for (int i = 0; i < 600; ++i) all.push_back(absl::StrCat("s/", i));
  auto batch = client_->BatchGet(all);
  ASSERT_OK(batch);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE((*batch)[i].ok()) << all[i] << ": " << (*batch)[i].status();
  }
  for (size_t page : {1000u, 37u}) {
    const std::map<std::string, int> seen = ScanAll("s/", page);
    EXPECT_EQ(seen.size(), 600u) << "pages of " << page;
    for (const auto& [key, count] : seen) {
      EXPECT_EQ(count, 1) << key;
      EXPECT_EQ(key.rfind("s/", 0), 0u) << key;
    }
    EXPECT_FALSE(seen.count("s/deleted"));
    EXPECT_FALSE(seen.count("s/expired"));
  }
  EXPECT_EQ(ScanAll("", 500).size(), 601u);
  auto moves = client_->Moves();
  ASSERT_OK(moves);
  EXPECT_FALSE(moves->moves.empty()) << "the moves ended before the scans";

  // Keys only; a cursor that is not ours; one of another prefix.
  ScanOptions keys_only;
  keys_only.prefix = "s/1";
  keys_only.keys_only = true;
  keys_only.limit = 5;
  auto page = client_->Scan(keys_only);
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 5u);
  EXPECT_TRUE(page->items[0].value.empty());
  ScanOptions bad;
  bad.cursor = "not-a-cursor";
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Scan(bad).status()));
  bad.cursor = page->cursor;
  bad.prefix = "s/2";
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Scan(bad).status()));
}

TEST_P(DataApiTest, CompareAndSetAndCountersKeepTheirPromises) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  CasCondition absent;
  absent.if_absent = true;
  auto first = client_->CompareAndSet("c/lock", absent, "me");
  ASSERT_OK(first);
  EXPECT_TRUE(first->applied);
  auto second = client_->CompareAndSet("c/lock", absent, "you");
  ASSERT_OK(second);
  EXPECT_FALSE(second->applied);
  EXPECT_EQ(second->value, "me");
  EXPECT_EQ(second->version, first->version);
  CasCondition by_version;
  by_version.if_version = first->version;
  auto swapped = client_->CompareAndSet("c/lock", by_version, "next");
  ASSERT_OK(swapped);
  EXPECT_TRUE(swapped->applied);
  EXPECT_FALSE(client_->CompareAndSet("c/lock", by_version, "late")->applied);
  CasCondition by_value;
  by_value.if_value = "next";
  EXPECT_TRUE(client_->CompareAndSet("c/lock", by_value, std::nullopt)->applied);
  EXPECT_TRUE(absl::IsNotFound(client_->Get("c/lock").status()));

  // A plain put of a linearizable key takes the Paxos path: a CAS on the
  // version it reports holds.
  auto put = client_->Put("c/plain", "p");
  ASSERT_OK(put);
  CasCondition after_put;
  after_put.if_version = put->version;
  EXPECT_TRUE(client_->CompareAndSet("c/plain", after_put, "q")->applied);

  // Counters.
  EXPECT_EQ(client_->Increment("c/n")->value, "1");
  EXPECT_EQ(client_->Increment("c/n", 41)->value, "42");
  EXPECT_EQ(client_->Increment("c/n", -50)->value, "-8");
  EXPECT_EQ(client_->Get("c/n")->value, "-8");

  // Bad input: one line naming it, nothing written.
  ASSERT_OK(client_->Put("c/text", "hello"));
  auto not_number = client_->Increment("c/text");
  EXPECT_TRUE(absl::IsInvalidArgument(not_number.status()));
  EXPECT_EQ(client_->Get("c/text")->value, "hello");
  ASSERT_OK(client_->Put("c/big", "9223372036854775807"));
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Increment("c/big").status()));
  EXPECT_EQ(client_->Get("c/big")->value, "9223372036854775807");
  CasCondition two;
  two.if_absent = true;
  two.if_value = "x";
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->CompareAndSet("c/two", two, "v").status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Get("c/two").status()));
  auto outside = client_->CompareAndSet("plain-key", absent, "v");
  EXPECT_TRUE(absl::IsFailedPrecondition(outside.status())) << outside.status();
  EXPECT_NE(outside.status().message().find("c/"), std::string::npos);
}

// Many clients increment one counter while a replica is killed and comes
// back, another is paused, and then the partition moves to a new node (a
// joining replica, then a switch of the replica set between rounds): the
// final value is the number of increments reported applied plus some of
// those whose outcome is unknown, and the whole history is linearizable.
TEST_P(DataApiTest, ConcurrentIncrementsAreLinearizableUnderFaults) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string key = "c/counter";
  DirectoryPtr directory = cluster_->master()->directory();
  const std::vector<std::string>& replicas =
      directory->Replicas(directory->PartitionOf(key));
  const std::string drained = replicas[0];
  const int killed = cluster_->IndexOf(replicas[1]);
  const int paused = cluster_->IndexOf(replicas[2]);

  constexpr int kClients = 6;
  // Each client goes on until the faults are over, or this many calls.
  constexpr int kMaxOpsPerClient = 2000;
  std::atomic<bool> stop{false};
  const absl::Time epoch = absl::Now();
  auto micros = [&] { return absl::ToInt64Microseconds(absl::Now() - epoch); };
  absl::Mutex mu;
  std::vector<RegisterOp> history;
  std::atomic<int> done_ops{0};
  std::atomic<int> applied{0}, unknown{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = cluster_->NewClient(GetParam());
      if (!client.ok()) return;
      RequestOptions options;
      options.timeout = absl::Seconds(2);
      for (int i = 0; i < kMaxOpsPerClient && !stop.load(); ++i) {
        RegisterOp op;
        op.kind = RegisterOp::Kind::kIncrement;
        op.client = c;
        // Every fifth call reads (an increment by 0 is a linearizable read).
        op.delta = i % 5 == 4 ? 0 : 1;
        op.invoked = micros();
        auto result = (*client)->Increment(key, op.delta, options);
        op.returned = micros();
        if (result.ok()) {
          op.result = std::stoll(result->value);
          if (op.delta != 0) ++applied;
        } else if (NotWritten(result.status())) {
          ++failed;  // leaves the history
          ++done_ops;
          continue;
        } else {
          // UNKNOWN, or any failure after the call may have been applied.
          op.unknown = true;
          if (op.delta != 0) ++unknown;
        }
        absl::MutexLock lock(&mu);
        history.push_back(op);
        ++done_ops;
      }
    });
  }
  // Whatever fails below, the clients stop before the test returns.
  absl::Cleanup join = [&] {
    stop.store(true);
    for (std::thread& t : clients) {
      if (t.joinable()) t.join();
    }
  };
  // Each phase lasts until the clients have made calls in it.
  auto calls_in_phase = [&](int calls) {
    const int from = done_ops.load();
    return WaitFor([&] { return done_ops.load() >= from + calls; },
                   absl::Seconds(60));
  };
  EXPECT_TRUE(calls_in_phase(100));
  cluster_->StopNode(killed);
  EXPECT_TRUE(calls_in_phase(200));
  ASSERT_OK(cluster_->RestartNode(killed));
  {
    absl::MutexLock lock(&faults_->mu);
    faults_->stall_writes_to = cluster_->node(paused)->address();
  }
  EXPECT_TRUE(calls_in_phase(200));
  {
    absl::MutexLock lock(&faults_->mu);
    faults_->stall_writes_to.clear();
  }
  EXPECT_TRUE(calls_in_phase(100));
  // A node on the drained one's rack takes its replica of the counter's
  // partition: it joins, streams, and is switched in while calls go on.
  auto added = cluster_->AddNode(directory->FindNode(drained)->rack(),
                                 FaultyPeers(faults_));
  ASSERT_OK(added);
  const std::string newcomer = cluster_->node(*added)->id();
  // Once the newcomer is UP, placement can drain the node.
  ASSERT_EVENTUALLY(client_->Decommission(drained, /*dry_run=*/false).ok(),
                    absl::Seconds(20));
  ASSERT_EVENTUALLY(
      [&] {
        DirectoryPtr now = cluster_->master()->directory();
        const auto& held = now->Replicas(now->PartitionOf(key));
        return std::find(held.begin(), held.end(), newcomer) != held.end();
      }(),
      absl::Seconds(60));
  EXPECT_TRUE(calls_in_phase(100));
  std::move(join).Invoke();

  auto last = client_->Increment(key, 0);
  ASSERT_OK(last);
  const int64_t final_value = std::stoll(last->value);
  std::cerr << "increments: " << applied << " applied, " << unknown
            << " unknown, " << failed << " not written; final value "
            << final_value << "\n";
  EXPECT_GE(final_value, applied.load());
  EXPECT_LE(final_value, applied.load() + unknown.load());
  EXPECT_GT(applied.load(), 300);

  absl::MutexLock lock(&mu);
  const LinearizabilityResult verdict = CheckLinearizable(history);
  EXPECT_TRUE(verdict.linearizable) << verdict.explanation;
  EXPECT_FALSE(verdict.gave_up);
}

QKV_INSTANTIATE_IN_BOTH_MODES(DataApiTest);

}  // namespace
}  // namespace quorumkv
