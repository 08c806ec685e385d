// Replicated masters on a real etcd (docs/architecture.md, "Masters"):
// three etcd members and three masters on 127.0.0.1, storage nodes and
// clients given the three masters. The leader killed under load, paused
// past its lease, etcd members lost, a dead master first in the lists, and
// a single master's cluster moved to etcd.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "master/etcd/etcd_client.h"
#include "master/etcd/etcd_store.h"
#include "quorumkv/client.h"
#include "tests/checked_workload.h"
#include "tests/etcd_cluster.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kLease = absl::Seconds(2);

class MasterHaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QKV_SKIP_WITHOUT_ETCD();
    etcd_ = std::make_unique<EtcdCluster>(3);
    ASSERT_OK(etcd_->Start());
  }

  // Three masters on etcd and `nodes` storage nodes on three racks.
  void StartCluster(int nodes = 3, std::vector<std::string> flags = {}) {
    ProcessClusterOptions options = SmallClusterOptions(QKV_BIN_DIR);
    options.nodes = nodes;
    options.masters = 3;
    options.etcd = etcd_->endpoints();
    options.master_flags.push_back(
        absl::StrCat("--master_lease=", absl::FormatDuration(kLease)));
    options.master_flags.push_back("--node_down_after=2s");
    options.master_flags.insert(options.master_flags.end(), flags.begin(),
                                flags.end());
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
    for (QueryMode mode : {QueryMode::kIterative, QueryMode::kRecursive}) {
      auto client = cluster_->NewClient(mode, absl::Seconds(5));
      ASSERT_OK(client);
      clients_.push_back(*std::move(client));
    }
  }

  // The leader's index, once one leads.
  int Leader(absl::Duration timeout = absl::Seconds(20)) {
    int leader = -1;
    WaitFor([&] { return (leader = cluster_->LeaderIndex()) >= 0; }, timeout);
    return leader;
  }

  // The directory etcd holds now.
  Directory StoredDirectory() {
    auto etcd = EtcdClient::Create(etcd_->endpoints());
    EXPECT_OK(etcd);
    etcdserverpb::RangeRequest request;
    request.set_key("/quorumkv-test/directory");
    auto response = (*etcd)->Range(request, absl::Seconds(5));
    EXPECT_OK(response);
    if (!response.ok() || response->kvs_size() == 0) return Directory();
    auto directory = EtcdStore::DecodeDirectory(response->kvs(0).value());
    EXPECT_OK(directory);
    return directory.ok() ? *directory : Directory();
  }

  // Puts and gets `key` in both modes; the errors, if any.
  std::vector<std::string> RoundTrip(const std::string& key) {
    std::vector<std::string> errors;
    for (auto& client : clients_) {
      const std::string value = absl::StrCat(key, "-", absl::ToUnixMicros(absl::Now()));
      if (absl::Status s = client->Put(key, value).status(); !s.ok()) {
        errors.push_back(s.ToString());
        continue;
      }
      auto got = client->Get(key);
      if (!got.ok()) {
        errors.push_back(got.status().ToString());
      } else if (got->value != value) {
        errors.push_back(absl::StrCat(key, " reads ", got->value));
      }
    }
    return errors;
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<ProcessCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(MasterHaTest, TheLeaderKilledUnderLoadIsReplacedWithinTheLease) {
  // Four nodes on three racks: a node killed later can be replaced on its
  // rack.
  ASSERT_NO_FATAL_FAILURE(StartCluster(4, {"--replace_after=3s"}));
  CheckedWorkload workload({clients_[0].get(), clients_[1].get()}, 1, 1, 8);
  workload.Start();
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  const MasterList before = clients_[0]->Masters();
  ASSERT_TRUE(WaitFor([&] { return workload.counts().writes_ok > 200; },
                      absl::Seconds(20)));
  const int64_t failed_before = workload.counts().writes_failed +
                                workload.counts().writes_refused +
                                workload.counts().reads_failed;
  cluster_->KillMaster(leader);
  const absl::Time killed = absl::Now();
  int next = -1;
  ASSERT_TRUE(WaitFor([&] { return (next = cluster_->LeaderIndex()) >= 0; },
                      absl::Seconds(20)))
      << cluster_->Logs();
  const absl::Duration failover = absl::Now() - killed;
  std::cout << "a standby led " << failover << " after the leader was killed\n";
  EXPECT_NE(next, leader);
  // The bound is the lease and a second; the rest is this test's polling
  // on a busy machine.
  EXPECT_LT(failover, kLease + absl::Seconds(1) + absl::Seconds(1));
  const int64_t acked = workload.counts().writes_ok;
  ASSERT_TRUE(WaitFor([&] { return workload.counts().writes_ok > acked + 200; },
                      absl::Seconds(20)));
  workload.Stop();
  // Recursive requests fail only while in flight at the dead master (one
  // writer and one reader per mode here); iterative ones never need it.
  const int64_t failed = workload.counts().writes_failed +
                         workload.counts().writes_refused +
                         workload.counts().reads_failed - failed_before;
  EXPECT_LE(failed, 2) << workload.Report(0);
  const std::vector<std::string> lost = workload.Verify(*clients_[0], 3);
  for (const std::string& problem : lost) ADD_FAILURE() << problem;
  for (const std::string& problem : workload.problems()) ADD_FAILURE() << problem;
  std::cout << workload.Report(lost.size());
  const MasterList after = clients_[0]->Masters();
  EXPECT_GT(after.term, before.term);
  EXPECT_EQ(after.leader, cluster_->master_address(next));

  // The new leader drives the cluster: a node killed now is replaced.
  const int dead = 3;  // r1, beside node 0
  auto where = clients_[0]->Nodes();
  ASSERT_OK(where);
  std::string dead_id;
  for (const NodeSummary& n : where->nodes) {
    if (n.node.address == cluster_->node_address(dead)) dead_id = n.node.id;
  }
  ASSERT_FALSE(dead_id.empty());
  cluster_->KillNode(dead);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto nodes = clients_[0]->Nodes();
        if (!nodes.ok() || nodes->under_replicated > 0 || nodes->moves > 0) {
          return false;
        }
        for (const NodeSummary& n : nodes->nodes) {
          if (n.node.id == dead_id) return n.partitions == 0;
        }
        return false;
      },
      absl::Seconds(60)))
      << cluster_->Logs();
  for (const std::string& error : RoundTrip("after-replace")) ADD_FAILURE() << error;
}

