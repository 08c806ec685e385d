#include "storage_node/paxos/proposer.h"

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/rpc_status.h"
#include "storage_node/paxos/cas_decision.h"
#include "storage_node/quorum_tally.h"
#include "storage_node/row_registers.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kFirstPause = absl::Milliseconds(1);
constexpr absl::Duration kMaxPause = absl::Milliseconds(50);

// A pause of about `base`, between half and one and a half of it.
absl::Duration Jittered(absl::Duration base) {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  return base * factor(random);
}

}  // namespace

struct PaxosProposer::Op {
  DirectoryPtr directory;
  uint32_t partition = 0;
  CasRequest request;
  absl::Time deadline;
  std::vector<std::string> participants;
  uint32_t quorum = 0;

  // Touched by one step at a time: each runs after the previous one's
  // answers are in.
  Version ballot;
  // The ballot of a proposal of this call that some replica may have
  // accepted without it being known chosen: its fate decides the outcome.
  std::optional<Version> ours;
  int attempts = 0;

  absl::Mutex mu;
  Done done ABSL_GUARDED_BY(mu);
};

// The answers to one step from the participants, as they come in; the
// step's continuation gets a copy (Phase) once they decide it, while late
// answers may still arrive.
struct PaxosProposer::Answers {
  uint32_t quorum = 0;
  uint32_t total = 0;
  absl::Mutex mu;
  Phase so_far ABSL_GUARDED_BY(mu);
  PhaseDone then ABSL_GUARDED_BY(mu);
};

PaxosProposer::PaxosProposer(ReplicaAccess* replicas, HybridClock* clock,
                             HintWriter* hints,
                             const DirectoryHolder* directory)
    : replicas_(replicas), clock_(clock), hints_(hints), directory_(directory) {}

namespace {

// Who takes part in a round of `partition` under `directory`, and how many
// must agree.
void SetParticipants(const DirectoryView& directory, uint32_t partition,
                     std::vector<std::string>* participants, uint32_t* quorum) {
  const std::vector<std::string>& full = directory.Replicas(partition);
  const std::vector<std::string>& joining = directory.Joining(partition);
  *participants = full;
  participants->insert(participants->end(), joining.begin(), joining.end());
  *quorum = PaxosQuorum(full.size(), joining.size());
}

}  // namespace

void PaxosProposer::Stop() {
  stopped_.store(true);
  std::unique_ptr<TimerQueue> timers;
  {
    absl::MutexLock lock(&timers_mu_);
    timers = std::move(timers_);
  }
  timers.reset();  // runs the retries still queued: they find none and end
}

void PaxosProposer::Run(DirectoryPtr directory, uint32_t partition,
                        CasRequest request, absl::Time deadline, Done done) {
  auto op = std::make_shared<Op>();
  op->partition = partition;
  op->request = std::move(request);
  // Replicas answer (or time out) before the caller gives up.
  op->deadline = InnerDeadline(deadline);
  SetParticipants(*directory, partition, &op->participants, &op->quorum);
  op->directory = std::move(directory);
  {
    absl::MutexLock lock(&op->mu);
    op->done = std::move(done);
  }
  Prepare(op);
}

void PaxosProposer::Finish(const std::shared_ptr<Op>& op,
                           absl::StatusOr<CasResponse> result) {
  Done done;
  {
    absl::MutexLock lock(&op->mu);
    done = std::move(op->done);
  }
  if (done) done(std::move(result));
}

void PaxosProposer::Broadcast(const std::shared_ptr<Op>& op,
                              PaxosRequest request, PhaseDone then) {
  auto answers = std::make_shared<Answers>();
  answers->quorum = op->quorum;
  answers->total = op->participants.size();
  {
    absl::MutexLock lock(&answers->mu);
    answers->then = std::move(then);
  }
  request.set_partition(op->partition);
  request.set_key(op->request.key());
  request.set_directory_epoch(op->directory->epoch());
  *request.mutable_ballot() = op->ballot;
  auto on_reply = [this, op, answers, request](
                      const std::string& node_id,
                      absl::StatusOr<PaxosResponse> reply) {
    if (!reply.ok() && request.phase() == PaxosRequest::COMMIT) {
      // The row was chosen: a replica that missed it gets it as a hint.
      ApplyRequest hint;
      hint.set_partition(request.partition());
      hint.set_key(request.key());
      *hint.mutable_value() = request.proposal();
      hint.set_directory_epoch(request.directory_epoch());
      if (node_id != replicas_->self_id()) hints_->Add(node_id, hint);
    }
    PhaseDone then;
    Phase decided;
    {
      absl::MutexLock lock(&answers->mu);
      Phase& phase = answers->so_far;
      std::optional<WrongNode> newer =
          reply.ok() ? std::nullopt : GetWrongNode(reply.status());
      if (newer && newer->epoch() > request.directory_epoch()) {
        // Refused for a newer directory: nothing was taken; the next round
        // starts from the newer one.
        ++phase.no;
      } else if (!reply.ok()) {
        ++phase.failed;
        phase.errors.push_back(
            absl::StrCat(DescribeReplica(*op->directory, node_id), ": ",
                         reply.status().message()));
      } else if (reply->ok()) {
        phase.yes.push_back(*std::move(reply));
      } else {
        ++phase.no;
        if (VersionLess(phase.highest_promise, reply->promised())) {
          phase.highest_promise = reply->promised();
        }
      }
      const uint32_t yes = phase.yes.size();
      const uint32_t pending = answers->total - yes - phase.no - phase.failed;
      if (!answers->then ||
          (yes < answers->quorum && yes + pending >= answers->quorum)) {
        return;
      }
      then = std::move(answers->then);
      decided = phase;
    }
    then(decided);
  };
  for (const std::string& node_id : op->participants) {
    if (node_id != replicas_->self_id() && replicas_->IsDown(node_id)) {
      on_reply(node_id, absl::UnavailableError("DOWN by the master"));
      continue;
    }
    replicas_->Paxos(*op->directory, node_id, request, op->deadline,
                     [on_reply, node_id](absl::StatusOr<PaxosResponse> reply) {
                       on_reply(node_id, std::move(reply));
                     });
  }
}

