// The master's table of storage nodes: who registered, where they are, their
// last heartbeat and load, and whether they are UP or DOWN (no heartbeat for
// node_down_after). States are computed from heartbeat times when asked, so
// no timer thread is needed. Thread-safe.
#ifndef QUORUMKV_MASTER_MEMBERSHIP_H_
#define QUORUMKV_MASTER_MEMBERSHIP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/master.pb.h"

namespace quorumkv {

struct Member {
  NodeDescriptor node;
  uint64_t capacity_bytes = 0;
  NodeLoad load;
  // Directory epoch the node reported in its last heartbeat.
  uint64_t directory_epoch = 0;
  // InfinitePast until the node registers with this master process.
  absl::Time last_heartbeat = absl::InfinitePast();
  NodeState state = DOWN;  // as of the snapshot's time
};

class Membership {
 public:
  explicit Membership(absl::Duration node_down_after);

  // Records a node named by the persisted directory: DOWN until it
  // registers again.
  void AddKnown(const NodeDescriptor& node);

  // Adds or refreshes a node. ALREADY_EXISTS when a live node at another
  // address holds the same id.
  absl::Status Register(const RegisterRequest& request, absl::Time now);

  // NOT_FOUND when the node has not registered with this master process
  // (it then registers again).
  absl::Status Heartbeat(const HeartbeatRequest& request, absl::Time now);

  // Every member with its state at `now`, ordered by id.
  std::vector<Member> Snapshot(absl::Time now) const;
  NodeState StateOf(const std::string& id, absl::Time now) const;
  // Members that registered with this master process.
  size_t registered_count() const;

  // A standby's view (replicated masters): the states the leader published
  // (nodes it does not hold UP are DOWN); StateOf and Snapshot answer from
  // them until Lead().
  void Follow(const NodeStates& states);
  // This master leads now: states come from the heartbeats it takes, and
  // every node is DOWN until it registers with it again.
  void Lead();
  // The nodes UP now, as the leader publishes them.
  NodeStates UpNow(absl::Time now) const;

 private:
  NodeState StateUnlocked(const Member& member, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration node_down_after_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Member> members_ ABSL_GUARDED_BY(mu_);
  // Set while following: the nodes the leader holds UP.
  std::optional<absl::flat_hash_set<std::string>> followed_up_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MEMBERSHIP_H_