TEST_F(MasterHaTest, ALeaderPausedPastItsLeaseChangesNothingWhenResumed) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const int old = Leader();
  ASSERT_GE(old, 0);
  const uint64_t old_term = clients_[0]->Masters().term;
  cluster_->PauseMaster(old);
  int next = -1;
  ASSERT_TRUE(WaitFor(
      [&] { return (next = cluster_->LeaderIndex()) >= 0 && next != old; },
      absl::Seconds(20)));
  const uint64_t new_term = clients_[0]->Masters().term;
  EXPECT_GT(new_term, old_term);
  for (const std::string& error : RoundTrip("during-pause")) ADD_FAILURE() << error;
  cluster_->ResumeMaster(old);
  // It learns on its own clock that it no longer leads, says so, and
  // follows the new leader.
  ASSERT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(cluster_->MasterLog(old),
                                 "no longer the leader");
      },
      absl::Seconds(20)))
      << cluster_->MasterLog(old);
  ClientOptions direct;
  direct.master = cluster_->master_address(old);
  auto resumed = Client::Create(direct);
  ASSERT_OK(resumed);
  ASSERT_TRUE(WaitFor(
      [&] {
        MasterList list = (*resumed)->Masters();
        return list.masters[0].role == "standby" &&
               list.masters[0].leader == cluster_->master_address(next);
      },
      absl::Seconds(20)));
  // Nothing in etcd was written at its term since, and the cluster works.
  for (const std::string& error : RoundTrip("after-resume")) ADD_FAILURE() << error;
  EXPECT_EQ(StoredDirectory().term(), new_term);
  EXPECT_EQ(cluster_->LeaderIndex(), next);
}

