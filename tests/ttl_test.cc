// Expiring keys end to end (docs/operations.md, "Expiring keys"): an
// expired key is absent on every replica from its expiry on, whichever
// replica missed the expire; neither read repair, compaction nor
// anti-entropy brings it back, and it leaves the disk; `expire` and
// `persist` never revive an older value nor overwrite a newer one. In
// process, real servers, both query modes.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "gtest/gtest.h"
#include "storage_node/engine.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class TtlTest : public ::testing::TestWithParam<QueryMode> {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  void SetUp() override {
    MiniClusterOptions options;
    options.tombstone_grace = absl::ZeroDuration();
    options.anti_entropy_interval = absl::Milliseconds(200);
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
    auto client = cluster_->NewClient(GetParam());
    ASSERT_OK(client);
    client_ = *std::move(client);
  }

  std::vector<int> ReplicasOf(const std::string& key) {
    DirectoryPtr directory = cluster_->master()->directory();
    std::vector<int> replicas;
    for (const std::string& id :
         directory->Replicas(directory->PartitionOf(key))) {
      replicas.push_back(cluster_->IndexOf(id));
    }
    return replicas;
  }

  // What node i stores itself for `key`, as `kvcli get --from` shows it.
  absl::StatusOr<ReadResult> OwnCopy(int i, const std::string& key) {
    return client_->GetFromReplica(cluster_->node(i)->id(), key);
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_P(TtlTest, AnExpiredKeyIsAbsentEverywhereAndNeverComesBack) {
  const std::string key = "session";
  RequestOptions all;
  all.w = 3;
  all.r = 3;
  ASSERT_OK(client_->Put(key, "token", all));
  const std::vector<int> replicas = ReplicasOf(key);
  const int missed = replicas[2];
  // One replica is down across the expire, and its hint is lost: only a
  // read repair or anti-entropy can tell it.
  cluster_->StopNode(missed);
  auto expired = client_->Expire(key, absl::Seconds(1));
  ASSERT_OK(expired);
  EXPECT_TRUE(expired->existed);
  for (int i : {replicas[0], replicas[1]}) {
    HintStore& hints = cluster_->node(i)->engine()->hints();
    for (const std::string& target : hints.Targets()) {
      ASSERT_OK(hints.Remove(hints.Peek(target, 1000)));
    }
  }
  auto ttl = client_->Get(key);
  ASSERT_OK(ttl);
  EXPECT_EQ(ttl->value, "token");
  EXPECT_GT(ttl->expires_at_ms, absl::ToUnixMillis(absl::Now()));
  EXPECT_LE(ttl->expires_at_ms, absl::ToUnixMillis(absl::Now() + absl::Seconds(1)));
  ASSERT_EVENTUALLY(absl::IsNotFound(client_->Get(key).status()),
                    absl::Seconds(10));
  {
    // The stopped replica still holds the value with no expiry.
    auto engine = Engine::Open(cluster_->node_data_dir(missed) + "/db");
    ASSERT_OK(engine);
    DirectoryPtr directory = cluster_->master()->directory();
    auto stored = (*engine)->Read(directory->PartitionOf(key), key);
    ASSERT_OK(stored);
    EXPECT_EQ(stored->value(), "token");
    EXPECT_EQ(stored->expires_at_ms(), 0);
  }
  ASSERT_OK(cluster_->RestartNode(missed));
  // A read at R=N merges both registers: absent, and the replica behind is
  // repaired (or anti-entropy got there first).
  EXPECT_TRUE(absl::IsNotFound(client_->Get(key, all).status()));
  ASSERT_EVENTUALLY(absl::IsNotFound(OwnCopy(missed, key).status()),
                    absl::Seconds(30));
  for (int i : replicas) {
    EXPECT_TRUE(absl::IsNotFound(OwnCopy(i, key).status())) << "node " << i;
  }
  // Compaction and anti-entropy passes: still absent, and once a pass has
  // run with every replica holding the expiry, the row leaves the disk.
  DirectoryPtr directory = cluster_->master()->directory();
  const uint32_t partition = directory->PartitionOf(key);
  const bool gone = WaitFor(
      [&] {
        bool all_gone = true;
        for (int i : replicas) {
          EXPECT_OK(cluster_->node(i)->engine()->Compact());
          all_gone &= absl::IsNotFound(
              cluster_->node(i)->engine()->Read(partition, key).status());
        }
        return all_gone;
      },
      absl::Seconds(30));
  for (int i : replicas) {
    auto row = cluster_->node(i)->engine()->Read(partition, key);
    EXPECT_TRUE(absl::IsNotFound(row.status()))
        << "node " << i << " still stores "
        << (row.ok() ? row->ShortDebugString() : row.status().ToString());
  }
  ASSERT_TRUE(gone) << "the expired row stayed on disk";
  EXPECT_TRUE(absl::IsNotFound(client_->Get(key, all).status()));
  for (int i : replicas) {
    EXPECT_TRUE(absl::IsNotFound(OwnCopy(i, key).status())) << "node " << i;
  }
}

TEST_P(TtlTest, ExpireAndPersistTouchOnlyTheExpiry) {
  RequestOptions all;
  all.r = 3;
  // A put after an expire clears it; an expire never revives a deleted
  // value.
  ASSERT_OK(client_->Put("a", "v1"));
  ASSERT_OK(client_->Expire("a", absl::Hours(1)));
  EXPECT_GT(client_->Get("a", all)->expires_at_ms, 0);
  ASSERT_OK(client_->Put("a", "v2"));
  auto read = client_->Get("a", all);
  ASSERT_OK(read);
  EXPECT_EQ(read->value, "v2");
  EXPECT_EQ(read->expires_at_ms, 0);
  ASSERT_OK(client_->Delete("a"));
  auto on_deleted = client_->Expire("a", absl::Hours(1));
  ASSERT_OK(on_deleted);
  EXPECT_FALSE(on_deleted->existed);
  EXPECT_TRUE(absl::IsNotFound(client_->Get("a", all).status()));

  // A put with a TTL, then persist: it stays.
  RequestOptions short_lived;
  short_lived.ttl = absl::Milliseconds(300);
  ASSERT_OK(client_->Put("b", "kept", short_lived));
  auto persisted = client_->Persist("b");
  ASSERT_OK(persisted);
  EXPECT_TRUE(persisted->existed);
  const absl::Time after = absl::Now() + absl::Milliseconds(600);
  ASSERT_EVENTUALLY(absl::Now() > after, absl::Seconds(5));
  read = client_->Get("b", all);
  ASSERT_OK(read);
  EXPECT_EQ(read->value, "kept");
  EXPECT_EQ(read->expires_at_ms, 0);

  // A put with a TTL that is left alone expires.
  ASSERT_OK(client_->Put("c", "brief", short_lived));
  ASSERT_OK(client_->Get("c", all));
  ASSERT_EVENTUALLY(absl::IsNotFound(client_->Get("c", all).status()),
                    absl::Seconds(10));
}

TEST_P(TtlTest, BadTtlsAreRefusedAndWriteNothing) {
  RequestOptions negative;
  negative.ttl = absl::Seconds(-1);
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Put("k", "v", negative).status()));
  RequestOptions huge;
  huge.ttl = absl::Hours(24 * 365 * 101);
  auto refused = client_->Put("k", "v", huge);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status()));
  EXPECT_NE(refused.status().message().find("100 years"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Expire("k", absl::ZeroDuration()).status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Get("k").status()));
}

QKV_INSTANTIATE_IN_BOTH_MODES(TtlTest);

}  // namespace
}  // namespace quorumkv
