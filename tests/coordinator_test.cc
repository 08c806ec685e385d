// The coordinator without a cluster: this node's real engine, and its two
// peers played by scripted proxies at the per-peer seam (PeerProxy) that
// store what they are sent, fail, stall until the deadline, or answer from
// a newer directory, as each test sets them. Each write and read decision
// is checked on what the replicas then hold.
#include "storage_node/coordinator.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/batch_cork.h"
#include "common/rpc_status.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/unscripted_peer.h"

namespace quorumkv {
namespace {

// How a scripted peer answers.
enum class Behaviour { kAnswer, kFail, kStall, kNewerEpoch };

// One peer's rows and behaviour; shared by the test and the peer's proxy.
struct ScriptedReplica {
  absl::Mutex mu;
  Behaviour behaviour ABSL_GUARDED_BY(mu) = Behaviour::kAnswer;
  std::map<std::string, VersionedValue> rows ABSL_GUARDED_BY(mu);
  int applies ABSL_GUARDED_BY(mu) = 0;
  int reads ABSL_GUARDED_BY(mu) = 0;
  // Calls held by kStall, failed by ExpireOverdue at their deadline.
  StalledCalls stalled;

  void Set(Behaviour b) {
    absl::MutexLock lock(&mu);
    behaviour = b;
  }
  void Put(const std::string& key, const VersionedValue& value) {
    absl::MutexLock lock(&mu);
    rows[key] = value;
  }
  std::optional<VersionedValue> Get(const std::string& key) {
    absl::MutexLock lock(&mu);
    auto it = rows.find(key);
    if (it == rows.end()) return std::nullopt;
    return it->second;
  }
  // Fails the stalled calls now rather than at their deadlines.
  void FailStalled() { stalled.Release(); }

};

class ScriptedPeer final : public UnscriptedPeer {
 public:
  explicit ScriptedPeer(std::shared_ptr<ScriptedReplica> replica)
      : replica_(std::move(replica)) {}

  void Apply(const ApplyRequest& request, absl::Time deadline,
             Done<ApplyResponse> done) override {
    absl::StatusOr<ApplyResponse> answer;
    {
      absl::MutexLock lock(&replica_->mu);
      ++replica_->applies;
      if (Hold(deadline, done)) return;
      answer = Answer();
      if (answer.ok()) {
        auto it = replica_->rows.find(request.key());
        answer->set_had_value(it != replica_->rows.end() &&
                              !it->second.tombstone());
        if (it == replica_->rows.end() ||
            VersionLess(it->second.version(), request.value().version())) {
          replica_->rows[request.key()] = request.value();
          answer->set_applied(true);
        }
      }
    }
    done(std::move(answer));
  }
  void Read(const ReadRequest& request, absl::Time deadline,
            Done<ReadResponse> done) override {
    absl::StatusOr<ReadResponse> answer;
    {
      absl::MutexLock lock(&replica_->mu);
      ++replica_->reads;
      if (Hold(deadline, done)) return;
      absl::StatusOr<ApplyResponse> status = Answer();
      if (!status.ok()) {
        answer = status.status();
      } else {
        answer = ReadResponse();
        auto it = replica_->rows.find(request.key());
        if (it != replica_->rows.end()) {
          answer->set_found(true);
          *answer->mutable_value() = it->second;
        }
      }
    }
    done(std::move(answer));
  }
  void ExpireOverdue(absl::Time now) override {
    replica_->stalled.ExpireOverdue(now);
  }

 private:
  // With kStall, keeps `done` until the deadline.
  template <typename Response>
  bool Hold(absl::Time deadline, Done<Response>& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(replica_->mu) {
    if (replica_->behaviour != Behaviour::kStall) return false;
    replica_->stalled.Hold(deadline, std::move(done));
    return true;
  }
  absl::StatusOr<ApplyResponse> Answer()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(replica_->mu) {
    switch (replica_->behaviour) {
      case Behaviour::kFail:
        return absl::UnavailableError("failed by the test");
      case Behaviour::kNewerEpoch: {
        WrongNode wrong;
        wrong.set_epoch(99);
        wrong.set_node_id("peer");
        return WrongNodeError(wrong, "not a replica at epoch 99");
      }
      default:
        return ApplyResponse();
    }
  }

  const std::shared_ptr<ScriptedReplica> replica_;
};

constexpr uint32_t kPartition = 0;

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest()
      : b_(std::make_shared<ScriptedReplica>()),
        c_(std::make_shared<ScriptedReplica>()),
        d_(std::make_shared<ScriptedReplica>()),
        clock_("a"),
        peers_([this](const std::string& address) -> std::unique_ptr<PeerProxy> {
          return std::make_unique<ScriptedPeer>(address == "127.0.0.1:2"   ? b_
                                                : address == "127.0.0.1:3" ? c_
                                                                           : d_);
        }) {
    engine_ = *Engine::Open(dir_.Sub("engine"));
    hints_ = std::make_unique<HintWriter>(&engine_->hints());
    coordinator_ = std::make_unique<Coordinator>("a", engine_.get(), &clock_,
                                                 &peers_, &down_, hints_.get());
  }
  ~CoordinatorTest() override {
    coordinator_->WaitIdle();
    coordinator_.reset();
    hints_.reset();
  }