TEST_F(MasterHaTest, EtcdLosingOneMemberChangesNothingAndItsQuorumOnlyTheMasters) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(4, {"--replace_after=2s"}));
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  etcd_->Kill(0);
  for (const std::string& error : RoundTrip("one-member-down")) ADD_FAILURE() << error;
  auto status = clients_[0]->Nodes();
  ASSERT_OK(status);
  EXPECT_FALSE(status->leader.empty());
  EXPECT_EQ(cluster_->LeaderIndex(), leader);

  // Two of three: etcd has no quorum. The leader cannot renew and stops
  // leading; status says why; data requests go on, recursive ones too.
  const uint64_t epoch = StoredDirectory().epoch();
  etcd_->Kill(1);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = clients_[0]->Nodes();
        return s.ok() && s->leader.empty() && !s->leader_problem.empty();
      },
      absl::Seconds(20)));
  auto headless = clients_[0]->Nodes();
  ASSERT_OK(headless);
  std::cout << "status without etcd's quorum: " << headless->leader_problem
            << "\n";
  TempDir dir;
  Result cli = Shell(dir, absl::StrCat(QKV_BIN_DIR, "/kvcli --master=",
                                       cluster_->master_address(), " status"));
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.err, "no master leads")) << cli.err;
  for (const std::string& error : RoundTrip("no-quorum")) ADD_FAILURE() << error;
  // No directory change meanwhile: a node killed now is not replaced.
  cluster_->KillNode(3);
  auto later = clients_[0]->Nodes();
  ASSERT_OK(later);
  const uint64_t held_epoch = later->epoch;
  EXPECT_FALSE(WaitFor(
      [&] {
        auto s = clients_[0]->Nodes();
        return s.ok() && s->epoch != held_epoch;
      },
      absl::Seconds(5)));

  // etcd back: a leader again, and it heals.
  ASSERT_OK(etcd_->Restart(0));
  ASSERT_OK(etcd_->Restart(1));
  ASSERT_GE(Leader(absl::Seconds(30)), 0) << cluster_->Logs();
  EXPECT_GE(StoredDirectory().epoch(), epoch);
  for (const std::string& error : RoundTrip("quorum-back")) ADD_FAILURE() << error;
}

TEST_F(MasterHaTest, ClientsAndNodesGivenADeadMasterFirstGoOnToTheOthers) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  cluster_->KillMaster(0);  // first in every list, and maybe the leader
  ASSERT_GE(Leader(), 0);
  // A new client, in both modes.
  for (QueryMode mode : {QueryMode::kIterative, QueryMode::kRecursive}) {
    auto client = cluster_->NewClient(mode, absl::Seconds(5));
    ASSERT_OK(client);
    ASSERT_OK((*client)->Put("dead-first", "v"));
    auto got = (*client)->Get("dead-first");
    ASSERT_OK(got);
    EXPECT_EQ(got->value, "v");
  }
  // A node started again registers with the leader.
  ASSERT_OK(cluster_->RestartNode(1));
  const absl::Time restarted = absl::Now();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto nodes = clients_[0]->Nodes();
        if (!nodes.ok()) return false;
        for (const NodeSummary& n : nodes->nodes) {
          if (n.node.address == cluster_->node_address(1)) {
            return n.node.state == "UP" && n.last_heartbeat_ms_ago >= 0 &&
                   absl::Milliseconds(n.last_heartbeat_ms_ago) <
                       absl::Now() - restarted;
          }
        }
        return false;
      },
      absl::Seconds(30)))
      << cluster_->Logs();
}