void PaxosProposer::Prepare(const std::shared_ptr<Op>& op) {
  if (directory_ != nullptr) {
    DirectoryPtr latest = directory_->Get();
    if (latest->epoch() > op->directory->epoch()) {
      if (!latest->Holds(replicas_->self_id(), op->partition)) {
        if (op->ours) {
          return Finish(op, absl::UnknownError(
                                "outcome unknown: the partition moved away "
                                "while a proposal was open"));
        }
        WrongNode detail;
        detail.set_epoch(latest->epoch());
        detail.set_node_id(replicas_->self_id());
        detail.set_partition(op->partition);
        return Finish(op, WrongNodeError(detail, "partition moved; retry"));
      }
      SetParticipants(*latest, op->partition, &op->participants, &op->quorum);
      op->directory = std::move(latest);
    }
  }
  op->ballot = clock_->Now();
  PaxosRequest request;
  request.set_phase(PaxosRequest::PREPARE);
  Broadcast(op, std::move(request),
            [this, op](const Phase& phase) { OnPrepared(op, phase); });
}

void PaxosProposer::OnPrepared(const std::shared_ptr<Op>& op,
                               const Phase& phase) {
  if (phase.yes.size() < op->quorum) {
    if (phase.no > 0) {
      return RetryHigher(op, phase);
    }
    if (op->ours) {
      return Finish(op, absl::UnknownError(absl::StrCat(
                            "outcome unknown: a proposal was sent, then only ",
                            phase.yes.size(), " of ", op->quorum,
                            " replicas needed answered: ",
                            absl::StrJoin(phase.errors, "; "))));
    }
    QuorumNotReached detail;
    detail.set_acknowledged(phase.yes.size());
    detail.set_required(op->quorum);
    detail.set_replicas(op->participants.size());
    detail.set_attempted(false);
    return Finish(
        op, QuorumError(
                QuorumFailureCode(op->deadline, absl::Now()),
                absl::StrCat("coordinator ",
                             DescribeReplica(*op->directory,
                                             replicas_->self_id()),
                             ": not written: ", phase.yes.size(), " of ",
                             op->quorum, " replicas needed promised; ",
                             absl::StrJoin(phase.errors, "; ")),
                detail));
  }
  // The newest proposal accepted and not known committed, and the newest
  // commit, among the quorum.
  const PaxosResponse* open = nullptr;
  Version committed;
  std::vector<ReplicaValue> rows;
  for (const PaxosResponse& answer : phase.yes) {
    if (VersionLess(committed, answer.committed())) committed = answer.committed();
    if (answer.has_accepted() &&
        (open == nullptr ||
         VersionLess(open->accepted_ballot(), answer.accepted_ballot()))) {
      open = &answer;
    }
    rows.push_back({"", answer.found() ? std::optional<VersionedValue>(
                                             answer.current())
                                       : std::nullopt});
  }
  if (open != nullptr && !VersionLess(open->accepted_ballot(), committed)) {
    // Equal to the newest commit: that commit closed it.
    if (CompareVersions(open->accepted_ballot(), committed) == 0) open = nullptr;
  } else {
    open = nullptr;
  }
  if (op->ours) {
    if (open != nullptr &&
        CompareVersions(open->accepted_ballot(), *op->ours) == 0) {
      // Our own proposal, accepted somewhere: finishing it is our write.
      return Propose(op, open->accepted(), /*finishing_other=*/false);
    }
    const bool later = VersionLess(*op->ours, committed) ||
                       (open != nullptr &&
                        VersionLess(*op->ours, open->accepted_ballot()));
    if (later) {
      // Another proposer went past ours: it may have finished ours first.
      return Finish(op, absl::UnknownError(
                            "outcome unknown: a competing conditional write "
                            "went past this one's proposal"));
    }
    // No replica of the quorum holds it: it was never chosen.
    op->ours.reset();
  }
  if (open != nullptr) {
    return Propose(op, open->accepted(), /*finishing_other=*/true);
  }
  std::optional<VersionedValue> current = Newest(rows);
  if (current && (!VersionLess(current->version(), op->ballot) ||
                  !VersionLess(ExpiryVersionOf(*current), op->ballot))) {
    // A row newer than the ballot (a clock ahead, a plain write): the
    // committed row must win by version, so take a higher ballot.
    clock_->Observe(current->version()).IgnoreError();
    clock_->Observe(ExpiryVersionOf(*current)).IgnoreError();
    return Retry(op, absl::ZeroDuration());
  }
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<CasDecision> decision =
      DecideCas(op->request, current ? &*current : nullptr, now_ms);
  if (!decision.ok()) return Finish(op, decision.status());
  if (!decision->applied) {
    CasResponse response;
    if (current && LiveAt(*current, now_ms)) {
      response.set_found(true);
      response.set_value(current->value());
      *response.mutable_version() = current->version();
      response.set_expires_at_ms(current->expires_at_ms());
    }
    return Finish(op, response);
  }
  Propose(op, std::move(decision->row), /*finishing_other=*/false);
}

