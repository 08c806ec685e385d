// The master's partition state machine (docs/moves.md): the moves in flight,
// persisted in the directory, and the timer that drives them.
//
// A move is planned (master/move_planner), started (its destination joins
// the partition in a new epoch), streamed (the destination reports progress
// with its heartbeats), and switched (the destination becomes a full replica
// and the source leaves, in one persisted epoch change), or cancelled when
// its destination dies or stalls, after which it is planned again
// elsewhere. A restarted master finds its moves in the directory and
// resumes them.
//
// It also records registrations in the directory (and forms it), so that
// no disk sync happens on a gRPC callback thread.
//
// Every `interval` (and when woken) the tracker notices by itself nodes that
// have been DOWN for longer than --replace_after, switches completed moves,
// cancels failed ones, marks drained nodes REMOVED and starts what the
// planner proposes within --max_moves_per_node. Its thread never calls the
// network; heartbeat handlers only record progress and read the directory.
//
// Thread-safe. Lock order: DirectoryManager's lock, then mu_.
#ifndef QUORUMKV_MASTER_MOVE_TRACKER_H_
#define QUORUMKV_MASTER_MOVE_TRACKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/periodic_task.h"
#include "master/directory_manager.h"
#include "master/membership.h"
#include "master/leadership.h"
#include "master/move_planner.h"
#include "proto/master.pb.h"

namespace quorumkv {

struct MoveTrackerOptions {
  absl::Duration node_down_after = absl::Seconds(5);
  absl::Duration replace_after = absl::Seconds(60);
  // Moves in flight that may involve one node (as destination or live
  // source).
  uint32_t max_moves_per_node = 2;
  // Bytes per second each stream may use; 0: unlimited.
  uint64_t stream_rate = 64 << 20;
  // How often the tracker looks at the cluster.
  absl::Duration interval = absl::Seconds(1);
  // A move whose destination reports no progress for this long is
  // cancelled and planned again elsewhere.
  absl::Duration stall_timeout = absl::Seconds(60);
  // The destination of a cancelled move (it died or stalled) is not chosen
  // again for this long: a node that flaps gets no new partitions.
  absl::Duration avoid_after_cancel = absl::Seconds(30);
};

class MoveTracker {
 public:
  // Pointers must outlive the tracker. It acts only while `leadership`
  // says this master leads.
  MoveTracker(const MoveTrackerOptions& options, DirectoryManager* directory,
              const Membership* membership, const Leadership* leadership);
  ~MoveTracker();  // Stop()s.

  // Called, off every lock, with the partition of each move cancelled: the
  // writes its destination took may be nowhere else yet, and what it
  // missed never will be, so the partition may have diverged. Set before
  // Start().
  void SetCancelListener(std::function<void(uint32_t partition)> listener) {
    on_cancelled_ = std::move(listener);
  }

  void Start();
  void Stop();
  // Runs a tick now (a move completed, a node was decommissioned).
  void Wake();

  // A node registered: on the next tick (at once), its descriptor is
  // recorded in the directory, or the directory formed, persisted there
  // rather than on the caller's gRPC thread. The node learns the result by
  // its directory long poll.
  void OnRegistered(const NodeDescriptor& node);

  // Records a node's stream progress from its heartbeat and returns the
  // streams it must run. `*waiting` tells whether a move to the node waits
  // for other replicas to reach its epoch.
  std::vector<StreamTask> OnHeartbeat(const HeartbeatRequest& heartbeat,
                                      bool* waiting);

  // The moves in flight (`kvcli moves`).
  std::vector<MoveStatus> InFlight() const;
  // The moves the planner proposes now, none started (`kvcli plan`).
  std::vector<MoveStatus> Plan() const;
  // Starts draining `node_id`, or with `dry_run` only says what it would
  // move. INVALID_ARGUMENT for an unknown node; FAILED_PRECONDITION when
  // the rest of the cluster cannot hold N replicas as placement requires.
  // `done` runs once: at once for a dry run or a refusal, otherwise on the
  // tracker's thread once the change is persisted (never on the caller's
  // thread after a disk sync).
  using DecommissionDone =
      std::function<void(absl::StatusOr<DecommissionResponse>)>;
  void Decommission(const std::string& node_id, bool dry_run,
                    DecommissionDone done);

