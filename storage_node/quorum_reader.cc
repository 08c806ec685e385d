#include "storage_node/quorum_reader.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/rpc_status.h"
#include "storage_node/quorum_tally.h"
#include "storage_node/row_registers.h"

namespace quorumkv {

struct QuorumReader::Round {
  Round(DirectoryPtr dir, ReadRequest req, uint32_t r,
        std::vector<std::string> order, absl::Time until, ReadDone cb)
      : directory(std::move(dir)),
        request(std::move(req)),
        needed(r),
        targets(std::move(order)),
        deadline(until),
        done(std::move(cb)) {
    tally.needed = r;
  }

  const DirectoryPtr directory;
  const ReadRequest request;
  const uint32_t needed;
  const std::vector<std::string> targets;  // this node first
  const absl::Time deadline;

  absl::Mutex mu;
  ReadTally tally ABSL_GUARDED_BY(mu);
  size_t next_target ABSL_GUARDED_BY(mu) = 0;
  bool answered ABSL_GUARDED_BY(mu) = false;
  std::vector<ReplicaValue> answers ABSL_GUARDED_BY(mu);
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  ReadDone done ABSL_GUARDED_BY(mu);
};

QuorumReader::QuorumReader(ReplicaAccess* replicas, HybridClock* clock)
    : replicas_(replicas), clock_(clock) {}

void QuorumReader::StopSpeculating() {
  std::unique_ptr<TimerQueue> timers;
  {
    absl::MutexLock lock(&timers_mu_);
    timers = std::move(timers_);
  }
  // Runs the speculative retries still queued (they find no timer queue and
  // launch nothing) and joins its thread.
  timers.reset();
}

void QuorumReader::SpeculateLater(const std::shared_ptr<Round>& round) {
  absl::MutexLock lock(&timers_mu_);
  if (timers_ == nullptr) return;  // shutting down
  timers_->RunAt(absl::Now() + speculative_retry_.Threshold(),
                 [this, round] { Speculate(round); });
}

void QuorumReader::Read(DirectoryPtr directory, uint32_t partition,
                        std::string key, uint32_t r, absl::Time deadline,
                        ReadDone done) {
  // Replicas answer (or time out) before the caller gives up, so that the
  // caller learns how many answered.
  deadline = InnerDeadline(deadline);
  const std::string& self = replicas_->self_id();
  // This node first, then live peers, then those DOWN or whose last call
  // failed for want of the peer (still asked if the first ones fail).
  std::vector<std::string> order = {self}, unhealthy;
  for (const std::string& id : directory->Replicas(partition)) {
    if (id == self) continue;
    (replicas_->Alive(*directory, id) ? order : unhealthy).push_back(id);
  }
  order.insert(order.end(), unhealthy.begin(), unhealthy.end());
  ReadRequest request;
  request.set_partition(partition);
  request.set_key(std::move(key));
  request.set_directory_epoch(directory->epoch());
  auto round = std::make_shared<Round>(std::move(directory), std::move(request),
                                       r, std::move(order), deadline,
                                       std::move(done));
  std::vector<std::string> first;
  {
    absl::MutexLock lock(&round->mu);
    while (round->next_target < round->targets.size() &&
           first.size() < round->tally.needed) {
      first.push_back(round->targets[round->next_target++]);
      ++round->tally.outstanding;
    }
  }
  for (const std::string& node_id : first) Ask(round, node_id);
  if (round->targets.size() > first.size()) SpeculateLater(round);
}

void QuorumReader::Speculate(const std::shared_ptr<Round>& round) {
  {
    absl::MutexLock lock(&timers_mu_);
    if (timers_ == nullptr) return;  // shutting down: launch nothing more
  }
  std::string node_id;
  {
    absl::MutexLock lock(&round->mu);
    if (round->answered || round->next_target >= round->targets.size() ||
        absl::Now() >= round->deadline) {
      return;
    }
    node_id = round->targets[round->next_target++];
    ++round->tally.outstanding;
  }
  Ask(round, node_id);
  SpeculateLater(round);
}

void QuorumReader::Ask(const std::shared_ptr<Round>& round,
                       const std::string& node_id) {
  const absl::Time start = absl::Now();
  replicas_->Read(
      *round->directory, node_id, round->request, round->deadline,
      [this, round, node_id, start](absl::StatusOr<ReadResponse> reply) {
        if (reply.ok() && node_id != replicas_->self_id()) {
          speculative_retry_.Record(absl::Now() - start);
        }
        OnReply(round, node_id, std::move(reply));
      });
}

void QuorumReader::OnReply(const std::shared_ptr<Round>& round,
                           const std::string& node_id,
                           absl::StatusOr<ReadResponse> reply) {
  std::optional<std::string> retry_on;
  ReadDone failed;
  absl::Status failure;
  bool quorum = false;
  {
    absl::MutexLock lock(&round->mu);
    ReadTally& tally = round->tally;
    --tally.outstanding;
    if (round->answered) return;
    if (reply.ok()) {
      ReplicaValue answer{node_id, std::nullopt};
      if (reply->found()) answer.value = std::move(*reply->mutable_value());
      round->answers.push_back(std::move(answer));
      ++tally.answered;
    } else {
      round->errors.push_back(absl::StrCat(
          DescribeReplica(*round->directory, node_id), ": ",
          reply.status().message()));
      if (round->next_target < round->targets.size()) {
        retry_on = round->targets[round->next_target++];
        ++tally.outstanding;
      }
    }
    switch (Conclude(tally)) {
      case ReadVerdict::kWaiting:
        break;
      case ReadVerdict::kQuorum:
        quorum = true;
        round->answered = true;
        break;
      case ReadVerdict::kQuorumNotReached: {
        // No replica left to ask and every answer is in: the count is exact.
        QuorumNotReached detail;
        detail.set_acknowledged(tally.answered);
        detail.set_required(tally.needed);
        detail.set_replicas(round->targets.size());
        detail.set_attempted(true);
        failure = QuorumError(
            QuorumFailureCode(round->deadline, absl::Now()),
            absl::StrCat("coordinator ",
                         DescribeReplica(*round->directory, replicas_->self_id()),
                         ": read quorum not reached: ", tally.answered, " of ",
                         round->targets.size(), " replicas answered (R=",
                         tally.needed, "); ", absl::StrJoin(round->errors, "; ")),
            detail);
        round->answered = true;
        failed = std::move(round->done);
        break;
      }
    }
  }
  if (retry_on) Ask(round, *retry_on);
  if (failed) failed(std::move(failure));
  if (quorum) Repair(round);
}

void QuorumReader::Repair(const std::shared_ptr<Round>& round) {
  // `answered` is set: no other thread touches answers or done any more.
  std::vector<ReplicaValue> answers;
  ReadDone done;
  {
    absl::MutexLock lock(&round->mu);
    answers = std::move(round->answers);
    done = std::move(round->done);
  }
  const std::optional<VersionedValue> newest = Newest(answers);
  if (!newest) {
    done(absl::NotFoundError("key not found"));
    return;
  }
  clock_->Observe(newest->version()).IgnoreError();  // logged by the clock
  clock_->Observe(ExpiryVersionOf(*newest)).IgnoreError();
  const std::vector<std::string> behind = Behind(answers, *newest);
  if (behind.empty()) {
    done(*newest);
    return;
  }
  read_repairs_.fetch_add(behind.size(), std::memory_order_relaxed);

  struct Repairs {
    absl::Mutex mu;
    size_t pending ABSL_GUARDED_BY(mu);
    std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  };
  auto repairs = std::make_shared<Repairs>();
  {
    absl::MutexLock lock(&repairs->mu);
    repairs->pending = behind.size();
  }
  ApplyRequest request;
  request.set_partition(round->request.partition());
  request.set_key(round->request.key());
  *request.mutable_value() = *newest;
  request.set_directory_epoch(round->directory->epoch());
  auto finish = std::make_shared<std::function<void()>>(
      [this, repairs, round, request, done = std::move(done)]() {
        std::vector<std::string> errors;
        {
          absl::MutexLock lock(&repairs->mu);
          errors = repairs->errors;
        }
        if (errors.empty()) {
          done(request.value());
          return;
        }
        QuorumNotReached detail;
        detail.set_acknowledged(round->needed - errors.size());
        detail.set_required(round->needed);
        detail.set_replicas(round->targets.size());
        detail.set_attempted(true);
        done(QuorumError(
            QuorumFailureCode(round->deadline, absl::Now()),
            absl::StrCat("coordinator ",
                         DescribeReplica(*round->directory, replicas_->self_id()),
                         ": read repair failed: ", absl::StrJoin(errors, "; ")),
            detail));
      });
  for (const std::string& node_id : behind) {
    replicas_->Apply(
        *round->directory, node_id, request, round->deadline,
        [repairs, finish, node_id, round](absl::StatusOr<ApplyResponse> reply) {
          const absl::Status status = reply.status();
          bool last;
          {
            absl::MutexLock lock(&repairs->mu);
            if (!status.ok()) {
              repairs->errors.push_back(absl::StrCat(
                  DescribeReplica(*round->directory, node_id), ": ",
                  status.message()));
            }
            last = --repairs->pending == 0;
          }
          if (last) (*finish)();
        });
  }
}

}  // namespace quorumkv
