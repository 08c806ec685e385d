#include "storage_node/merkle_tree.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xxhash.h"

namespace quorumkv {
namespace {

// Seeds keep these hashes unrelated to the partition hash (seed 0), so that
// the keys of one partition spread over every leaf.
constexpr uint64_t kLeafSeed = 0x6c656166;   // "leaf"
constexpr uint64_t kRowSeed = 0x726f77;      // "row"
constexpr uint64_t kInnerSeed = 0x696e6e;    // "inn"
constexpr uint32_t kFirstLeaf = MerkleTree::kLeaves - 1;

}  // namespace

uint32_t MerkleTree::LeafOf(absl::string_view key) {
  return static_cast<uint32_t>(XXH3_64bits_withSeed(key.data(), key.size(),
                                                    kLeafSeed) %
                               kLeaves);
}

MerkleTree::MerkleTree() : nodes_(kNodes, 0) {}
MerkleTree::MerkleTree(std::vector<uint64_t> nodes) : nodes_(std::move(nodes)) {}

absl::StatusOr<MerkleTree> MerkleTree::FromNodes(
    const google::protobuf::RepeatedField<uint64_t>& nodes) {
  if (nodes.size() != static_cast<int>(kNodes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hash tree has ", nodes.size(), " nodes, expected ", kNodes));
  }
  return MerkleTree(std::vector<uint64_t>(nodes.begin(), nodes.end()));
}

void MerkleTree::Add(absl::string_view key, const RecordHeader& row) {
  // Length-prefixed key, so that no two rows serialize alike.
  std::string bytes;
  bytes.reserve(key.size() + row.node_id.size() + 32);
  const uint64_t key_size = key.size();
  bytes.append(reinterpret_cast<const char*>(&key_size), sizeof(key_size));
  bytes.append(key.data(), key.size());
  bytes.append(reinterpret_cast<const char*>(&row.wall_ms), sizeof(row.wall_ms));
  bytes.append(reinterpret_cast<const char*>(&row.logical), sizeof(row.logical));
  bytes.push_back(row.tombstone ? 1 : 0);
  bytes.append(row.node_id.data(), row.node_id.size());
  // The expiry register, when it is not (the row's version, never): so
  // that anti-entropy repairs an expire, and rows without one hash as
  // they always have.
  if (row.expires_at_ms != 0 || row.expiry_wall_ms != row.wall_ms ||
      row.expiry_logical != row.logical || row.expiry_node_id != row.node_id) {
    bytes.append(reinterpret_cast<const char*>(&row.expires_at_ms),
                 sizeof(row.expires_at_ms));
    bytes.append(reinterpret_cast<const char*>(&row.expiry_wall_ms),
                 sizeof(row.expiry_wall_ms));
    bytes.append(reinterpret_cast<const char*>(&row.expiry_logical),
                 sizeof(row.expiry_logical));
    bytes.append(row.expiry_node_id.data(), row.expiry_node_id.size());
  }
  nodes_[kFirstLeaf + LeafOf(key)] ^=
      XXH3_64bits_withSeed(bytes.data(), bytes.size(), kRowSeed);
}

void MerkleTree::Seal() {
  for (int64_t i = static_cast<int64_t>(kFirstLeaf) - 1; i >= 0; --i) {
    const uint64_t children[2] = {nodes_[2 * i + 1], nodes_[2 * i + 2]};
    nodes_[i] = XXH3_64bits_withSeed(children, sizeof(children), kInnerSeed);
  }
}

std::vector<uint32_t> MerkleTree::DifferingLeaves(const MerkleTree& other) const {
  std::vector<uint32_t> leaves;
  std::vector<uint32_t> pending = {0};
  while (!pending.empty()) {
    const uint32_t i = pending.back();
    pending.pop_back();
    if (nodes_[i] == other.nodes_[i]) continue;
    if (i >= kFirstLeaf) {
      leaves.push_back(i - kFirstLeaf);
    } else {
      pending.push_back(2 * i + 2);
      pending.push_back(2 * i + 1);
    }
  }
  return leaves;
}

}  // namespace quorumkv
