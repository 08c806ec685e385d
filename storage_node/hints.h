// Durable hints: writes that a replica missed (it was down or did not answer
// in time), kept by the coordinator until the replica takes them
// (Dynamo's hinted handoff). Written by HintWriter, replayed by
// HintReplayer.
//
// Stored in the "hints" column family of the node's RocksDB. On-disk format
// (DO NOT CHANGE): key = target node id + '\0' + sequence (8 bytes,
// big-endian); value = serialized ApplyRequest (proto/replica.proto). A
// hint's age is its write's version (wall_ms).
//
// Bounded (docs/failures.md; Cassandra's max_hint_window): a target that has had
// hints waiting for longer than the window gets no new ones, hints older
// than the window are dropped at replay, and no target holds more than
// max_bytes_per_target. Beyond these, anti-entropy repairs the replica.
//
// Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_HINTS_H_
#define QUORUMKV_STORAGE_NODE_HINTS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"
#include "rocksdb/db.h"

namespace quorumkv {

struct HintLimits {
  // --hint_window.
  absl::Duration window = absl::Hours(3);
  // --max_hint_bytes, per target node.
  uint64_t max_bytes_per_target = uint64_t{1} << 30;
};

class HintStore {
 public:
  struct Hint {
    std::string id;  // opaque; pass the hint to Remove()
    std::string target;
    size_t bytes = 0;
    ApplyRequest request;
  };
  struct NewHint {
    std::string target;
    ApplyRequest request;
  };
  using Clock = std::function<absl::Time()>;

  // `db` and `cf` must outlive the store. Counts the hints already stored.
  HintStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
            HintLimits limits = {}, Clock clock = absl::Now);

  // Durably records, with one synced write, that each target must still
  // apply its request; hints the limits refuse are counted in dropped().
  absl::Status Add(std::vector<NewHint> hints);
  // Up to `max` of `target_node`'s hints, oldest first.
  std::vector<Hint> Peek(const std::string& target_node, size_t max) const;
  // Forgets `hints` (delivered, refused or dropped) with one write.
  absl::Status Remove(const std::vector<Hint>& hints);
  // Removes every hint for `partition`, whatever its target (the node holds
  // the partition no more). Returns how many it removed.
  absl::StatusOr<uint64_t> RemovePartition(uint32_t partition);
  // Node ids that have hints waiting.
  std::vector<std::string> Targets() const;

  // Whether `hint` is older than the window (HintReplayer drops it).
  bool Expired(const Hint& hint) const;
  // Hints not stored for a limit, or dropped unreplayed.
  void CountDropped(uint64_t n) { dropped_ += n; }
  // A replica missed a write of `partition` that no hint will bring it (a
  // hint refused for a limit, not stored, or dropped unreplayed): the
  // partition may have diverged until anti-entropy compares it. Heartbeats
  // tell the master, which has it compared first.
  void MarkDiverged(uint32_t partition);
  // The partitions marked since the last call, each once, in order.
  std::vector<uint32_t> TakeDiverged();

  uint64_t pending() const { return pending_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  const HintLimits& limits() const { return limits_; }

 private:
  struct TargetState {
    uint64_t count = 0;
    uint64_t bytes = 0;
    // Since when the target has had hints waiting.
    absl::Time waiting_since = absl::InfiniteFuture();
  };

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  const HintLimits limits_;
  const Clock clock_;
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> dropped_{0};

  // Held across the RocksDB write of Add() and Remove(): the writer thread
  // and the replayer thread take it, never a gRPC thread.
  // Lock order: mu_ (when held), then diverged_mu_.
  absl::Mutex diverged_mu_;
  absl::btree_set<uint32_t> diverged_ ABSL_GUARDED_BY(diverged_mu_);

  mutable absl::Mutex mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, TargetState> targets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINTS_H_