  // a (this node), b and c hold the partition; d joins it when `joining`.
  static DirectoryPtr Directory3(bool joining = false) {
    Directory d;
    d.set_epoch(5);
    d.set_partitions(1);
    d.set_replication(3);
    for (int i = 1; i <= 4; ++i) {
      NodeDescriptor* node = d.add_nodes();
      node->set_id(std::string(1, static_cast<char>('a' + i - 1)));
      node->set_address(absl::StrCat("127.0.0.1:", i));
    }
    PartitionReplicas* p = d.add_assignments();
    for (const char* id : {"a", "b", "c"}) p->add_node_ids(id);
    if (joining) p->add_joining_ids("d");
    return std::make_shared<DirectoryView>(std::move(d));
  }

  absl::StatusOr<WriteOutcome> Put(const std::string& key,
                                   const std::string& value, uint32_t w,
                                   bool joining = false) {
    VersionedValue v;
    v.set_value(value);
    absl::Notification done;
    absl::StatusOr<WriteOutcome> result;
    coordinator_->Write(Directory3(joining), kPartition, key, v, w,
                        absl::Now() + absl::Seconds(2),
                        [&](absl::StatusOr<WriteOutcome> r) {
                          result = std::move(r);
                          done.Notify();
                        });
    done.WaitForNotification();
    return result;
  }

  absl::StatusOr<VersionedValue> Get(const std::string& key, uint32_t r,
                                     absl::Duration timeout = absl::Seconds(2)) {
    absl::Notification done;
    absl::StatusOr<VersionedValue> result;
    coordinator_->Read(Directory3(), kPartition, key, r, absl::Now() + timeout,
                       [&](absl::StatusOr<VersionedValue> got) {
                         result = std::move(got);
                         done.Notify();
                       });
    done.WaitForNotification();
    return result;
  }

  std::optional<VersionedValue> Local(const std::string& key) {
    auto v = engine_->Read(kPartition, key);
    if (!v.ok()) return std::nullopt;
    return *v;
  }

  // Hints stored for `target` (after what is queued reaches the disk).
  size_t HintsFor(const std::string& target) {
    hints_->Flush();
    return engine_->hints().Peek(target, 100).size();
  }

