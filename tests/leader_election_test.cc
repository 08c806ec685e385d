// Leader election and fencing on a real etcd (master/etcd/): one leader at
// a time; a leader whose key was taken over cannot write, however long its
// own clock says it may lead, and notices; a leader that cannot renew its
// lease stops leading before etcd could expire it; resigning lets a
// standby lead at once.
#include "master/etcd/leader_election.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "common/rpc_status.h"
#include "gtest/gtest.h"
#include "master/etcd/etcd_client.h"
#include "master/etcd/etcd_store.h"
#include "tests/etcd_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kLease = absl::Seconds(2);

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QKV_SKIP_WITHOUT_ETCD();
    etcd_ = std::make_unique<EtcdCluster>(1);
    ASSERT_OK(etcd_->Start());
    auto client = EtcdClient::Create(etcd_->endpoints());
    ASSERT_OK(client);
    client_ = *std::move(client);
  }

  std::unique_ptr<LeaderElection> Elect(const std::string& address) {
    auto election = std::make_unique<LeaderElection>(
        client_.get(), "/test/leader", kLease, LeaderElection::Callbacks{});
    election->Start(address);
    return election;
  }

  Directory SomeDirectory(uint64_t epoch) {
    Directory d;
    d.set_epoch(epoch);
    d.set_partitions(1);
    d.set_replication(1);
    return d;
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(LeaderElectionTest, OneLeaderAndStandbysThatKnowIt) {
  auto a = Elect("127.0.0.1:1");
  ASSERT_EVENTUALLY(a->IsLeader(), absl::Seconds(10));
  auto b = Elect("127.0.0.1:2");
  auto c = Elect("127.0.0.1:3");
  ASSERT_EVENTUALLY(b->leader() == "127.0.0.1:1" && c->leader() == "127.0.0.1:1",
                    absl::Seconds(10));
  EXPECT_FALSE(b->IsLeader());
  EXPECT_FALSE(c->IsLeader());
  EXPECT_EQ(b->term(), a->term());
  // Resigning hands over at once, not after the lease.
  const absl::Time resigned = absl::Now();
  a->Stop();
  ASSERT_EVENTUALLY(b->IsLeader() || c->IsLeader(), absl::Seconds(10));
  EXPECT_LT(absl::Now() - resigned, kLease);
  LeaderElection* next = b->IsLeader() ? b.get() : c.get();
  EXPECT_GT(next->term(), a->term());
}

TEST_F(LeaderElectionTest, ASupersededLeaderCannotWriteAndStepsDown) {
  auto a = Elect("127.0.0.1:1");
  ASSERT_EVENTUALLY(a->IsLeader(), absl::Seconds(10));
  EtcdStore store_a(client_.get(), "/test", a.get());
  ASSERT_OK(store_a.Save(SomeDirectory(1)));
  // The leader key goes behind a's back (as when a was paused past its
  // lease), and b is elected.
  etcdserverpb::TxnRequest take;
  take.add_success()->mutable_request_delete_range()->set_key("/test/leader");
  ASSERT_OK(client_->Txn(take, absl::Seconds(2)));
  auto b = Elect("127.0.0.1:2");
  ASSERT_EVENTUALLY(b->IsLeader(), absl::Seconds(10));
  // Whatever a's clock says, etcd refuses a's writes: the transaction's
  // check of the leader key at a's term fails.
  absl::Status refused = store_a.SaveAtTerm(SomeDirectory(2), a->term());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_TRUE(GetNotLeader(refused).has_value()) << refused;
  refused = store_a.Save(SomeDirectory(2));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EtcdStore store_b(client_.get(), "/test", b.get());
  auto stored = store_b.Load();
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->epoch(), 1u);
  // And a notices that it no longer leads.
  ASSERT_EVENTUALLY(!a->IsLeader() && a->leader() == "127.0.0.1:2",
                    absl::Seconds(10));
  EXPECT_OK(store_b.Save(SomeDirectory(2)));
}

TEST_F(LeaderElectionTest, ALeaderThatCannotRenewStopsBeforeItsLeaseEnds) {
  auto a = Elect("127.0.0.1:1");
  ASSERT_EVENTUALLY(a->IsLeader(), absl::Seconds(10));
  etcd_->Kill(0);
  const absl::Time killed = absl::Now();
  ASSERT_EVENTUALLY(!a->IsLeader(), absl::Seconds(10));
  // It renewed at most a third of the lease before etcd went away.
  EXPECT_LT(absl::Now() - killed, kLease);
  EXPECT_FALSE(a->problem().empty());
}

}  // namespace
}  // namespace quorumkv