// A cluster made with one embedded master moves to etcd: the first master
// started with --etcd and its old data dir imports the directory.
TEST(MasterImportTest, ASingleMastersClusterMovesToEtcd) {
  QKV_SKIP_WITHOUT_ETCD();
  EtcdCluster etcd(3);
  ASSERT_OK(etcd.Start());
  ProcessCluster cluster(SmallClusterOptions(QKV_BIN_DIR));
  ASSERT_OK(cluster.Start());
  auto client = cluster.NewClient(QueryMode::kIterative, absl::Seconds(5));
  ASSERT_OK(client);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK((*client)->Put(absl::StrCat("kept-", i), absl::StrCat("v", i)));
  }
  auto before = (*client)->Nodes();
  ASSERT_OK(before);
  ASSERT_OK(cluster.RestartMasterWith(
      0, {"--etcd=" + etcd.endpoints(), "--etcd_prefix=/quorumkv-test",
          "--master_lease=2s"}));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto nodes = (*client)->Nodes();
        if (!nodes.ok() || nodes->leader.empty()) return false;
        for (const NodeSummary& n : nodes->nodes) {
          if (n.node.state != "UP") return false;
        }
        return true;
      },
      absl::Seconds(30)))
      << cluster.Logs();
  EXPECT_TRUE(absl::StrContains(cluster.MasterLog(), "imported the directory"))
      << cluster.MasterLog();
  auto after = (*client)->Nodes();
  ASSERT_OK(after);
  EXPECT_GT(after->epoch, before->epoch);
  EXPECT_EQ(after->partitions, before->partitions);
  for (int i = 0; i < 20; ++i) {
    auto got = (*client)->Get(absl::StrCat("kept-", i));
    ASSERT_OK(got);
    EXPECT_EQ(got->value, absl::StrCat("v", i));
  }

  // Another cluster's master pointed at the same prefix is refused, naming
  // both clusters.
  ProcessCluster other(SmallClusterOptions(QKV_BIN_DIR));
  ASSERT_OK(other.Start());
  ASSERT_OK(other.RestartMasterWith(
      0, {"--etcd=" + etcd.endpoints(), "--etcd_prefix=/quorumkv-test"}));
  int exit_status = -1;
  ASSERT_TRUE(WaitFor([&] { return (exit_status = other.MasterExitStatus(0)) >= 0; },
                      absl::Seconds(20)));
  EXPECT_NE(exit_status, 0);
  const std::string log = other.MasterLog();
  EXPECT_TRUE(absl::StrContains(log, "holds cluster")) << log;
}

// A list with a malformed or repeated address is refused at start with
// one line naming the flag and the address, exit 2, by every binary that
// takes one.
TEST(MasterListTest, ABadListIsRefusedAtStartWithExit2) {
  TempDir dir;
  const std::string bin = QKV_BIN_DIR;
  struct Case {
    std::string command;
    std::string says;
  };
  const std::vector<Case> cases = {
      {bin + "/kv_master --listen=127.0.0.1:0 --data_dir=" + dir.Sub("m") +
           " --etcd=127.0.0.1:2379,127.0.0.1:2379",
       "--etcd: '127.0.0.1:2379' is listed twice"},
      {bin + "/kv_master --listen=127.0.0.1:0 --data_dir=" + dir.Sub("m") +
           " --etcd=127.0.0.1:2379,",
       "--etcd"},
      {bin + "/kv_storage_node --listen=127.0.0.1:0 --rack=r1 --data_dir=" +
           dir.Sub("n") + " --master=127.0.0.1:7000,bad",
       "--master: 'bad' is not a HOST:PORT address"},
      {bin + "/kvcli --master=127.0.0.1:7000,,127.0.0.1:7001 status",
       "has an empty address"},
      {"KV_MASTER=127.0.0.1:7000,127.0.0.1:7000 " + bin +
           "/kvbench --duration=1s",
       "'127.0.0.1:7000' is listed twice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    const Result r = Shell(dir, c.command);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, c.says)) << r.err;
  }
}

}  // namespace
}  // namespace quorumkv
