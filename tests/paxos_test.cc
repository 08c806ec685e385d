// Conditional writes without a cluster (storage_node/paxos): the
// acceptor's rules and the compare-and-set decision as pure functions, and
// the proposer's rounds at the per-peer seam (PeerProxy), its two peers
// played by real acceptors over their own engines that answer, fail, or
// stall (all steps, or proposals only) as each test sets them.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/rpc_status.h"
#include "gtest/gtest.h"
#include "storage_node/coordinator.h"
#include "storage_node/paxos/acceptor.h"
#include "storage_node/paxos/acceptor_rules.h"
#include "storage_node/paxos/cas_decision.h"
#include "tests/test_util.h"
#include "tests/unscripted_peer.h"

namespace quorumkv {
namespace {

Version Ballot(uint64_t wall, const std::string& node = "a") {
  Version v;
  v.set_wall_ms(wall);
  v.set_node_id(node);
  return v;
}

VersionedValue Row(const std::string& value, uint64_t wall = 0) {
  VersionedValue row;
  row.set_value(value);
  if (wall != 0) *row.mutable_version() = Ballot(wall);
  return row;
}

TEST(PaxosRulesTest, PromisesOnlyGoUpAndProposalsNeedTheirPromise) {
  PaxosState state;
  EXPECT_TRUE(Prepare(Ballot(10), &state).ok());
  // A lower or equal ballot is refused, and told what to beat.
  PaxosResponse refused = Prepare(Ballot(9), &state);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.promised().wall_ms(), 10u);
  EXPECT_FALSE(Prepare(Ballot(10), &state).ok());
  // A proposal under a lower ballot than promised is refused; at it, taken.
  EXPECT_FALSE(Propose(Ballot(9), Row("x"), &state).ok());
  EXPECT_TRUE(Propose(Ballot(10), Row("y"), &state).ok());
  // The next prepare hears of the accepted proposal.
  PaxosResponse next = Prepare(Ballot(11), &state);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.accepted().value(), "y");
  EXPECT_EQ(next.accepted_ballot().wall_ms(), 10u);
  // A commit at or above it closes it.
  Commit(Ballot(10), &state);
  EXPECT_FALSE(state.has_accepted());
  EXPECT_EQ(state.committed().wall_ms(), 10u);
  // An older commit arriving late changes nothing.
  Commit(Ballot(5), &state);
  EXPECT_EQ(state.committed().wall_ms(), 10u);
}

TEST(PaxosRulesTest, StreamedStatesMergeToTheNewestOfEach) {
  PaxosState a, b;
  Prepare(Ballot(20), &a);
  Propose(Ballot(20), Row("from a"), &a);
  Prepare(Ballot(30), &b);
  Commit(Ballot(15), &b);
  const PaxosState merged = MergeStates(a, b);
  EXPECT_EQ(merged.promised().wall_ms(), 30u);
  EXPECT_EQ(merged.accepted().value(), "from a");
  EXPECT_EQ(merged.committed().wall_ms(), 15u);
  // In either order.
  const PaxosState other = MergeStates(b, a);
  EXPECT_EQ(other.SerializeAsString(), merged.SerializeAsString());
  // A commit past the accepted proposal closes it in the merge too.
  PaxosState closed;
  Commit(Ballot(25), &closed);
  EXPECT_FALSE(MergeStates(a, closed).has_accepted());
}

TEST(CasDecisionTest, EachConditionAndAction) {
  const int64_t now = 1000;
  VersionedValue current = Row("v", 50);
  CasRequest request;
  request.set_if_absent(true);
  request.set_value("new");
  EXPECT_FALSE(DecideCas(request, &current, now)->applied);
  EXPECT_TRUE(DecideCas(request, nullptr, now)->applied);
  // An expired or deleted value is absent.
  VersionedValue expired = current;
  expired.set_expires_at_ms(now);
  EXPECT_TRUE(DecideCas(request, &expired, now)->applied);
  VersionedValue deleted = current;
  deleted.set_tombstone(true);
  EXPECT_TRUE(DecideCas(request, &deleted, now)->applied);

  request.set_if_value("v");
  EXPECT_TRUE(DecideCas(request, &current, now)->applied);
  request.set_if_value("w");
  EXPECT_FALSE(DecideCas(request, &current, now)->applied);
  *request.mutable_if_version() = Ballot(50);
  EXPECT_TRUE(DecideCas(request, &current, now)->applied);
  *request.mutable_if_version() = Ballot(49);
  EXPECT_FALSE(DecideCas(request, &current, now)->applied);

  // A TTL is counted from now; a delete is a tombstone.
  CasRequest put;
  put.set_value("x");
  put.set_ttl_ms(30);
  EXPECT_EQ(DecideCas(put, &current, now)->row.expires_at_ms(), now + 30);
  CasRequest del;
  del.set_delete_(true);
  EXPECT_TRUE(DecideCas(del, &current, now)->row.tombstone());
}

