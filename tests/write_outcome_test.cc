// What the caller of a failed write learns (common/write_outcome.h): never
// "not written" for a write that may have happened, over every shape of
// attempts a router (the SDK, the master's relay) makes.
#include "common/write_outcome.h"

#include "common/rpc_status.h"
#include "gtest/gtest.h"

namespace quorumkv {
namespace {

QuorumNotReached Quorum(bool attempted, uint32_t acknowledged) {
  QuorumNotReached q;
  q.set_attempted(attempted);
  q.set_acknowledged(acknowledged);
  q.set_required(2);
  q.set_replicas(3);
  return q;
}

absl::Status Refused() {
  return QuorumError(absl::StatusCode::kUnavailable,
                     "write refused before writing anywhere",
                     Quorum(false, 0));
}
absl::Status ShortOfW() {
  return QuorumError(absl::StatusCode::kDeadlineExceeded,
                     "write quorum not reached", Quorum(true, 1));
}
absl::Status SentNoAnswer() {
  return MarkSent(absl::DeadlineExceededError("server did not answer in time"));
}
absl::Status StreamBroke() {
  return MarkSent(absl::UnavailableError("stream broke before it answered"));
}
absl::Status NeverSent() {
  return absl::DeadlineExceededError("deadline passed before it was sent");
}

TEST(WriteOutcomeTest, AWriteThatMayHaveHappenedIsNeverReportedAsNotWritten) {
  struct Case {
    const char* name;
    std::vector<absl::Status> earlier;  // attempts that failed first
    absl::Status last;
    bool attempted;
    bool unanswered;
  };
  const Case cases[] = {
      {"refused at once", {}, Refused(), false, false},
      {"short of W", {}, ShortOfW(), true, false},
      {"sent, deadline passed", {}, SentNoAnswer(), true, true},
      {"stream broke after sending", {}, StreamBroke(), true, true},
      {"deadline passed before sending", {}, NeverSent(), false, true},
      {"unreachable node, never sent",
       {absl::UnavailableError("failed to connect")}, NeverSent(), false, true},
      {"sent to one, refused by the next", {StreamBroke()}, Refused(), true,
       false},
      {"sent to one, never sent to the next", {SentNoAnswer()}, NeverSent(),
       true, true},
      {"short of W once, then timed out", {ShortOfW()}, NeverSent(), true,
       true},
      {"wrong node, then sent and unanswered",
       {WrongNodeError(WrongNode(), "moved")}, SentNoAnswer(), true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WriteAttempts attempts;
    for (const absl::Status& s : c.earlier) attempts.Failed(s);
    const absl::Status outcome = attempts.Outcome(c.last, 2);
    EXPECT_EQ(outcome.code(), c.last.code());
    std::optional<QuorumNotReached> q = GetQuorumNotReached(outcome);
    ASSERT_TRUE(q.has_value()) << outcome;
    EXPECT_EQ(q->attempted(), c.attempted) << outcome;
    EXPECT_EQ(q->unanswered(), c.unanswered) << outcome;
    // What the coordinator counted is kept.
    if (GetQuorumNotReached(c.last)) {
      EXPECT_EQ(q->acknowledged(),
                GetQuorumNotReached(c.last)->acknowledged());
    }
  }
}

TEST(WriteOutcomeTest, RefusalsThatNameTheirCauseStayAsTheyAre) {
  WriteAttempts attempts;
  const absl::Status bad = absl::InvalidArgumentError("key is empty");
  EXPECT_EQ(attempts.Outcome(bad, 0), bad);
  EXPECT_FALSE(GetQuorumNotReached(attempts.Outcome(bad, 0)));
  EXPECT_TRUE(attempts.Outcome(absl::OkStatus(), 0).ok());
  // But not when an earlier attempt may have been applied.
  attempts.Failed(StreamBroke());
  auto q = GetQuorumNotReached(
      attempts.Outcome(absl::PermissionDeniedError("no"), 0));
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->attempted());
}

}  // namespace
}  // namespace quorumkv
