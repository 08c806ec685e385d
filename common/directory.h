// Read-only views of the directory (proto/master.proto Directory) and a
// holder that publishes the newest one.
//
// The master, every storage node and every iterative client keep a copy;
// all of them route with DirectoryView. A view never changes after it is
// built, so it is shared freely between threads as DirectoryPtr.
#ifndef QUORUMKV_COMMON_DIRECTORY_H_
#define QUORUMKV_COMMON_DIRECTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/master.pb.h"

namespace quorumkv {

// "redis_slots" or "xxh3", as --key_hash spells them.
const char* KeyHashName(KeyHash key_hash);
// A flag type for --key_hash.
struct KeyHashFlag {
  KeyHash value = KEY_HASH_REDIS_SLOTS;
};
bool AbslParseFlag(absl::string_view text, KeyHashFlag* flag,
                   std::string* error);
std::string AbslUnparseFlag(KeyHashFlag flag);

class DirectoryView {
 public:
  explicit DirectoryView(Directory proto);

  const Directory& proto() const { return proto_; }
  uint64_t epoch() const { return proto_.epoch(); }
  uint32_t partitions() const { return proto_.partitions(); }
  uint32_t replication() const { return proto_.replication(); }
  // True once the master has assigned every partition.
  bool formed() const;

  // Requires formed().
  uint32_t PartitionOf(absl::string_view key) const;
  // Ordered full replica ids of `partition`; empty when it is out of range.
  const std::vector<std::string>& Replicas(uint32_t partition) const;
  // Joining replica ids of `partition` (docs/moves.md): they receive writes but
  // count toward no quorum and serve no reads.
  const std::vector<std::string>& Joining(uint32_t partition) const;
  // Whether `node_id` is a full replica of `partition`.
  bool Holds(absl::string_view node_id, uint32_t partition) const;
  bool IsJoining(absl::string_view node_id, uint32_t partition) const;
  // How many partitions `node_id` is a full or joining replica of.
  uint32_t PartitionsHeldBy(absl::string_view node_id) const;
  // Full replicas plus joining ones: every node a write must reach.
  std::vector<std::string> WriteTargets(uint32_t partition) const;
  bool IsDecommissioning(absl::string_view node_id) const;
  // Whether `key` is under one of the cluster's linearizable prefixes: its
  // writes all go through Paxos.
  bool IsLinearizable(absl::string_view key) const;
  bool IsRemoved(absl::string_view node_id) const;
  // nullptr for an unknown id.
  const NodeDescriptor* FindNode(absl::string_view node_id) const;

 private:
  const Directory proto_;
  std::vector<std::vector<std::string>> replicas_;
  std::vector<std::vector<std::string>> joining_;
  absl::flat_hash_map<std::string, const NodeDescriptor*> nodes_by_id_;
};

using DirectoryPtr = std::shared_ptr<const DirectoryView>;

// "replace", "rebalance", "decommission", "spread" (as `kvcli moves --json`
// shows).
const char* MoveReasonName(MoveReason reason);

// The UNAVAILABLE answer to data requests while the directory is not formed.
absl::Status NotFormedError(uint64_t registered_nodes, uint32_t initial_nodes);

// The newest directory a process knows. Thread-safe.
class DirectoryHolder {
 public:
  DirectoryHolder() = default;
  // Starts with `initial` (any epoch, 0 included).
  explicit DirectoryHolder(DirectoryPtr initial) : current_(std::move(initial)) {}

  // Never null: an empty, unformed directory at epoch 0 until Install().
  DirectoryPtr Get() const;
  // Publishes `directory` if its epoch is above the current one; returns
  // whether it did.
  bool Install(DirectoryPtr directory);
  // Publishes `directory` whatever its epoch (tests that need a stale one).
  void Reset(DirectoryPtr directory);
  uint64_t epoch() const { return Get()->epoch(); }

 private:
  mutable absl::Mutex mu_;
  DirectoryPtr current_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<DirectoryView>(Directory());
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DIRECTORY_H_
