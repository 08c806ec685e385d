// Schedules anti-entropy (docs/failures.md; storage_node/anti_entropy.h)
// continuously and by itself: each storage node that is not comparing a
// partition gets, in its heartbeat answer, a partition it holds among those
// whose replicas are all UP and that no move is changing:
//  1. first, a partition that may have diverged (a coordinator reported a
//     write whose hint was refused or dropped, or a move of it was
//     cancelled), the longest waiting first, whatever its last comparison,
//     until a complete pass handed out after the mark is reported;
//  2. then the partition whose last completed comparison is oldest; one
//     compared less than `interval` ago waits.
// The node's report of a complete pass makes its start the partition's
// repair horizon, which every heartbeat answer hands to every node
// (tombstones older than it may be purged).
//
// State lives in memory: a restarted master compares every partition again,
// oldest (never) first, and nodes keep the horizons they were given.
// Replicated masters hand what was completed on through etcd (Export,
// Import). Thread-safe.
#ifndef QUORUMKV_MASTER_ANTI_ENTROPY_SCHEDULER_H_
#define QUORUMKV_MASTER_ANTI_ENTROPY_SCHEDULER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "proto/master.pb.h"

namespace quorumkv {

class AntiEntropyScheduler {
 public:
  // A task not reported back within this long is given out again (its
  // answer was lost, or the node restarted).
  static constexpr absl::Duration kTaskTimeout = absl::Minutes(5);
  // The longest pause before an incomplete pass is tried again.
  static constexpr absl::Duration kRetryAfter = absl::Seconds(10);
  // The same for a partition that may have diverged.
  static constexpr absl::Duration kDivergedRetryAfter = absl::Seconds(1);

  // `rate`: the pace of each pass, bytes/s (0: unpaced).
  AntiEntropyScheduler(absl::Duration interval, uint64_t rate);

  // A heartbeat of `request.node_id()`: records the pass it reports, and
  // fills `response` with its next task (if any) and the repair horizons.
  void OnHeartbeat(const HeartbeatRequest& request,
                   const DirectoryView& directory,
                   const absl::flat_hash_set<std::string>& down, absl::Time now,
                   HeartbeatResponse* response);

  // `partition` may have diverged since `now`: compare it first (a move of
  // it was cancelled; heartbeats report lost hints themselves).
  void MarkDiverged(uint32_t partition, absl::Time now);
  // `node` (re)started: passes handed to it are lost and handed out again.
  void OnRegistered(const std::string& node);

  // What has been completed, per partition: published by the leader, and
  // taken by the next one so that it goes on from there.
  AntiEntropyProgress Export() const;
  void Import(const AntiEntropyProgress& progress);

  struct Summary {
    uint32_t compared = 0;  // partitions with a completed pass
    // Since the oldest completed pass; -1 while some partition has none.
    absl::Duration oldest = absl::Seconds(-1);
    uint64_t rows_exchanged = 0;  // by every pass reported so far
    uint64_t bytes_exchanged = 0;
    uint32_t diverged = 0;  // partitions waiting as possibly diverged
  };
  Summary Summarize(uint32_t partitions, absl::Time now) const;

 private:
  struct PartitionState {
    absl::Time last_completed = absl::InfinitePast();
    // Of the last pass reported, complete or not: a pass that failed (a
    // replica stopped answering) is retried after a pause, not at once.
    absl::Time last_reported = absl::InfinitePast();
    int64_t repaired_before_ms = 0;
    // repaired_version_ when repaired_before_ms last grew.
    uint64_t repaired_version = 0;
    std::string assigned_to;
    absl::Time assigned_at = absl::InfinitePast();
    // Since when it may have diverged (the first mark not yet cleared);
    // InfinitePast when not. The last mark: only a pass handed out after
    // it clears the state.
    absl::Time diverged_at = absl::InfinitePast();
    absl::Time marked_last = absl::InfinitePast();
  };

  PartitionState& StateOf(uint32_t partition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Partition `state` was repaired before `before_ms` (the later of that
  // and what it had).
  void SetRepairedBefore(PartitionState& state, int64_t before_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkDivergedLocked(uint32_t partition, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `node` may compare partition `p` now: it holds it, no move
  // changes it, its replicas are all UP and no other node compares it.
  bool Eligible(const std::string& node, uint32_t p,
                const DirectoryView& directory,
                const absl::flat_hash_set<std::string>& down, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration interval_;
  const uint64_t rate_;

  mutable absl::Mutex mu_;
  std::vector<PartitionState> partitions_ ABSL_GUARDED_BY(mu_);
  // Per node, the start and sequence of the last pass it reported (each is
  // applied once).
  absl::flat_hash_map<std::string, std::pair<int64_t, uint64_t>> reported_
      ABSL_GUARDED_BY(mu_);
  uint64_t rows_exchanged_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_exchanged_ ABSL_GUARDED_BY(mu_) = 0;
  // The list of repaired partitions nodes follow (RepairedCursor).
  const uint64_t repaired_source_;
  uint64_t repaired_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ANTI_ENTROPY_SCHEDULER_H_
