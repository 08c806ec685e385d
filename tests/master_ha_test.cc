// Replicated masters on a real etcd (docs/architecture.md, "Masters"):
// three etcd members and three masters on 127.0.0.1, storage nodes and
// clients given the three masters.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "quorumkv/client.h"
#include "tests/etcd_cluster.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class MasterHaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EtcdBinary().empty()) {
      GTEST_SKIP() << "etcd is not installed: scripts/install-deps.sh --tests "
                      "installs etcd-server";
    }
    etcd_ = std::make_unique<EtcdCluster>(3);
    ASSERT_OK(etcd_->Start());
    ProcessClusterOptions options = SmallClusterOptions(QKV_BIN_DIR);
    options.masters = 3;
    options.etcd = etcd_->endpoints();
    options.master_flags.push_back("--master_lease=2s");
    options.master_flags.push_back("--node_down_after=2s");
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<ProcessCluster> cluster_;
};

TEST_F(MasterHaTest, AStandbyLeadsWhenTheLeaderIsKilled) {
  auto client = cluster_->NewClient(QueryMode::kRecursive, absl::Seconds(5));
  ASSERT_OK(client);
  ASSERT_OK((*client)->Put("k", "v1"));
  int leader = -1;
  ASSERT_EVENTUALLY((leader = cluster_->LeaderIndex()) >= 0, absl::Seconds(10));
  const MasterList before = (*client)->Masters();
  EXPECT_EQ(before.leader, cluster_->master_address(leader));
  cluster_->KillMaster(leader);
  const absl::Time killed = absl::Now();
  int next = -1;
  ASSERT_EVENTUALLY((next = cluster_->LeaderIndex()) >= 0, absl::Seconds(10))
      << cluster_->Logs();
  std::cout << "new leader after " << absl::Now() - killed << "\n";
  EXPECT_NE(next, leader);
  ASSERT_OK((*client)->Put("k", "v2"));
  auto got = (*client)->Get("k");
  ASSERT_OK(got);
  EXPECT_EQ(got->value, "v2");
  const MasterList after = (*client)->Masters();
  EXPECT_GT(after.term, before.term);
}

}  // namespace
}  // namespace quorumkv
