// Deletes expired values from a storage node's disk: after
// each anti-entropy pass that moves a partition's repaired-before time,
// Engine::PurgeExpired() deletes the values of that partition that expired
// more than the grace period ago and that every replica held by then, so
// that no repair can bring them back. Runs on its own thread, one
// partition at a time. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_EXPIRY_SWEEPER_H_
#define QUORUMKV_STORAGE_NODE_EXPIRY_SWEEPER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "common/periodic_task.h"
#include "storage_node/engine.h"

namespace quorumkv {

class ExpirySweeper {
 public:
  // `engine` must outlive the sweeper.
  explicit ExpirySweeper(Engine* engine);
  ~ExpirySweeper();

  void Start();
  void Stop();
  // Expired rows deleted since start.
  uint64_t purged() const;

 private:
  absl::Duration RunOnce();

  Engine* const engine_;
  mutable absl::Mutex mu_;
  uint64_t purged_ ABSL_GUARDED_BY(mu_) = 0;
  PeriodicTask task_;  // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_EXPIRY_SWEEPER_H_
