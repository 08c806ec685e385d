#include "storage_node/quorum_writer.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/rpc_status.h"
#include "storage_node/quorum_tally.h"
#include "storage_node/row_registers.h"

namespace quorumkv {

struct QuorumWriter::Round {
  Round(DirectoryPtr dir, ApplyRequest req, uint32_t w, absl::Time until,
        WriteDone cb)
      : directory(std::move(dir)),
        request(std::move(req)),
        deadline(until),
        done(std::move(cb)) {
    tally.needed = w;
    tally.replicas = static_cast<uint32_t>(
        directory->Replicas(request.partition()).size());
  }

  const DirectoryPtr directory;
  const ApplyRequest request;
  const absl::Time deadline;

  absl::Mutex mu;
  WriteTally tally ABSL_GUARDED_BY(mu);
  bool existed ABSL_GUARDED_BY(mu) = false;
  bool answered ABSL_GUARDED_BY(mu) = false;
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  // A replica's refusal from a newer directory epoch than the write's.
  std::optional<WrongNode> newer ABSL_GUARDED_BY(mu);
  WriteDone done ABSL_GUARDED_BY(mu);
};

QuorumWriter::QuorumWriter(ReplicaAccess* replicas, HybridClock* clock,
                           HintWriter* hints)
    : replicas_(replicas), clock_(clock), hints_(hints) {}

void QuorumWriter::Write(DirectoryPtr directory, uint32_t partition,
                         std::string key, VersionedValue value, uint32_t w,
                         absl::Time deadline, WriteDone done) {
  // Replicas answer (or time out) before the caller gives up, so that the
  // caller learns how many acknowledged.
  deadline = InnerDeadline(deadline);
  const std::string& self = replicas_->self_id();
  const std::vector<std::string>& full = directory->Replicas(partition);
  std::vector<std::string> gone;
  for (const std::string& id : full) {
    if (!replicas_->Alive(*directory, id)) {
      gone.push_back(absl::StrCat(DescribeReplica(*directory, id),
                                  replicas_->IsDown(id) ? " is DOWN"
                                                        : " is unreachable"));
    }
  }
  const uint32_t alive = full.size() - gone.size();
  if (alive < w) {
    // Cassandra's Unavailable: nothing stored anywhere, nothing hinted, so
    // the client knows the write did not happen.
    QuorumNotReached detail;
    detail.set_required(w);
    detail.set_replicas(full.size());
    detail.set_attempted(false);
    done(QuorumError(
        absl::StatusCode::kUnavailable,
        absl::StrCat("coordinator ", DescribeReplica(*directory, self),
                     ": write refused before writing anywhere: only ", alive,
                     " of ", full.size(), " replicas are alive (W=", w,
                     "); ", absl::StrJoin(gone, "; ")),
        detail));
    return;
  }
  // An expire of its own stamps only its expiry register (it carries an
  // empty expiry version to say so); a restored row keeps its version (the
  // clock moves past it); every other write is stamped now.
  if (value.has_expiry_version()) {
    *value.mutable_expiry_version() = clock_->Now();
  } else if (value.has_version()) {
    if (absl::Status s = clock_->Observe(value.version()); !s.ok()) {
      done(s);
      return;
    }
  } else {
    *value.mutable_version() = clock_->Now();
  }
  ApplyRequest request;
  request.set_partition(partition);
  request.set_key(std::move(key));
  *request.mutable_value() = std::move(value);
  request.set_directory_epoch(directory->epoch());
  auto round = std::make_shared<Round>(directory, std::move(request), w,
                                       deadline, std::move(done));

  // This node first, so that W=1 answers without waiting on the network.
  // The callback holds `round`, and so the row's key and value, until the
  // row is stored.
  replicas_->ApplyHereBatched(
      RowWrite{partition, round->request.key(), &round->request.value()},
      [this, round, self](absl::StatusOr<ApplyResponse> reply) {
        OnReply(round, self, reply);
      });
  for (const std::string& node_id : full) {
    if (node_id == self) continue;
    if (replicas_->IsDown(node_id)) {
      // Sending would only queue behind a dead or paused process.
      OnReply(round, node_id, absl::UnavailableError("DOWN by the master"));
      continue;
    }
    replicas_->Apply(*directory, node_id, round->request, deadline,
                     [this, round, node_id](absl::StatusOr<ApplyResponse> reply) {
                       OnReply(round, node_id, reply);
                     });
  }
  // A joining replica must miss no write made after it joined (its stream
  // may have been read before): hinted on failure, but never counted.
  for (const std::string& node_id : directory->Joining(partition)) {
    if (node_id == self) continue;
    replicas_->Apply(*directory, node_id, round->request, deadline,
                     [this, round, node_id](absl::StatusOr<ApplyResponse> reply) {
                       if (!reply.ok()) hints_->Add(node_id, round->request);
                     });
  }
}

void QuorumWriter::OnReply(const std::shared_ptr<Round>& round,
                           const std::string& node_id,
                           const absl::StatusOr<ApplyResponse>& reply) {
  const absl::Status status = reply.status();
  if (!status.ok() && node_id != replicas_->self_id()) {
    hints_->Add(node_id, round->request);
  }
  WriteDone done;
  absl::StatusOr<WriteOutcome> outcome;
  {
    absl::MutexLock lock(&round->mu);
    WriteTally& tally = round->tally;
    if (status.ok()) {
      ++tally.acks;
      round->existed |= reply->had_value();
    } else {
      ++tally.failures;
      round->errors.push_back(absl::StrCat(
          DescribeReplica(*round->directory, node_id), ": ", status.message()));
      if (auto wrong = GetWrongNode(status);
          wrong && wrong->epoch() > round->directory->epoch()) {
        round->newer = *wrong;
        tally.newer_epoch = true;
      }
    }
    if (round->answered) return;
    switch (Conclude(tally)) {
      case WriteVerdict::kWaiting:
        return;
      case WriteVerdict::kAcknowledged:
        outcome = WriteOutcome{ExpiryVersionOf(round->request.value()), tally.acks,
                               round->existed};
        break;
      case WriteVerdict::kRouteAgain: {
        // A replica has moved on to a directory where it no longer holds
        // the partition: this node routed by an older one. The client
        // refreshes and retries (with the newer epoch, which makes this
        // node refresh too) rather than taking it as a quorum failure.
        WrongNode detail = *round->newer;
        detail.set_partition(round->request.partition());
        outcome = WrongNodeError(
            detail, absl::StrCat("coordinator ", replicas_->self_id(),
                                 " routed by directory epoch ",
                                 round->directory->epoch(), "; replica ",
                                 round->newer->node_id(), " is at epoch ",
                                 round->newer->epoch(), "; retry"));
        break;
      }
      case WriteVerdict::kQuorumNotReached: {
        // Every replica has answered (or timed out): the count is exact.
        QuorumNotReached detail;
        detail.set_acknowledged(tally.acks);
        detail.set_required(tally.needed);
        detail.set_replicas(tally.replicas);
        detail.set_attempted(true);
        outcome = QuorumError(
            QuorumFailureCode(round->deadline, absl::Now()),
            absl::StrCat("coordinator ",
                         DescribeReplica(*round->directory, replicas_->self_id()),
                         ": write quorum not reached: ", tally.acks, " of ",
                         tally.replicas, " replicas acknowledged (W=",
                         tally.needed, "); ", absl::StrJoin(round->errors, "; ")),
            detail);
        break;
      }
    }
    round->answered = true;
    done = std::move(round->done);
  }
  done(std::move(outcome));
}

}  // namespace quorumkv