TEST(CasDecisionTest, CountersParseStrictlyAndRefuseOverflow) {
  const int64_t now = 1000;
  CasRequest incr;
  incr.set_increment(5);
  EXPECT_EQ(DecideCas(incr, nullptr, now)->row.value(), "5");
  VersionedValue seven = Row("7", 10);
  seven.set_expires_at_ms(5000);
  auto twelve = DecideCas(incr, &seven, now);
  ASSERT_OK(twelve);
  EXPECT_EQ(twelve->row.value(), "12");
  EXPECT_EQ(twelve->row.expires_at_ms(), 5000);  // the expiry is kept
  for (const char* bad : {"", "x", "1.5", " 1", "+1", "1 ", "99999999999999999999",
                          "9223372036854775808", "--1"}) {
    VersionedValue value = Row(bad, 10);
    EXPECT_TRUE(absl::IsInvalidArgument(DecideCas(incr, &value, now).status()))
        << "'" << bad << "'";
  }
  int64_t parsed = 0;
  EXPECT_TRUE(ParseCounter("-9223372036854775808", &parsed));
  EXPECT_EQ(parsed, INT64_MIN);
  EXPECT_TRUE(ParseCounter("9223372036854775807", &parsed));
  VersionedValue max = Row("9223372036854775807", 10);
  incr.set_increment(1);
  auto overflow = DecideCas(incr, &max, now);
  EXPECT_TRUE(absl::IsInvalidArgument(overflow.status()));
  EXPECT_NE(overflow.status().message().find("overflow"), std::string::npos);
  incr.set_increment(-1);
  EXPECT_EQ(DecideCas(incr, &max, now)->row.value(), "9223372036854775806");
}

// How an acceptor peer answers.
enum class Mode { kAnswer, kFail, kStallProposals };

// A peer's own engine and acceptor; shared by the test and its proxy.
struct AcceptorReplica {
  AcceptorReplica(const std::string& dir, const std::string& id)
      : engine(*Engine::Open(dir)), clock(id), acceptor(engine.get(), &clock) {}
  std::unique_ptr<Engine> engine;
  HybridClock clock;
  PaxosAcceptor acceptor;
  absl::Mutex mu;
  Mode mode ABSL_GUARDED_BY(mu) = Mode::kAnswer;
  StalledCalls stalled;
  void Set(Mode m) {
    absl::MutexLock lock(&mu);
    mode = m;
  }
};

class AcceptorPeer final : public UnscriptedPeer {
 public:
  explicit AcceptorPeer(std::shared_ptr<AcceptorReplica> replica)
      : replica_(std::move(replica)) {}

  void Paxos(const PaxosRequest& request, absl::Time deadline,
             Done<PaxosResponse> done) override {
    {
      absl::MutexLock lock(&replica_->mu);
      if (replica_->mode == Mode::kFail) {
        done(absl::UnavailableError("failed by the test"));
        return;
      }
      if (replica_->mode == Mode::kStallProposals &&
          request.phase() == PaxosRequest::PROPOSE) {
        replica_->stalled.Hold(deadline, std::move(done));
        return;
      }
    }
    done(replica_->acceptor.Answer(request));
  }
  void Apply(const ApplyRequest& request, absl::Time,
             Done<ApplyResponse> done) override {
    auto stored = replica_->engine->Apply(request.partition(), request.key(),
                                          request.value());
    if (!stored.ok()) return done(stored.status());
    ApplyResponse response;
    response.set_applied(*stored);
    done(response);
  }
  void ExpireOverdue(absl::Time now) override {
    replica_->stalled.ExpireOverdue(now);
  }

 private:
  const std::shared_ptr<AcceptorReplica> replica_;
};

constexpr uint32_t kPartition = 0;

