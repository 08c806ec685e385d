// The fault test: real processes (a master and six storage nodes on three
// racks), writers and readers in both query modes, and a nemesis that
// kill -9s nodes, a whole rack and the master, and pauses nodes (SIGSTOP).
// It runs twice: with the embedded master, and with three replicated
// masters on a 3-member etcd, where the master it kills is the leader. At
// the end every acknowledged write reads back at R=N, no quorum read
// returned a value older than one acknowledged before it began, and nothing
// was read that was never written. Bounded: about a minute each.
#include <iostream>
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "quorumkv/client.h"
#include "gtest/gtest.h"
#include "tests/checked_workload.h"
#include "tests/etcd_cluster.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr int kWritersPerMode = 2;
constexpr int kKeysPerWriter = 8;
constexpr int kReadersPerMode = 1;

// Whether the masters are replicated on etcd.
class FaultTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ProcessClusterOptions options;
    options.bin_dir = QKV_BIN_DIR;
    options.master_flags = {"--node_down_after=2s", "--partitions=16",
                            "--anti_entropy_interval=2s"};
    options.node_flags = {"--heartbeat_interval=200ms"};
    if (GetParam()) {
      QKV_SKIP_WITHOUT_ETCD();
      etcd_ = std::make_unique<EtcdCluster>(3);
      ASSERT_OK(etcd_->Start());
      options.masters = 3;
      options.etcd = etcd_->endpoints();
      options.master_flags.push_back("--master_lease=2s");
    }
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
    for (QueryMode mode : {QueryMode::kIterative, QueryMode::kRecursive}) {
      auto client = cluster_->NewClient(mode, absl::Seconds(2));
      ASSERT_OK(client);
      clients_.push_back(*std::move(client));
    }
  }

  // Waits until every node reports UP.
  bool AllUp(absl::Duration timeout) {
    return WaitFor(
        [&] {
          auto nodes = clients_[0]->Nodes();
          if (!nodes.ok()) return false;
          for (const NodeSummary& n : nodes->nodes) {
            if (n.node.state != "UP") return false;
          }
          return true;
        },
        timeout);
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<ProcessCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_P(FaultTest, AcknowledgedWritesSurviveKillsPausesAndTheMaster) {
  CheckedWorkload workload({clients_[0].get(), clients_[1].get()},
                           kWritersPerMode, kReadersPerMode, kKeysPerWriter);
  workload.Start();

  // The nemesis: a fixed schedule, each fault held a few seconds, with the
  // cluster back to every node UP between faults.
  const unsigned seed = 20261121;
  std::mt19937 random(seed);
  std::cout << "nemesis seed " << seed << "\n";
  auto hold = [](int seconds) { absl::SleepFor(absl::Seconds(seconds)); };
  const int n = cluster_->num_nodes();
  {
    const int victim = random() % n;
    std::cout << "kill -9 node" << victim << "\n";
    cluster_->KillNode(victim);
    hold(3);
    ASSERT_OK(cluster_->RestartNode(victim));
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    const int victim = random() % n;
    std::cout << "SIGSTOP node" << victim << "\n";
    cluster_->PauseNode(victim);
    hold(4);  // long enough to be DOWN
    cluster_->ResumeNode(victim);
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    std::cout << "kill -9 rack r2\n";
    for (int i = 0; i < n; ++i) {
      if (cluster_->rack(i) == "r2") cluster_->KillNode(i);
    }
    hold(4);
    for (int i = 0; i < n; ++i) {
      if (!cluster_->running(i)) ASSERT_OK(cluster_->RestartNode(i));
    }
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    // With replicated masters, the leader; a standby leads meanwhile.
    int master = 0;
    if (GetParam()) {
      ASSERT_TRUE(WaitFor([&] { return (master = cluster_->LeaderIndex()) >= 0; },
                          absl::Seconds(20)));
    }
    std::cout << "kill -9 master" << master << "\n";
    cluster_->KillMaster(master);
    hold(3);
    ASSERT_OK(cluster_->RestartMaster(master));
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    // Two replicas of some partitions at once: their writes fail or are
    // refused, and nothing acknowledged may be lost.
    const int paused = 0;   // rack r1
    const int killed = 2;   // rack r3
    std::cout << "SIGSTOP node" << paused << " and kill -9 node" << killed
              << "\n";
    cluster_->PauseNode(paused);
    cluster_->KillNode(killed);
    hold(3);
    cluster_->ResumeNode(paused);
    ASSERT_OK(cluster_->RestartNode(killed));
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    const int victim = random() % n;
    std::cout << "SIGSTOP node" << victim << " briefly (not DOWN)\n";
    cluster_->PauseNode(victim);
    hold(1);
    cluster_->ResumeNode(victim);
  }
  hold(2);
  workload.Stop();

  // Every acknowledged write reads back at R=N.
  ASSERT_TRUE(AllUp(absl::Seconds(20)));
  const std::vector<std::string> lost = workload.Verify(*clients_[0], 3);
  for (const std::string& problem : lost) ADD_FAILURE() << problem;
  std::cout << workload.Report(lost.size());
  EXPECT_GT(workload.counts().writes_ok, 100);
  // The master logged the paused node going DOWN and coming back.
  const std::string logs = cluster_->Logs();
  EXPECT_NE(logs.find(") is DOWN; last heartbeat"), std::string::npos);
  EXPECT_NE(logs.find(") is UP again; last heartbeat"), std::string::npos);
  EXPECT_EQ(workload.counts().stale_reads, 0);
  EXPECT_EQ(workload.counts().phantom_reads, 0);
  for (const std::string& problem : workload.problems()) ADD_FAILURE() << problem;
}

INSTANTIATE_TEST_SUITE_P(Masters, FaultTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ReplicatedOnEtcd" : "Embedded";
                         });

}  // namespace
}  // namespace quorumkv