  // Partitions misplaced now (move_planner.h CountMisplaced): their
  // replicas span fewer racks than placement wants where racks allow.
  uint32_t Misplaced() const;

  // The state shown for a node: REMOVED and DECOMMISSIONING from the
  // directory, otherwise UP or DOWN from heartbeats.
  static NodeState ShownState(const DirectoryView& directory,
                              const std::string& id, NodeState heartbeat_state);

  // Moves switched, cancelled and started since this master started.
  struct Counters {
    uint64_t started = 0;
    uint64_t completed = 0;
    uint64_t cancelled = 0;
  };
  Counters counters() const;

  // Moves that ended in the last 10 minutes (at most 100), newest first,
  // with state "done" or "cancelled".
  std::vector<MoveStatus> Recent() const;

 private:
  // Logs each node whose state changed since the last tick (UP, DOWN, back
  // UP). Runs on the tick's thread only.
  void LogStateChanges(const std::vector<Member>& members, absl::Time now);

  struct Progress {
    uint64_t bytes = 0;
    bool complete = false;
    absl::Time last_change;
  };
  using MoveKey = std::pair<uint32_t, uint64_t>;  // partition, move epoch

  absl::Duration Tick();
  // Applies one tick's decisions to `next`; true when it changed it.
  bool Advance(Directory& next, uint64_t next_epoch,
               const std::vector<Member>& members, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The planner's view of every node in `directory`.
  std::vector<PlannerNode> ClusterShape(const Directory& directory,
                                        const std::vector<Member>& members,
                                        absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::vector<MoveStatus> ToStatus(const std::vector<PlannedMove>& plan);
  // The checks and the drain plan of a decommission, without changing
  // anything.
  absl::StatusOr<DecommissionResponse> PlanDecommission(
      const std::string& node_id);

  // A decommission waiting for the next tick to persist it.
  struct PendingDecommission {
    std::string node_id;
    DecommissionResponse response;
    DecommissionDone done;
  };

  // Constant after construction.
  const MoveTrackerOptions options_;
  DirectoryManager* const directory_;
  const Membership* const membership_;
  const Leadership* const leadership_;

  mutable absl::Mutex mu_;
  // Whether this master led at the last tick, and since when: it judges no
  // node DOWN before it could have heartbeated to it.
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time led_since_ ABSL_GUARDED_BY(mu_) = absl::Now();
  absl::flat_hash_map<MoveKey, Progress> progress_ ABSL_GUARDED_BY(mu_);
  // Destinations of recently cancelled moves, until when they are avoided.
  absl::flat_hash_map<std::string, absl::Time> avoid_until_
      ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Moves that ended, oldest first; bounded (Recent()).
  std::deque<MoveStatus> recent_ ABSL_GUARDED_BY(mu_);
  void RecordEnded(const Move& move, const std::string& state,
                   const std::string& why, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the coordinator role has been balanced since this tracker
  // started: after that only a switched move can unbalance it.
  bool leaders_balanced_ ABSL_GUARDED_BY(mu_) = false;
  // The tick thread's own: each node's state at the last tick.
  absl::flat_hash_map<std::string, NodeState> last_states_;
  std::vector<PendingDecommission> decommissions_ ABSL_GUARDED_BY(mu_);
  std::vector<NodeDescriptor> registrations_ ABSL_GUARDED_BY(mu_);
  // Partitions of moves cancelled by this tick, for on_cancelled_.
  std::vector<uint32_t> cancelled_ ABSL_GUARDED_BY(mu_);
  std::function<void(uint32_t)> on_cancelled_;  // constant once started

  PeriodicTask task_;  // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MOVE_TRACKER_H_