class ProposerTest : public ::testing::Test {
 protected:
  ProposerTest()
      : b_(std::make_shared<AcceptorReplica>(dir_.Sub("b"), "b")),
        c_(std::make_shared<AcceptorReplica>(dir_.Sub("c"), "c")),
        d_(std::make_shared<AcceptorReplica>(dir_.Sub("d"), "d")),
        clock_("a"),
        peers_([this](const std::string& address) -> std::unique_ptr<PeerProxy> {
          return std::make_unique<AcceptorPeer>(address == "127.0.0.1:2"   ? b_
                                                : address == "127.0.0.1:3" ? c_
                                                                           : d_);
        }) {
    engine_ = *Engine::Open(dir_.Sub("a"));
    hints_ = std::make_unique<HintWriter>(&engine_->hints());
    coordinator_ = std::make_unique<Coordinator>("a", engine_.get(), &clock_,
                                                 &peers_, &down_, hints_.get());
  }
  ~ProposerTest() override {
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
    d.add_linearizable_prefixes("");
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

  absl::StatusOr<CasResponse> Run(CasRequest request, bool joining = false,
                                  absl::Duration timeout = absl::Seconds(2)) {
    absl::Notification done;
    absl::StatusOr<CasResponse> result;
    coordinator_->Cas(Directory3(joining), kPartition, std::move(request),
                      absl::Now() + timeout,
                      [&](absl::StatusOr<CasResponse> r) {
                        result = std::move(r);
                        done.Notify();
                      });
    done.WaitForNotification();
    return result;
  }

  absl::StatusOr<CasResponse> Increment(const std::string& key,
                                        bool joining = false,
                                        absl::Duration timeout = absl::Seconds(2)) {
    CasRequest request;
    request.set_key(key);
    request.set_increment(1);
    return Run(std::move(request), joining, timeout);
  }

  static std::string Stored(Engine& engine, const std::string& key) {
    auto row = engine.Read(kPartition, key);
    return row.ok() ? row->value() : "(none)";
  }

  TempDir dir_;
  std::shared_ptr<AcceptorReplica> b_, c_, d_;
  HybridClock clock_;
  DownNodes down_;
  PeerSet peers_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HintWriter> hints_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(ProposerTest, AChosenRowIsCommittedOnEveryReplica) {
  auto first = Increment("n");
  ASSERT_OK(first);
  EXPECT_TRUE(first->applied());
  EXPECT_EQ(first->value(), "1");
  EXPECT_EQ(Increment("n")->value(), "2");
  EXPECT_EQ(Stored(*engine_, "n"), "2");
  ASSERT_EVENTUALLY(Stored(*b_->engine, "n") == "2" &&
                        Stored(*c_->engine, "n") == "2",
                    absl::Seconds(5));
  // Not applied: the current row is answered, nothing written.
  CasRequest absent;
  absent.set_key("n");
  absent.set_if_absent(true);
  absent.set_value("x");
  auto refused = Run(absent);
  ASSERT_OK(refused);
  EXPECT_FALSE(refused->applied());
  EXPECT_EQ(refused->value(), "2");
  EXPECT_EQ(Stored(*engine_, "n"), "2");
}

TEST_F(ProposerTest, AMajorityIsEnoughAndLessWritesNothing) {
  c_->Set(Mode::kFail);
  EXPECT_EQ(Increment("n")->value(), "1");
  b_->Set(Mode::kFail);
  auto refused = Increment("n");
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  auto detail = GetQuorumNotReached(refused.status());
  ASSERT_TRUE(detail.has_value());
  EXPECT_FALSE(detail->attempted());
  EXPECT_EQ(detail->required(), 2u);
  // Nothing was proposed: the next round with every replica back counts 2.
  b_->Set(Mode::kAnswer);
  c_->Set(Mode::kAnswer);
  EXPECT_EQ(Increment("n")->value(), "2");
}

TEST_F(ProposerTest, AProposalWithoutAnAnswerIsUnknownNeverFailed) {
  b_->Set(Mode::kStallProposals);
  c_->Set(Mode::kStallProposals);
  auto unknown = Increment("n", false, absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsUnknown(unknown.status())) << unknown.status();
  // This node accepted it: the next round finds it open and finishes it
  // before its own increment, so both count.
  b_->Set(Mode::kAnswer);
  c_->Set(Mode::kAnswer);
  EXPECT_EQ(Increment("n")->value(), "2");
}

TEST_F(ProposerTest, AnOpenProposalOnAPeerIsFinishedFirst) {
  // c accepted "41" under an old ballot and never heard of a commit.
  PaxosRequest prepare;
  prepare.set_phase(PaxosRequest::PREPARE);
  prepare.set_partition(kPartition);
  prepare.set_key("n");
  *prepare.mutable_ballot() = Ballot(1, "z");
  ASSERT_OK(c_->acceptor.Answer(prepare));
  PaxosRequest propose = prepare;
  propose.set_phase(PaxosRequest::PROPOSE);
  *propose.mutable_proposal() = Row("41", 1);
  ASSERT_OK(c_->acceptor.Answer(propose));
  // b does not answer, so the quorum is a and c: c's proposal is found.
  b_->Set(Mode::kFail);
  EXPECT_EQ(Increment("n")->value(), "42");
}

TEST_F(ProposerTest, AJoiningReplicaCountsOnTopOfTheMajority) {
  // With d joining, a round needs 2 of a, b, c and d too: 3.
  c_->Set(Mode::kFail);
  d_->Set(Mode::kFail);
  auto refused = Increment("n", /*joining=*/true);
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  d_->Set(Mode::kAnswer);
  EXPECT_EQ(Increment("n", /*joining=*/true)->value(), "1");
  // d took part: it holds the committed row, and the round's state.
  ASSERT_EVENTUALLY(Stored(*d_->engine, "n") == "1", absl::Seconds(5));
}

}  // namespace
}  // namespace quorumkv
