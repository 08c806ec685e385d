// A peer that restarts (docs/failures.md): right after a storage node is
// killed -9 and started again, and the master shows it UP, quorum reads
// that need it (R=N) and writes that need it (W=N) succeed in both query
// modes. The other nodes' per-peer streams to it broke when it died; the
// requests sent on a broken stream are sent again on a new one within
// their deadlines, never failed because an old stream broke.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "quorumkv/client.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr int kKeys = 24;
constexpr int kRounds = 4;

class PeerRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessClusterOptions options = SmallClusterOptions(QKV_BIN_DIR);
    options.master_flags.push_back("--node_down_after=1s");
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
    for (QueryMode mode : {QueryMode::kIterative, QueryMode::kRecursive}) {
      auto client = cluster_->NewClient(mode, absl::Seconds(3));
      ASSERT_OK(client);
      clients_.push_back(*std::move(client));
    }
  }

  // The state the master gives node `i`.
  std::string StateOf(int i) {
    const NodeSummary* n = nullptr;
    auto nodes = clients_[0]->Nodes();
    if (nodes.ok()) n = Find(*nodes, i);
    return n == nullptr ? "" : n->node.state;
  }
  // Whether the master shows node `i` UP with a heartbeat sent after `since`
  // (by the process started then, not the one killed before).
  bool UpSince(int i, absl::Time since) {
    auto nodes = clients_[0]->Nodes();
    if (!nodes.ok()) return false;
    const NodeSummary* n = Find(*nodes, i);
    return n != nullptr && n->node.state == "UP" &&
           n->last_heartbeat_ms_ago >= 0 &&
           absl::Milliseconds(n->last_heartbeat_ms_ago) <
               absl::Now() - since;
  }
  const NodeSummary* Find(const ClusterSummary& nodes, int i) {
    for (const NodeSummary& n : nodes.nodes) {
      if (n.node.address == cluster_->node_address(i)) return &n;
    }
    return nullptr;
  }

  static std::string ModeOf(int k) {
    return QueryModeName(k % 2 == 0 ? QueryMode::kIterative
                                    : QueryMode::kRecursive);
  }
  // Refused before writing because the coordinator still holds a node DOWN.
  static bool RefusedAsDown(const absl::Status& status) {
    auto quorum = GetQuorumFailure(status);
    return quorum && !quorum->attempted &&
           absl::StrContains(status.message(), "is DOWN");
  }

  std::unique_ptr<ProcessCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(PeerRestartTest, RequestsRightAfterAPeerRestartsSucceed) {
  const uint32_t n = 3;
  for (int k = 0; k < kKeys; ++k) {
    RequestOptions all;
    all.w = n;
    ASSERT_OK(clients_[k % 2]->Put(absl::StrCat("key-", k),
                                   absl::StrCat("v0-", k), all));
  }
  for (int round = 0; round < kRounds; ++round) {
    const int victim = round % cluster_->num_nodes();
    // Streams to it are busy when it dies: reads that need every replica.
    std::vector<std::string> errors;
    // Back before the master noticed (odd rounds), or after it was DOWN.
    cluster_->KillNode(victim);
    if (round % 2 == 0) {
      ASSERT_EVENTUALLY(StateOf(victim) == "DOWN", absl::Seconds(20));
    }
    const absl::Time restarted = absl::Now();
    ASSERT_OK(cluster_->RestartNode(victim));
    ASSERT_EVENTUALLY(UpSince(victim, restarted), absl::Seconds(20))
        << cluster_->Logs();
    // At once: every read needs the restarted node.
    RequestOptions all;
    all.r = n;
    all.w = n;
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = absl::StrCat("key-", k);
      auto read = clients_[k % 2]->Get(key, all);
      if (!read.ok()) {
        errors.push_back(absl::StrCat(ModeOf(k), " get ", key, " (round ",
                                      round, "): ", read.status().ToString()));
      } else {
        EXPECT_EQ(read->value, absl::StrCat("v", round, "-", k));
      }
    }
    // And every write. A coordinator that has not yet heard from the master
    // that the node is UP again (at most a heartbeat later) refuses a W=N
    // write before writing anything, as documented; that one is tried again.
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = absl::StrCat("key-", k);
      const std::string value = absl::StrCat("v", round + 1, "-", k);
      absl::Status written;
      const absl::Time give_up = absl::Now() + absl::Seconds(5);
      do {
        written = clients_[k % 2]->Put(key, value, all).status();
      } while (!written.ok() && RefusedAsDown(written) && absl::Now() < give_up);
      if (!written.ok()) {
        errors.push_back(absl::StrCat(ModeOf(k), " put ", key, " (round ",
                                      round, "): ", written.ToString()));
      }
    }
    EXPECT_TRUE(errors.empty()) << errors.size() << " of " << 2 * kKeys
                                << " requests failed; first: "
                                << (errors.empty() ? "" : errors[0]);
  }
}

}  // namespace
}  // namespace quorumkv
