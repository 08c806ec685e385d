// What a quorum round concludes (storage_node/quorum_tally.h), over every
// shape of N, W or R and answers: a write is acknowledged as soon as W
// acknowledged and fails only once every replica answered; a read is a
// quorum once R answered and fails only when nothing is outstanding; the
// newest answer wins and every older or missing one is repaired.
#include "storage_node/quorum_tally.h"

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

TEST(QuorumTallyTest, WriteVerdictsOverEveryShape) {
  for (uint32_t n = 1; n <= 5; ++n) {
    for (uint32_t w = 1; w <= n; ++w) {
      for (uint32_t acks = 0; acks <= n; ++acks) {
        for (uint32_t failures = 0; acks + failures <= n; ++failures) {
          for (bool newer : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "N=" << n << " W=" << w
                                              << " acks=" << acks << " failures="
                                              << failures << " newer=" << newer);
            const WriteTally tally{w, n, acks, failures, newer};
            const WriteVerdict verdict = Conclude(tally);
            if (acks >= w) {
              EXPECT_EQ(verdict, WriteVerdict::kAcknowledged);
            } else if (acks + failures < n) {
              EXPECT_EQ(verdict, WriteVerdict::kWaiting);
            } else {
              EXPECT_EQ(verdict, newer ? WriteVerdict::kRouteAgain
                                       : WriteVerdict::kQuorumNotReached);
            }
          }
        }
      }
    }
  }
}

TEST(QuorumTallyTest, ReadVerdictsOverEveryShape) {
  for (uint32_t r = 1; r <= 5; ++r) {
    for (uint32_t answered = 0; answered <= 5; ++answered) {
      for (uint32_t outstanding = 0; outstanding <= 3; ++outstanding) {
        const ReadVerdict verdict = Conclude(ReadTally{r, answered, outstanding});
        if (answered >= r) {
          EXPECT_EQ(verdict, ReadVerdict::kQuorum);
        } else if (outstanding > 0) {
          EXPECT_EQ(verdict, ReadVerdict::kWaiting);
        } else {
          EXPECT_EQ(verdict, ReadVerdict::kQuorumNotReached);
        }
      }
    }
  }
}

TEST(QuorumTallyTest, AQuorumFailureAfterItsDeadlineSaysSo) {
  const absl::Time deadline = absl::FromUnixSeconds(100);
  EXPECT_EQ(QuorumFailureCode(deadline, deadline - absl::Milliseconds(1)),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(QuorumFailureCode(deadline, deadline),
            absl::StatusCode::kDeadlineExceeded);
}

VersionedValue At(int64_t wall_ms, uint32_t logical, const std::string& node,
                  const std::string& value, bool tombstone = false) {
  VersionedValue v;
  v.mutable_version()->set_wall_ms(wall_ms);
  v.mutable_version()->set_logical(logical);
  v.mutable_version()->set_node_id(node);
  v.set_value(value);
  v.set_tombstone(tombstone);
  return v;
}

TEST(QuorumTallyTest, TheNewestAnswerWinsAndTheOthersAreRepaired) {
  const std::vector<ReplicaValue> answers = {
      {"a", At(10, 0, "a", "old")},
      {"b", At(10, 1, "a", "newer")},
      {"c", std::nullopt},
      {"d", At(10, 1, "a", "newer")},
  };
  const std::optional<VersionedValue> newest = Newest(answers);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->value(), "newer");
  EXPECT_EQ(Behind(answers, *newest), (std::vector<std::string>{"a", "c"}));

  // A tombstone is a version like any other: it wins when it is newest.
  const std::vector<ReplicaValue> deleted = {
      {"a", At(10, 0, "a", "v")}, {"b", At(11, 0, "b", "", true)}};
  ASSERT_TRUE(Newest(deleted).has_value());
  EXPECT_TRUE(Newest(deleted)->tombstone());
  EXPECT_EQ(Behind(deleted, *Newest(deleted)), (std::vector<std::string>{"a"}));

  // Ties on time and counter go by node id.
  const std::vector<ReplicaValue> tie = {{"a", At(10, 0, "a", "from a")},
                                         {"b", At(10, 0, "b", "from b")}};
  EXPECT_EQ(Newest(tie)->value(), "from b");

  // Nobody has seen the key.
  EXPECT_FALSE(Newest({{"a", std::nullopt}, {"b", std::nullopt}}).has_value());
  EXPECT_FALSE(Newest({}).has_value());
}

VersionedValue Expiring(VersionedValue row, int64_t expires_at_ms,
                        int64_t set_at_ms, const std::string& node) {
  row.set_expires_at_ms(expires_at_ms);
  row.mutable_expiry_version()->set_wall_ms(set_at_ms);
  row.mutable_expiry_version()->set_node_id(node);
  return row;
}

TEST(QuorumTallyTest, EachRegisterGoesToItsNewestAnswer) {
  // b saw the newer value; c saw a later expire of the older one. The read
  // answers the newer value with the expiry, and repairs all three.
  const VersionedValue expire_only =
      Expiring(At(0, 0, "", "", /*tombstone=*/true), 500, 30, "c");
  const std::vector<ReplicaValue> answers = {
      {"a", At(10, 0, "a", "old")},
      {"b", At(20, 0, "b", "new")},
      {"c", Expiring(At(10, 0, "a", "old"), 500, 30, "c")},
  };
  const std::optional<VersionedValue> newest = Newest(answers);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->value(), "new");
  EXPECT_EQ(newest->version().wall_ms(), 20u);
  EXPECT_EQ(newest->expires_at_ms(), 500);
  EXPECT_EQ(newest->expiry_version().wall_ms(), 30u);
  EXPECT_EQ(Behind(answers, *newest),
            (std::vector<std::string>{"a", "b", "c"}));

  // A put after the expire clears it: its expiry register is newer.
  const std::vector<ReplicaValue> cleared = {
      {"a", Expiring(At(10, 0, "a", "old"), 500, 30, "c")},
      {"b", At(40, 0, "b", "newest")},
  };
  EXPECT_EQ(Newest(cleared)->expires_at_ms(), 0);
  EXPECT_EQ(Newest(cleared)->value(), "newest");
  EXPECT_EQ(Behind(cleared, *Newest(cleared)), (std::vector<std::string>{"a"}));

  // An expire of a key a replica never saw meets the value elsewhere.
  const std::vector<ReplicaValue> lone = {{"a", expire_only},
                                          {"b", At(10, 0, "a", "v")}};
  EXPECT_FALSE(Newest(lone)->tombstone());
  EXPECT_EQ(Newest(lone)->value(), "v");
  EXPECT_EQ(Newest(lone)->expires_at_ms(), 500);
}

}  // namespace
}  // namespace quorumkv
