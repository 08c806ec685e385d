// The coordinator's conditional-write path: single-decree Paxos per call
// among the replicas of the key's partition, as Cassandra's lightweight
// transactions (docs/architecture.md, "Conditional writes"):
//
//   1. prepare: a ballot from this node's clock, promised by a quorum,
//      whose answers carry each replica's current row and any proposal
//      accepted but not known committed;
//   2. an unfinished proposal found is finished first (proposed again
//      under the new ballot and committed), then the round starts over;
//   3. the condition is judged on the current row merged from the quorum
//      (cas_decision.h); when it does not hold nothing is proposed;
//   4. propose: the new row, stamped with the ballot, accepted by a quorum
//      (it is then chosen);
//   5. commit: the row is stored on every replica (hinted where one cannot
//      be reached; a hint never counts toward the quorum).
//
// The quorum is a majority of the full replicas plus every joining one
// (Cassandra's pending endpoints), so that a round during a move cannot
// miss a proposal the joining replica will need once it replaces another;
// the states accepted before it joined are streamed to it with the rows.
// Each round takes the node's newest directory, and replicas refuse to
// promise or accept for a round of an older epoch than theirs: once the
// replicas a move streams from know of the joining one, no round can be
// chosen without it (or without one of the replicas that stay).
//
// Outcome: applied, not applied (with the current row), INVALID_ARGUMENT
// (an increment of a non-integer), UNAVAILABLE or DEADLINE_EXCEEDED before
// anything was proposed (nothing written), or UNKNOWN once a proposal was
// sent and its fate could not be learnt in time. Competing proposers back
// off and retry until the deadline. Nothing blocks; `done` runs once.
// Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_PAXOS_PROPOSER_H_
#define QUORUMKV_STORAGE_NODE_PAXOS_PROPOSER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "common/timer_queue.h"
#include "proto/kv.pb.h"
#include "storage_node/hint_writer.h"
#include "storage_node/replica_access.h"

namespace quorumkv {

// Quorum of a Paxos round over `full` replicas with `joining` ones.
inline uint32_t PaxosQuorum(size_t full, size_t joining) {
  return static_cast<uint32_t>(full / 2 + 1 + joining);
}

class PaxosProposer {
 public:
  using Done = std::function<void(absl::StatusOr<CasResponse>)>;

  // Pointers must outlive the proposer and every round in flight.
  // `directory` (may be null: tests) is the node's current one.
  PaxosProposer(ReplicaAccess* replicas, HybridClock* clock, HintWriter* hints,
                const DirectoryHolder* directory = nullptr);

  // Runs `request` (validated) on `partition`, which this node holds.
  void Run(DirectoryPtr directory, uint32_t partition, CasRequest request,
           absl::Time deadline, Done done);

  // Retries still waiting end at once (UNAVAILABLE, or UNKNOWN when a
  // proposal of theirs may stand). Called at shutdown.
  void Stop();

 private:
  struct Op;
  // What the participants answered to one step, once it is decided.
  struct Phase {
    std::vector<PaxosResponse> yes;
    uint32_t no = 0;      // refused: a higher ballot was promised
    uint32_t failed = 0;  // no answer (unreachable, timed out)
    Version highest_promise;
    std::vector<std::string> errors;
  };
  struct Answers;
  using PhaseDone = std::function<void(const Phase&)>;

  void Prepare(const std::shared_ptr<Op>& op);
  void OnPrepared(const std::shared_ptr<Op>& op, const Phase& phase);
  void Propose(const std::shared_ptr<Op>& op, VersionedValue row,
               bool finishing_other);
  void Commit(const std::shared_ptr<Op>& op, const VersionedValue& row,
              std::function<void()> then);
  // Sends `request` to every participant; `then` runs once a quorum said
  // yes, or once it no longer can.
  void Broadcast(const std::shared_ptr<Op>& op, PaxosRequest request,
                 PhaseDone then);
  // Starts over with a higher ballot after a pause that grows with each
  // attempt (randomized, so that competing proposers stop colliding).
  void Retry(const std::shared_ptr<Op>& op, absl::Duration pause);
  // Retry() after `phase` was refused for a higher ballot: this node's
  // clock moves past it first.
  void RetryHigher(const std::shared_ptr<Op>& op, const Phase& phase);
  void Finish(const std::shared_ptr<Op>& op, absl::StatusOr<CasResponse> result);

  ReplicaAccess* const replicas_;
  HybridClock* const clock_;
  HintWriter* const hints_;
  const DirectoryHolder* const directory_;
  std::atomic<bool> stopped_{false};
  absl::Mutex timers_mu_;
  // Null once Stop() has begun.
  std::unique_ptr<TimerQueue> timers_ ABSL_GUARDED_BY(timers_mu_) =
      std::make_unique<TimerQueue>();
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PAXOS_PROPOSER_H_
