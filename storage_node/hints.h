// Durable hints: writes that a replica missed (it was down or did not answer
// in time), kept by the coordinator until the replica takes them
// (Dynamo's hinted handoff). Replayed by HintReplayer.
//
// Stored in the "hints" column family of the node's RocksDB. On-disk format
// (DO NOT CHANGE): key = target node id + '\0' + sequence (8 bytes,
// big-endian); value = serialized ApplyRequest (proto/replica.proto).
//
// Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_HINTS_H_
#define QUORUMKV_STORAGE_NODE_HINTS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/replica.pb.h"
#include "rocksdb/db.h"

namespace quorumkv {

class HintStore {
 public:
  struct Hint {
    std::string id;  // opaque; pass to Remove()
    ApplyRequest request;
  };

  // `db` and `cf` must outlive the store. Counts the hints already stored.
  HintStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf);

  // Durably (WAL-synced) records that `target_node` must still apply
  // `request`.
  absl::Status Add(const std::string& target_node, const ApplyRequest& request);
  // Up to `max` of `target_node`'s hints, oldest first.
  std::vector<Hint> Peek(const std::string& target_node, size_t max) const;
  absl::Status Remove(const std::string& hint_id);
  // Removes every hint for `partition`, whatever its target (the node holds
  // the partition no more). Returns how many it removed.
  absl::StatusOr<uint64_t> RemovePartition(uint32_t partition);
  // Node ids that have hints waiting.
  std::vector<std::string> Targets() const;
  uint64_t pending() const { return pending_.load(); }

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  std::atomic<uint64_t> next_sequence_{0};
  std::atomic<uint64_t> pending_{0};
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINTS_H_