  TempDir dir_;
  std::shared_ptr<ScriptedReplica> b_, c_, d_;
  HybridClock clock_;
  DownNodes down_;
  PeerSet peers_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HintWriter> hints_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(CoordinatorTest, AWriteIsStoredEverywhereAndAcknowledgedAtW) {
  auto written = Put("k", "v", 3);
  ASSERT_OK(written.status());
  EXPECT_EQ(written->acks, 3u);
  EXPECT_FALSE(written->existed);
  ASSERT_TRUE(Local("k").has_value());
  EXPECT_EQ(Local("k")->value(), "v");
  EXPECT_EQ(b_->Get("k")->value(), "v");
  EXPECT_EQ(c_->Get("k")->value(), "v");
  // The same version everywhere: the coordinator stamped it once.
  EXPECT_EQ(CompareVersions(b_->Get("k")->version(), Local("k")->version()), 0);
  EXPECT_EQ(CompareVersions(written->version, Local("k")->version()), 0);
  EXPECT_TRUE(Put("k", "v2", 2)->existed);
}

TEST_F(CoordinatorTest, AFailedReplicaGetsAHintAndTheWriteSucceedsAtW) {
  c_->Set(Behaviour::kFail);
  auto written = Put("k", "v", 2);
  ASSERT_OK(written.status());
  EXPECT_GE(written->acks, 2u);
  EXPECT_FALSE(c_->Get("k").has_value());
  EXPECT_EQ(HintsFor("c"), 1u);
  EXPECT_EQ(HintsFor("b"), 0u);
}

TEST_F(CoordinatorTest, TooFewAcknowledgementsAreCountedExactly) {
  c_->Set(Behaviour::kFail);
  auto written = Put("k", "v", 3);
  EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
  auto detail = GetQuorumNotReached(written.status());
  ASSERT_TRUE(detail.has_value()) << written.status();
  EXPECT_EQ(detail->acknowledged(), 2u);
  EXPECT_EQ(detail->required(), 3u);
  EXPECT_TRUE(detail->attempted());
  // It was written where it could be, and hinted where not.
  EXPECT_EQ(Local("k")->value(), "v");
  EXPECT_EQ(b_->Get("k")->value(), "v");
  EXPECT_EQ(HintsFor("c"), 1u);
}

TEST_F(CoordinatorTest, AWriteThatCannotReachWIsRefusedBeforeWritingAnywhere) {
  down_.Set(std::vector<std::string>{"c"});
  auto written = Put("k", "v", 3);
  EXPECT_TRUE(absl::IsUnavailable(written.status())) << written.status();
  auto detail = GetQuorumNotReached(written.status());
  ASSERT_TRUE(detail.has_value());
  EXPECT_FALSE(detail->attempted());
  EXPECT_NE(written.status().message().find("c (127.0.0.1:3) is DOWN"),
            std::string::npos)
      << written.status();
  EXPECT_FALSE(Local("k").has_value());
  EXPECT_FALSE(b_->Get("k").has_value());
  EXPECT_EQ(HintsFor("c"), 0u);
  // W=2 still goes ahead without the DOWN replica (and hints it, unsent).
  ASSERT_OK(Put("k", "v", 2).status());
  {
    absl::MutexLock lock(&c_->mu);
    EXPECT_EQ(c_->applies, 0);
  }
  EXPECT_EQ(HintsFor("c"), 1u);
}

TEST_F(CoordinatorTest, ReplicasOnANewerDirectorySendTheClientToRouteAgain) {
  b_->Set(Behaviour::kNewerEpoch);
  c_->Set(Behaviour::kNewerEpoch);
  auto written = Put("k", "v", 2);
  auto wrong = GetWrongNode(written.status());
  ASSERT_TRUE(wrong.has_value()) << written.status();
  EXPECT_EQ(wrong->epoch(), 99u);
  EXPECT_EQ(wrong->partition(), kPartition);
}

TEST_F(CoordinatorTest, AJoiningReplicaGetsEveryWriteButCountsForNothing) {
  d_->Set(Behaviour::kAnswer);
  auto written = Put("k", "v", 3, /*joining=*/true);
  ASSERT_OK(written.status());
  EXPECT_EQ(written->acks, 3u);  // a, b, c: not d
  EXPECT_EQ(d_->Get("k")->value(), "v");
  d_->Set(Behaviour::kFail);
  ASSERT_OK(Put("k2", "v", 3, /*joining=*/true).status());
  EXPECT_EQ(HintsFor("d"), 1u);
}

TEST_F(CoordinatorTest, AReadAnswersTheNewestAndRepairsTheReplicasBehind) {
  ASSERT_OK(Put("k", "old", 3).status());
  const VersionedValue old = *Local("k");
  ASSERT_OK(Put("k", "new", 3).status());
  // b missed the second write; this node (asked first) has the newest.
  b_->Put("k", old);
  c_->Set(Behaviour::kFail);  // so that R=2 reads a and b
  const uint64_t repairs = coordinator_->read_repairs();
  auto got = Get("k", 2);
  ASSERT_OK(got.status());
  EXPECT_EQ(got->value(), "new");
  EXPECT_EQ(b_->Get("k")->value(), "new");
  EXPECT_EQ(coordinator_->read_repairs(), repairs + 1);
}

TEST_F(CoordinatorTest, AReadRepairsThisNodeWhenAPeerHasNewer) {
  VersionedValue newer;
  newer.set_value("only on b and c");
  *newer.mutable_version() = clock_.Now();
  b_->Put("k", newer);
  c_->Put("k", newer);
  auto got = Get("k", 2);
  ASSERT_OK(got.status());
  EXPECT_EQ(got->value(), "only on b and c");
  ASSERT_TRUE(Local("k").has_value());
  EXPECT_EQ(Local("k")->value(), "only on b and c");
}

TEST_F(CoordinatorTest, AKeyNobodyHasIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(Get("nobody", 3).status()));
}

TEST_F(CoordinatorTest, AFailedReplicaIsReplacedByTheNextAndTooFewFailTheRead) {
  ASSERT_OK(Put("k", "v", 3).status());
  b_->Set(Behaviour::kFail);
  auto got = Get("k", 2);  // a, b fails, then c
  ASSERT_OK(got.status());
  EXPECT_EQ(got->value(), "v");
  c_->Set(Behaviour::kFail);
  got = Get("k", 2);
  auto detail = GetQuorumNotReached(got.status());
  ASSERT_TRUE(detail.has_value()) << got.status();
  EXPECT_EQ(detail->acknowledged(), 1u);
  EXPECT_EQ(detail->required(), 2u);
}

// A paused replica costs a read the speculative threshold, not its
// deadline: a third replica is asked once the first ones are slow.
TEST_F(CoordinatorTest, AStalledReplicaIsWorkedAroundBeforeTheDeadline) {
  ASSERT_OK(Put("k", "v", 3).status());
  b_->Set(Behaviour::kStall);
  const absl::Time start = absl::Now();
  auto got = Get("k", 2, absl::Seconds(10));
  ASSERT_OK(got.status());
  EXPECT_EQ(got->value(), "v");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  {
    absl::MutexLock lock(&c_->mu);
    EXPECT_GE(c_->reads, 1);
  }
  b_->FailStalled();
}

// Reads of a hot key that arrive while a round to the replicas is in flight
// share the next round: many reads cost two rounds. And a read that began
// after a write was acknowledged sees it, although a round sent before the
// write was still in flight when it began.
TEST_F(CoordinatorTest, ConcurrentReadsOfOneKeyShareRoundsAndSeeEarlierWrites) {
  ASSERT_OK(Put("hot", "v1", 3).status());
  auto remote_reads = [&] {
    absl::MutexLock lb(&b_->mu);
    absl::MutexLock lc(&c_->mu);
    return b_->reads + c_->reads;
  };
  const int before = remote_reads();
  b_->Set(Behaviour::kStall);
  c_->Set(Behaviour::kStall);
  absl::Mutex mu;
  std::vector<std::string> answers;
  int answered = 0;
  auto read = [&] {
    coordinator_->Read(Directory3(), kPartition, "hot", 2,
                       absl::Now() + absl::Seconds(5),
                       [&](absl::StatusOr<VersionedValue> got) {
                         absl::MutexLock lock(&mu);
                         ++answered;
                         if (got.ok()) answers.push_back(got->value());
                       });
  };
  read();  // round 1: this node and a stalled replica
  // A write acknowledged by b and c (coordinated elsewhere) after round 1
  // was sent; then eight reads begin.
  VersionedValue v2 = *Local("hot");
  v2.set_value("v2");
  v2.mutable_version()->set_wall_ms(v2.version().wall_ms() + 1000);
  b_->Put("hot", v2);
  c_->Put("hot", v2);
  for (int i = 0; i < 8; ++i) read();
  b_->Set(Behaviour::kAnswer);
  c_->Set(Behaviour::kAnswer);
  b_->FailStalled();
  c_->FailStalled();
  ASSERT_EVENTUALLY(
      [&] {
        absl::MutexLock lock(&mu);
        return answered == 9;
      }(),
      absl::Seconds(10));
  absl::MutexLock lock(&mu);
  // The eight later reads all saw v2 (round 1's reader may have too, from
  // the replica it asked after the stalled one failed).
  EXPECT_GE(answers.size(), 8u);
  EXPECT_GE(std::count(answers.begin(), answers.end(), "v2"), 8);
  // Without sharing, nine reads would have asked the replicas at least
  // nine times.
  EXPECT_LE(remote_reads() - before, 5);
  EXPECT_EQ(coordinator_->coalesced_reads(), 8u);
  EXPECT_EQ(coordinator_->read_rounds(), 2u);
}

// The writes of one client message are stored here with one engine write,
// and each still answers on its own.
TEST_F(CoordinatorTest, WritesUnderOneCorkEachAnswer) {
  absl::Mutex mu;
  int ok = 0;
  int answered = 0;
  {
    BatchCork cork;
    for (int i = 0; i < 10; ++i) {
      VersionedValue v;
      v.set_value(absl::StrCat("v", i));
      coordinator_->Write(Directory3(), kPartition, absl::StrCat("k", i), v, 2,
                          absl::Now() + absl::Seconds(2),
                          [&](absl::StatusOr<WriteOutcome> r) {
                            absl::MutexLock lock(&mu);
                            ok += r.ok();
                            ++answered;
                          });
    }
  }
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(
      absl::Condition(+[](int* n) { return *n == 10; }, &answered),
      absl::Seconds(5)));
  EXPECT_EQ(ok, 10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Local(absl::StrCat("k", i))->value(), absl::StrCat("v", i));
  }
}

}  // namespace
}  // namespace quorumkv
