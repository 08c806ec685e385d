// Deletes what a storage node keeps of partitions it holds no more: the
// rows and the hints of a partition that moved away (docs/moves.md, step 4), of
// a move to this node that was cancelled, or of partitions a replaced node
// still had when it came back.
//
// A partition is dropped only once the node's directory has shown it
// neither holding nor joining the partition for `grace` (in-flight reads of
// the old holder finish first), and is checked again against the newest
// directory right before the drop. Runs on its own thread. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_PARTITION_CLEANER_H_
#define QUORUMKV_STORAGE_NODE_PARTITION_CLEANER_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/periodic_task.h"
#include "storage_node/engine.h"

namespace quorumkv {

class PartitionCleaner {
 public:
  // Pointers must outlive the cleaner.
  PartitionCleaner(std::string self_id, Engine* engine,
                   const DirectoryHolder* directory, absl::Duration grace);
  ~PartitionCleaner();

  void Start();
  void Stop();
  // Partitions dropped since start.
  uint64_t dropped() const;

 private:
  absl::Duration RunOnce();

  // Constant after construction.
  const std::string self_id_;
  Engine* const engine_;
  const DirectoryHolder* const directory_;
  const absl::Duration grace_;

  // Touched by the task's thread only: partitions not held, since when,
  // and whether they were found empty since.
  struct Unowned {
    absl::Time since;
    bool clean = false;
  };
  absl::flat_hash_map<uint32_t, Unowned> unowned_;

  mutable absl::Mutex mu_;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;

  PeriodicTask task_;  // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PARTITION_CLEANER_H_
