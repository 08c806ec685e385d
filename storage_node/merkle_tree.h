// The hash tree anti-entropy compares (storage_node/anti_entropy.h): a
// complete binary tree over a partition's rows bucketed by key hash. Each
// leaf is the XOR of the hashes of its rows (key, version, tombstone, the
// expiry register: a
// version names one write, so the value need not be read), which makes the
// tree independent of the order rows are added in; each inner node hashes
// its two children. Two replicas holding the same rows have the same root;
// otherwise the leaves that differ say which rows to exchange.
//
// kLeaves = 1024: with partitions of up to a few hundred thousand rows, a
// differing leaf costs a few hundred rows, and the whole tree (2047 hashes,
// 16 KiB) travels in one message. Not thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_MERKLE_TREE_H_
#define QUORUMKV_STORAGE_NODE_MERKLE_TREE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "storage_node/record.h"

namespace quorumkv {

class MerkleTree {
 public:
  static constexpr uint32_t kLeaves = 1024;
  static constexpr uint32_t kNodes = 2 * kLeaves - 1;

  // The leaf a key's rows go to; independent of the partition's own hash.
  static uint32_t LeafOf(absl::string_view key);

  MerkleTree();
  // A tree received from another replica: INVALID_ARGUMENT unless it has
  // kNodes nodes.
  static absl::StatusOr<MerkleTree> FromNodes(
      const google::protobuf::RepeatedField<uint64_t>& nodes);

  void Add(absl::string_view key, const RecordHeader& row);
  // Computes the inner nodes; call once every row is added.
  void Seal();

  uint64_t root() const { return nodes_[0]; }
  const std::vector<uint64_t>& nodes() const { return nodes_; }
  // Leaves (0 .. kLeaves-1) where this sealed tree and `other` differ,
  // found by descending only into subtrees whose hashes differ.
  std::vector<uint32_t> DifferingLeaves(const MerkleTree& other) const;

 private:
  explicit MerkleTree(std::vector<uint64_t> nodes);
  // Level order: node i has children 2i+1 and 2i+2; leaves are the last
  // kLeaves nodes.
  std::vector<uint64_t> nodes_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_MERKLE_TREE_H_
