// Owns the cluster's directory on the master: forms it once enough nodes
// have registered, records every node that registers (and address changes),
// and publishes each change only after it is persisted, with the epoch one
// higher. Thread-safe; changes are serialized.
#ifndef QUORUMKV_MASTER_DIRECTORY_MANAGER_H_
#define QUORUMKV_MASTER_DIRECTORY_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/directory.h"
#include "common/placement.h"
#include "master/directory_store.h"
#include "master/leadership.h"

namespace quorumkv {

class DirectoryManager {
 public:
  // `store` and `leadership` must outlive the manager. With `load`, loads
  // the stored directory if there is one (its P and N win over
  // `partitions`, `replication` and `key_hash`); without it (replicated masters, whose
  // store may not be reachable yet), starts unformed and takes the
  // directory from Follow() or Reload().
  static absl::StatusOr<std::unique_ptr<DirectoryManager>> Create(
      DirectoryStore* store, const Leadership* leadership,
      uint32_t partitions, uint32_t replication, KeyHash key_hash,
      uint32_t initial_nodes, std::vector<std::string> linearizable_prefixes,
      bool load = true);

  // A standby follows the leader: installs and publishes `directory` when
  // its epoch is newer than the current one.
  void Follow(Directory directory);
  // This master was elected at `term` and leads once this returns: the
  // stored directory (or `initial` when the store holds none: a cluster
  // moving to etcd) becomes the current one, saved again at the next epoch
  // with `term`, so that storage nodes, which ignore directories of a term
  // lower than one they have seen, take it.
  absl::Status TakeOver(uint64_t term,
                        const std::optional<Directory>& initial = {});

  DirectoryPtr Get() const { return holder_.Get(); }
  uint32_t initial_nodes() const { return initial_nodes_; }

  // Adds `node` to the directory, or updates its address and rack, and forms
  // the directory when `registered` (every node registered so far, this one
  // included) has reached initial_nodes. Nodes that join a formed directory
  // hold no partitions until rebalancing moves some to them.
  absl::Status OnRegistered(const NodeDescriptor& node,
                            const std::vector<PlacementCandidate>& registered);

  // Calls `change` with a copy of the current directory and the epoch the
  // next one will have; when it returns true, persists the changed copy
  // with that epoch and publishes it. Changes are serialized: `change` runs
  // under the manager's lock and must do local work only.
  using Change = std::function<bool(Directory& next, uint64_t next_epoch)>;
  absl::Status Mutate(const Change& change);

  // Runs `listener` with every directory published from now on, under the
  // manager's lock (it must only hand the directory on). Set once, before
  // any change.
  void SetListener(std::function<void(const DirectoryPtr&)> listener);

 private:
  DirectoryManager(DirectoryStore* store, const Leadership* leadership,
                   uint32_t initial_nodes,
                   std::vector<std::string> linearizable_prefixes,
                   Directory initial);
  // Gives `directory` this master's linearizable prefixes; whether they
  // changed.
  bool SetPrefixes(Directory& directory) const;
  // Installs and publishes `directory` as it is (no persisting).
  void PublishUnlocked(Directory directory) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Persists `next` with the epoch one above the current, then publishes it.
  absl::Status CommitUnlocked(Directory next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DirectoryStore* const store_;
  const Leadership* const leadership_;
  const uint32_t initial_nodes_;
  // --linearizable_prefixes: every directory this master writes has them.
  const std::vector<std::string> linearizable_prefixes_;

  absl::Mutex mu_;  // Serializes changes; readers use holder_.
  DirectoryHolder holder_;
  std::function<void(const DirectoryPtr&)> listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_DIRECTORY_MANAGER_H_