void PaxosProposer::Propose(const std::shared_ptr<Op>& op, VersionedValue row,
                            bool finishing_other) {
  // The row's version is the ballot: chosen rows are ordered as their
  // rounds, and each is newer than every row its round read.
  *row.mutable_version() = op->ballot;
  row.clear_expiry_version();
  if (!finishing_other) op->ours = op->ballot;
  PaxosRequest request;
  request.set_phase(PaxosRequest::PROPOSE);
  *request.mutable_proposal() = row;
  Broadcast(op, std::move(request), [this, op, row, finishing_other](
                                        const Phase& phase) {
    if (phase.yes.size() >= op->quorum) {
      // Chosen.
      return Commit(op, row, [this, op, row, finishing_other] {
        if (finishing_other) return Retry(op, absl::ZeroDuration());
        CasResponse response;
        response.set_applied(true);
        response.set_found(!row.tombstone());
        response.set_value(row.value());
        *response.mutable_version() = row.version();
        response.set_expires_at_ms(row.expires_at_ms());
        Finish(op, response);
      });
    }
    if (phase.no > 0) {
      // Refused everywhere it was heard: nobody holds it.
      if (!finishing_other && phase.yes.empty() && phase.failed == 0) {
        op->ours.reset();
      }
      return RetryHigher(op, phase);
    }
    if (op->ours) {
      return Finish(op, absl::UnknownError(absl::StrCat(
                            "outcome unknown: the proposal reached ",
                            phase.yes.size(), " of ", op->quorum,
                            " replicas needed before the deadline: ",
                            absl::StrJoin(phase.errors, "; "))));
    }
    Finish(op, absl::UnavailableError(absl::StrCat(
                   "not written: finishing an earlier conditional write "
                   "failed: ",
                   absl::StrJoin(phase.errors, "; "))));
  });
}

void PaxosProposer::Commit(const std::shared_ptr<Op>& op,
                           const VersionedValue& row,
                           std::function<void()> then) {
  PaxosRequest request;
  request.set_phase(PaxosRequest::COMMIT);
  *request.mutable_proposal() = row;
  // The row is chosen whatever the commit's answers: they only decide
  // when the caller hears of it (after a quorum stored it, or once that
  // can no longer happen; the others get hints).
  Broadcast(op, std::move(request),
            [then = std::move(then)](const Phase&) { then(); });
}

void PaxosProposer::RetryHigher(const std::shared_ptr<Op>& op,
                                const Phase& phase) {
  clock_->Observe(phase.highest_promise).IgnoreError();
  Retry(op, std::min(kFirstPause * (1 << std::min(op->attempts, 6)), kMaxPause));
}

void PaxosProposer::Retry(const std::shared_ptr<Op>& op, absl::Duration pause) {
  ++op->attempts;
  const absl::Time when = absl::Now() + Jittered(pause);
  if (when >= op->deadline) {
    if (op->ours) {
      return Finish(op, absl::UnknownError(
                            "outcome unknown: the deadline passed while "
                            "competing proposals were retried"));
    }
    return Finish(op, absl::DeadlineExceededError(absl::StrCat(
                          "not written: competing conditional writes of the "
                          "key kept this one out for ",
                          op->attempts, " rounds")));
  }
  auto stopping = [this, op] {
    Finish(op, op->ours ? absl::UnknownError("outcome unknown: node stopping")
                        : absl::UnavailableError("not written: node stopping"));
  };
  {
    absl::MutexLock lock(&timers_mu_);
    if (timers_ != nullptr) {
      timers_->RunAt(when, [this, op, stopping] {
        if (stopped_.load()) return stopping();
        Prepare(op);
      });
      return;
    }
  }
  stopping();
}

}  // namespace quorumkv
